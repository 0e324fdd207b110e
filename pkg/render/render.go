package render

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"
	"strconv"
	"time"
	_ "time/tzdata" // time zones must work on Windows Grafana hosts too

	"github.com/alertchart/alertchart/pkg/render/fonts"
	"github.com/alertchart/alertchart/pkg/render/units"
	"github.com/alertchart/alertchart/pkg/series"
)

// Chart is what to draw: the series of one alert, its thresholds and times.
type Chart struct {
	Title      string
	Series     []series.Series
	Thresholds []series.Threshold
	// AlertStart and AlertEnd mark the firing period; zero means none.
	// A non-zero AlertEnd means the alert resolved.
	AlertStart, AlertEnd time.Time
	// From and To are the time window; zero derives them from the samples.
	From, To time.Time
	// Unit, Decimals, Min and Max override the Style's when set: the chart
	// knows its query, the style is shared by every chart.
	Unit     string
	Decimals *int
	Min, Max *float64
	// NoDataReason is shown on the "no data" image, e.g. the query error.
	NoDataReason string
	Style        Style
	// HiddenSeries counts series the query returned but the chart leaves
	// out (the planner's series cap); the legend says "… N more series".
	HiddenSeries int
	// References are moving thresholds (the other side of `x > y`), drawn
	// as thin lines in the threshold colour without legend rows.
	References []series.Series
}

// Options are per-render output settings.
type Options struct {
	// Width and Height in CSS pixels (default 1000×500); the image is
	// Width×PixelRatio by Height×PixelRatio device pixels.
	Width, Height int
	PixelRatio    float64
	// Theme is "dark" (default) or "light".
	Theme string
	// Location is the time zone of the x-axis and marker labels (default UTC).
	Location *time.Location
	// Format is "png" (default) or "jpeg".
	Format string
	// Language is "zh" (default) or "en" for the chart's own words.
	Language string
	// LegendFormat such as "{{instance}}" names series; Style.LegendFormat
	// (from a template panel) wins when set.
	LegendFormat string
	// MaxLegendRows caps the legend table (0: only the 50 %-of-height cap).
	MaxLegendRows int
	// JPEGQuality is 1–100 (default 85).
	JPEGQuality int
	// MaxBytes is the largest image to return (default 1,900,000, under
	// WeCom's 2 MB limit). A larger PNG is re-encoded as JPEG, then at lower
	// qualities; if nothing fits Render fails.
	MaxBytes int
}

// Image is an encoded chart.
type Image struct {
	Bytes       []byte
	ContentType string
	// Width and Height are the image's pixel size.
	Width, Height int
}

// Limits on inputs, so a runaway query cannot exhaust memory.
const (
	MaxSeries       = 1000
	MaxTotalPoints  = 2_000_000
	MaxDevicePixels = 16_000_000
	defaultMaxBytes = 1_900_000
)

// ErrTooLarge reports an input above the package limits.
var ErrTooLarge = errors.New("chart input too large")

// words are the chart's own texts per language.
var words = map[string]map[string]string{
	"zh": {"nodata": "无数据", "alert": "告警开始", "resolved": "告警恢复", "more": "… 还有 %d 个序列"},
	"en": {"nodata": "No data", "alert": "alert start", "resolved": "resolved", "more": "… %d more series"},
}

// resolved is a Chart merged with its Style and Options defaults.
type resolved struct {
	*Chart
	o        Options
	st       Style
	th       theme
	unit     string
	decimals *int
	min, max *float64
	scale    float64
	w, h     int
	words    map[string]string
	calcs    []string
	format   string // legend format in effect
	// Layout results, kept for tests.
	pl   plotArea
	rows []legendRow
	lg   legendLayout
	ax   yAxis
}

