package chartplan

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/i18n"
	"github.com/alertchart/alertchart/pkg/intake"
	"github.com/alertchart/alertchart/pkg/nochart"
)

// Grafana-managed alert rules (Grafana Alerting). Their alerts carry no
// expression: the rule is read from Grafana by UID, its data queries are
// run through Grafana's /api/ds/query, and its expression chain (reduce →
// threshold, math, classic conditions) gives the thresholds.
// This file finds the rule and plans its chart; grafanachain.go reads the
// chain, grafanaquery.go prepares the queries, grafanafetch.go runs them.

// SourceGrafanaRule is the plan source of a rule read from Grafana.
const SourceGrafanaRule = "grafana_rule"

// GrafanaSource is what the planner needs from Grafana (pkg/grafana.Client).
type GrafanaSource interface {
	AlertRule(ctx context.Context, uid string) (*grafana.AlertRule, error)
	AlertRules(ctx context.Context) (map[string]*grafana.AlertRule, error)
	DataSource(ctx context.Context, uid string) (*grafana.DataSource, error)
	QueryData(ctx context.Context, req grafana.QueryRequest) (map[string]grafana.QueryResult, error)
}

// UseGrafana lets the planner chart alerts of Grafana-managed rules through
// g (nil: such alerts get a plan saying why there is no chart). Call it
// before planning.
func (p *Planner) UseGrafana(g GrafanaSource) {
	p.grafana = g
	if g == nil {
		p.grules, p.gds = nil, nil
		return
	}
	ttl := p.cfg.RulesCacheTTL
	p.grules = newTTLCache(ttl, time.Now, g.AlertRule)
	// A data source's type changes never; its deletion is noticed within a
	// minute.
	p.gds = newTTLCache(max(ttl, time.Minute), time.Now, g.DataSource)
}

// GrafanaRuleRequests reports how many alert-rule requests went to Grafana.
func (p *Planner) GrafanaRuleRequests() int {
	if p.grules == nil {
		return 0
	}
	return p.grules.Requests()
}

// GrafanaPlan is the part of a plan that is particular to a Grafana-managed
// rule; POST /explain shows it.
type GrafanaPlan struct {
	RuleUID string `json:"ruleUid"`
	// API is the Grafana API the rule was read through.
	API       string `json:"api,omitempty"`
	FolderUID string `json:"folderUid,omitempty"`
	// Condition is the refId that decides the rule.
	Condition string `json:"condition,omitempty"`
	// Chain is how the condition is computed, one line per step from the
	// condition down to the data: "C: threshold B > 80", "B: reduce
	// last(A)", "A: prometheus query on prom-main".
	Chain []string `json:"chain,omitempty"`
	// Queries are the data queries charted, as sent to /api/ds/query.
	Queries []GrafanaQuery `json:"queries,omitempty"`
	// Match are the labels a returned series must carry with the alert's
	// values to be the alert's series (its labels minus alertname,
	// grafana_folder and the rule's own labels).
	Match map[string]string `json:"match,omitempty"`
	// MatchAny narrows an overview (PlanOverview) to the series of several
	// alerts: a series' value of each label must be one of these.
	MatchAny map[string][]string `json:"matchAny,omitempty"`
	// AnySeries is set when the rule's alert stands for all its series
	// (classic conditions): every series returned is charted.
	AnySeries bool `json:"anySeries,omitempty"`
	// RelativeRange is the longest relative time range of the queries the
	// rule evaluates over a range: the window is never shorter.
	RelativeRange Duration `json:"relativeRange,omitempty"`
	// Values are the alert's values as Grafana reported them.
	Values map[string]float64 `json:"values,omitempty"`
}

// GrafanaQuery is one data query of a Grafana-managed rule, as charted.
type GrafanaQuery struct {
	RefID          string `json:"refId"`
	DatasourceUID  string `json:"datasourceUid"`
	DatasourceType string `json:"datasourceType,omitempty"`
	DatasourceName string `json:"datasourceName,omitempty"`
	// Expr is the query as the rule has it (PromQL, SQL, LogQL…); Query is
	// what is run instead when it differs: the PromQL with the alert's
	// labels injected.
	Expr  string `json:"expr,omitempty"`
	Query string `json:"query,omitempty"`
	// Injected are the alert labels added as matchers (Prometheus-type
	// data sources); PostFilter those checked on the returned series.
	Injected   map[string]string `json:"injectedLabels,omitempty"`
	PostFilter map[string]string `json:"postFilterLabels,omitempty"`
	// Model is the query model sent to /api/ds/query (the resolution and
	// time range are set when fetching).
	Model map[string]any `json:"model"`
}

// grafanaRulePath finds the rule UID in a Grafana-managed rule's
// generatorURL: <root_url>/alerting/grafana/<uid>/view (state manager,
// grafana/grafana pkg/services/ngalert/state/compat.go), older …/alerting/<uid>/edit.
var grafanaRulePath = regexp.MustCompile(`/alerting/(?:grafana/([A-Za-z0-9_-]{1,40})/view|([A-Za-z0-9_-]{1,40})/edit)/?$`)

