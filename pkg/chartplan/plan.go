package chartplan

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/alertchart/alertchart/pkg/i18n"
	"github.com/alertchart/alertchart/pkg/nochart"
	"github.com/alertchart/alertchart/pkg/series"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Plan sources: how the expression behind the chart was found.
const (
	SourceRulesAPI            = "rules_api"              // name and expression matched one rule
	SourceRulesAPINameOnly    = "rules_api_name_only"    // the only rule with this name (and fitting labels)
	SourceRulesAPIActiveAlert = "rules_api_active_alert" // the only rule with an active alert carrying these labels
	SourceGeneratorURL        = "generator_url"          // the generatorURL's expression, rule unknown
	SourceAnnotation          = "annotation"             // the chart_query annotation alone
	SourceNone                = "none"                   // nothing to chart
)

// Annotations a rule may set to steer its chart. See doc.go.
const (
	AnnotationQuery     = "chart_query"
	AnnotationWindow    = "chart_window"
	AnnotationUnit      = "chart_unit"
	AnnotationLegend    = "chart_legend"
	AnnotationThreshold = "chart_threshold"
	AnnotationDisable   = "chart_disable"
)

// Duration is a time.Duration written as "10m" in JSON.
type Duration = settings.Duration

// Rule is the alerting rule behind an alert.
type Rule struct {
	Name          string            `json:"name"`
	Group         string            `json:"group,omitempty"`
	File          string            `json:"file,omitempty"`
	Expr          string            `json:"expr"`
	For           Duration          `json:"for"`
	KeepFiringFor Duration          `json:"keepFiringFor,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// AlertRef identifies the alert a plan is for.
type AlertRef struct {
	Name         string            `json:"name"`
	Status       string            `json:"status"`
	Fingerprint  string            `json:"fingerprint,omitempty"`
	Labels       map[string]string `json:"labels"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorUrl,omitempty"`
}