func (o *Options) normalise() error {
	if o.Width == 0 {
		o.Width = 1000
	}
	if o.Height == 0 {
		o.Height = 500
	}
	if o.PixelRatio == 0 {
		o.PixelRatio = 1
	}
	if o.Theme == "" {
		o.Theme = "dark"
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Format == "" {
		o.Format = "png"
	}
	if o.Language == "" {
		o.Language = "zh"
	}
	if o.JPEGQuality == 0 {
		o.JPEGQuality = 85
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = defaultMaxBytes
	}
	switch {
	case o.Width < 200 || o.Width > 4000:
		return fmt.Errorf("render: width %d is outside 200–4000", o.Width)
	case o.Height < 150 || o.Height > 3000:
		return fmt.Errorf("render: height %d is outside 150–3000", o.Height)
	case math.IsNaN(o.PixelRatio) || o.PixelRatio < 0.5 || o.PixelRatio > 4:
		return fmt.Errorf("render: pixel ratio %v is outside 0.5–4", o.PixelRatio)
	case o.Theme != "dark" && o.Theme != "light":
		return fmt.Errorf("render: theme must be dark or light, not %q", o.Theme)
	case o.Format != "png" && o.Format != "jpeg":
		return fmt.Errorf("render: format must be png or jpeg, not %q", o.Format)
	case o.Language != "zh" && o.Language != "en":
		return fmt.Errorf("render: language must be zh or en, not %q", o.Language)
	case o.JPEGQuality < 1 || o.JPEGQuality > 100:
		return fmt.Errorf("render: JPEG quality %d is outside 1–100", o.JPEGQuality)
	case o.MaxLegendRows < 0:
		return fmt.Errorf("render: max legend rows %d is negative", o.MaxLegendRows)
	case o.MaxBytes < 10_000:
		return fmt.Errorf("render: max bytes %d is too small for any chart", o.MaxBytes)
	}
	w, h := int(math.Round(float64(o.Width)*o.PixelRatio)), int(math.Round(float64(o.Height)*o.PixelRatio))
	if w*h > MaxDevicePixels {
		return fmt.Errorf("%w: %d×%d pixels exceed %d", ErrTooLarge, w, h, MaxDevicePixels)
	}
	return nil
}

// Render draws c and encodes it. A chart without samples becomes an honest
// "no data" image carrying c.NoDataReason.
func Render(c *Chart, o Options) (*Image, error) {
	if c == nil {
		return nil, errors.New("render: nil chart")
	}
	if err := o.normalise(); err != nil {
		return nil, err
	}
	r, err := resolve(c, o)
	if err != nil {
		return nil, err
	}
	cv, err := r.draw()
	if err != nil {
		return nil, err
	}
	defer cv.release()
	return encode(cv.img, o)
}

func resolve(c *Chart, o Options) (*resolved, error) {
	if len(c.Series) > MaxSeries {
		return nil, fmt.Errorf("%w: %d series (limit %d)", ErrTooLarge, len(c.Series), MaxSeries)
	}
	total := 0
	for _, s := range c.Series {
		total += len(s.Points)
	}
	if total > MaxTotalPoints {
		return nil, fmt.Errorf("%w: %d points (limit %d)", ErrTooLarge, total, MaxTotalPoints)
	}
	if err := c.Style.validate(); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	r := &resolved{Chart: c, o: o, st: c.Style, th: darkTheme, scale: o.PixelRatio, words: words[o.Language]}
	if o.Theme == "light" {
		r.th = lightTheme
	}
	r.w, r.h = int(math.Round(float64(o.Width)*o.PixelRatio)), int(math.Round(float64(o.Height)*o.PixelRatio))
	r.unit, r.decimals, r.min, r.max = r.st.Unit, r.st.Decimals, r.st.Min, r.st.Max
	if c.Unit != "" {
		r.unit = c.Unit
	}
	if c.Decimals != nil {
		r.decimals = c.Decimals
	}
	if c.Min != nil {
		r.min = c.Min
	}
	if c.Max != nil {
		r.max = c.Max
	}
	if r.decimals != nil && (*r.decimals < 0 || *r.decimals > 20) {
		return nil, fmt.Errorf("render: decimals %d is outside 0–20", *r.decimals)
	}
	for _, p := range []*float64{r.min, r.max} {
		if p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0)) {
			return nil, errors.New("render: min/max must be finite")
		}
	}
	if r.min != nil && r.max != nil && *r.min >= *r.max {
		return nil, fmt.Errorf("render: min %v is not below max %v", *r.min, *r.max)
	}
	for _, t := range c.Thresholds {
		if math.IsNaN(t.Value) || math.IsInf(t.Value, 0) {
			return nil, fmt.Errorf("render: threshold %s %v is not a finite number", t.Op, t.Value)
		}
	}
	r.format = o.LegendFormat
	if r.st.LegendFormat != "" {
		r.format = r.st.LegendFormat
	}
	r.calcs = r.st.LegendCalcs
	if r.calcs == nil {
		r.calcs = defaultCalcs
	}
	if !c.From.IsZero() && !c.To.IsZero() && !c.From.Before(c.To) {
		return nil, fmt.Errorf("render: time range from %s is not before to %s", c.From.Format(time.RFC3339), c.To.Format(time.RFC3339))
	}
	return r, nil
}

