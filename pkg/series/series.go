// Package series holds the data model shared by the pipeline's stages: the
// chart planner fetches Series, the renderers draw them, the message
// templates summarise them. Keeping it apart lets each stage depend on the
// data, not on each other.
package series

import (
	"math"
	"sort"
	"strings"
)

// Point is one sample. T is Unix milliseconds; V may be NaN for a gap.
type Point struct {
	T int64   `json:"t"`
	V float64 `json:"v"`
}

// Series is one labelled time series.
type Series struct {
	// Name is the display name (legend); empty means derive from Labels.
	Name   string            `json:"name,omitempty"`
	Labels map[string]string `json:"labels"`
	Points []Point           `json:"points"`
}

// Threshold is an alerting comparison removed from the query, drawn as a line.
type Threshold struct {
	// Op is the PromQL comparison operator: >, >=, <, <=, ==, !=.
	Op    string  `json:"op"`
	Value float64 `json:"value"`
	// Series names the series the threshold applies to when it is not all
	// of them ("5m, 1h": the short and long windows of one burn-rate tier);
	// empty means every series. Renderers add it to the line's label.
	Series string `json:"series,omitempty"`
	// Upper is the upper bound of a band (Op one of the Op… range
	// constants): Value is the lower bound. Renderers shade the band the
	// alert fires in and draw both edges. Nil for plain comparisons.
	Upper *float64 `json:"upper,omitempty"`
}

// Range thresholds, Grafana Alerting's names
// (grafana/grafana pkg/expr/threshold.go:
// within_range is lower < x < upper, outside_range x < lower || x > upper,
// the _included variants with <= and >=).
const (
	OpWithinRange          = "within_range"
	OpOutsideRange         = "outside_range"
	OpWithinRangeIncluded  = "within_range_included"
	OpOutsideRangeIncluded = "outside_range_included"
)

// IsBand reports whether the threshold is a range with both bounds.
func (t Threshold) IsBand() bool {
	switch t.Op {
	case OpWithinRange, OpOutsideRange, OpWithinRangeIncluded, OpOutsideRangeIncluded:
		return t.Upper != nil
	}
	return false
}

// Inside reports whether a band fires inside its bounds (within) rather
// than outside them.
func (t Threshold) Inside() bool { return t.Op == OpWithinRange || t.Op == OpWithinRangeIncluded }

// Bounds returns a band's lower and upper bound (ordered), or Value twice.
func (t Threshold) Bounds() (lo, hi float64) {
	if t.Upper == nil {
		return t.Value, t.Value
	}
	return min(t.Value, *t.Upper), max(t.Value, *t.Upper)
}

// Condition writes the threshold as the condition the alert fires on, with
// values formatted by format: "> 80%", "10 < x < 20", "x ≤ 10 or x ≥ 20".
func (t Threshold) Condition(format func(float64) string) string {
	if !t.IsBand() {
		if t.Op == "" {
			return format(t.Value)
		}
		return t.Op + " " + format(t.Value)
	}
	lo, hi := t.Bounds()
	l, h := format(lo), format(hi)
	switch t.Op {
	case OpWithinRange:
		return l + " < x < " + h
	case OpWithinRangeIncluded:
		return l + " ≤ x ≤ " + h
	case OpOutsideRange:
		return "x < " + l + " or x > " + h
	default:
		return "x ≤ " + l + " or x ≥ " + h
	}
}

// Stats are the legend values of a series, ignoring NaN and ±Inf samples.
type Stats struct {
	Max, Min, Last, Mean float64
	// Count is the number of finite samples; zero means all stats are NaN.
	Count int
}

// Stats computes Max, Min, Last and Mean.
func (s Series) Stats() Stats {
	st := Stats{Max: math.NaN(), Min: math.NaN(), Last: math.NaN(), Mean: math.NaN()}
	sum := 0.0
	for _, p := range s.Points {
		if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
			continue
		}
		if st.Count == 0 || p.V > st.Max {
			st.Max = p.V
		}
		if st.Count == 0 || p.V < st.Min {
			st.Min = p.V
		}
		st.Last = p.V
		sum += p.V
		st.Count++
	}
	if st.Count > 0 {
		st.Mean = sum / float64(st.Count)
	}
	return st
}

// DisplayName returns Name, or a Prometheus-style rendering of the labels
// (`metric{a="b", c="d"}`) when Name is empty.
func (s Series) DisplayName() string {
	if s.Name != "" {
		return s.Name
	}
	return LabelString(s.Labels)
}

// LabelString renders labels as `name{k="v", ...}` with sorted keys.
func LabelString(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		if k != "__name__" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(labels["__name__"])
	if len(keys) == 0 {
		if b.Len() == 0 {
			return "{}"
		}
		return b.String()
	}
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(labels[k])
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// DifferingLabels returns the names of the labels whose value (or
// presence) is not the same on every series, sorted: what tells the series
// of one chart apart, as Grafana's automatic legend shows.
func DifferingLabels(ss []Series) []string {
	if len(ss) < 2 {
		return nil
	}
	all := map[string]bool{}
	for _, s := range ss {
		for k := range s.Labels {
			all[k] = true
		}
	}
	var out []string
	for k := range all {
		v0, ok0 := ss[0].Labels[k]
		for _, s := range ss[1:] {
			if v, ok := s.Labels[k]; ok != ok0 || v != v0 {
				out = append(out, k)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// ShortName names a series by the given labels: one label by its value
// ("web-1"), several as name=value pairs ("instance=web-1, device=sda"),
// in the order given; labels the series lacks are left out.
func ShortName(labels map[string]string, keys []string) string {
	var vals []string
	last := ""
	for _, k := range keys {
		if v, ok := labels[k]; ok {
			vals = append(vals, k+"="+v)
			last = v
		}
	}
	if len(vals) == 1 {
		return last
	}
	return strings.Join(vals, ", ")
}