// Plan is everything needed to draw one alert's chart, and how it was
// decided. It is returned by POST /explain and stored with deliveries.
type Plan struct {
	Alert AlertRef `json:"alert"`
	// Rule is nil when the rules API could not name the rule.
	Rule *Rule `json:"rule,omitempty"`
	// Source says how the charted expression was found (Source* constants).
	Source string `json:"source"`
	// Expr is the alerting expression the chart is derived from.
	Expr string `json:"expr,omitempty"`
	// Query is the chart's PromQL; empty when there is no chart.
	Query      string             `json:"query,omitempty"`
	Thresholds []series.Threshold `json:"thresholds,omitempty"`
	// References are queries whose series are moving thresholds (the other
	// side of x > y); Fetch returns their data in FetchResult.References.
	References []Reference `json:"references,omitempty"`
	// Conditions are parts of the rule the chart does not draw.
	Conditions []string `json:"conditions,omitempty"`
	// InjectedLabels were added as matchers to the query's selectors.
	InjectedLabels map[string]string `json:"injectedLabels,omitempty"`
	// InjectedAny were added as regex unions (label=~"a|b") by PlanOverview.
	InjectedAny map[string][]string `json:"injectedAny,omitempty"`
	// PostFilter labels are checked on the returned series instead: a series
	// whose value for one of them differs, or that lacks one of them, is
	// not the alert's series and is dropped.
	PostFilter map[string]string `json:"postFilterLabels,omitempty"`
	// PostFilterOptional are the PostFilter labels a series may lack: labels
	// that may have been added by the rule or the evaluator rather than come
	// from the data (the rule is unknown; a matcher the data did not bear out).
	PostFilterOptional []string `json:"postFilterOptional,omitempty"`
	// Parts are the queries fetched one by one when the rule alerts on
	// several expressions (the operands of `or`, the windows of a burn-rate
	// tier), each with its own thresholds; Query is then their union.
	Parts []Part `json:"parts,omitempty"`
	// KeptFilters explain comparisons the chart keeps inside an aggregation
	// that is not monotone (sum(x > 5)): no line is drawn for them.
	KeptFilters []string `json:"keptFilters,omitempty"`
	// Evaluator is what evaluated the rule, from the generatorURL and the
	// rules API's answer: prometheus, vmalert, thanos, mimir (or Cortex),
	// grafana; empty when unknown.
	Evaluator string `json:"evaluator,omitempty"`
	// EvaluatorLabels are the alert's labels the evaluator added (vmalert's
	// alertgroup, Grafana's grafana_folder, external labels): never injected.
	EvaluatorLabels []string  `json:"evaluatorLabels,omitempty"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	Step            Duration  `json:"step"`
	// Window is the span the rule's `for` asked for (End-Start may be longer
	// to include startsAt).
	Window Duration `json:"window"`
	// RangeReason says in a sentence why Start–End is longer than Window
	// (the alert started before the window; the 30-day cap), with the step
	// that keeps the chart under 1000 points; empty when the range is the
	// window.
	RangeReason string `json:"rangeReason,omitempty"`
	// PendingAt is startsAt minus the rule's `for`: when the condition began.
	PendingAt *time.Time `json:"pendingAt,omitempty"`
	Title     string     `json:"title"`
	Unit      string     `json:"unit,omitempty"`
	Legend    string     `json:"legend,omitempty"`
	Timezone  string     `json:"timezone"`
	Language  string     `json:"language"`
	// NoDataNote explains an empty chart that is expected (absent() rules).
	NoDataNote string `json:"noDataNote,omitempty"`
	// Overrides lists the chart_* annotations that were applied.
	Overrides []string `json:"overrides,omitempty"`
	// Fallbacks are human-readable reasons the plan is less than ideal, in
	// the order they happened.
	Fallbacks []string `json:"fallbacks,omitempty"`
	// NoChartReason is set when no chart can be drawn; the text is still
	// sent. It is the full reason, for the records and /explain.
	NoChartReason string `json:"noChartReason,omitempty"`
	// NoChart is the kind of NoChartReason, which a chat's short note and
	// the decision whether to send one key on (the JSON has the text).
	NoChart nochart.Reason `json:"-"`
	// Overview is set for a plan of several alerts (PlanOverview).
	Overview *Overview `json:"overview,omitempty"`
	// Grafana is set for an alert of a Grafana-managed rule: the rule's
	// queries, expression chain and the labels its series must carry.
	Grafana *GrafanaPlan `json:"grafana,omitempty"`

	// The title and the no-data note without their language, so that In
	// can word them for another one.
	titleName   string
	titleAlerts int // an overview's alert count; 0 for one alert
	titleSpan   time.Duration
	noData      *i18n.Message
}

// noChart records why the plan has no chart: its kind and the full reason.
func (p *Plan) noChart(kind nochart.Reason, format string, args ...any) {
	p.NoChart = kind
	p.NoChartReason = fmt.Sprintf(format, args...)
}

// setNoData sets the note that explains an expected empty chart.
func (p *Plan) setNoData(m i18n.Message) {
	p.noData = &m
	p.NoDataNote = m.Text(p.Language)
}

// In returns a copy of the plan whose words — the title, the no-data note
// and Language — are in lang ("zh" or "en"; a channel's language), the
// rest shared: everything else in a plan is data, or English for the
// records. A plan is planned once and worded for each language its
// channels use.
func (p *Plan) In(lang string) *Plan {
	c := *p
	c.Language = i18n.Lang(lang)
	c.retitle()
	return &c
}

// retitle words the title and the no-data note in p.Language.
func (p *Plan) retitle() {
	if p.titleName != "" {
		window := spanLabel(p.titleSpan, p.Language)
		if p.titleAlerts > 0 {
			alerts := i18n.T(p.Language, "chart.alerts.other", "count", p.titleAlerts)
			if p.titleAlerts == 1 {
				alerts = i18n.T(p.Language, "chart.alerts.one")
			}
			p.Title = i18n.T(p.Language, "chart.title.overview", "name", p.titleName, "alerts", alerts, "window", window)
		} else {
			p.Title = i18n.T(p.Language, "chart.title", "name", p.titleName, "window", window)
		}
	}
	if p.noData != nil {
		p.NoDataNote = p.noData.Text(p.Language)
	}
}

// HasChart reports whether the plan has a query to run.
func (p *Plan) HasChart() bool { return p.NoChartReason == "" && p.Query != "" }

func (p *Plan) fallback(format string, args ...any) {
	p.Fallbacks = append(p.Fallbacks, fmt.Sprintf(format, args...))
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func itoa(n int) string { return strconv.Itoa(n) }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
