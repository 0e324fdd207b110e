package chartplan

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// MaxOverviewValues caps how many alerts' label values an overview query
// unions: a regex of a few dozen alternatives stays cheap for Prometheus and
// readable in the records, and a chart of more lines than that says no more.
const MaxOverviewValues = 20

// Overview describes the alerts behind an overview plan (PlanOverview).
type Overview struct {
	// Alerts is how many alerts were given; Group how many of them share
	// the charted rule; Charted how many of those the query is narrowed to
	// (at most MaxOverviewValues).
	Alerts  int `json:"alerts"`
	Group   int `json:"group"`
	Charted int `json:"charted"`
	// Rules is how many distinct rules the alerts came from.
	Rules int `json:"rules"`
	// Note says in a sentence what the chart leaves out, for the records.
	Note string `json:"note,omitempty"`
}

// PlanOverview plans one chart for several alerts, for the digest a
// rate-limited robot receives during a storm: one image has to stand for
// many alerts, so it charts the rule most of them share. The alerts are
// grouped by alertname and generatorURL expression; the largest group
// (ties: the one whose first alert came first) is planned like Plan plans
// its earliest alert — same rule resolution, same comparison stripping and
// thresholds, window from the rule's `for` reaching back to the group's
// earliest startsAt — and then narrowed to the group's series: identifying
// labels shared by every alert of the group are injected, as label="v" when
// all alerts agree and as label=~"v1|v2|…" otherwise. Only the first
// MaxOverviewValues alerts (by startsAt) are unioned. Where no label can be
// injected safely, the unrestricted expression is charted and Fetch keeps
// the top MaxSeries series. Returns nil for no alerts.
func (p *Planner) PlanOverview(ctx context.Context, alerts []template.Alert, now time.Time) *Plan {
	if len(alerts) == 0 {
		return nil
	}
	groups := groupByRule(alerts)
	group := groups[0]
	for _, g := range groups[1:] {
		if len(g) > len(group) {
			group = g
		}
	}
	sort.SliceStable(group, func(i, j int) bool { return group[i].StartsAt.Before(group[j].StartsAt) })

	// The group's representative: its earliest alert, firing while any
	// alert of the group fires, else resolved at the latest endsAt.
	rep := group[0]
	rep.Fingerprint = ""
	rep.Status = "resolved"
	for _, a := range group {
		if a.Status != "resolved" {
			rep.Status = "firing"
		}
		if a.EndsAt.After(rep.EndsAt) {
			rep.EndsAt = a.EndsAt
		}
	}
	pl := p.Plan(ctx, rep, now)

	charted := group
	if len(charted) > MaxOverviewValues {
		charted = charted[:MaxOverviewValues]
	}
	ov := &Overview{Alerts: len(alerts), Group: len(group), Charted: len(charted), Rules: len(groups)}
	pl.Overview = ov
	pl.Alert.Labels = commonLabels(group)
	var notes []string
	if len(group) > len(charted) {
		notes = append(notes, fmt.Sprintf("the chart is limited to the series of the first %d of %d alerts", len(charted), len(group)))
	}
	if len(groups) > 1 {
		notes = append(notes, fmt.Sprintf("%d alerts of %d other rules are not charted", len(alerts)-len(group), len(groups)-1))
	}

	switch {
	case pl.Expr == "" || pl.Query == "" || !pl.HasChart():
		// Nothing to narrow: Plan already says why there is no chart.
	case pl.Grafana != nil:
		notes = append(notes, p.narrowGrafanaOverview(pl, charted)...)
	case contains(pl.Overrides, AnnotationQuery):
		notes = append(notes, "the rule's "+AnnotationQuery+" annotation is charted as written for the first alert")
	default:
		notes = append(notes, p.narrowOverview(pl, charted)...)
	}
	ov.Note = strings.Join(notes, "; ")

	name := pl.Alert.Name
	if name == "" {
		name = "alert"
	}
	pl.titleName, pl.titleAlerts, pl.titleSpan = name, len(group), titleSpan(pl.Window.D(), pl.End.Sub(pl.Start))
	pl.retitle()
	return pl
}

// narrowOverview rewrites pl.Expr for the charted alerts and returns what
// the notes should say about it.
func (p *Planner) narrowOverview(pl *Plan, charted []template.Alert) []string {
	ruleKnown := pl.Rule != nil
	var named map[string]bool
	if !ruleKnown {
		// As in Plan: without the rule, only labels the expression names are
		// known to be data labels; the others may have been added by the rule.
		e, err := ParseExpr(pl.Expr)
		if err != nil {
			return nil
		}
		named = namedLabels(e)
	}
	sets := map[string][]string{}
	for i, a := range charted {
		ids := p.identifying(&Plan{Alert: AlertRef{Labels: a.Labels}, Rule: pl.Rule, EvaluatorLabels: pl.EvaluatorLabels})
		if i == 0 {
			for k, v := range ids {
				if named == nil || named[k] {
					sets[k] = []string{v}
				}
			}
			continue
		}
		// A label some alert lacks cannot narrow the union: a matcher on it
		// would drop that alert's series.
		for k := range sets {
			v, ok := ids[k]
			if !ok {
				delete(sets, k)
				continue
			}
			sets[k] = append(sets[k], v)
		}
	}
	rw, err := RewriteExprAny(pl.Expr, sets)
	if err != nil {
		// Plan rewrote the same expression, so this cannot happen unless a
		// value breaks the printer; the single alert's query is still valid.
		return []string{"the query could not be narrowed to the digested alerts (" + err.Error() + "); showing the first alert's series"}
	}
	pl.Query = rw.Query
	pl.Thresholds = rw.Thresholds
	pl.Conditions = rw.Conditions
	pl.References = rw.References
	pl.InjectedLabels = rw.Injected
	pl.InjectedAny = rw.InjectedAny
	pl.Parts = rw.Parts
	pl.KeptFilters = rw.KeptFilters
	pl.PostFilter, pl.PostFilterOptional = nil, nil
	var notes []string
	if len(rw.Unnarrowed) > 0 {
		pl.fallback("labels %s cannot be injected safely as a union; the overview shows every value", strings.Join(rw.Unnarrowed, ", "))
	}
	if len(sets) > 0 && len(rw.Injected) == 0 && len(rw.InjectedAny) == 0 {
		notes = append(notes, "the query cannot be narrowed to the digested alerts; showing the top "+strconv.Itoa(p.cfg.MaxSeries)+" series")
	}
	return notes
}

// groupByRule groups alerts by alertname and normalised generatorURL
// expression — the same key Plan resolves a rule by — keeping first-seen
// order.
func groupByRule(alerts []template.Alert) [][]template.Alert {
	idx := map[string]int{}
	// A storm repeats a handful of generatorURLs; parse each once.
	norm := map[string]string{}
	var out [][]template.Alert
	for _, a := range alerts {
		expr, ok := norm[a.GeneratorURL]
		if !ok {
			expr = normalizeExpr(ExprFromGeneratorURL(a.GeneratorURL))
			norm[a.GeneratorURL] = expr
		}
		key := a.Labels["alertname"] + "\x00" + expr + "\x00" + GrafanaRuleUID(a)
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], a)
	}
	return out
}

// commonLabels are the labels every alert carries with the same value
// (alertname, job, severity…): what the group has in common.
func commonLabels(alerts []template.Alert) map[string]string {
	out := copyMap(alerts[0].Labels)
	if out == nil {
		out = map[string]string{}
	}
	for _, a := range alerts[1:] {
		for k, v := range out {
			if a.Labels[k] != v {
				delete(out, k)
			}
		}
	}
	return out
}
