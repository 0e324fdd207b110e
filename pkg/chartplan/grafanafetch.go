package chartplan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/series"
)

// Fetching a Grafana-managed rule's chart through /api/ds/query: Grafana
// runs the queries of any data source, so the alert's series are picked
// from what returns by their labels.

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
