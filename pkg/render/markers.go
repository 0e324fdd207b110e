package render

import (
	"image"
	"image/color"
	"math"
	"time"

	"github.com/alertchart/alertchart/pkg/series"
)

// alertSpan returns the device x range of the firing period, clipped to the
// plot; ok is false when there is no alert time or it lies outside.
func (r *resolved) alertSpan(pl plotArea) (x0, x1 float64, ok bool) {
	if r.AlertStart.IsZero() || !r.AlertStart.Before(pl.to) {
		return 0, 0, false
	}
	end := pl.to
	if !r.AlertEnd.IsZero() && r.AlertEnd.Before(end) {
		end = r.AlertEnd
	}
	if !end.After(pl.from) {
		return 0, 0, false
	}
	return math.Max(pl.left, pl.x(r.AlertStart)), math.Min(pl.right, pl.x(end)), true
}

func (r *resolved) drawAlertShade(cv *canvas, pl plotArea) {
	x0, x1, ok := r.alertSpan(pl)
	if !ok {
		return
	}
	cv.fillRect(image.Rect(int(math.Round(x0)), int(pl.top), int(math.Round(x1)), int(pl.bottom)), r.th.alertShade)
}

// markerLabel is a placed marker label: left edge, width and row.
type markerLabel struct {
	x, w float64
	row  int
}

// layoutMarkerLabels places the start label (line at xs, width ws) and, when
// hasEnd, the end label (line at xe ≥ xs, width we) inside [left, right]:
// each right of its line, or left of it when it would run off the plot. An
// end label that would have to cross the start line (both near the right
// edge) is stacked under the start label, both right-aligned left of the
// start line, so neither is drawn over the firing period's lines; labels
// that would still touch go on separate rows.
func layoutMarkerLabels(xs, ws float64, hasEnd bool, xe, we, left, right, gap, spacing float64) (s, e markerLabel) {
	s = markerLabel{x: xs + gap, w: ws}
	if s.x+ws > right {
		s.x = xs - gap - ws
	}
	s.x = math.Max(left, s.x)
	if !hasEnd {
		return s, e
	}
	e = markerLabel{x: xe + gap, w: we}
	if e.x+we > right {
		e.x = xe - gap - we
		if e.x < xs+gap {
			e.x, e.row = xs-gap-we, 1
			if s.x > xs {
				s.x = xs - gap - ws
			}
		}
	}
	e.x = math.Max(left, e.x)
	s.x = math.Max(left, s.x)
	if e.row == 0 && e.x < s.x+s.w+spacing && s.x < e.x+e.w+spacing {
		e.row = 1
	}
	return s, e
}

