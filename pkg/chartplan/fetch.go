package chartplan

import (
	"context"
	"errors"
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/alertchart/alertchart/pkg/series"
)

// FetchResult is the data of one chart.
type FetchResult struct {
	// Series are at most Config.MaxSeries series, highest last value first.
	Series []series.Series
	// Returned is how many series the query returned.
	Returned int
	// FilteredOut is how many of them the post-filter removed (labels that
	// differ from the alert's).
	FilteredOut int
	// Dropped is how many matching series were cut by the MaxSeries cap; a
	// renderer should say "+N more".
	Dropped int
	// References are the series of the plan's reference queries (the other
	// side of "x > y"): moving thresholds, to be drawn like threshold lines.
	// Each is named "<op> <series>", e.g. "!= kube_deployment_status_replicas_available{…}".
	References []series.Series
	// Warnings are the server's warnings (partial data, …) and failed
	// reference queries.
	Warnings []string
}

// ErrNoChart is returned by Fetch for a plan without a query; the plan's
// NoChartReason says why.
var ErrNoChart = errors.New("chartplan: the plan has no chart")

// Fetch runs the plan's range query (bounded by the data source timeout),
// keeps the series that match the alert's post-filter labels, names them
// with the plan's legend format and keeps the MaxSeries with the highest
// last value. An empty result is not an error (absent() rules expect it);
// a failed query is, and the caller sends the text without a chart.
func (p *Planner) Fetch(ctx context.Context, pl *Plan) (*FetchResult, error) {
	if pl == nil || !pl.HasChart() {
		return nil, ErrNoChart
	}
	if p.src == nil {
		return nil, errors.New("chartplan: no Prometheus data source is configured")
	}
	step := pl.Step.D()
	if step <= 0 {
		step = stepFor(pl.End.Sub(pl.Start))
	}
	rr, err := p.src.QueryRange(ctx, pl.Query, pl.Start, pl.End, step)
	if err != nil {
		return nil, err
	}
	res := &FetchResult{Returned: len(rr.Series), Warnings: rr.Warnings}
	if rr.SkippedHistograms > 0 {
		res.Warnings = append(res.Warnings, itoa(rr.SkippedHistograms)+" native histogram series cannot be drawn as lines and were skipped")
	}
	kept := rr.Series[:0]
	for _, s := range rr.Series {
		if matchesPostFilter(s.Labels, pl.PostFilter) {
			kept = append(kept, s)
		} else {
			res.FilteredOut++
		}
	}
	kept = topByLast(kept, p.cfg.MaxSeries, &res.Dropped)
	for i := range kept {
		if pl.Legend != "" {
			kept[i].Name = FormatLegend(pl.Legend, kept[i].Labels)
		}
	}
	res.Series = kept
	for _, ref := range pl.References {
		rr, err := p.src.QueryRange(ctx, ref.Query, pl.Start, pl.End, step)
		if err != nil {
			res.Warnings = append(res.Warnings, "reference "+ref.Query+": "+err.Error())
			continue
		}
		var dropped int
		for _, s := range topByLast(rr.Series, p.cfg.MaxSeries, &dropped) {
			s.Name = ref.Op + " " + series.LabelString(s.Labels)
			res.References = append(res.References, s)
		}
	}
	return res, nil
}

// matchesPostFilter keeps a series unless it carries one of the labels with
// a different value. A series without the label passes: alert labels also
// come from the rule and from external labels.
func matchesPostFilter(l map[string]string, want map[string]string) bool {
	for k, v := range want {
		if got, ok := l[k]; ok && got != v {
			return false
		}
	}
	return true
}

// topByLast keeps the n series with the highest last finite value (series
// without one go last) and counts the rest in dropped.
func topByLast(ss []series.Series, n int, dropped *int) []series.Series {
	if len(ss) <= n {
		return ss
	}
	last := make([]float64, len(ss))
	for i, s := range ss {
		last[i] = math.Inf(-1)
		for j := len(s.Points) - 1; j >= 0; j-- {
			if v := s.Points[j].V; !math.IsNaN(v) && !math.IsInf(v, 0) {
				last[i] = v
				break
			}
		}
	}
	idx := make([]int, len(ss))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return last[idx[a]] > last[idx[b]] })
	out := make([]series.Series, 0, n)
	for _, i := range idx[:n] {
		out = append(out, ss[i])
	}
	*dropped = len(ss) - n
	return out
}

var legendVar = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)

// FormatLegend expands Grafana-style legend formats: "{{instance}} {{ job }}".
func FormatLegend(format string, l map[string]string) string {
	out := legendVar.ReplaceAllStringFunc(format, func(m string) string {
		name := legendVar.FindStringSubmatch(m)[1]
		return l[name]
	})
	return strings.TrimSpace(out)
}
