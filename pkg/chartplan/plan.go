package chartplan

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/i18n"
	"github.com/alertchart/alertchart/pkg/nochart"
	"github.com/alertchart/alertchart/pkg/promapi"
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

// maxSpan bounds a chart whose alert started long ago.
const maxSpan = 30 * 24 * time.Hour

// Config is what the planner needs from the settings.
type Config struct {
	WindowMultiplier float64
	MinWindow        time.Duration
	MaxWindow        time.Duration
	// Language of the title: "zh" (default) or "en".
	Language string
	// MaxSeries caps the series of one chart (top by last value).
	MaxSeries int
	// ExternalLabels are Prometheus external_labels names; never injected.
	ExternalLabels []string
	RulesCacheTTL  time.Duration
	// Timezone (IANA) is passed on in the plan for the renderers.
	Timezone string
	// LegendFormat is the default legend ("{{instance}}"); chart_legend wins.
	LegendFormat string
	// MinStep is the data's resolution (prometheus.scrapeInterval): steps
	// finer than it only repeat samples as stair steps. Zero means no floor.
	MinStep time.Duration
}

// ConfigFrom reads the planner's settings (defaults already applied by settings.Parse).
func ConfigFrom(s *settings.Settings) Config {
	return Config{
		WindowMultiplier: s.Chart.WindowMultiplier,
		MinWindow:        s.Chart.MinWindow.D(),
		MaxWindow:        s.Chart.MaxWindow.D(),
		Language:         s.Chart.Language,
		MaxSeries:        s.Chart.MaxSeries,
		ExternalLabels:   append([]string(nil), s.Prometheus.ExternalLabels...),
		RulesCacheTTL:    s.Prometheus.RulesCacheTTL.D(),
		Timezone:         s.Chart.Timezone,
		LegendFormat:     s.Chart.LegendFormat,
		MinStep:          s.Prometheus.ScrapeInterval.D(),
	}
}

func (c *Config) applyDefaults() {
	if c.WindowMultiplier <= 0 {
		c.WindowMultiplier = settings.DefaultWindowMultiplier
	}
	if c.MinWindow <= 0 {
		c.MinWindow = settings.DefaultMinWindow
	}
	if c.MaxWindow <= 0 {
		c.MaxWindow = settings.DefaultMaxWindow
	}
	if c.MaxWindow < c.MinWindow {
		c.MaxWindow = c.MinWindow
	}
	if c.Language != "en" {
		c.Language = "zh"
	}
	if c.MaxSeries <= 0 {
		c.MaxSeries = settings.DefaultMaxSeries
	}
	if c.Timezone == "" {
		c.Timezone = "UTC"
	}
}

// Planner turns alerts into chart plans and fetches their data.
type Planner struct {
	cfg      Config
	src      *promapi.Client
	rules    *rulesCache
	external map[string]bool
	// grafana reads Grafana-managed rules and runs their queries
	// (UseGrafana); grules and gds cache its rules and data sources.
	grafana GrafanaSource
	grules  *ttlCache[*grafana.AlertRule]
	gds     *ttlCache[*grafana.DataSource]
}

// NewPlanner returns a planner. src may be nil when no data source is
// configured: plans are still made (from generatorURLs and annotations) but
// say why no chart can be drawn.
func NewPlanner(cfg Config, src *promapi.Client) *Planner {
	cfg.applyDefaults()
	p := &Planner{cfg: cfg, src: src, external: map[string]bool{}}
	for _, l := range cfg.ExternalLabels {
		p.external[l] = true
	}
	if src != nil {
		p.rules = newRulesCache(src, cfg.RulesCacheTTL, time.Now)
	}
	return p
}

// RulesRequests reports how many rules API requests the planner has made.
func (p *Planner) RulesRequests() int {
	if p.rules == nil {
		return 0
	}
	return p.rules.Requests()
}

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