func (r *resolved) drawAlertMarkers(cv *canvas, f face, pl plotArea, ps []plotted) {
	if r.AlertStart.IsZero() || r.AlertStart.After(pl.to) {
		return
	}
	lw := math.Max(1, math.Round(r.scale))
	labelY := pl.top + r.px(markerLabelTop) + f.capMiddle()
	label := func(t time.Time, word string) string {
		ts := t.In(r.o.Location)
		if !sameDay(ts, pl.to.In(r.o.Location)) {
			return word + " " + ts.Format("01/02 15:04:05")
		}
		return word + " " + ts.Format("15:04:05")
	}
	line := func(t time.Time, col color.NRGBA) float64 {
		x := math.Round(pl.x(t))
		cv.vline(x, pl.top, pl.bottom, lw, col, r.px(markerDash), r.px(markerGap))
		s := r.px(markerTriangle)
		cv.triangle(pt{x, pl.bottom - s*1.3}, pt{x - s, pl.bottom + s*0.7}, pt{x + s, pl.bottom + s*0.7}, col)
		return x
	}
	startText := label(r.AlertStart, r.word("render.alert_start"))
	var xs float64
	before := r.AlertStart.Before(pl.from)
	if before {
		// Started before the window: no line, the label says when.
		startText = "◀ " + startText
		xs = pl.left
	} else {
		xs = line(r.AlertStart, r.th.alert)
	}
	ws := cv.measure(f, startText)
	hasEnd := !r.AlertEnd.IsZero() && r.AlertEnd.After(r.AlertStart) && !r.AlertEnd.After(pl.to) && !r.AlertEnd.Before(pl.from)
	var endText string
	var xe, we float64
	if hasEnd {
		endText = label(r.AlertEnd, r.word("render.resolved"))
		xe = line(r.AlertEnd, r.th.resolved)
		we = cv.measure(f, endText)
	}
	s, e := layoutMarkerLabels(xs, ws, hasEnd, xe, we, pl.left+r.px(edgeInset), pl.right-r.px(edgeInset), r.px(markerLabelGap), r.px(markerLabelSpacing))
	labels := []markerLabel{s}
	if hasEnd {
		labels = append(labels, e)
	}

	// A label sits on a backing that hides what is under it, so the labels
	// go along the plot's top edge, or along its bottom edge (beside the
	// triangles) when fewer lines run there: an alert that fires on a
	// series near the top would otherwise have its peak hidden.
	pad := r.px(labelBackingPad)
	baseline := func(l markerLabel, atBottom bool) float64 {
		if atBottom {
			return pl.bottom - r.px(markerLabelBottom) - float64(l.row)*r.px(markerRowHeight)
		}
		return labelY + float64(l.row)*r.px(markerRowHeight)
	}
	backing := func(l markerLabel, atBottom bool) (x0, y0, x1, y1 float64) {
		y := baseline(l, atBottom)
		return l.x - pad, y - f.size*0.8, l.x + l.w + pad, y + pad
	}
	covered := func(atBottom bool) float64 {
		var sum float64
		for _, l := range labels {
			x0, y0, x1, y1 := backing(l, atBottom)
			sum += r.linesThrough(pl, ps, x0, y0, x1, y1)
		}
		return sum
	}
	atBottom := covered(true) < covered(false)
	put := func(l markerLabel, col color.NRGBA, text string) {
		x0, y0, x1, y1 := backing(l, atBottom)
		cv.fillRect(image.Rect(int(x0), int(y0), int(x1), int(y1)), withAlpha(r.th.bg, 0.85))
		cv.text(f, l.x, baseline(l, atBottom), col, text)
	}
	put(s, r.th.alert, startText)
	if hasEnd {
		put(e, r.th.resolved, endText)
	}
}

func sameDay(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

// linesThrough measures how much of the drawn lines (visible series and
// moving thresholds) runs through the device-pixel rectangle [x0, x1] ×
// [y0, y1]: the summed width of the segments that cross it, at least one
// pixel for each. Straight segments between samples are close enough to
// the drawn line for choosing where a label hides the least.
func (r *resolved) linesThrough(pl plotArea, ps []plotted, x0, y0, x1, y1 float64) float64 {
	var sum float64
	through := func(pts []series.Point) {
		for _, run := range splitRuns(pts, r.maxGap(pts), pl.log) {
			for i := range run {
				a := pt{pl.xms(run[i].T), pl.y(run[i].V)}
				b := a
				if i+1 < len(run) {
					b = pt{pl.xms(run[i+1].T), pl.y(run[i+1].V)}
				} else if len(run) > 1 {
					break // the last sample ends the previous segment
				}
				lo, hi := math.Max(a.x, x0), math.Min(b.x, x1)
				if lo > hi {
					continue
				}
				ya, yb := a.y, b.y
				if b.x > a.x {
					ya = a.y + (b.y-a.y)*(lo-a.x)/(b.x-a.x)
					yb = a.y + (b.y-a.y)*(hi-a.x)/(b.x-a.x)
				}
				if math.Max(ya, yb) < y0 || math.Min(ya, yb) > y1 {
					continue
				}
				sum += math.Max(hi-lo, 1)
			}
		}
	}
	for _, p := range ps {
		if !p.hidden {
			through(p.pts)
		}
	}
	for _, ref := range r.References {
		through(ref.Points)
	}
	return sum
}