// px converts CSS pixels to device pixels.
func (r *resolved) px(v float64) float64 { return v * r.scale }

// plotted is a series prepared for drawing.
type plotted struct {
	pts   []series.Point // sorted, inside the window (plus one neighbour each side)
	color color.NRGBA
	// lineWidth (CSS px) and fillOpacity (0–100) after field overrides;
	// hidden series are in the legend but not drawn (custom.hideFrom.viz).
	lineWidth, fillOpacity float64
	hidden                 bool
}

func (r *resolved) draw() (*canvas, error) {
	regular, err := fonts.Regular()
	if err != nil {
		return nil, err
	}
	medium, err := fonts.Medium()
	if err != nil {
		return nil, err
	}
	cv := newCanvas(r.w, r.h)
	cv.clear(r.th.bg)
	body := newFace(regular, r.px(12), &cv.buf)
	title := newFace(medium, r.px(14), &cv.buf)

	pad := r.px(8)
	top := pad
	if r.Title != "" {
		t := cv.ellipsize(title, r.Title, float64(r.w)-2*pad)
		cv.text(title, pad, r.px(21), r.th.text, t)
		top = r.px(30)
	}

	from, to, ps, any := r.prepare()
	if !any {
		r.drawNoData(cv, body, top)
		return cv, nil
	}

	// Legend first: it decides how tall the plot may be.
	colors := make([]color.NRGBA, len(ps))
	for i := range ps {
		colors[i] = ps[i].color
	}
	windowed := make([]series.Series, len(r.Series))
	for i, s := range r.Series {
		windowed[i] = series.Series{Name: s.Name, Labels: s.Labels, Points: inWindow(ps[i].pts, from, to)}
	}
	rows := legendRows(windowed, r.calcs, colors, r.format, r.unit, r.decimals, r.st.LegendSortBy, r.st.LegendSortDesc)
	plotTop := top + r.px(6)
	var lg legendLayout
	if r.st.LegendPlacement == "right" && r.st.LegendDisplay != "hidden" {
		lg = r.layoutRightLegend(cv, body, rows, float64(r.h)-r.px(26)-plotTop)
	} else {
		lg = r.layoutLegend(cv, body, rows)
	}

	plotBottom := float64(r.h) - lg.height - r.px(26)
	if lg.height == 0 || lg.right {
		plotBottom = float64(r.h) - r.px(26)
	}
	if plotBottom-plotTop < r.px(40) {
		plotBottom = plotTop + r.px(40)
	}

	// Value axis.
	lo, hi := r.valueRange(ps, from, to)
	maxTicks := int((plotBottom - plotTop) / r.px(32))
	var ax yAxis
	if r.st.LogBase > 0 {
		ax = buildLogAxis(lo, hi, r.st.LogBase, r.min != nil, r.max != nil, r.unit, r.decimals, maxTicks)
	} else {
		ax = buildYAxis(lo, hi, r.min != nil, r.max != nil, r.unit, r.decimals, maxTicks)
	}
	labelW := 0.0
	for _, l := range ax.labels {
		labelW = math.Max(labelW, cv.measure(body, l))
	}
	plotLeft := math.Round(pad + labelW + r.px(8))
	plotRight := math.Round(float64(r.w) - pad)
	if lg.right {
		plotRight = math.Round(float64(r.w) - pad - lg.width - r.px(16))
	}
	plotTop, plotBottom = math.Round(plotTop), math.Round(plotBottom)
	plot := image.Rect(int(plotLeft), int(plotTop), int(plotRight), int(plotBottom)+1)
	pl := plotArea{left: plotLeft, right: plotRight, top: plotTop, bottom: plotBottom, from: from, to: to, lo: ax.lo, hi: ax.hi, log: r.st.LogBase > 0}
	r.pl, r.rows, r.lg, r.ax = pl, rows, lg, ax

	// Grid and axis labels.
	lw := math.Max(1, math.Round(r.scale))
	for i, v := range ax.ticks {
		y := math.Round(pl.y(v))
		cv.hline(plotLeft, plotRight, y, lw, r.th.grid, 0, 0)
		w := cv.measure(body, ax.labels[i])
		cv.text(body, plotLeft-r.px(8)-w, y+body.capMiddle(), r.th.text, ax.labels[i])
	}
	ticks := timeTicks(from, to, r.o.Location, plotRight-plotLeft, r.px(80))
	for _, t := range ticks {
		x := math.Round(pl.x(t.t))
		cv.vline(x, plotTop, plotBottom, lw, r.th.grid, 0, 0)
		w := cv.measure(body, t.label)
		lx := math.Min(x-w/2, float64(r.w)-r.px(2)-w)
		cv.text(body, lx, plotBottom+r.px(14)+body.capMiddle(), r.th.text, t.label)
	}

	r.drawThresholdAreas(cv, pl, plot, ps, from, to)
	r.drawAlertShade(cv, pl)
	r.drawSeries(cv, pl, plot, ps)
	r.drawReferences(cv, pl, plot)
	r.drawThresholdLines(cv, pl, ps, from, to)
	r.drawAlertMarkers(cv, body, pl)
	r.drawThresholdLabels(cv, body, pl)
	if lg.right {
		r.drawLegend(cv, body, lg, plotTop-r.px(6), plotRight+r.px(16))
	} else {
		r.drawLegend(cv, body, lg, plotBottom+r.px(26), pad)
	}
	return cv, nil
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

func (r *resolved) seriesColor(i int, pts []series.Point) color.NRGBA {
	switch r.st.ColorMode {
	case "fixed", "shades":
		c, err := ParseColor(r.st.FixedColor)
		if err != nil || r.st.FixedColor == "" {
			c = paletteColor(0)
		}
		if r.st.ColorMode == "shades" && i > 0 {
			// Alternate lighter and darker shades of the fixed colour.
			f := 1 + 0.45*float64((i+1)/2)
			if i%2 == 0 {
				f = 1 / f
			}
			c = shade(c, f)
		}
		return c
	case "palette-classic-by-name":
		return paletteByName(legendName(r.Series[i], r.format))
	case "thresholds":
		return r.thresholdColor(calc("lastNotNull", pts))
	}
	return paletteColor(i)
}

// applyOverrides applies the template panel's field overrides whose matcher
// selects series i by its legend name.
func (r *resolved) applyOverrides(i int, p *plotted) {
	if len(r.st.Overrides) == 0 {
		return
	}
	name := legendName(r.Series[i], r.format)
	for _, o := range r.st.Overrides {
		if !o.matches(name, r.Series[i].Name) {
			continue
		}
		if o.Color != "" {
			if c, err := ParseColor(o.Color); err == nil {
				p.color = c
			}
		}
		if o.LineWidth != nil {
			p.lineWidth = *o.LineWidth
		}
		if o.FillOpacity != nil {
			p.fillOpacity = *o.FillOpacity
		}
		if o.Hidden {
			p.hidden = true
		}
	}
}

func shade(c color.NRGBA, f float64) color.NRGBA {
	s := func(v uint8) uint8 {
		if f >= 1 {
			return uint8(255 - (255-float64(v))/f)
		}
		return uint8(float64(v) * f)
	}
	return color.NRGBA{s(c.R), s(c.G), s(c.B), c.A}
}

// thresholdColor is the colour of the panel threshold step containing v.
func (r *resolved) thresholdColor(v float64) color.NRGBA {
	col := paletteColor(0)
	for _, s := range r.st.Thresholds {
		if s.Value == nil || (!math.IsNaN(v) && v >= *s.Value) {
			if c, err := ParseColor(s.Color); err == nil {
				col = c
			}
		}
	}
	return col
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
		if !log || t.Value > 0 {
			lo, hi = math.Min(lo, t.Value), math.Max(hi, t.Value)
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
				dash, gap = r.px(10), r.px(10)
			}
			cv.hline(pl.left, pl.right, math.Round(pl.y(v)), lw, c, dash, gap)
		}
	}
	for _, t := range r.Thresholds {
		if t.Value < pl.lo || t.Value > pl.hi || (pl.log && t.Value <= 0) {
			continue
		}
		cv.hline(pl.left, pl.right, math.Round(pl.y(t.Value)), lw, r.th.threshold, r.px(10), r.px(6))
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
		if t.Value < pl.lo || t.Value > pl.hi {
			continue
		}
		label := units.Format(r.unit, t.Value, dec)
		if t.Op != "" {
			label = t.Op + " " + label
		}
		w := cv.measure(f, label)
		y := math.Round(pl.y(t.Value))
		base := y - r.px(5) // above the line
		if base-f.size < pl.top {
			base = y + r.px(5) + f.size*0.75 // below it, near the top edge
		}
		x := pl.left + r.px(6)
		box := image.Rect(int(x-r.px(3)), int(base-f.size*0.8), int(x+w+r.px(3)), int(base+r.px(3)))
		cv.fillRect(box, withAlpha(r.th.bg, 0.9))
		cv.text(f, x, base, r.th.threshold, label)
	}
}

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
	labelY := pl.top + r.px(8) + f.capMiddle()
	var startRight float64 = math.Inf(-1)
	mark := func(t time.Time, col color.NRGBA, word string, row int) {
		ts := t.In(r.o.Location)
		label := word + " " + ts.Format("15:04:05")
		if !sameDay(ts, pl.to.In(r.o.Location)) {
			label = word + " " + ts.Format("01/02 15:04:05")
		}
		w := cv.measure(f, label)
		y := labelY + float64(row)*r.px(16)
		if t.Before(pl.from) {
			// Started before the window: no line, the label says when.
			lx := pl.left + r.px(6)
			cv.text(f, lx, y, col, "◀ "+label)
			startRight = lx + w
			return
		}
		if t.After(pl.to) {
			return
		}
		x := math.Round(pl.x(t))
		cv.vline(x, pl.top, pl.bottom, lw, col, r.px(4), r.px(3))
		s := r.px(5)
		cv.triangle(pt{x, pl.bottom - s*1.3}, pt{x - s, pl.bottom + s*0.7}, pt{x + s, pl.bottom + s*0.7}, col)
		lx := x + r.px(6)
		if lx+w > pl.right-r.px(2) {
			lx = x - r.px(6) - w
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
			endX := pl.x(r.AlertEnd) - r.px(6) - cv.measure(f, r.words["resolved"]+" 00:00:00")
			if endX < startRight+r.px(8) {
				row = 1
			}
		}
		mark(r.AlertEnd, r.th.resolved, r.words["resolved"], row)
	}
}

