package render

import (
	"image"
	"image/color"
	"math"
	"time"
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

func (r *resolved) drawAlertMarkers(cv *canvas, f face, pl plotArea) {
	if r.AlertStart.IsZero() {
		return
	}
	lw := math.Max(1, math.Round(r.scale))
	labelY := pl.top + r.px(markerLabelTop) + f.capMiddle()
	var startRight float64 = math.Inf(-1)
	mark := func(t time.Time, col color.NRGBA, word string, row int) {
		ts := t.In(r.o.Location)
		label := word + " " + ts.Format("15:04:05")
		if !sameDay(ts, pl.to.In(r.o.Location)) {
			label = word + " " + ts.Format("01/02 15:04:05")
		}
		w := cv.measure(f, label)
		y := labelY + float64(row)*r.px(markerRowHeight)
		if t.Before(pl.from) {
			// Started before the window: no line, the label says when.
			lx := pl.left + r.px(markerLabelGap)
			cv.text(f, lx, y, col, "◀ "+label)
			startRight = lx + w
			return
		}
		if t.After(pl.to) {
			return
		}
		x := math.Round(pl.x(t))
		cv.vline(x, pl.top, pl.bottom, lw, col, r.px(markerDash), r.px(markerGap))
		s := r.px(markerTriangle)
		cv.triangle(pt{x, pl.bottom - s*1.3}, pt{x - s, pl.bottom + s*0.7}, pt{x + s, pl.bottom + s*0.7}, col)
		lx := x + r.px(markerLabelGap)
		if lx+w > pl.right-r.px(edgeInset) {
			lx = x - r.px(markerLabelGap) - w
		}
		if row == 0 {
			startRight = lx + w
		}
		cv.text(f, lx, y, col, label)
	}
	mark(r.AlertStart, r.th.alert, r.words["alert"], 0)
	if !r.AlertEnd.IsZero() && r.AlertEnd.After(r.AlertStart) {
		row := 0
		if !r.AlertEnd.After(pl.to) {
			// Drop the end label a line when it would collide with the start's.
			endX := pl.x(r.AlertEnd) - r.px(markerLabelGap) - cv.measure(f, r.words["resolved"]+" 00:00:00")
			if endX < startRight+r.px(markerLabelSpacing) {
				row = 1
			}
		}
		mark(r.AlertEnd, r.th.resolved, r.words["resolved"], row)
	}
}

func sameDay(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}