// Plan computes the chart plan of one alert. It never fails: problems are
// recorded in Fallbacks, and NoChartReason is set when no chart is possible.
func (p *Planner) Plan(ctx context.Context, alert template.Alert, now time.Time) *Plan {
	name := alert.Labels["alertname"]
	pl := &Plan{
		Alert: AlertRef{
			Name: name, Status: alert.Status, Fingerprint: alert.Fingerprint,
			Labels: copyMap(alert.Labels), StartsAt: alert.StartsAt, EndsAt: alert.EndsAt,
			GeneratorURL: alert.GeneratorURL,
		},
		Source:   SourceNone,
		Timezone: p.cfg.Timezone,
		Language: p.cfg.Language,
	}
	if pl.Alert.Labels == nil {
		pl.Alert.Labels = map[string]string{}
	}
	ann := alert.Annotations
	if ann == nil {
		ann = template.KV{}
	}

	grafanaUID := GrafanaRuleUID(alert)
	urlExpr := ExprFromGeneratorURL(alert.GeneratorURL)
	if grafanaUID != "" {
		urlExpr = ""
	} else if urlExpr == "" {
		if alert.GeneratorURL == "" {
			pl.fallback("the alert has no generatorURL")
		} else {
			pl.fallback("the generatorURL carries no expression (vmalert default, Grafana-managed or Thanos rule)")
		}
	} else if len(urlExpr) > MaxExprBytes {
		pl.fallback("the generatorURL's expression is longer than %d bytes; ignored", MaxExprBytes)
		urlExpr = ""
	}

	// 1. The rule, from the rules API.
	var forDur time.Duration
	ruleKnown := false
	pl.Evaluator = EvaluatorFromURL(alert.GeneratorURL)
	var match *candidate
	switch {
	case grafanaUID != "":
		forDur, ruleKnown = p.planGrafana(ctx, pl, alert, grafanaUID)
	case name == "":
		pl.fallback("the alert has no alertname label; the rules API cannot be asked")
	case p.src == nil:
		pl.fallback("no Prometheus data source is configured")
	default:
		groups, err := p.rules.get(ctx, name)
		if err != nil {
			pl.fallback("rules API unreachable: %v", err)
			break
		}
		res := resolveRule(groups, name, alert.Labels, urlExpr, p.external)
		pl.Fallbacks = append(pl.Fallbacks, res.notes...)
		match = res.match
		if pl.Evaluator == "" && match != nil {
			pl.Evaluator = match.group.Flavour()
		} else if pl.Evaluator == "" && len(groups) > 0 {
			pl.Evaluator = groups[0].Flavour()
		}
		if res.match != nil {
			r := res.match.rule
			forDur = r.For()
			pl.Rule = &Rule{
				Name: r.Name, Group: res.match.group.Name, File: res.match.group.File, Expr: r.Query,
				For: Duration(forDur), KeepFiringFor: Duration(time.Duration(r.KeepFiringFor * float64(time.Second))),
				Labels: r.Labels, Annotations: r.Annotations,
			}
			pl.Source = res.source
			pl.Expr = r.Query
			ruleKnown = true
		}
	}
	if !ruleKnown && urlExpr != "" {
		pl.Source = SourceGeneratorURL
		pl.Expr = urlExpr
		pl.fallback("rule not found; charting the generatorURL's expression with the default window")
	}

	if pl.Grafana == nil {
		pl.EvaluatorLabels = addedLabels(pl.Evaluator, match, alert.Labels)
	}

	// 2. The query.
	if v := strings.TrimSpace(ann[AnnotationDisable]); v != "" && v != "false" && v != "0" {
		pl.noChart(nochart.Disabled, "the rule disables its chart (%s)", AnnotationDisable)
		pl.Overrides = append(pl.Overrides, AnnotationDisable)
	}
	if pl.Expr != "" && pl.Grafana == nil {
		p.rewrite(pl, ruleKnown)
	}
	q := strings.TrimSpace(ann[AnnotationQuery])
	if q != "" && pl.Grafana != nil && len(pl.Grafana.Queries) > 0 {
		p.grafanaChartQuery(pl, q)
		q = ""
	}
	if q != "" && pl.Grafana != nil && p.src != nil && !slices.Contains(pl.Overrides, AnnotationDisable) {
		// The Grafana rule cannot be charted, but its chart_query can be,
		// on the configured Prometheus.
		pl.fallback("the Grafana-managed rule cannot be charted (%s); charting its %s annotation on the configured Prometheus instead",
			pl.NoChartReason, AnnotationQuery)
		pl.NoChartReason, pl.NoChart, pl.Grafana = "", "", nil
	}
	if q != "" && pl.Grafana != nil {
		pl.fallback("%s annotation ignored: no Prometheus is configured to run it on", AnnotationQuery)
	} else if q != "" {
		if _, err := ParseExpr(q); err != nil {
			pl.fallback("%s annotation does not parse (%v); ignored", AnnotationQuery, err)
		} else {
			pl.Query = q
			pl.InjectedLabels, pl.PostFilter, pl.PostFilterOptional, pl.References, pl.Parts, pl.KeptFilters = nil, nil, nil, nil, nil, nil
			pl.Overrides = append(pl.Overrides, AnnotationQuery)
			if pl.Source == SourceNone {
				pl.Source = SourceAnnotation
			}
		}
	}
	if t := strings.TrimSpace(ann[AnnotationThreshold]); t != "" {
		if th, err := parseThresholds(t); err != nil {
			pl.fallback("%s annotation: %v; ignored", AnnotationThreshold, err)
		} else {
			pl.Thresholds = th
			pl.Overrides = append(pl.Overrides, AnnotationThreshold)
		}
	}
	if pl.Query == "" && pl.NoChartReason == "" {
		if pl.Expr == "" {
			pl.noChart(nochart.NoQuery, "no expression: the rule was not found, the generatorURL has none and there is no %s annotation", AnnotationQuery)
		} else {
			pl.noChart(nochart.NoQuery, "the rule's expression cannot be charted")
		}
	}
	if pl.NoChartReason == "" && p.src == nil && pl.Grafana == nil {
		pl.noChart(nochart.NoDataSource, "no Prometheus data source is configured")
	}

	// 3. The window.
	window := p.window(forDur)
	if !ruleKnown {
		window = p.cfg.MinWindow
	}
	if g := pl.Grafana; g != nil && g.RelativeRange.D() > window {
		// Never shorter than the range the rule evaluates (a reduce over
		// its query's last hour).
		rel := g.RelativeRange.D()
		window = min(rel, p.cfg.MaxWindow)
		pl.fallback("the window is the %s the rule's query evaluates (for × %g is shorter)", durationText(window), p.cfg.WindowMultiplier)
	}
	if w := strings.TrimSpace(ann[AnnotationWindow]); w != "" {
		if d, err := model.ParseDuration(w); err != nil || d <= 0 {
			pl.fallback("%s annotation %q is not a duration like 30m or 2h; ignored", AnnotationWindow, w)
		} else {
			window = min(max(time.Duration(d), time.Minute), p.cfg.MaxWindow)
			pl.Overrides = append(pl.Overrides, AnnotationWindow)
		}
	}
	p.placeWindow(pl, window, forDur, ruleKnown, now)

	// 4. Presentation.
	pl.Unit = strings.TrimSpace(ann[AnnotationUnit])
	if pl.Unit != "" {
		pl.Overrides = append(pl.Overrides, AnnotationUnit)
	}
	pl.Legend = p.cfg.LegendFormat
	if l := strings.TrimSpace(ann[AnnotationLegend]); l != "" {
		pl.Legend = l
		pl.Overrides = append(pl.Overrides, AnnotationLegend)
	}
	title := name
	if pl.Grafana != nil && (name == grafanaNoData || name == grafanaError) && alert.Labels["rulename"] != "" {
		title = alert.Labels["rulename"] + " — " + name
	}
	if title == "" {
		title = "alert"
	}
	pl.titleName, pl.titleSpan = title, titleSpan(pl.Window.D(), pl.End.Sub(pl.Start))
	pl.retitle()
	return pl
}

