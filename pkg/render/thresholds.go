package render

import (
	"image"
	"math"
	"time"

	"github.com/alertchart/alertchart/pkg/render/units"
)

func (r *resolved) showPanelThresholdLines() bool {
	switch r.st.ThresholdsStyle {
	case "line", "dashed", "line+area", "dashed+area":
		return true
	}
	return false
}

func (r *resolved) showPanelThresholdAreas() bool {
	switch r.st.ThresholdsStyle {
	case "area", "line+area", "dashed+area":
		return true
	}
	return false
}

// panelThresholdValues are the panel's step values in data units
// (percentage steps are relative to the data range lo–hi).
func (r *resolved) panelThresholdValues(lo, hi float64) []float64 {
	var out []float64
	for _, s := range r.st.Thresholds {
		if s.Value == nil {
			continue
		}
		v := *s.Value
		if r.st.ThresholdsMode == "percentage" {
			if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
				continue
			}
			v = lo + (hi-lo)*v/100
		}
		out = append(out, v)
	}
	return out
}

func (r *resolved) drawThresholdAreas(cv *canvas, pl plotArea, plot image.Rectangle, ps []plotted, from, to time.Time) {
	r.drawBands(cv, pl, plot)
	if !r.showPanelThresholdAreas() {
		return
	}
	dlo, dhi := r.dataRange(ps, from, to)
	vals := r.panelThresholdValues(dlo, dhi)
	vi := 0
	for i, s := range r.st.Thresholds {
		c, err := ParseColor(s.Color)
		if err != nil {
			continue
		}
		bottom := pl.bottom
		if s.Value != nil {
			bottom = pl.y(vals[vi])
			vi++
		}
		topY := pl.top
		for _, n := range r.st.Thresholds[i+1:] {
			if n.Value != nil {
				topY = pl.y(vals[vi])
				break
			}
		}
		rect := image.Rect(plot.Min.X, int(math.Round(topY)), plot.Max.X, int(math.Round(bottom))).Intersect(plot)
		cv.fillRect(rect, withAlpha(c, 0.15))
	}
}

func (r *resolved) drawThresholdLines(cv *canvas, pl plotArea, ps []plotted, from, to time.Time) {
	lw := math.Max(1, math.Round(r.scale))
	if r.showPanelThresholdLines() {
		dlo, dhi := r.dataRange(ps, from, to)
		vals := r.panelThresholdValues(dlo, dhi)
		dashed := r.st.ThresholdsStyle == "dashed" || r.st.ThresholdsStyle == "dashed+area"
		vi := 0
		for _, s := range r.st.Thresholds {
			if s.Value == nil {
				continue
			}
			v := vals[vi]
			vi++
			c, err := ParseColor(s.Color)
			if err != nil || v < pl.lo || v > pl.hi {
				continue
			}
			dash, gap := 0.0, 0.0
			if dashed {
				dash, gap = r.px(panelThresholdDash), r.px(panelThresholdDash)
			}
			cv.hline(pl.left, pl.right, math.Round(pl.y(v)), lw, c, dash, gap)
		}
	}
	for _, t := range r.Thresholds {
		lo, hi := t.Bounds()
		for _, v := range []float64{lo, hi} {
			if v < pl.lo || v > pl.hi || (pl.log && v <= 0) {
				continue
			}
			cv.hline(pl.left, pl.right, math.Round(pl.y(v)), lw, r.th.threshold, r.px(thresholdDash), r.px(thresholdGap))
			if hi == lo {
				break
			}
		}
	}
}

// bandAlpha is the opacity of the shade over the values a range threshold
// fires on: visible behind the series, lighter than the firing period's.
const bandAlpha = 0.13

// drawBands shades what a range threshold (Grafana Alerting's within_range,
// outside_range…) fires on: the band between its bounds, or everything
// above and below it. The edges are drawn by drawThresholdLines.
func (r *resolved) drawBands(cv *canvas, pl plotArea, plot image.Rectangle) {
	y := func(v float64) int {
		if pl.log && v <= 0 {
			return int(math.Round(pl.bottom))
		}
		return int(math.Round(pl.y(math.Min(math.Max(v, pl.lo), pl.hi))))
	}
	shade := withAlpha(r.th.threshold, bandAlpha)
	for _, t := range r.Thresholds {
		if !t.IsBand() {
			continue
		}
		lo, hi := t.Bounds()
		if t.Inside() {
			cv.fillRect(image.Rect(plot.Min.X, y(hi), plot.Max.X, y(lo)).Intersect(plot), shade)
			continue
		}
		cv.fillRect(image.Rect(plot.Min.X, plot.Min.Y, plot.Max.X, y(hi)).Intersect(plot), shade)
		cv.fillRect(image.Rect(plot.Min.X, y(lo), plot.Max.X, plot.Max.Y).Intersect(plot), shade)
	}
}

// drawThresholdLabels writes the rule's condition ("> 80%") at the left end
// of each threshold line (alert charts are busiest at the right, where the
// alert fires), so the reader needs no legend to know what the
// dashed line means. Drawn last, on a backing of the panel colour.
func (r *resolved) drawThresholdLabels(cv *canvas, f face, pl plotArea) {
	dec := -1
	if r.decimals != nil {
		dec = *r.decimals
	}
	for _, t := range r.Thresholds {
		// A band's label sits at its upper edge (its lower one when only
		// that is in view).
		_, at := t.Bounds()
		if at < pl.lo || at > pl.hi {
			at = t.Value
		}
		if at < pl.lo || at > pl.hi {
			continue
		}
		label := t.Condition(func(v float64) string { return units.Format(r.unit, v, dec) })
		if t.Series != "" {
			label += " (" + t.Series + ")" // the series it applies to: "> 1.44% (5m, 1h)"
		}
		w := cv.measure(f, label)
		y := math.Round(pl.y(at))
		base := y - r.px(thresholdLabelLift) // above the line
		if base-f.size < pl.top {
			base = y + r.px(thresholdLabelLift) + f.size*0.75 // below it, near the top edge
		}
		x := pl.left + r.px(thresholdLabelInset)
		box := image.Rect(int(x-r.px(labelBackingPad)), int(base-f.size*0.8), int(x+w+r.px(labelBackingPad)), int(base+r.px(labelBackingPad)))
		cv.fillRect(box, withAlpha(r.th.bg, 0.9))
		cv.text(f, x, base, r.th.threshold, label)
	}
}
