package chartplan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/i18n"
	"github.com/alertchart/alertchart/pkg/intake"
	"github.com/alertchart/alertchart/pkg/nochart"
	"github.com/alertchart/alertchart/pkg/series"
)

// Grafana-managed alert rules (Grafana Alerting). Their alerts carry no
// expression: the rule is read from Grafana by UID, its data queries are
// run through Grafana's /api/ds/query, and its expression chain (reduce →
// threshold, math, classic conditions) gives the thresholds.

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

// promTypes are data source types that speak PromQL.
var promTypes = map[string]bool{"prometheus": true, "grafana-amazonprometheus-datasource": true,
	"grafana-azureprometheus-datasource": true}

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

// grafanaPromQuery narrows a Prometheus-type query of the rule to the
// alert's series on its syntax tree, like a Prometheus rule's expression.
func (p *Planner) grafanaPromQuery(pl *Plan, gq *GrafanaQuery, ids map[string]string) {
	gq.Model["range"], gq.Model["instant"] = true, false
	delete(gq.Model, "exemplar")
	if gq.Expr == "" {
		return
	}
	rw, err := RewriteExpr(gq.Expr, ids)
	if err != nil {
		pl.fallback("query %s cannot be rewritten (%v); its series are filtered by the alert's labels instead", gq.RefID, err)
		return
	}
	gq.Query, gq.Injected, gq.PostFilter = rw.Query, rw.Injected, rw.PostFilter
	gq.Model["expr"] = rw.Query
	if len(rw.Injected) > 0 {
		if pl.InjectedLabels == nil {
			pl.InjectedLabels = map[string]string{}
		}
		maps.Copy(pl.InjectedLabels, rw.Injected)
	}
	// A comparison written in the query itself (x > 80) is stripped and
	// drawn like a Prometheus rule's.
	pl.Thresholds = append(pl.Thresholds, rw.Thresholds...)
	pl.Conditions = append(pl.Conditions, rw.Conditions...)
	for _, k := range rw.KeptFilters {
		pl.fallback("query %s keeps a comparison inside an aggregation: %s", gq.RefID, k)
	}
	if len(rw.Parts) > 1 || len(rw.References) > 0 {
		pl.fallback("query %s alerts on several expressions or against other series; it is charted as one query", gq.RefID)
	}
}

// isRangeQuery reports whether a Prometheus-type alert query evaluates its
// relative time range (range: true) rather than one instant.
func isRangeQuery(q *grafana.AlertQuery) bool {
	r, _ := q.Model["range"].(bool)
	return r
}

// rangeModel makes a non-PromQL query model return data over time where
// it has a switch for it (Loki's queryType "instant" → "range"); SQL and
// most others already do.
func rangeModel(m map[string]any, dsType string) {
	if qt, _ := m["queryType"].(string); qt == "instant" && dsType == "loki" {
		m["queryType"] = "range"
	}
	if inst, ok := m["instant"].(bool); ok && inst {
		m["instant"], m["range"] = false, true
	}
}