// identifying returns the alert labels that name the abnormal series: all
// of them minus alertname, the rule's own labels and external labels.
func (p *Planner) identifying(pl *Plan) map[string]string {
	ids := map[string]string{}
	for k, v := range pl.Alert.Labels {
		if k == "alertname" || k == model.MetricNameLabel || p.external[k] || slices.Contains(pl.EvaluatorLabels, k) {
			continue
		}
		if pl.Rule != nil {
			if _, ok := pl.Rule.Labels[k]; ok {
				continue
			}
		}
		ids[k] = v
	}
	return ids
}

func (p *Planner) rewrite(pl *Plan, ruleKnown bool) {
	ids := p.identifying(pl)
	var post map[string]string
	if !ruleKnown {
		// Without the rule we do not know which alert labels the rule added
		// (severity, team, …). Inject only labels the expression itself names;
		// check the others on the returned series, where a label the series
		// does not carry cannot cause a wrong drop.
		e, err := ParseExpr(pl.Expr)
		if err == nil {
			named := namedLabels(e)
			post = map[string]string{}
			for k, v := range ids {
				if !named[k] {
					post[k] = v
					delete(ids, k)
				}
			}
		}
	}
	rw, err := RewriteExpr(pl.Expr, ids)
	if err != nil {
		pl.fallback("the expression cannot be rewritten: %v", err)
		return
	}
	pl.Query = rw.Query
	pl.Thresholds = rw.Thresholds
	pl.Conditions = rw.Conditions
	pl.References = rw.References
	pl.InjectedLabels = rw.Injected
	pl.PostFilter = rw.PostFilter
	pl.Parts = rw.Parts
	pl.KeptFilters = rw.KeptFilters
	for k, v := range post {
		if pl.PostFilter == nil {
			pl.PostFilter = map[string]string{}
		}
		pl.PostFilter[k] = v
		pl.PostFilterOptional = append(pl.PostFilterOptional, k)
	}
	sort.Strings(pl.PostFilterOptional)
	if len(rw.PostFilter) > 0 {
		pl.fallback("labels %s cannot be injected safely; filtering the returned series instead", strings.Join(sortedKeys(rw.PostFilter), ", "))
	}
	if len(pl.EvaluatorLabels) > 0 {
		pl.fallback("labels %s were added by the evaluator (%s), not by the data; not injected", strings.Join(pl.EvaluatorLabels, ", "), or(pl.Evaluator, "unknown"))
	}
	for _, d := range rw.Dropped {
		pl.fallback("%s cannot carry the alert's labels (a constant fallback or an aggregate over them): not charted", d)
	}
	for _, k := range rw.KeptFilters {
		pl.fallback("the chart keeps a comparison inside an aggregation: %s", k)
	}
	if len(rw.Parts) > 1 {
		names := make([]string, len(rw.Parts))
		for i, pt := range rw.Parts {
			names[i] = pt.Name
		}
		pl.fallback("the rule alerts on %d expressions (%s); each is fetched on its own and drawn against its own thresholds", len(rw.Parts), strings.Join(names, ", "))
	}
	if len(rw.AbsentOf) > 0 {
		pl.setNoData(i18n.M("chart.nodata.absent", "series", strings.Join(rw.AbsentOf, ", ")))
	}
}

