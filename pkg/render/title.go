package render

// drawTitle writes the chart's title in the title row and returns where
// the content below it may start.
func (r *resolved) drawTitle(cv *canvas, title, _ face) float64 {
	pad := r.px(edgePad)
	if r.Title == "" {
		return pad
	}
	t := cv.ellipsize(title, r.Title, float64(r.w)-2*pad)
	cv.text(title, pad, r.px(titleBaseline), r.th.text, t)
	return r.px(titleRowHeight)
}