func sameDay(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

// drawSeries fills and strokes every series, breaking lines at NaN samples
// and at gaps longer than twice the series' usual step.
func (r *resolved) drawSeries(cv *canvas, pl plotArea, plot image.Rectangle, ps []plotted) {
	base := pl.y(0)
	if pl.log || pl.lo > 0 {
		base = pl.bottom
	} else if pl.hi < 0 {
		base = pl.top
	}
	var buf, stepped []pt
	for _, p := range ps {
		if p.hidden {
			continue
		}
		lwCSS, lw := p.lineWidth, r.px(p.lineWidth)
		maxGap := r.maxGap(p.pts)
		fill := withAlpha(p.color, p.fillOpacity/100)
		runs := splitRuns(p.pts, maxGap, pl.log)
		for _, run := range runs {
			buf = buf[:0]
			for _, s := range run {
				buf = append(buf, pt{pl.xms(s.T), pl.y(s.V)})
			}
			if len(buf) > 4*int(pl.right-pl.left) {
				buf = decimate(buf)
			}
			stepped = steps(stepped[:0], buf, r.st.LineInterpolation)
			line := buf
			if len(stepped) > 0 {
				line = stepped
			}
			if p.fillOpacity > 0 && len(line) > 1 {
				cv.fillUnder(line, base, fill, plot)
			}
			if lwCSS >= 0.01 {
				cv.polyline(line, lw, p.color, plot)
			}
			// Like Grafana's showPoints "auto": samples far apart (or alone)
			// get a dot, so a lone sample is not invisible.
			if len(buf) == 1 || (len(buf) > 1 && (buf[len(buf)-1].x-buf[0].x)/float64(len(buf)-1) > r.px(20)) {
				rad := math.Max(r.px(2.5), lw)
				for _, q := range buf {
					cv.polygonsIn(plot, p.color, func(ox, oy float64) { cv.dot(q.x-ox, q.y-oy, rad) }, q.x-rad-1, q.y-rad-1, q.x+rad+1, q.y+rad+1)
				}
			}
		}
	}
}

// steps appends to dst the corner points of a stepped line through p
// ("stepAfter" holds a value until the next sample, "stepBefore" jumps at the
// previous one); for other modes it appends nothing.
func steps(dst, p []pt, mode string) []pt {
	if (mode != "stepAfter" && mode != "stepBefore") || len(p) < 2 {
		return dst
	}
	for i, q := range p {
		if i > 0 {
			if mode == "stepAfter" {
				dst = append(dst, pt{q.x, p[i-1].y})
			} else {
				dst = append(dst, pt{p[i-1].x, q.y})
			}
		}
		dst = append(dst, q)
	}
	return dst
}

// decimate keeps, for every device pixel column, the first, lowest,
// highest and last point (in their original order). The drawn envelope is
// unchanged, but a series with 100k samples costs no more than the width.
func decimate(p []pt) []pt {
	w := 0
	for i := 0; i < len(p); {
		col := math.Floor(p[i].x)
		j, lo, hi := i, i, i
		for j < len(p) && math.Floor(p[j].x) == col {
			if p[j].y < p[lo].y {
				lo = j
			}
			if p[j].y > p[hi].y {
				hi = j
			}
			j++
		}
		idx := [4]int{i, min(lo, hi), max(lo, hi), j - 1}
		var keep [4]pt
		n := 0
		for k, v := range idx {
			if k == 0 || v != idx[k-1] {
				keep[n] = p[v]
				n++
			}
		}
		w += copy(p[w:], keep[:n])
		i = j
	}
	return p[:w]
}

// maxGap is the longest time between samples that still joins them.
func (r *resolved) maxGap(pts []series.Point) int64 {
	if r.st.SpanNulls {
		return math.MaxInt64
	}
	if r.st.SpanNullsMs > 0 {
		return r.st.SpanNullsMs
	}
	return 2 * typicalStep(pts)
}

// typicalStep is the median spacing of the samples (their query step).
func typicalStep(pts []series.Point) int64 {
	if len(pts) < 2 {
		return math.MaxInt64 / 4
	}
	n := min(len(pts)-1, 256)
	d := make([]int64, 0, n)
	stride := max(1, (len(pts)-1)/n)
	for i := 0; i+1 < len(pts) && len(d) < n; i += stride {
		if g := pts[i+1].T - pts[i].T; g > 0 {
			d = append(d, g)
		}
	}
	if len(d) == 0 {
		return math.MaxInt64 / 4
	}
	sort.Slice(d, func(a, b int) bool { return d[a] < d[b] })
	return d[len(d)/2]
}

// splitRuns cuts the samples into runs without NaN/Inf values (nor values
// ≤ 0 on a log axis) and without gaps longer than maxGap.
func splitRuns(pts []series.Point, maxGap int64, positive bool) [][]series.Point {
	var runs [][]series.Point
	start := -1
	for i, p := range pts {
		if !finite(p.V) || (positive && p.V <= 0) {
			if start >= 0 {
				runs = append(runs, pts[start:i])
				start = -1
			}
			continue
		}
		if start >= 0 && p.T-pts[i-1].T > maxGap {
			runs = append(runs, pts[start:i])
			start = -1
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		runs = append(runs, pts[start:])
	}
	return runs
}

func (r *resolved) drawNoData(cv *canvas, f face, top float64) {
	regular, _ := fonts.Regular()
	big := newFace(regular, r.px(18), &cv.buf)
	msg := r.words["nodata"]
	cy := top + (float64(r.h)-top)/2
	w := cv.measure(big, msg)
	cv.text(big, (float64(r.w)-w)/2, cy, r.th.textWeak, msg)
	if r.NoDataReason != "" {
		reason := cv.ellipsize(f, r.NoDataReason, float64(r.w)-r.px(32))
		w := cv.measure(f, reason)
		cv.text(f, (float64(r.w)-w)/2, cy+r.px(24), r.th.textWeak, reason)
	}
	if !r.From.IsZero() && !r.To.IsZero() {
		loc := r.o.Location
		span := r.From.In(loc).Format("2006-01-02 15:04") + " – " + r.To.In(loc).Format("15:04 MST")
		w := cv.measure(f, span)
		cv.text(f, (float64(r.w)-w)/2, float64(r.h)-r.px(12), r.th.textWeak, span)
	}
}

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

const legendRowH = 20

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

// drawReferences draws moving thresholds as thin lines in the threshold colour.
func (r *resolved) drawReferences(cv *canvas, pl plotArea, plot image.Rectangle) {
	col := withAlpha(r.th.threshold, 0.85)
	var buf []pt
	for _, ref := range r.References {
		for _, run := range splitRuns(ref.Points, r.maxGap(ref.Points), pl.log) {
			buf = buf[:0]
			for _, s := range run {
				buf = append(buf, pt{pl.xms(s.T), pl.y(s.V)})
			}
			if len(buf) > 4*int(pl.right-pl.left) {
				buf = decimate(buf)
			}
			if len(buf) > 1 {
				cv.polyline(buf, r.px(1), col, plot)
			}
		}
	}
}

func (r *resolved) layoutLegend(cv *canvas, f face, rows []legendRow) legendLayout {
	switch r.st.LegendDisplay {
	case "hidden":
		return legendLayout{}
	case "list":
		return r.layoutList(cv, f, rows)
	}
	lg := legendLayout{table: true}
	budget := float64(r.h)*0.5 - r.px(legendRowH) - r.px(4)
	fit := max(1, int(budget/r.px(legendRowH)))
	if r.o.MaxLegendRows > 0 && r.o.MaxLegendRows < fit {
		fit = r.o.MaxLegendRows
	}
	lg.rows, lg.more = r.capRows(rows, fit)
	n := len(lg.rows)
	if lg.more > 0 {
		n++
	}
	lg.height = r.px(legendRowH)*float64(n) + r.px(4)
	if len(r.calcs) > 0 {
		lg.height += r.px(legendRowH)
	}
	return lg
}

// columnWidths are the value columns' widths: header or widest value.
func (r *resolved) columnWidths(cv *canvas, f face, rows []legendRow) []float64 {
	colW := make([]float64, len(r.calcs))
	for j, c := range r.calcs {
		colW[j] = math.Max(r.px(64), cv.measure(f, calcTitles[c]))
		for _, row := range rows {
			colW[j] = math.Max(colW[j], cv.measure(f, row.Texts[j]))
		}
		colW[j] += r.px(16)
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
		names = math.Max(names, cv.measure(f, fmt.Sprintf(r.words["more"], lg.more)))
	}
	lg.width = math.Min(r.px(40)+names+cols, float64(r.w)*0.45)
	return lg
}

func (r *resolved) layoutList(cv *canvas, f face, rows []legendRow) legendLayout {
	lg := legendLayout{}
	maxW := float64(r.w) - r.px(16)
	maxLines := max(1, int((float64(r.h)*0.5-r.px(4))/r.px(legendRowH)))
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
		text = cv.ellipsize(f, text, maxW-r.px(24))
		w := r.px(24) + cv.measure(f, text) + r.px(16)
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
		note := cv.measure(f, fmt.Sprintf(r.words["more"], lg.more)) + r.px(8)
		for len(last) > 0 && last[len(last)-1].x+last[len(last)-1].w+note > maxW {
			last = last[:len(last)-1]
			lg.more++
		}
		lg.lines[len(lg.lines)-1] = last
	}
	lg.height = r.px(legendRowH)*float64(len(lg.lines)) + r.px(4)
	return lg
}

func (r *resolved) drawLegend(cv *canvas, f face, lg legendLayout, top, pad float64) {
	right := float64(r.w) - r.px(8)
	swatch := func(x, cy float64, c color.NRGBA) {
		cv.roundRect(x, cy-r.px(2), x+r.px(14), cy+r.px(2), r.px(1.5), c)
	}
	if !lg.table {
		for i, line := range lg.lines {
			cy := top + r.px(legendRowH)*float64(i) + r.px(legendRowH)/2
			for _, it := range line {
				swatch(pad+it.x, cy, it.row.Color)
				cv.text(f, pad+it.x+r.px(20), cy+f.capMiddle(), r.th.text, it.text)
			}
			if i == len(lg.lines)-1 && lg.more > 0 {
				x := pad
				if len(line) > 0 {
					x += line[len(line)-1].x + line[len(line)-1].w
				}
				cv.text(f, x, cy+f.capMiddle(), r.th.textWeak, fmt.Sprintf(r.words["more"], lg.more))
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
	x := right - r.px(4)
	for j := len(r.calcs) - 1; j >= 0; j-- {
		colRight[j] = x
		x -= colW[j]
	}
	nameMax := x - (pad + r.px(24)) - r.px(8)
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
		swatch(pad+r.px(4), cy, row.Color)
		cv.text(f, pad+r.px(26), cy+f.capMiddle(), r.th.text, cv.ellipsize(f, row.Name, nameMax))
		for j, t := range row.Texts {
			cv.text(f, colRight[j]-cv.measure(f, t), cy+f.capMiddle(), r.th.text, t)
		}
		y += rowH
	}
	if lg.more > 0 {
		cv.hline(pad, right, math.Round(y), lw, r.th.border, 0, 0)
		cv.text(f, pad+r.px(26), y+rowH/2+f.capMiddle(), r.th.textWeak, fmt.Sprintf(r.words["more"], lg.more))
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

// Fonts loads the font chain (embedded fonts plus the host CJK font, if
// any) and describes it, e.g. for a health check or the start-up log. The
// first call does the system font discovery; Render would otherwise do it
// on the first chart.
func Fonts() ([]string, error) {
	chain, err := fonts.Regular()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(chain.Fonts))
	for _, f := range chain.Fonts {
		out = append(out, f.Name)
	}
	if name, path, ok := fonts.System(); ok {
		out[len(out)-1] = name + " from " + path
	}
	return out, nil
}