// namedLabels lists label names an expression mentions: matcher names,
// grouping, matching and label-function arguments. Such labels are data
// labels, never labels a rule adds.
func namedLabels(e parser.Expr) map[string]bool {
	out := map[string]bool{}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch x := n.(type) {
		case *parser.VectorSelector:
			for _, m := range x.LabelMatchers {
				out[m.Name] = true
			}
		case *parser.AggregateExpr:
			if !x.Without {
				for _, g := range x.Grouping {
					out[g] = true
				}
			}
		case *parser.BinaryExpr:
			if x.VectorMatching != nil {
				if x.VectorMatching.On {
					for _, l := range x.VectorMatching.MatchingLabels {
						out[l] = true
					}
				}
				for _, l := range x.VectorMatching.Include {
					out[l] = true
				}
			}
		}
		return nil
	})
	delete(out, model.MetricNameLabel)
	return out
}

// window is for × multiplier clamped to [MinWindow, MaxWindow].
func (p *Planner) window(forDur time.Duration) time.Duration {
	if forDur <= 0 {
		return p.cfg.MinWindow
	}
	w := time.Duration(float64(forDur) * p.cfg.WindowMultiplier)
	if w < 0 || float64(forDur)*p.cfg.WindowMultiplier > float64(p.cfg.MaxWindow) {
		w = p.cfg.MaxWindow
	}
	return min(max(w, p.cfg.MinWindow), p.cfg.MaxWindow)
}

