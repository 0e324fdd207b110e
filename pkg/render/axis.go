package render

import (
	"math"
	"time"

	"github.com/alertchart/alertchart/pkg/render/units"
)

// timeTick is one x-axis tick.
type timeTick struct {
	t     time.Time
	label string
}

// timeSteps are the round increments the x-axis may use (uPlot's list).
var timeSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 30 * 24 * time.Hour,
	91 * 24 * time.Hour, 365 * 24 * time.Hour,
}

// timeTicks returns ticks at round times in loc between from and to, at
// least minGap pixels apart on an axis width pixels wide.
func timeTicks(from, to time.Time, loc *time.Location, width, minGap float64) []timeTick {
	span := to.Sub(from)
	if span <= 0 || width <= 0 {
		return nil
	}
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if float64(s)/float64(span)*width >= minGap {
			step = s
			break
		}
	}
	lf := from.In(loc)
	if step < 24*time.Hour {
		return subDayTicks(from, to, lf, loc, step)
	}
	var ticks []timeTick
	var t time.Time
	if step < 30*24*time.Hour {
		t = time.Date(lf.Year(), lf.Month(), lf.Day(), 0, 0, 0, 0, loc)
		if t.Before(from) {
			t = t.AddDate(0, 0, 1)
		}
		if step == 7*24*time.Hour || step == 14*24*time.Hour {
			for t.Weekday() != time.Monday {
				t = t.AddDate(0, 0, 1)
			}
		}
	} else {
		t = time.Date(lf.Year(), lf.Month(), 1, 0, 0, 0, 0, loc)
		if t.Before(from) {
			t = t.AddDate(0, 1, 0)
		}
	}
	for n := 0; !t.After(to) && n < 200; n++ {
		lt := t.In(loc)
		label := lt.Format("01/02")
		if step >= 365*24*time.Hour {
			label = lt.Format("2006")
		}
		ticks = append(ticks, timeTick{t: t, label: label})
		switch {
		case step < 30*24*time.Hour:
			t = t.AddDate(0, 0, int(step/(24*time.Hour)))
		case step < 91*24*time.Hour:
			t = t.AddDate(0, 1, 0)
		case step < 365*24*time.Hour:
			t = t.AddDate(0, 3, 0)
		default:
			t = t.AddDate(1, 0, 0)
		}
	}
	return ticks
}

// subDayTicks places ticks at multiples of step after each local midnight,
// so 10-minute ticks land on :00, :10 … in the configured zone (also in
// +05:30 zones). A tick at midnight shows the date instead of 00:00.
func subDayTicks(from, to, lf time.Time, loc *time.Location, step time.Duration) []timeTick {
	var ticks []timeTick
	day := time.Date(lf.Year(), lf.Month(), lf.Day(), 0, 0, 0, 0, loc)
	for d := 0; d < 400 && !day.After(to) && len(ticks) < 200; d++ {
		next := day.AddDate(0, 0, 1)
		k := 0
		if day.Before(from) {
			k = int((from.Sub(day) + step - 1) / step)
		}
		for ; len(ticks) < 200; k++ {
			t := day.Add(time.Duration(k) * step)
			if !t.Before(next) || t.After(to) {
				break
			}
			lt := t.In(loc)
			label := lt.Format("15:04")
			if step < time.Minute {
				label = lt.Format("15:04:05")
			}
			if k == 0 && len(ticks) > 0 {
				label = lt.Format("01/02")
			}
			ticks = append(ticks, timeTick{t: t, label: label})
		}
		day = next
	}
	return ticks
}

// yAxis is the resolved value axis.
type yAxis struct {
	lo, hi float64 // range in raw units
	ticks  []float64
	labels []string
}

// niceStep rounds a raw step up to 1, 2, 2.5 or 5 × 10^k and returns the
// decimals needed to print multiples of it.
func niceStep(raw float64) (step float64, decimals int) {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1, 0
	}
	exp := math.Floor(math.Log10(raw))
	mag := math.Pow(10, exp)
	norm := raw / mag
	var m float64
	extra := 0
	switch {
	case norm <= 1:
		m = 1
	case norm <= 2:
		m = 2
	case norm <= 2.5:
		m, extra = 2.5, 1
	case norm <= 5:
		m = 5
	default:
		m = 10
	}
	step = m * mag
	decimals = int(-math.Floor(math.Log10(step))) + extra
	if m == 10 {
		decimals = int(-math.Floor(math.Log10(step) + 1e-9))
	}
	if decimals < 0 {
		decimals = 0
	}
	return step, decimals
}