// GrafanaRuleUID returns the UID of the Grafana-managed rule behind an
// alert, or "": the webhook's ruleUID (kept by intake), the private
// __alert_rule_uid__ label an external Alertmanager receives, the
// generatorURL, or the __alert_rule_uid__ matcher of Grafana's silence link.
func GrafanaRuleUID(a template.Alert) string {
	if uid := strings.TrimSpace(a.Annotations[intake.AnnotationGrafanaRuleUID]); uid != "" {
		return uid
	}
	if uid := strings.TrimSpace(a.Labels["__alert_rule_uid__"]); uid != "" {
		return uid
	}
	if !strings.Contains(a.GeneratorURL, "/alerting/") {
		// Prometheus-style links (the hot path): nothing to parse.
	} else if u, err := url.Parse(a.GeneratorURL); err == nil {
		if m := grafanaRulePath.FindStringSubmatch(u.Path); m != nil {
			return m[1] + m[2]
		}
	}
	if s := a.Annotations[intake.AnnotationGrafanaSilenceURL]; s != "" {
		if u, err := url.Parse(s); err == nil {
			for _, m := range u.Query()["matcher"] {
				if uid, ok := strings.CutPrefix(m, "__alert_rule_uid__="); ok && uid != "" {
					return uid
				}
			}
		}
	}
	return ""
}

// Grafana's special alerts for a rule whose query returned nothing or
// failed (grafana/grafana pkg/services/ngalert/schedule/compat.go): alertname is replaced,
// the rule's title moves to the rulename label.
const (
	grafanaNoData = "DatasourceNoData"
	grafanaError  = "DatasourceError"
)

// grafanaIdentifying returns the alert labels that name the rule's series:
// all of them minus alertname, grafana_folder, rulename on NoData/Error
// alerts, private __…__ labels and the rule's own labels (Grafana adds
// them to every alert; a rule label overrides a series label of that name).
func grafanaIdentifying(alert map[string]string, rule *grafana.AlertRule) map[string]string {
	out := map[string]string{}
	special := alert["alertname"] == grafanaNoData || alert["alertname"] == grafanaError
	for k, v := range alert {
		switch {
		case k == "alertname", k == "grafana_folder", k == "__name__",
			strings.HasPrefix(k, "__") && strings.HasSuffix(k, "__"),
			special && k == "rulename":
			continue
		}
		if rule != nil {
			if _, ok := rule.Labels[k]; ok {
				continue
			}
		}
		out[k] = v
	}
	return out
}

