package chartplan

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/alertchart/alertchart/pkg/promapi"
)

// rulesCache keeps rules API answers per alert name (see ttlCache).
type rulesCache = ttlCache[[]promapi.RuleGroup]

func newRulesCache(src *promapi.Client, ttl time.Duration, clock func() time.Time) *rulesCache {
	return newTTLCache(ttl, clock, func(ctx context.Context, name string) ([]promapi.RuleGroup, error) {
		return src.Rules(ctx, name)
	})
}

// maxNamesPerRequest bounds the rule_name[] filters of one batched rules
// request (a URL of a few kilobytes); past it the batch asks for every
// alerting rule, still one request.
const maxNamesPerRequest = 50

// prefetchRules fills the cache for many alert names with one rules API
// request: the names as rule_name[] filters, or every alerting rule when
// they are many. POST /explain of a storm payload then costs one request,
// not one per name.
func prefetchRules(ctx context.Context, c *rulesCache, src *promapi.Client, names []string) {
	c.batch(ctx, names, func(ctx context.Context, miss []string) (map[string][]promapi.RuleGroup, error) {
		filter := miss
		if len(filter) > maxNamesPerRequest {
			filter = nil
		}
		groups, err := src.Rules(ctx, filter...)
		if err != nil {
			return nil, err
		}
		return splitByName(groups), nil
	}, func(string) ([]promapi.RuleGroup, error) { return nil, nil })
}

// splitByName regroups a rules answer per alert name, each name's groups
// holding only its rules — what a rule_name[] request for that name returns.
func splitByName(groups []promapi.RuleGroup) map[string][]promapi.RuleGroup {
	out := map[string][]promapi.RuleGroup{}
	for _, g := range groups {
		byName := map[string][]promapi.Rule{}
		var order []string
		for _, r := range g.Rules {
			if _, ok := byName[r.Name]; !ok {
				order = append(order, r.Name)
			}
			byName[r.Name] = append(byName[r.Name], r)
		}
		for _, n := range order {
			gg := g
			gg.Rules = byName[n]
			out[n] = append(out[n], gg)
		}
	}
	return out
}

// ExprFromGeneratorURL extracts the expression from a Prometheus-style
// generatorURL (".../graph?g0.expr=...&g0.tab=1"). Thanos ruler and vmalert
// configured with -external.alert.source=graph?g0.expr=... use the same
// form. It returns "" when the URL carries no expression: vmalert's default
// (/vmalert/alert?group_id=..&alert_id=..), Grafana-managed rules
// (/alerting/grafana/<uid>/view) and anything unparsable. Grafana Explore
// links (Mimir's and Loki's grafana-explore format) give their first query.
func ExprFromGeneratorURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	q := u.Query()
	if e := q.Get("g0.expr"); e != "" {
		return e
	}
	// Some proxies and UIs put the query string after a fragment (#/graph?…).
	if i := strings.Index(u.Fragment, "?"); i >= 0 {
		if fq, err := url.ParseQuery(u.Fragment[i+1:]); err == nil {
			return fq.Get("g0.expr")
		}
	}
	// Grafana Explore links, as Mimir's and Loki's rulers write them with
	// the grafana-explore generator URL format
	// (/explore?left={"queries":[{"expr":…}]}) and as newer Grafanas do
	// (/explore?panes={"<id>":{"queries":[{"expr":…}]}}).
	type queries struct {
		Queries []struct {
			Expr string `json:"expr"`
		} `json:"queries"`
	}
	first := func(qs queries) string {
		for _, x := range qs.Queries {
			if x.Expr != "" {
				return x.Expr
			}
		}
		return ""
	}
	if l := q.Get("left"); l != "" {
		var v queries
		if json.Unmarshal([]byte(l), &v) == nil {
			return first(v)
		}
	}
	if p := q.Get("panes"); p != "" {
		var v map[string]queries
		if json.Unmarshal([]byte(p), &v) == nil {
			for _, pane := range v {
				if e := first(pane); e != "" {
					return e
				}
			}
		}
	}
	return ""
}