// buildYAxis picks a nice range and ticks covering [lo, hi]. fixedLo and
// fixedHi keep the given end exactly (the panel's min/max).
func buildYAxis(lo, hi float64, fixedLo, fixedHi bool, unit string, decimals *int, maxTicks int) yAxis {
	if hi < lo {
		lo, hi = hi, lo
	}
	if hi == lo {
		switch {
		case fixedLo && !fixedHi:
			hi = lo + math.Max(1, math.Abs(lo)*0.2)
		case fixedHi && !fixedLo:
			lo = hi - math.Max(1, math.Abs(hi)*0.2)
		case lo == 0:
			hi = 1
		default:
			d := math.Abs(lo) * 0.1
			lo, hi = lo-d, hi+d
		}
	}
	if maxTicks < 2 {
		maxTicks = 2
	}
	var (
		sc       units.Scale
		scaled   bool
		div      = 1.0
		slo, shi float64
		step     float64
		dec      int
		probe    = math.Max(math.Abs(lo), math.Abs(hi))
	)
	for pass := 0; pass < 2; pass++ {
		sc, scaled = units.AxisScale(unit, probe)
		div = 1.0
		if scaled {
			div = sc.Divisor
		}
		slo, shi = lo/div, hi/div
		step, dec = niceStep((shi - slo) / float64(maxTicks))
		if !fixedLo {
			slo = math.Floor(slo/step+1e-9) * step
		}
		if !fixedHi {
			shi = math.Ceil(shi/step-1e-9) * step
		}
		// Rounding the ends can cross a prefix boundary (980 ms → 1000 ms):
		// probe again with the rounded range so the axis reads "1.0 s".
		np := math.Max(math.Abs(slo), math.Abs(shi)) * div
		if np == probe {
			break
		}
		probe = np
	}
	if decimals != nil {
		dec = *decimals
	}
	ax := yAxis{lo: slo * div, hi: shi * div}
	first := math.Ceil(slo/step-1e-9) * step
	for i := 0; i < 100; i++ {
		v := first + float64(i)*step
		if v > shi+step*1e-6 {
			break
		}
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		raw := v * div
		ax.ticks = append(ax.ticks, raw)
		switch {
		case v == 0 && decimals == nil:
			ax.labels = append(ax.labels, units.Format(unit, 0, 0))
		case v == 0:
			ax.labels = append(ax.labels, units.Format(unit, 0, dec))
		case scaled:
			ax.labels = append(ax.labels, sc.FormatScaled(raw, dec))
		default:
			ax.labels = append(ax.labels, units.Format(unit, raw, dec))
		}
	}
	return ax
}

// buildLogAxis is buildYAxis for a logarithmic axis: ticks at the powers of
// base (and 2× and 5× between powers of ten when the range is short), each
// label formatted on its own since the magnitudes differ.
func buildLogAxis(lo, hi, base float64, fixedLo, fixedHi bool, unit string, decimals *int, maxTicks int) yAxis {
	if lo <= 0 {
		lo = 1
	}
	if hi <= lo {
		hi = lo * base
	}
	lb := math.Log(base)
	elo, ehi := math.Floor(math.Log(lo)/lb+1e-9), math.Ceil(math.Log(hi)/lb-1e-9)
	if ehi <= elo {
		ehi = elo + 1
	}
	ax := yAxis{lo: lo, hi: hi}
	if !fixedLo {
		ax.lo = math.Pow(base, elo)
	}
	if !fixedHi {
		ax.hi = math.Pow(base, ehi)
	}
	dec := units.Auto
	if decimals != nil {
		dec = *decimals
	}
	stride := 1
	if maxTicks > 1 {
		stride = max(1, int(math.Ceil((ehi-elo+1)/float64(maxTicks))))
	}
	mults := []float64{1}
	if base == 10 && ehi-elo <= 2 {
		mults = []float64{1, 2, 5}
	}
	for e := elo; e <= ehi; e += float64(stride) {
		for _, m := range mults {
			v := m * math.Pow(base, e)
			if v < ax.lo*(1-1e-9) || v > ax.hi*(1+1e-9) {
				continue
			}
			ax.ticks = append(ax.ticks, v)
			ax.labels = append(ax.labels, units.Format(unit, v, dec))
		}
	}
	return ax
}

// valueAxis builds the value axis for a plot height pixels tall.
func (r *resolved) valueAxis(lo, hi, height float64) yAxis {
	maxTicks := int(height / r.px(minValueTickGap))
	if r.st.LogBase > 0 {
		return buildLogAxis(lo, hi, r.st.LogBase, r.min != nil, r.max != nil, r.unit, r.decimals, maxTicks)
	}
	return buildYAxis(lo, hi, r.min != nil, r.max != nil, r.unit, r.decimals, maxTicks)
}

// valueLabelWidth is the widest value label: the plot starts right of it.
func (r *resolved) valueLabelWidth(cv *canvas, f face, ax yAxis) float64 {
	w := 0.0
	for _, l := range ax.labels {
		w = math.Max(w, cv.measure(f, l))
	}
	return w
}

// drawAxes draws the grid with the value labels left of the plot and the
// time labels under it (in Options.Location).
func (r *resolved) drawAxes(cv *canvas, f face, pl plotArea, ax yAxis) {
	lw := math.Max(1, math.Round(r.scale))
	for i, v := range ax.ticks {
		y := math.Round(pl.y(v))
		cv.hline(pl.left, pl.right, y, lw, r.th.grid, 0, 0)
		w := cv.measure(f, ax.labels[i])
		cv.text(f, pl.left-r.px(valueLabelGap)-w, y+f.capMiddle(), r.th.text, ax.labels[i])
	}
	for _, t := range timeTicks(pl.from, pl.to, r.o.Location, pl.right-pl.left, r.px(minTimeTickGap)) {
		x := math.Round(pl.x(t.t))
		cv.vline(x, pl.top, pl.bottom, lw, r.th.grid, 0, 0)
		w := cv.measure(f, t.label)
		lx := math.Min(x-w/2, float64(r.w)-r.px(edgeInset)-w)
		cv.text(f, lx, pl.bottom+r.px(xLabelOffset)+f.capMiddle(), r.th.text, t.label)
	}
}