// placeWindow sets Start/End/Step: firing alerts end now, resolved ones
// shortly after endsAt, and the range always reaches back past startsAt.
func (p *Planner) placeWindow(pl *Plan, window, forDur time.Duration, ruleKnown bool, now time.Time) {
	pl.Window = Duration(window)
	pad := min(max(window/10, 30*time.Second), 10*time.Minute)
	end := now
	if pl.Alert.Status == "resolved" && !pl.Alert.EndsAt.IsZero() && pl.Alert.EndsAt.Before(now) {
		end = pl.Alert.EndsAt.Add(pad)
		if end.After(now) {
			end = now
		}
	}
	start := end.Add(-window)
	if s := pl.Alert.StartsAt; !s.IsZero() && s.Before(end) && s.Add(-window/10).Before(start) {
		start = s.Add(-window / 10)
	}
	capped := false
	if end.Sub(start) > maxSpan {
		start = end.Add(-maxSpan)
		capped = true
		pl.fallback("the alert started %s ago; the chart shows the last %s", end.Sub(pl.Alert.StartsAt).Round(time.Minute), spanLabel(maxSpan, "en"))
	}
	// Whole seconds, rounded outwards so an alert that started a few
	// milliseconds ago is still inside the range.
	pl.Start, pl.End = start.Truncate(time.Second), end.Truncate(time.Second)
	if pl.End.Before(end) {
		pl.End = pl.End.Add(time.Second)
	}
	pl.Step = Duration(max(stepFor(pl.End.Sub(pl.Start)), p.cfg.MinStep))
	if span := pl.End.Sub(pl.Start); titleSpan(window, span) != window {
		ago := end.Sub(pl.Alert.StartsAt).Round(time.Second)
		pl.RangeReason = fmt.Sprintf("widened from the %s window to %s because the alert started %s before the chart's end (startsAt %s)",
			durationText(window), durationText(span), durationText(ago), pl.Alert.StartsAt.UTC().Format("2006-01-02 15:04:05 UTC"))
		if capped {
			pl.RangeReason += fmt.Sprintf("; capped at %s", durationText(maxSpan))
		}
		pl.RangeReason += fmt.Sprintf("; one point every %s keeps it under %d points", durationText(pl.Step.D()), maxPoints)
	}
	if ruleKnown && forDur > 0 && !pl.Alert.StartsAt.IsZero() {
		t := pl.Alert.StartsAt.Add(-forDur)
		pl.PendingAt = &t
	}
}

// titleSpan is the span named in the title: the window, unless the range
// was stretched noticeably to reach startsAt, then the real span rounded
// to whole minutes (seconds for short spans).
func titleSpan(window, span time.Duration) time.Duration {
	if span <= window+window/20+2*time.Second {
		return window
	}
	if span >= 10*time.Minute {
		return span.Round(time.Minute)
	}
	return span.Round(time.Second)
}

