package render

import (
	"github.com/alertchart/alertchart/pkg/render/fonts"
)

func (r *resolved) drawNoData(cv *canvas, f face, top float64) {
	regular, _ := fonts.Regular()
	big := newFace(regular, r.px(noDataFontSize), &cv.buf)
	msg := r.word("render.no_data")
	cy := top + (float64(r.h)-top)/2
	w := cv.measure(big, msg)
	cv.text(big, (float64(r.w)-w)/2, cy, r.th.textWeak, msg)
	if r.NoDataReason != "" {
		reason := cv.ellipsize(f, r.NoDataReason, float64(r.w)-2*r.px(noDataSideMargin))
		w := cv.measure(f, reason)
		cv.text(f, (float64(r.w)-w)/2, cy+r.px(noDataReasonGap), r.th.textWeak, reason)
	}
	if !r.From.IsZero() && !r.To.IsZero() {
		loc := r.o.Location
		span := r.From.In(loc).Format("2006-01-02 15:04") + " – " + r.To.In(loc).Format("15:04") + " " + r.zone
		w := cv.measure(f, span)
		cv.text(f, (float64(r.w)-w)/2, float64(r.h)-r.px(noDataSpanBottom), r.th.textWeak, span)
	}
}