// queryText is the query a model carries, for display.
func queryText(m map[string]any) string {
	for _, k := range []string{"expr", "rawSql", "query", "rawQuery", "sql"} {
		if s, ok := m[k].(string); ok && strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

func cloneModel(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		return map[string]any{}
	}
	var out map[string]any
	if json.Unmarshal(b, &out) != nil || out == nil {
		return map[string]any{}
	}
	return out
}

// ruleThreshold is a threshold of the chain with the refIds it compares.
type ruleThreshold struct {
	series.Threshold
	refs []string
}

// ruleAnalysis is what the expression chain says about a rule's chart.
type ruleAnalysis struct {
	chain      []string
	queries    []string // data query refIds to chart, in order of discovery
	thresholds []ruleThreshold
	// thresholdsOf marks queries compared directly by a threshold.
	thresholdsOf map[string]bool
	conditions   []string
	notes        []string
	// dimensionless: classic conditions decide the rule; its alert has no
	// series labels.
	dimensionless bool
}

// analyseRule walks the expression chain from the rule's condition down to
// its data queries (Grafana's expression types, grafana/grafana pkg/expr:
// reduce, resample, math, threshold with gt/lt/eq/ne/gte/lte/within_range/
// outside_range and _included, classic_conditions with gt/lt/eq/ne/ge/le,
// ranges and no_value in grafana/grafana pkg/expr/classic/evaluator.go).
func analyseRule(r *grafana.AlertRule) *ruleAnalysis {
	a := &ruleAnalysis{thresholdsOf: map[string]bool{}}
	seen := map[string]bool{}
	cond := r.Condition
	if cond == "" && len(r.Data) > 0 {
		cond = r.Data[len(r.Data)-1].RefID
		a.notes = append(a.notes, "the rule names no condition; using its last entry "+cond)
	}
	var visit func(ref string, direct bool)
	visit = func(ref string, direct bool) {
		if seen[ref] {
			return
		}
		seen[ref] = true
		q := r.Query(ref)
		if q == nil {
			a.notes = append(a.notes, "the rule refers to "+ref+", which it does not define")
			return
		}
		if !q.IsExpression() {
			a.chain = append(a.chain, fmt.Sprintf("%s: %s query on %s", ref, or(q.DatasourceType(), "data source"), q.DatasourceUID))
			if !slices.Contains(a.queries, ref) {
				a.queries = append(a.queries, ref)
			}
			return
		}
		m := q.Model
		of, _ := m["expression"].(string)
		of = strings.TrimPrefix(strings.TrimSpace(of), "$")
		switch t := q.ExpressionType(); t {
		case "reduce":
			reducer, _ := m["reducer"].(string)
			mode := ""
			if st, ok := m["settings"].(map[string]any); ok {
				if md, _ := st["mode"].(string); md != "" {
					mode = ", " + md
				}
			}
			a.chain = append(a.chain, fmt.Sprintf("%s: reduce %s(%s%s)", ref, or(reducer, "last"), of, mode))
			visit(of, direct)
		case "resample":
			window, _ := m["window"].(string)
			down, _ := m["downsampler"].(string)
			a.chain = append(a.chain, fmt.Sprintf("%s: resample %s to %s (%s)", ref, of, window, or(down, "mean")))
			visit(of, direct)
		case "threshold":
			th, desc, ok := thresholdOf(m)
			a.chain = append(a.chain, fmt.Sprintf("%s: threshold %s %s", ref, of, desc))
			if ok && direct {
				a.addThreshold(th, a.dataRefs(r, of))
			}
			if cs, _ := m["conditions"].([]any); len(cs) > 0 {
				if c0, _ := cs[0].(map[string]any); c0 != nil {
					if ue, ok := c0["unloadEvaluator"].(map[string]any); ok {
						if uth, ok := evaluatorThreshold(ue, false); ok {
							a.conditions = append(a.conditions, "recovers when "+of+" "+uth.Condition(formatNum))
						}
					}
				}
			}
			visit(of, direct)
		case "math":
			expr, _ := m["expression"].(string)
			a.chain = append(a.chain, fmt.Sprintf("%s: math %s", ref, expr))
			refs, comps, plain := parseMath(expr)
			if !plain {
				a.conditions = append(a.conditions, ref+": "+expr)
				a.notes = append(a.notes, fmt.Sprintf("%s computes a value from its inputs (%s); the chart shows the inputs without threshold lines", ref, expr))
			}
			for _, c := range comps {
				if direct && plain {
					a.addThreshold(c.th, a.dataRefs(r, c.ref))
				}
			}
			for _, x := range refs {
				visit(x, direct && plain)
			}
		case "classic_conditions":
			a.dimensionless = true
			cs, _ := m["conditions"].([]any)
			var parts, inputs []string
			for i, c := range cs {
				cm, _ := c.(map[string]any)
				qm, _ := cm["query"].(map[string]any)
				params, _ := qm["params"].([]any)
				if len(params) == 0 {
					continue
				}
				x, _ := params[0].(string)
				red, _ := cm["reducer"].(map[string]any)
				rt, _ := red["type"].(string)
				ev, _ := cm["evaluator"].(map[string]any)
				th, ok := evaluatorThreshold(ev, true)
				desc := "has no value"
				if ok {
					desc = th.Condition(formatNum)
				}
				op := ""
				if i > 0 {
					o, _ := cm["operator"].(map[string]any)
					ot, _ := o["type"].(string)
					op = strings.ToUpper(or(ot, "and")) + " "
				}
				parts = append(parts, fmt.Sprintf("%s%s(%s) %s", op, or(rt, "avg"), x, desc))
				if ok && direct {
					a.addThreshold(th, a.dataRefs(r, x))
				}
				inputs = append(inputs, x)
			}
			a.chain = append(a.chain, fmt.Sprintf("%s: classic condition %s", ref, strings.Join(parts, " ")))
			for _, x := range inputs {
				visit(x, direct)
			}
			a.notes = append(a.notes, "classic conditions fire on any series of their queries and give the alert none of its labels: every series is charted")
		default:
			a.chain = append(a.chain, fmt.Sprintf("%s: %s expression", ref, or(t, "unknown")))
			a.notes = append(a.notes, fmt.Sprintf("%s is a %s expression, which AlertChart does not interpret; the rule's data queries are charted without thresholds", ref, or(t, "unknown")))
			for _, d := range r.Data {
				if !d.IsExpression() {
					visit(d.RefID, false)
				}
			}
		}
	}
	visit(cond, true)
	return a
}

// dataRefs returns the data queries ref reads, through reduce/resample/math.
func (a *ruleAnalysis) dataRefs(r *grafana.AlertRule, ref string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(string)
	walk = func(x string) {
		if seen[x] {
			return
		}
		seen[x] = true
		q := r.Query(x)
		if q == nil {
			return
		}
		if !q.IsExpression() {
			out = append(out, x)
			return
		}
		switch q.ExpressionType() {
		case "reduce", "resample", "threshold":
			of, _ := q.Model["expression"].(string)
			walk(strings.TrimPrefix(strings.TrimSpace(of), "$"))
		case "math":
			expr, _ := q.Model["expression"].(string)
			refs, _, _ := parseMath(expr)
			for _, y := range refs {
				walk(y)
			}
		}
	}
	walk(ref)
	return out
}

func (a *ruleAnalysis) addThreshold(th series.Threshold, refs []string) {
	for _, ref := range refs {
		a.thresholdsOf[ref] = true
	}
	for i := range a.thresholds {
		if a.thresholds[i].Op == th.Op && a.thresholds[i].Value == th.Value && eqPtr(a.thresholds[i].Upper, th.Upper) {
			for _, ref := range refs {
				if !slices.Contains(a.thresholds[i].refs, ref) {
					a.thresholds[i].refs = append(a.thresholds[i].refs, ref)
				}
			}
			return
		}
	}
	a.thresholds = append(a.thresholds, ruleThreshold{Threshold: th, refs: refs})
}

func eqPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// thresholdOf reads a threshold expression's evaluator
// (conditions[0].evaluator, grafana/grafana pkg/expr/threshold.go
// ThresholdCommandConfig).
func thresholdOf(m map[string]any) (series.Threshold, string, bool) {
	cs, _ := m["conditions"].([]any)
	if len(cs) == 0 {
		return series.Threshold{}, "(no condition)", false
	}
	c0, _ := cs[0].(map[string]any)
	ev, _ := c0["evaluator"].(map[string]any)
	th, ok := evaluatorThreshold(ev, false)
	if !ok {
		t, _ := ev["type"].(string)
		return th, "(" + t + ")", false
	}
	return th, th.Condition(formatNum), true
}

// evaluatorThreshold turns an evaluator {type, params} into a threshold.
// Threshold expressions say gte/lte, classic conditions ge/le.
func evaluatorThreshold(ev map[string]any, classic bool) (series.Threshold, bool) {
	t, _ := ev["type"].(string)
	ps, _ := ev["params"].([]any)
	var params []float64
	for _, p := range ps {
		switch v := p.(type) {
		case float64:
			params = append(params, v)
		case string:
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				params = append(params, f)
			}
		}
	}
	ops := map[string]string{"gt": ">", "lt": "<", "eq": "==", "ne": "!=", "gte": ">=", "lte": "<=", "ge": ">=", "le": "<="}
	if op, ok := ops[t]; ok && len(params) >= 1 {
		if classic && (t == "gte" || t == "lte") || !classic && (t == "ge" || t == "le") {
			return series.Threshold{}, false
		}
		return series.Threshold{Op: op, Value: params[0]}, true
	}
	switch t {
	case series.OpWithinRange, series.OpOutsideRange, series.OpWithinRangeIncluded, series.OpOutsideRangeIncluded:
		if len(params) >= 2 {
			lo, hi := min(params[0], params[1]), max(params[0], params[1])
			return series.Threshold{Op: t, Value: lo, Upper: &hi}, true
		}
	}
	return series.Threshold{}, false
}

func formatNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// mathRef finds $A and ${A} in a math expression.
var mathRef = regexp.MustCompile(`\$\{([^}]+)\}|\$([A-Za-z0-9_]+)`)

// mathComparison is "$B > 80" or "80 < $B" (a comparison of one input with
// a constant), the form the rule editor's math conditions take.
var mathComparison = regexp.MustCompile(`^\(?\s*(\$\{[^}]+\}|\$[A-Za-z0-9_]+)\s*(>=|<=|==|!=|>|<)\s*(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*\)?$|^\(?\s*(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*(>=|<=|==|!=|>|<)\s*(\$\{[^}]+\}|\$[A-Za-z0-9_]+)\s*\)?$`)

type mathComp struct {
	ref string
	th  series.Threshold
}

// parseMath returns the inputs of a math expression, its comparisons of an
// input with a constant, and whether it is only such comparisons joined by
// && and || (so the chart of the inputs with those lines is the condition).
func parseMath(expr string) (refs []string, comps []mathComp, plain bool) {
	for _, m := range mathRef.FindAllStringSubmatch(expr, -1) {
		r := m[1] + m[2]
		if !slices.Contains(refs, r) {
			refs = append(refs, r)
		}
	}
	plain = true
	for _, part := range regexp.MustCompile(`&&|\|\|`).Split(expr, -1) {
		m := mathComparison.FindStringSubmatch(strings.TrimSpace(part))
		if m == nil {
			plain = false
			continue
		}
		ref, op, num := m[1], m[2], m[3]
		if ref == "" {
			ref, op, num = m[6], flip(m[5]), m[4]
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			plain = false
			continue
		}
		ref = strings.Trim(strings.TrimPrefix(ref, "$"), "{}")
		comps = append(comps, mathComp{ref: ref, th: series.Threshold{Op: op, Value: v}})
	}
	if len(comps) == 0 {
		plain = false
	}
	return refs, comps, plain
}

