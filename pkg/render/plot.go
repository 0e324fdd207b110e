package render

import (
	"image/color"
	"math"
	"sort"
	"time"

	"github.com/alertchart/alertchart/pkg/series"
)

// plotted is a series prepared for drawing.
type plotted struct {
	pts   []series.Point // sorted, inside the window (plus one neighbour each side)
	color color.NRGBA
	// lineWidth (CSS px) and fillOpacity (0–100) after field overrides;
	// hidden series are in the legend but not drawn (custom.hideFrom.viz).
	lineWidth, fillOpacity float64
	hidden                 bool
}

// plotArea maps data to device pixels.
type plotArea struct {
	left, right, top, bottom float64
	from, to                 time.Time
	lo, hi                   float64
	log                      bool // logarithmic value axis
}

func (p plotArea) x(t time.Time) float64 { return p.xms(t.UnixMilli()) }

func (p plotArea) xms(ms int64) float64 {
	f, t := p.from.UnixMilli(), p.to.UnixMilli()
	return p.left + float64(ms-f)/float64(t-f)*(p.right-p.left)
}

func (p plotArea) y(v float64) float64 {
	if p.log {
		if v <= 0 {
			return p.bottom
		}
		return p.bottom - (math.Log(v)-math.Log(p.lo))/(math.Log(p.hi)-math.Log(p.lo))*(p.bottom-p.top)
	}
	return p.bottom - (v-p.lo)/(p.hi-p.lo)*(p.bottom-p.top)
}

// prepare sorts samples, derives the window and picks colours. any is false
// when no series has a finite sample in the window.
func (r *resolved) prepare() (from, to time.Time, ps []plotted, any bool) {
	from, to = r.From, r.To
	var minT, maxT int64 = math.MaxInt64, math.MinInt64
	ps = make([]plotted, len(r.Series))
	for i, s := range r.Series {
		pts := s.Points
		if !sort.SliceIsSorted(pts, func(a, b int) bool { return pts[a].T < pts[b].T }) {
			pts = append([]series.Point(nil), pts...)
			sort.SliceStable(pts, func(a, b int) bool { return pts[a].T < pts[b].T })
		}
		ps[i].pts = pts
		if len(pts) > 0 {
			minT, maxT = min(minT, pts[0].T), max(maxT, pts[len(pts)-1].T)
		}
	}
	if from.IsZero() && minT != math.MaxInt64 {
		from = time.UnixMilli(minT)
	}
	if to.IsZero() && maxT != math.MinInt64 {
		to = time.UnixMilli(maxT)
	}
	if from.IsZero() || to.IsZero() || !from.Before(to) {
		if !to.IsZero() {
			from = to.Add(-time.Hour)
		} else if !from.IsZero() {
			to = from.Add(time.Hour)
		} else {
			to = time.Now()
			from = to.Add(-time.Hour)
		}
	}
	f, t := from.UnixMilli(), to.UnixMilli()
	for i := range ps {
		pts := ps[i].pts
		// Keep one sample beyond each edge so lines run to the border.
		lo := sort.Search(len(pts), func(k int) bool { return pts[k].T >= f })
		hi := sort.Search(len(pts), func(k int) bool { return pts[k].T > t })
		if lo > 0 {
			lo--
		}
		if hi < len(pts) {
			hi++
		}
		ps[i].pts = pts[lo:hi]
		for _, p := range pts[lo:hi] {
			if p.T >= f && p.T <= t && finite(p.V) {
				any = true
				break
			}
		}
	}
	for i := range ps {
		ps[i].color = r.seriesColor(i, ps[i].pts)
		ps[i].lineWidth, ps[i].fillOpacity = r.st.LineWidth, r.st.FillOpacity
		if ps[i].lineWidth == 0 {
			ps[i].lineWidth = 1
		}
		r.applyOverrides(i, &ps[i])
	}
	return from, to, ps, any
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// inWindow returns the samples with from ≤ T ≤ to.
func inWindow(pts []series.Point, from, to time.Time) []series.Point {
	f, t := from.UnixMilli(), to.UnixMilli()
	lo := sort.Search(len(pts), func(k int) bool { return pts[k].T >= f })
	hi := sort.Search(len(pts), func(k int) bool { return pts[k].T > t })
	if lo > hi {
		return nil
	}
	return pts[lo:hi]
}

// valueRange is the data range in the window, widened by thresholds and the
// panel's soft limits, and replaced by its hard limits.
func (r *resolved) valueRange(ps []plotted, from, to time.Time) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	log := r.st.LogBase > 0
	for _, p := range ps {
		for _, s := range inWindow(p.pts, from, to) {
			if finite(s.V) && (!log || s.V > 0) {
				lo, hi = math.Min(lo, s.V), math.Max(hi, s.V)
			}
		}
	}
	for _, t := range r.Thresholds {
		tl, th := t.Bounds()
		if t.IsBand() && !log {
			// A little room beyond a band's edges, so both edges and what
			// lies past them stay visible.
			m := (th - tl) / 10
			tl, th = tl-m, th+m
		}
		for _, v := range []float64{tl, th} {
			if !log || v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if r.showPanelThresholdLines() || r.showPanelThresholdAreas() {
		for _, v := range r.panelThresholdValues(lo, hi) {
			if !r.showPanelThresholdAreas() || (v >= lo && v <= hi) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if r.st.SoftMin != nil {
		lo = math.Min(lo, *r.st.SoftMin)
	}
	if r.st.SoftMax != nil {
		hi = math.Max(hi, *r.st.SoftMax)
	}
	if r.min != nil {
		lo = *r.min
		hi = math.Max(hi, lo)
	}
	if r.max != nil {
		hi = *r.max
		lo = math.Min(lo, hi)
	}
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		lo, hi = 0, 1
	}
	if log {
		if hi <= 0 {
			hi = 1
		}
		if lo <= 0 {
			lo = math.Min(hi, 1) / r.st.LogBase
		}
	}
	return lo, hi
}

func (r *resolved) dataRange(ps []plotted, from, to time.Time) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range ps {
		for _, s := range inWindow(p.pts, from, to) {
			if finite(s.V) {
				lo, hi = math.Min(lo, s.V), math.Max(hi, s.V)
			}
		}
	}
	return lo, hi
}
