package render

import (
	"fmt"
	"time"
)

// drawTitle writes the chart's title in the title row, with the time zone
// of the time axis right-aligned beside it, and returns where the content
// below may start. A chart without a title has no title row (and no zone
// label).
func (r *resolved) drawTitle(cv *canvas, title, body face) float64 {
	pad := r.px(edgePad)
	if r.Title == "" {
		return pad
	}
	maxW := float64(r.w) - 2*pad
	if r.zone != "" {
		zw := cv.measure(body, r.zone)
		cv.text(body, float64(r.w)-pad-zw, r.px(titleBaseline), r.th.textWeak, r.zone)
		maxW -= zw + r.px(zoneLabelGap)
	}
	cv.text(title, pad, r.px(titleBaseline), r.th.text, cv.ellipsize(title, r.Title, maxW))
	return r.px(titleRowHeight)
}

// ZoneLabel names the time zone of a chart's time axis unambiguously: its
// UTC offset ("UTC+08:00", "UTC-05:00", "UTC"), not an abbreviation such as
// CST, which means China, US Central and Cuba Standard Time alike. When the
// offset changes between from and to (a daylight saving switch), both are
// given: "UTC+02:00/+01:00".
func ZoneLabel(loc *time.Location, from, to time.Time) string {
	if loc == nil {
		loc = time.UTC
	}
	_, a := from.In(loc).Zone()
	_, b := to.In(loc).Zone()
	if from.IsZero() {
		a = b
	}
	if a == b {
		return utcOffset(b)
	}
	second := utcOffset(b)[3:]
	if second == "" {
		second = "+00:00"
	}
	return utcOffset(a) + "/" + second
}

func utcOffset(sec int) string {
	if sec == 0 {
		return "UTC"
	}
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	return fmt.Sprintf("UTC%s%02d:%02d", sign, sec/3600, sec%3600/60)
}
