package chartplan

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"

	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/nochart"
	"github.com/alertchart/alertchart/pkg/promapi"
	"github.com/alertchart/alertchart/pkg/series"
	"github.com/alertchart/alertchart/pkg/settings"
)

// The planner: its settings; Plan, which makes one alert's plan in four
// steps (the rule, the query, the window, the presentation) and never fails;
// Prefetch and Explain, which plan many alerts on one rules API request.

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

// Ping checks that the data source answers the rules API with the
// configured credentials, for health checks.
func (p *Planner) Ping(ctx context.Context) error {
	if p.src == nil {
		return promapi.ErrNoDataSource
	}
	_, err := p.src.Rules(ctx, "alertchart_health_probe")
	return err
}
