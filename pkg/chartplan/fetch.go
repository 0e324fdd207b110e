package chartplan

import (
	"context"
	"errors"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

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

// Fetch runs the plan's range query — each of its Parts on its own when it
// has several — (bounded by the data source timeout), keeps the series
// that are the alert's (PostFilter), names them with the plan's legend
// format or, without one, by the labels that tell them apart, and keeps the
// MaxSeries with the highest last value. An empty result is not an error
// (absent() rules expect it); a failed query is, and the caller sends the
// text without a chart.
//
// When the query comes back empty, Fetch checks the injected matchers
// against the data: a matcher without which the query has the alert's
// series (a label the evaluator added that no series carries) is dropped,
// the label is checked on the returned series instead, and the plan says so
// (Fetch updates pl.Query, Parts, InjectedLabels, PostFilter,
// PostFilterOptional and Fallbacks).
func (p *Planner) Fetch(ctx context.Context, pl *Plan) (*FetchResult, error) {
	if pl == nil || !pl.HasChart() {
		return nil, ErrNoChart
	}
	if pl.Grafana != nil {
		return p.fetchGrafana(ctx, pl)
	}
	if p.src == nil {
		return nil, errors.New("chartplan: no Prometheus data source is configured")
	}
	step := pl.Step.D()
	if step <= 0 {
		step = stepFor(pl.End.Sub(pl.Start))
	}
	res := &FetchResult{}
	kept, err := p.fetchSeries(ctx, pl, pl.Query, pl.Parts, step, pl.PostFilter, pl.PostFilterOptional, res)
	if err != nil {
		return nil, err
	}
	if len(kept) == 0 && len(pl.InjectedLabels) > 0 && pl.Expr != "" && pl.NoDataNote == "" && pl.Overview == nil &&
		!slices.Contains(pl.Overrides, AnnotationQuery) {
		if alt := p.verifyInjected(ctx, pl, step, res); alt != nil {
			kept = alt
		}
	}
	kept = topByLast(kept, p.cfg.MaxSeries, &res.Dropped)
	p.nameSeries(pl, kept)
	res.Series = make([]series.Series, len(kept))
	for i, s := range kept {
		res.Series[i] = s.Series
	}
	for _, ref := range pl.References {
		rr, err := p.src.QueryRange(ctx, ref.Query, pl.Start, pl.End, step)
		if err != nil {
			res.Warnings = append(res.Warnings, "reference "+ref.Query+": "+err.Error())
			continue
		}
		var dropped int
		for _, s := range topByLast(tagged(rr.Series, ""), p.cfg.MaxSeries, &dropped) {
			s.Name = ref.Op + " " + series.LabelString(s.Labels)
			res.References = append(res.References, s.Series)
		}
	}
	return res, nil
}

// partSeries is a fetched series with the name of the part it came from.
type partSeries struct {
	series.Series
	part string
}

func tagged(ss []series.Series, part string) []partSeries {
	out := make([]partSeries, len(ss))
	for i, s := range ss {
		out[i] = partSeries{Series: s, part: part}
	}
	return out
}

// fetchSeries runs query (or each of parts) and keeps the series that
// match the post-filter; it counts into res.
func (p *Planner) fetchSeries(ctx context.Context, pl *Plan, query string, parts []Part, step time.Duration, post map[string]string, optional []string, res *FetchResult) ([]partSeries, error) {
	type q struct {
		name, query string
		free        []string
	}
	qs := []q{{query: query}}
	if len(parts) > 1 {
		qs = qs[:0]
		for _, pt := range parts {
			qs = append(qs, q{name: pt.Name, query: pt.Query, free: pt.Free})
		}
	}
	var kept []partSeries
	for _, q := range qs {
		rr, err := p.src.QueryRange(ctx, q.query, pl.Start, pl.End, step)
		if err != nil {
			return nil, err
		}
		res.Returned += len(rr.Series)
		res.Warnings = append(res.Warnings, rr.Warnings...)
		if rr.SkippedHistograms > 0 {
			res.Warnings = append(res.Warnings, itoa(rr.SkippedHistograms)+" native histogram series cannot be drawn as lines and were skipped")
		}
		for _, s := range rr.Series {
			if matchesPostFilter(s.Labels, post, optional, q.free) {
				kept = append(kept, partSeries{Series: s, part: q.name})
			} else {
				res.FilteredOut++
			}
		}
	}
	return kept, nil
}

// verifyInjected looks for injected matchers that emptied the chart. With
// cheap probes (one or two points per series) it asks whether the query
// has data without any injection, and then, label by label, whether any
// series carries the alert's value of it. Labels no series carries (added
// by the evaluator) are dropped from the query and checked on the returned
// series instead, where series lacking them pass; the amended query is run
// and adopted when it finds the alert's series.
func (p *Planner) verifyInjected(ctx context.Context, pl *Plan, step time.Duration, res *FetchResult) []partSeries {
	probeStep := max(step, pl.End.Sub(pl.Start))
	probe := func(ids map[string]string) (int, bool) {
		rw, err := RewriteExpr(pl.Expr, ids)
		if err != nil {
			return 0, false
		}
		rr, err := p.src.QueryRange(ctx, rw.Query, pl.Start, pl.End, probeStep)
		if err != nil {
			res.Warnings = append(res.Warnings, "checking the injected labels: "+err.Error())
			return 0, false
		}
		return len(rr.Series), true
	}
	if n, ok := probe(nil); !ok || n == 0 {
		return nil // no data at all: nothing an injected label could explain
	}
	var culprits []string
	for _, name := range sortedKeys(pl.InjectedLabels) {
		n, ok := probe(map[string]string{name: pl.InjectedLabels[name]})
		if !ok {
			return nil
		}
		if n == 0 {
			culprits = append(culprits, name)
		}
	}
	if len(culprits) == 0 {
		return nil // every label is in the data: the alert's series has none in this range
	}
	ids := copyMap(pl.InjectedLabels)
	post := copyMap(pl.PostFilter)
	if post == nil {
		post = map[string]string{}
	}
	optional := append([]string(nil), pl.PostFilterOptional...)
	pairs := make([]string, len(culprits))
	for i, n := range culprits {
		delete(ids, n)
		post[n] = pl.InjectedLabels[n]
		optional = append(optional, n)
		pairs[i] = n + "=" + strconv.Quote(pl.InjectedLabels[n])
	}
	rw, err := RewriteExpr(pl.Expr, ids)
	if err != nil {
		return nil
	}
	got := &FetchResult{}
	kept, err := p.fetchSeries(ctx, pl, rw.Query, rw.Parts, step, post, optional, got)
	if err != nil {
		res.Warnings = append(res.Warnings, "checking the injected labels: "+err.Error())
		return nil
	}
	if len(kept) == 0 {
		return nil
	}
	pl.fallback("the chart was empty with %s injected: no series carries %s as the alert does (added by the evaluator?), so %s checked on the returned series instead",
		strings.Join(pairs, ", "), plural(len(culprits), "it", "them"), plural(len(culprits), "it is", "they are"))
	pl.Query, pl.Parts = rw.Query, rw.Parts
	for _, n := range culprits {
		delete(pl.InjectedLabels, n)
	}
	if len(pl.InjectedLabels) == 0 {
		pl.InjectedLabels = nil
	}
	pl.PostFilter = post
	sort.Strings(optional)
	pl.PostFilterOptional = slices.Compact(optional)
	res.Returned, res.FilteredOut = got.Returned, got.FilteredOut
	res.Warnings = append(res.Warnings, got.Warnings...)
	return kept
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// matchesPostFilter keeps a series when it carries every post-filter label
// with the alert's value. A series lacking a label is not the alert's
// series, unless the label is optional (it may have been added by the rule
// or the evaluator); free labels belong to the part's own window and are
// not checked.
func matchesPostFilter(l map[string]string, want map[string]string, optional, free []string) bool {
	for k, v := range want {
		if slices.Contains(free, k) {
			continue
		}
		got, ok := l[k]
		if !ok {
			if slices.Contains(optional, k) {
				continue
			}
			return false
		}
		if got != v {
			return false
		}
	}
	return true
}

// nameSeries sets each series' display name: the legend format when the
// plan has one; otherwise, like Grafana's automatic legend, the labels
// that differ between the charted series, else the alert's identifying
// labels the series carries — "web-1" rather than
// `node_load1{instance="web-1", job="node"}`. A series of one of several
// parts is named by the part ("5m"), followed by the labels that differ.
// One label is shown as its value, several as name=value pairs.
func (p *Planner) nameSeries(pl *Plan, ss []partSeries) {
	if pl.Legend != "" {
		for i := range ss {
			ss[i].Name = joinName(ss[i].part, FormatLegend(pl.Legend, ss[i].Labels))
		}
		return
	}
	plain := make([]series.Series, len(ss))
	for i := range ss {
		plain[i] = ss[i].Series
	}
	keys := series.DifferingLabels(plain)
	if len(keys) == 0 && (len(ss) == 0 || ss[0].part == "") {
		for k := range p.identifying(pl) {
			keys = append(keys, k)
		}
		sort.Strings(keys)
	}
	for i := range ss {
		ss[i].Name = joinName(ss[i].part, series.ShortName(ss[i].Labels, keys))
	}
}

func joinName(part, name string) string {
	switch {
	case part == "":
		return name
	case name == "":
		return part
	}
	return part + " " + name
}

// topByLast keeps the n series with the highest last finite value (series
// without one go last) and counts the rest in dropped.
func topByLast(ss []partSeries, n int, dropped *int) []partSeries {
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
	out := make([]partSeries, 0, n)
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
