package render

import (
	"image/color"
	"math"
	"strconv"
)

// legendLayout is the legend's computed geometry.
type legendLayout struct {
	table  bool
	rows   []legendRow
	more   int // series not shown
	height float64
	// right: a table beside the plot, width wide (placement "right").
	right bool
	width float64
	// list mode: one entry per line of items
	lines [][]listItem
}

type listItem struct {
	row  legendRow
	text string
	x, w float64
}

// capRows keeps at most fit legend lines, one of them the "… N more series"
// note when rows are cut or the chart has HiddenSeries.
func (r *resolved) capRows(rows []legendRow, fit int) (kept []legendRow, more int) {
	keep := len(rows)
	if len(rows) > fit || r.HiddenSeries > 0 {
		keep = min(keep, fit-1)
	}
	keep = max(keep, 0)
	return rows[:keep], len(rows) - keep + r.HiddenSeries
}

func (r *resolved) layoutLegend(cv *canvas, f face, rows []legendRow) legendLayout {
	switch r.st.LegendDisplay {
	case "hidden":
		return legendLayout{}
	case "list":
		return r.layoutList(cv, f, rows)
	}
	lg := legendLayout{table: true}
	budget := float64(r.h)*legendShare - r.px(legendRowH) - r.px(legendPad)
	fit := max(1, int(budget/r.px(legendRowH)))
	if r.o.MaxLegendRows > 0 && r.o.MaxLegendRows < fit {
		fit = r.o.MaxLegendRows
	}
	lg.rows, lg.more = r.capRows(rows, fit)
	n := len(lg.rows)
	if lg.more > 0 {
		n++
	}
	lg.height = r.px(legendRowH)*float64(n) + r.px(legendPad)
	if len(r.calcs) > 0 {
		lg.height += r.px(legendRowH)
	}
	return lg
}

// columnWidths are the value columns' widths: header or widest value.
func (r *resolved) columnWidths(cv *canvas, f face, rows []legendRow) []float64 {
	colW := make([]float64, len(r.calcs))
	for j, c := range r.calcs {
		colW[j] = math.Max(r.px(legendColumnMin), cv.measure(f, calcTitles[c]))
		for _, row := range rows {
			colW[j] = math.Max(colW[j], cv.measure(f, row.Texts[j]))
		}
		colW[j] += r.px(legendColumnGap)
	}
	return colW
}

// layoutRightLegend places the table beside the plot, at most 45 % of the
// width and as many rows as the plot is tall.
func (r *resolved) layoutRightLegend(cv *canvas, f face, rows []legendRow, avail float64) legendLayout {
	lg := legendLayout{table: true, right: true}
	fit := max(1, int((avail-r.px(legendRowH))/r.px(legendRowH)))
	if r.o.MaxLegendRows > 0 && r.o.MaxLegendRows < fit {
		fit = r.o.MaxLegendRows
	}
	lg.rows, lg.more = r.capRows(rows, fit)
	cols := 0.0
	for _, w := range r.columnWidths(cv, f, lg.rows) {
		cols += w
	}
	names := 0.0
	for _, row := range lg.rows {
		names = math.Max(names, cv.measure(f, row.Name))
	}
	if lg.more > 0 {
		names = math.Max(names, cv.measure(f, r.word("render.more_series", "count", lg.more)))
	}
	lg.width = math.Min(r.px(rightLegendChrome)+names+cols, float64(r.w)*rightLegendShare)
	return lg
}