func flip(op string) string {
	switch op {
	case ">":
		return "<"
	case "<":
		return ">"
	case ">=":
		return "<="
	case "<=":
		return ">="
	}
	return op
}

// fetchGrafana runs a Grafana plan's queries through /api/ds/query in one
// request over the plan's range, reads the frames and keeps the alert's
// series: those whose labels match the alert's (a Prometheus-type query was
// narrowed by injection already; the same check also applies its
// post-filter), then names them and keeps the MaxSeries highest.
func (p *Planner) fetchGrafana(ctx context.Context, pl *Plan) (*FetchResult, error) {
	if p.grafana == nil {
		return nil, errors.New("chartplan: no Grafana API access for a Grafana-managed rule")
	}
	g := pl.Grafana
	step := pl.Step.D()
	if step <= 0 {
		step = stepFor(pl.End.Sub(pl.Start))
	}
	points := int(pl.End.Sub(pl.Start)/step) + 1
	req := grafana.QueryRequest{From: pl.Start, To: pl.End}
	for _, q := range g.Queries {
		m := GrafanaTarget(q)
		m["intervalMs"] = float64(step.Milliseconds())
		m["maxDataPoints"] = float64(points)
		req.Queries = append(req.Queries, m)
	}
	results, err := p.grafana.QueryData(ctx, req)
	if err != nil {
		if grafana.IsNotFound(err) {
			return nil, fmt.Errorf("a data source of the rule no longer exists in Grafana: %w", err)
		}
		return nil, err
	}
	res := &FetchResult{}
	var kept []partSeries
	failed := 0
	var firstErr string
	for _, q := range g.Queries {
		r, ok := results[q.RefID]
		if !ok {
			res.Warnings = append(res.Warnings, "query "+q.RefID+": Grafana returned no result")
			continue
		}
		if r.Error != "" {
			failed++
			if firstErr == "" {
				firstErr = "query " + q.RefID + ": " + r.Error
			}
			res.Warnings = append(res.Warnings, "query "+q.RefID+": "+r.Error)
			continue
		}
		ss, problems := grafana.FramesToSeries(r.Frames)
		for _, pr := range problems {
			res.Warnings = append(res.Warnings, "query "+q.RefID+": "+pr.Error())
		}
		res.Returned += len(ss)
		required := requiredLabels(g.Match, ss)
		for k, v := range q.PostFilter {
			required[k] = v
		}
		part := ""
		if len(g.Queries) > 1 {
			part = q.RefID
		}
		for _, s := range ss {
			if g.AnySeries || (pl.Overview != nil && matchesAny(s.Labels, g.MatchAny)) ||
				(pl.Overview == nil && grafanaMatches(s.Labels, required, pl.Alert.Labels, pl.Rule)) {
				kept = append(kept, partSeries{Series: s, part: part})
			} else {
				res.FilteredOut++
			}
		}
	}
	if failed == len(g.Queries) {
		return nil, errors.New(firstErr)
	}
	kept = topByLast(kept, p.cfg.MaxSeries, &res.Dropped)
	p.nameGrafanaSeries(pl, kept)
	res.Series = make([]series.Series, len(kept))
	for i, s := range kept {
		res.Series[i] = s.Series
	}
	return res, nil
}

