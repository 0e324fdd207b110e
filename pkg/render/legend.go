package render

import (
	"image/color"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/alertchart/alertchart/pkg/render/units"
	"github.com/alertchart/alertchart/pkg/series"
)

// legendRow is one series' legend entry.
type legendRow struct {
	Name   string
	Color  color.NRGBA
	Values []float64 // one per calc
	Texts  []string  // Values formatted in the chart's unit
	index  int       // series index
}

var legendTemplate = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)

// legendName expands a Prometheus-style legend format ("{{instance}}") with
// the series' labels; an empty format or an empty result falls back to the
// series' display name.
func legendName(s series.Series, format string) string {
	if format == "" {
		return s.DisplayName()
	}
	out := legendTemplate.ReplaceAllStringFunc(format, func(m string) string {
		return s.Labels[legendTemplate.FindStringSubmatch(m)[1]]
	})
	if strings.TrimSpace(out) == "" {
		return s.DisplayName()
	}
	return out
}

// calc reduces the points of a series like Grafana's reducer of that id.
// NaN and ±Inf samples are nulls.
func calc(id string, pts []series.Point) float64 {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch id {
	case "last":
		if len(pts) == 0 {
			return math.NaN()
		}
		return pts[len(pts)-1].V
	case "first":
		if len(pts) == 0 {
			return math.NaN()
		}
		return pts[0].V
	case "firstNotNull":
		for _, p := range pts {
			if finite(p.V) {
				return p.V
			}
		}
		return math.NaN()
	case "lastNotNull":
		for i := len(pts) - 1; i >= 0; i-- {
			if finite(pts[i].V) {
				return pts[i].V
			}
		}
		return math.NaN()
	case "count":
		n := 0
		for _, p := range pts {
			if finite(p.V) {
				n++
			}
		}
		return float64(n)
	case "delta":
		// Counter-style increase: resets count from zero.
		sum, prev, have := 0.0, 0.0, false
		for _, p := range pts {
			if !finite(p.V) {
				continue
			}
			if have {
				if p.V >= prev {
					sum += p.V - prev
				} else {
					sum += p.V
				}
			}
			prev, have = p.V, true
		}
		if !have {
			return math.NaN()
		}
		return sum
	case "diff":
		return calc("lastNotNull", pts) - calc("firstNotNull", pts)
	}
	mx, mn, sum, n := math.Inf(-1), math.Inf(1), 0.0, 0
	for _, p := range pts {
		if !finite(p.V) {
			continue
		}
		mx, mn, sum = math.Max(mx, p.V), math.Min(mn, p.V), sum+p.V
		n++
	}
	if n == 0 {
		return math.NaN()
	}
	switch id {
	case "max":
		return mx
	case "min":
		return mn
	case "mean":
		return sum / float64(n)
	case "sum":
		return sum
	case "range":
		return mx - mn
	}
	return math.NaN()
}

// legendRows computes the legend entries: names, colours and calc values,
// sorted as the style asks.
func legendRows(ss []series.Series, calcs []string, colors []color.NRGBA, format, unit string, decimals *int, sortBy string, desc bool) []legendRow {
	dec := units.Auto
	if decimals != nil {
		dec = *decimals
	}
	rows := make([]legendRow, len(ss))
	for i, s := range ss {
		r := legendRow{Name: legendName(s, format), Color: colors[i], index: i}
		r.Values = make([]float64, len(calcs))
		r.Texts = make([]string, len(calcs))
		for j, c := range calcs {
			v := calc(c, s.Points)
			r.Values[j] = v
			switch {
			case math.IsNaN(v):
				r.Texts[j] = "-"
			case c == "count":
				r.Texts[j] = strconv.Itoa(int(v))
			default:
				r.Texts[j] = units.Format(unit, v, dec)
			}
		}
		rows[i] = r
	}
	col := -1
	for j, c := range calcs {
		if strings.EqualFold(calcTitles[c], sortBy) || strings.EqualFold(c, sortBy) {
			col = j
		}
	}
	if col >= 0 {
		sort.SliceStable(rows, func(a, b int) bool {
			va, vb := rows[a].Values[col], rows[b].Values[col]
			if math.IsNaN(va) {
				return false
			}
			if math.IsNaN(vb) {
				return true
			}
			if desc {
				return va > vb
			}
			return va < vb
		})
	} else if strings.EqualFold(sortBy, "Name") {
		sort.SliceStable(rows, func(a, b int) bool {
			if desc {
				return rows[a].Name > rows[b].Name
			}
			return rows[a].Name < rows[b].Name
		})
	}
	return rows
}