// niceSteps are the step sizes charts use; round numbers keep samples aligned.
var niceSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// maxPoints is the most points per series a step may produce. The smallest
// nice step at or above span/maxPoints gives 400–1000 points for any span
// above ~5 minutes (consecutive nice steps differ by at most 2.5×).
const maxPoints = 1000

func stepFor(span time.Duration) time.Duration {
	for _, s := range niceSteps {
		if span/s <= maxPoints {
			return s
		}
	}
	return (span/maxPoints + time.Second - 1).Truncate(time.Second)
}

// durationText renders a duration as "13d 23h 50m" (the three largest non-zero
// units, whole seconds), for plan texts.
func durationText(d time.Duration) string {
	d = d.Round(time.Second)
	if d <= 0 {
		return "0s"
	}
	var parts []string
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.d; n > 0 && len(parts) < 3 {
			parts = append(parts, strconv.FormatInt(int64(n), 10)+u.name)
			d %= u.d
		}
	}
	return strings.Join(parts, " ")
}

// spanLabel renders "最近10分钟" / "last 10m" (i18n.Duration, the one
// duration formatter of the messages and titles).
func spanLabel(d time.Duration, lang string) string {
	return i18n.T(lang, "chart.window", "span", i18n.Duration(lang, d))
}

// parseThresholds reads "80", "> 80" or "> 80, < 5".
func parseThresholds(s string) ([]series.Threshold, error) {
	var out []series.Threshold
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		op := ">"
		for _, o := range []string{">=", "<=", "==", "!=", ">", "<"} {
			if rest, ok := strings.CutPrefix(part, o); ok {
				op, part = o, strings.TrimSpace(rest)
				break
			}
		}
		v, err := strconv.ParseFloat(part, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", part)
		}
		out = append(out, series.Threshold{Op: op, Value: v})
	}
	return out, nil
}

// Prefetch loads the rules of many alerts before they are planned one by
// one: one rules API request for all their alert names instead of one per
// name (issue 12: an /explain of 3,000 distinct alerts made 3,000
// sequential requests). Answers go into the same cache Plan reads, with
// the same TTLs; names already cached cost nothing.
func (p *Planner) Prefetch(ctx context.Context, alerts []template.Alert) {
	if len(alerts) < 2 {
		return
	}
	names := make([]string, 0, len(alerts))
	var uids []string
	for _, a := range alerts {
		if uid := GrafanaRuleUID(a); uid != "" {
			uids = append(uids, uid)
		} else if n := a.Labels["alertname"]; n != "" {
			names = append(names, n)
		}
	}
	if p.rules != nil && len(names) > 0 {
		prefetchRules(ctx, p.rules, p.src, names)
	}
	if p.grules != nil && len(uids) > 0 {
		// Grafana lists every rule the plugin may read in one request.
		p.grules.batch(ctx, uids, func(ctx context.Context, _ []string) (map[string]*grafana.AlertRule, error) {
			return p.grafana.AlertRules(ctx)
		}, func(uid string) (*grafana.AlertRule, error) {
			return nil, fmt.Errorf("alert rule %q: %w", uid, grafana.ErrRuleNotFound)
		})
	}
}

// Explain plans every alert of a webhook payload, for POST /explain.
func Explain(ctx context.Context, planner *Planner, data *template.Data, now time.Time) []*Plan {
	if data == nil {
		return nil
	}
	planner.Prefetch(ctx, data.Alerts)
	out := make([]*Plan, 0, len(data.Alerts))
	for _, a := range data.Alerts {
		out = append(out, planner.Plan(ctx, a, now))
	}
	return out
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

// Ping checks that the data source answers the rules API with the
// configured credentials, for health checks.
func (p *Planner) Ping(ctx context.Context) error {
	if p.src == nil {
		return promapi.ErrNoDataSource
	}
	_, err := p.src.Rules(ctx, "alertchart_health_probe")
	return err
}