func (r *resolved) layoutList(cv *canvas, f face, rows []legendRow) legendLayout {
	lg := legendLayout{}
	maxW := float64(r.w) - 2*r.px(edgePad)
	maxLines := max(1, int((float64(r.h)*legendShare-r.px(legendPad))/r.px(legendRowH)))
	if r.o.MaxLegendRows > 0 {
		maxLines = min(maxLines, r.o.MaxLegendRows)
	}
	x := 0.0
	var line []listItem
	shown := 0
	for _, row := range rows {
		text := row.Name
		for j, c := range r.calcs {
			text += "  " + calcTitles[c] + ": " + row.Texts[j]
		}
		text = cv.ellipsize(f, text, maxW-r.px(legendItemLead))
		w := r.px(legendItemLead) + cv.measure(f, text) + r.px(legendItemGap)
		if x > 0 && x+w > maxW {
			lg.lines = append(lg.lines, line)
			line, x = nil, 0
			if len(lg.lines) == maxLines {
				break
			}
		}
		line = append(line, listItem{row: row, text: text, x: x, w: w})
		x += w
		shown++
	}
	if len(line) > 0 && len(lg.lines) < maxLines {
		lg.lines = append(lg.lines, line)
	} else if len(line) > 0 {
		shown -= len(line)
	}
	lg.more = len(rows) - shown + r.HiddenSeries
	if lg.more > 0 {
		// The last line makes room for the "… N more series" note.
		last := lg.lines[len(lg.lines)-1]
		note := cv.measure(f, r.word("render.more_series", "count", lg.more)) + r.px(legendNoteGap)
		for len(last) > 0 && last[len(last)-1].x+last[len(last)-1].w+note > maxW {
			last = last[:len(last)-1]
			lg.more++
		}
		lg.lines[len(lg.lines)-1] = last
	}
	lg.height = r.px(legendRowH)*float64(len(lg.lines)) + r.px(legendPad)
	return lg
}

func (r *resolved) drawLegend(cv *canvas, f face, lg legendLayout, top, pad float64) {
	right := float64(r.w) - r.px(edgePad)
	swatch := func(x, cy float64, c color.NRGBA) {
		cv.roundRect(x, cy-r.px(legendSwatchHalfH), x+r.px(legendSwatchWidth), cy+r.px(legendSwatchHalfH), r.px(legendSwatchRadius), c)
	}
	if !lg.table {
		for i, line := range lg.lines {
			cy := top + r.px(legendRowH)*float64(i) + r.px(legendRowH)/2
			for _, it := range line {
				swatch(pad+it.x, cy, it.row.Color)
				cv.text(f, pad+it.x+r.px(legendItemTextX), cy+f.capMiddle(), r.th.text, it.text)
			}
			if i == len(lg.lines)-1 && lg.more > 0 {
				x := pad
				if len(line) > 0 {
					x += line[len(line)-1].x + line[len(line)-1].w
				}
				cv.text(f, x, cy+f.capMiddle(), r.th.textWeak, r.word("render.more_series", "count", lg.more))
			}
		}
		return
	}
	if len(lg.rows) == 0 && lg.more == 0 {
		return
	}
	// Value columns: right-aligned, wide enough for header and values.
	colW := r.columnWidths(cv, f, lg.rows)
	colRight := make([]float64, len(r.calcs))
	x := right - r.px(legendPad)
	for j := len(r.calcs) - 1; j >= 0; j-- {
		colRight[j] = x
		x -= colW[j]
	}
	nameMax := x - (pad + r.px(legendItemLead)) - r.px(legendNameGap)
	rowH := r.px(legendRowH)
	y := top
	lw := math.Max(1, math.Round(r.scale))
	if len(r.calcs) > 0 {
		cy := y + rowH/2
		for j, c := range r.calcs {
			t := calcTitles[c]
			cv.text(f, colRight[j]-cv.measure(f, t), cy+f.capMiddle(), r.th.textWeak, t)
		}
		y += rowH
	}
	for _, row := range lg.rows {
		cv.hline(pad, right, math.Round(y), lw, r.th.border, 0, 0)
		cy := y + rowH/2
		swatch(pad+r.px(legendPad), cy, row.Color)
		cv.text(f, pad+r.px(legendNameX), cy+f.capMiddle(), r.th.text, cv.ellipsize(f, row.Name, nameMax))
		for j, t := range row.Texts {
			cv.text(f, colRight[j]-cv.measure(f, t), cy+f.capMiddle(), r.th.text, t)
		}
		y += rowH
	}
	if lg.more > 0 {
		cv.hline(pad, right, math.Round(y), lw, r.th.border, 0, 0)
		cv.text(f, pad+r.px(legendNameX), y+rowH/2+f.capMiddle(), r.th.textWeak, r.word("render.more_series", "count", lg.more))
	}
}

// String helps tests and logs describe a legend row.
func (l legendRow) String() string {
	s := l.Name
	for _, t := range l.Texts {
		s += " " + strconv.Quote(t)
	}
	return s
}
