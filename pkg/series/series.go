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