// requiredLabels are the alert's labels a series of this query must carry:
// those the query's data knows at all (a label no series of the query has
// comes from another query of the rule).
func requiredLabels(match map[string]string, ss []series.Series) map[string]string {
	out := map[string]string{}
	for k, v := range match {
		for _, s := range ss {
			if _, ok := s.Labels[k]; ok {
				out[k] = v
				break
			}
		}
	}
	return out
}

// grafanaMatches keeps a series when it carries every required label with
// the alert's value, and every label it has (but __name__, or one the
// rule's labels override) is on the alert with the same value: Grafana
// gives an alert instance exactly its series' labels.
func grafanaMatches(l, required, alert map[string]string, rule *Rule) bool {
	for k, v := range required {
		if l[k] != v {
			return false
		}
	}
	for k, v := range l {
		if k == "__name__" {
			continue
		}
		if rule != nil {
			if _, ok := rule.Labels[k]; ok {
				continue
			}
		}
		if av, ok := alert[k]; !ok || av != v {
			return false
		}
	}
	return true
}

// nameGrafanaSeries names series as Grafana's legend would: the data
// source's display name, else the legend format, else the labels that
// differ between them, else the alert's identifying labels; the refId
// first when several queries are charted.
func (p *Planner) nameGrafanaSeries(pl *Plan, ss []partSeries) {
	plain := make([]series.Series, len(ss))
	for i := range ss {
		plain[i] = ss[i].Series
	}
	keys := series.DifferingLabels(plain)
	if len(keys) == 0 && pl.Grafana != nil {
		for k := range pl.Grafana.Match {
			keys = append(keys, k)
		}
		sort.Strings(keys)
	}
	for i := range ss {
		name := ss[i].Name
		switch {
		case pl.Legend != "":
			name = FormatLegend(pl.Legend, ss[i].Labels)
		case name != "" && len(keys) > 0:
			name += " " + series.ShortName(ss[i].Labels, keys)
		case name == "":
			name = series.ShortName(ss[i].Labels, keys)
		}
		ss[i].Name = joinName(ss[i].part, strings.TrimSpace(name))
	}
}

// grafanaChartQuery applies a chart_query annotation to a Grafana-managed
// rule: the PromQL replaces the first Prometheus-type query's, as written.
func (p *Planner) grafanaChartQuery(pl *Plan, q string) {
	if _, err := ParseExpr(q); err != nil {
		pl.fallback("%s annotation does not parse (%v); ignored", AnnotationQuery, err)
		return
	}
	for i := range pl.Grafana.Queries {
		gq := &pl.Grafana.Queries[i]
		if !promTypes[gq.DatasourceType] {
			continue
		}
		gq.Query, gq.Injected, gq.PostFilter = q, nil, nil
		gq.Model["expr"] = q
		pl.Grafana.Queries = pl.Grafana.Queries[i : i+1]
		pl.Grafana.Match = nil
		pl.Query, pl.InjectedLabels = q, nil
		pl.Overrides = append(pl.Overrides, AnnotationQuery)
		return
	}
	pl.fallback("%s annotation is PromQL and the rule has no Prometheus query to run it on; ignored", AnnotationQuery)
}

// matchesAny keeps a series whose value of every label of any is one of
// its values.
func matchesAny(l map[string]string, any map[string][]string) bool {
	for k, vs := range any {
		if !slices.Contains(vs, l[k]) {
			return false
		}
	}
	return true
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

// GrafanaTarget is a charted query as a panel target: its model with its
// refId and data source, for the Grafana renderer.
func GrafanaTarget(q GrafanaQuery) map[string]any {
	m := cloneModel(q.Model)
	m["refId"] = q.RefID
	ds := map[string]any{"uid": q.DatasourceUID}
	if q.DatasourceType != "" {
		ds["type"] = q.DatasourceType
	}
	m["datasource"] = ds
	delete(m, "intervalMs")
	delete(m, "maxDataPoints")
	return m
}