// planGrafana fills pl for the alert of Grafana-managed rule uid: the rule,
// the queries to chart, thresholds and Grafana's part of the plan. It
// returns the rule's pending period and whether the rule is known.
func (p *Planner) planGrafana(ctx context.Context, pl *Plan, alert template.Alert, uid string) (time.Duration, bool) {
	pl.Evaluator = EvaluatorGrafana
	g := &GrafanaPlan{RuleUID: uid}
	pl.Grafana = g
	if raw := alert.Annotations[intake.AnnotationGrafanaValues]; raw != "" {
		_ = json.Unmarshal([]byte(raw), &g.Values)
	}
	pl.EvaluatorLabels = addedLabels(EvaluatorGrafana, nil, alert.Labels)
	if p.grafana == nil {
		pl.noChart(nochart.GrafanaNoAccess, "the alert comes from a Grafana-managed rule (%s) and AlertChart has no access to Grafana's API "+
			"(standalone server, or no service account token: see the Grafana health check)", uid)
		return 0, false
	}
	rule, err := p.grules.get(ctx, uid)
	switch {
	case errors.Is(err, grafana.ErrRuleNotFound):
		pl.noChart(nochart.GrafanaRuleMissing, "Grafana has no alert rule %q (deleted, or in another organisation)", uid)
		return 0, false
	case grafana.IsForbidden(err):
		pl.noChart(nochart.GrafanaForbidden, "Grafana does not let the plugin read the alert rule (403): grant the plugin's service account %s and %s on the rule's folder",
			grafana.PermAlertRulesRead, grafana.PermFoldersRead)
		pl.fallback("reading rule %s: %v", uid, err)
		return 0, false
	case err != nil:
		pl.noChart(nochart.GrafanaRuleFailed, "Grafana's alert rule API failed: %v", err)
		return 0, false
	}
	g.API, g.FolderUID, g.Condition = rule.API, rule.FolderUID, rule.Condition
	pl.Source = SourceGrafanaRule
	pl.Rule = &Rule{Name: rule.Title, Group: rule.RuleGroup, For: Duration(rule.For),
		KeepFiringFor: Duration(rule.KeepFiringFor), Labels: rule.Labels, Annotations: rule.Annotations}
	if rule.IsPaused {
		pl.fallback("the rule is paused in Grafana")
	}

	an := analyseRule(rule)
	g.Chain = an.chain
	pl.Conditions = append(pl.Conditions, an.conditions...)
	pl.Fallbacks = append(pl.Fallbacks, an.notes...)
	pl.Rule.Expr = strings.Join(an.chain, "; ")
	switch alert.Labels["alertname"] {
	case grafanaNoData:
		pl.setNoData(i18n.M("chart.nodata.grafana"))
	case grafanaError:
		pl.fallback("Grafana failed to evaluate the rule (DatasourceError); the chart shows what its queries return now")
	}
	if len(an.queries) == 0 {
		pl.noChart(nochart.NoQuery, "the rule has no data query with a real data source to chart")
		return rule.For, true
	}
	if len(an.queries) > MaxParts {
		pl.fallback("the rule has %d data queries; the first %d are charted", len(an.queries), MaxParts)
		an.queries = an.queries[:MaxParts]
	}

	ids := grafanaIdentifying(alert.Labels, rule)
	if an.dimensionless {
		// Classic conditions fire on any series and give the alert none of
		// their labels: every series of the queries is the alert's.
		ids = map[string]string{}
		g.AnySeries = true
	}
	if len(ids) > 0 {
		g.Match = ids
	}
	var exprs []string
	for _, ref := range an.queries {
		q := rule.Query(ref)
		gq := GrafanaQuery{RefID: ref, DatasourceUID: q.DatasourceUID, DatasourceType: q.DatasourceType(), Model: cloneModel(q.Model)}
		ds, err := p.gds.get(ctx, q.DatasourceUID)
		switch {
		case err == nil:
			gq.DatasourceType, gq.DatasourceName = ds.Type, ds.Name
		case grafana.IsNotFound(err):
			pl.noChart(nochart.DatasourceMissing, "the rule's data source %q (query %s) no longer exists in Grafana", q.DatasourceUID, ref)
			return rule.For, true
		case grafana.IsForbidden(err) && gq.DatasourceType != "":
			// Without datasources:read the model's own type will do.
		default:
			pl.fallback("data source %q of query %s could not be read: %v", q.DatasourceUID, ref, err)
		}
		// The window covers the range the rule evaluates: a range query's
		// relative time range (a Prometheus instant query evaluates one
		// instant; its own [5m] windows are in the PromQL).
		if q.RelativeFrom > q.RelativeTo && (!promTypes[gq.DatasourceType] || isRangeQuery(q)) {
			g.RelativeRange = Duration(max(g.RelativeRange.D(), q.RelativeFrom-q.RelativeTo))
		}
		gq.Expr = queryText(gq.Model)
		if promTypes[gq.DatasourceType] {
			p.grafanaPromQuery(pl, &gq, ids)
		} else {
			rangeModel(gq.Model, gq.DatasourceType)
		}
		exprs = append(exprs, gq.Expr)
		g.Queries = append(g.Queries, gq)
	}
	// Thresholds apply to the queries the chain compares directly; with
	// several queries each is labelled with the refIds it concerns.
	for _, th := range an.thresholds {
		if len(g.Queries) > 1 {
			th.Series = strings.Join(th.refs, ", ")
		}
		pl.Thresholds = append(pl.Thresholds, th.Threshold)
	}
	pl.Expr = strings.Join(exprs, "\n")
	pl.Query = g.Queries[0].Expr
	if g.Queries[0].Query != "" {
		pl.Query = g.Queries[0].Query
	}
	if strings.TrimSpace(pl.Query) == "" {
		pl.Query = g.Queries[0].RefID + " on " + or(g.Queries[0].DatasourceName, g.Queries[0].DatasourceUID)
	}
	return rule.For, true
}

// narrowGrafanaOverview narrows a Grafana plan to the series of several
// alerts of its rule: the identifying labels all of them carry, as value
// sets; Prometheus-type queries get them injected as label=~"a|b".
func (p *Planner) narrowGrafanaOverview(pl *Plan, charted []template.Alert) []string {
	g := pl.Grafana
	if g.AnySeries {
		return nil
	}
	var rule *grafana.AlertRule
	if pl.Rule != nil {
		rule = &grafana.AlertRule{Labels: pl.Rule.Labels}
	}
	sets := map[string][]string{}
	for i, a := range charted {
		ids := grafanaIdentifying(a.Labels, rule)
		if i == 0 {
			for k, v := range ids {
				sets[k] = []string{v}
			}
			continue
		}
		for k := range sets {
			v, ok := ids[k]
			if !ok {
				delete(sets, k)
				continue
			}
			if !slices.Contains(sets[k], v) {
				sets[k] = append(sets[k], v)
			}
		}
	}
	g.Match, g.MatchAny = nil, sets
	pl.InjectedLabels, pl.InjectedAny = nil, nil
	for i := range g.Queries {
		q := &g.Queries[i]
		if !promTypes[q.DatasourceType] || q.Expr == "" {
			continue
		}
		rw, err := RewriteExprAny(q.Expr, sets)
		if err != nil {
			continue
		}
		q.Query, q.Injected, q.PostFilter = rw.Query, rw.Injected, nil
		q.Model["expr"] = rw.Query
		pl.InjectedAny = rw.InjectedAny
	}
	pl.Query = or(g.Queries[0].Query, g.Queries[0].Expr)
	if len(sets) == 0 {
		return []string{"the alerts share no label to narrow the rule's queries by; showing the top " + strconv.Itoa(p.cfg.MaxSeries) + " series"}
	}
	return nil
}