// normalizeExpr makes two spellings of one expression comparable: parsed and
// printed when possible, whitespace-collapsed otherwise.
func normalizeExpr(expr string) string {
	if e, err := ParseExpr(expr); err == nil {
		return e.String()
	}
	return strings.Join(strings.Fields(expr), " ")
}

// candidate is one alerting rule with the group it lives in.
// It points into the cached rules API answer, which is never modified.
type candidate struct {
	group *promapi.RuleGroup
	rule  *promapi.Rule
}

// resolution is the outcome of matching an alert against the rules API.
type resolution struct {
	match  *candidate
	source string
	notes  []string
}

// resolveRule picks the alert's rule among the rules named like the alert:
// by name and expression; then, with no usable expression, by name alone
// when only one rule fits the alert's labels; then by the rules' active
// alerts carrying exactly the alert's labels.
func resolveRule(groups []promapi.RuleGroup, name string, alertLabels map[string]string, urlExpr string, external map[string]bool) resolution {
	var all []candidate
	for gi := range groups {
		g := &groups[gi]
		for ri := range g.Rules {
			if g.Rules[ri].Name == name {
				all = append(all, candidate{group: g, rule: &g.Rules[ri]})
			}
		}
	}
	if len(all) == 0 {
		return resolution{notes: []string{"the rules API has no alerting rule named " + quote(name)}}
	}
	// A rule's static labels (severity: critical) must be on the alert.
	var fitting []candidate
	for _, c := range all {
		if staticLabelsFit(c.rule.Labels, alertLabels) {
			fitting = append(fitting, c)
		}
	}
	var notes []string
	if urlExpr != "" {
		want := normalizeExpr(urlExpr)
		var byExpr []candidate
		for _, c := range fitting {
			if normalizeExpr(c.rule.Query) == want {
				byExpr = append(byExpr, c)
			}
		}
		if len(byExpr) == 1 {
			return resolution{match: &byExpr[0], source: SourceRulesAPI}
		}
		if len(byExpr) > 1 {
			if c := byActiveAlert(byExpr, alertLabels, external); c != nil {
				return resolution{match: c, source: SourceRulesAPI}
			}
			// Identical name, expression and labels: any of them charts the same.
			return resolution{match: &byExpr[0], source: SourceRulesAPI,
				notes: []string{"several rules share this name and expression; using the one in group " + quote(byExpr[0].group.Name)}}
		}
		notes = append(notes, "no rule named "+quote(name)+" has the generatorURL's expression")
	}
	if len(fitting) == 1 {
		return resolution{match: &fitting[0], source: SourceRulesAPINameOnly, notes: notes}
	}
	if c := byActiveAlert(fitting, alertLabels, external); c != nil {
		return resolution{match: c, source: SourceRulesAPIActiveAlert, notes: notes}
	}
	if len(fitting) == 0 {
		return resolution{notes: append(notes, "no rule named "+quote(name)+" has labels matching the alert")}
	}
	return resolution{notes: append(notes, itoa(len(fitting))+" rules are named "+quote(name)+" and none could be told apart")}
}

func staticLabelsFit(ruleLabels, alertLabels map[string]string) bool {
	for k, v := range ruleLabels {
		if strings.Contains(v, "{{") {
			continue // templated: its value depends on the series
		}
		if alertLabels[k] != v {
			return false
		}
	}
	return true
}

// byActiveAlert returns the only candidate with a pending/firing alert whose
// labels equal the alert's (external labels aside).
func byActiveAlert(cands []candidate, alertLabels map[string]string, external map[string]bool) *candidate {
	var found *candidate
	for i := range cands {
		for _, a := range cands[i].rule.Alerts {
			if sameLabels(a.Labels, alertLabels, external) {
				if found != nil && found != &cands[i] {
					return nil
				}
				found = &cands[i]
				break
			}
		}
	}
	return found
}

func sameLabels(a, b map[string]string, external map[string]bool) bool {
	n := 0
	for k, v := range a {
		if external[k] {
			continue
		}
		if b[k] != v {
			return false
		}
		n++
	}
	m := 0
	for k := range b {
		if !external[k] {
			m++
		}
	}
	return n == m
}

func quote(s string) string { return "\"" + s + "\"" }
