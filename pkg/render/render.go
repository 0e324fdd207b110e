package render

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"time"
	_ "time/tzdata" // time zones must work on Windows Grafana hosts too

	"github.com/alertchart/alertchart/pkg/i18n"
	"github.com/alertchart/alertchart/pkg/render/fonts"
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
	// Language is "zh" (default) or "en" for the chart's own words (alert
	// start, resolved, no data, "… N more series": render.* in pkg/i18n).
	// The caller words the title and NoDataReason; a channel's chart is
	// drawn in the channel's language.
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

// word is one of the chart's own texts ("render.*" in pkg/i18n: "告警开始"
// / "alert start", "… 还有 3 个序列" / "… 3 more series") in the chart's
// language.
func (r *resolved) word(id string, kv ...any) string { return i18n.T(r.lang, id, kv...) }

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
	lang     string // of the chart's own words (word)
	calcs    []string
	format   string // legend format in effect
	zone     string // the time axis' zone, e.g. "UTC+08:00"
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
	r := &resolved{Chart: c, o: o, st: c.Style, th: darkTheme, scale: o.PixelRatio, lang: o.Language}
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
		if t.Upper != nil && (math.IsNaN(*t.Upper) || math.IsInf(*t.Upper, 0)) {
			return nil, fmt.Errorf("render: threshold %s upper bound %v is not a finite number", t.Op, *t.Upper)
		}
	}
	r.format = o.LegendFormat
	if r.st.LegendFormat != "" {
		r.format = r.st.LegendFormat
	}
	if r.format == "" {
		r.Chart = autoNamed(c)
	}
	r.calcs = r.st.LegendCalcs
	if r.calcs == nil {
		r.calcs = defaultCalcs
	}
	if !c.From.IsZero() && !c.To.IsZero() && !c.From.Before(c.To) {
		return nil, fmt.Errorf("render: time range from %s is not before to %s", c.From.Format(time.RFC3339), c.To.Format(time.RFC3339))
	}
	to := c.To
	if to.IsZero() {
		to = time.Now()
	}
	r.zone = ZoneLabel(o.Location, c.From, to)
	return r, nil
}

// autoNamed returns c with unnamed series named like Grafana's automatic
// legend: by the labels that differ between the series ("web-1" rather
// than `node_load1{instance="web-1", job="node"}`). c is not modified.
func autoNamed(c *Chart) *Chart {
	keys := series.DifferingLabels(c.Series)
	if len(keys) == 0 {
		return c
	}
	cc := *c
	cc.Series = append([]series.Series(nil), c.Series...)
	for i := range cc.Series {
		if cc.Series[i].Name == "" {
			cc.Series[i].Name = series.ShortName(cc.Series[i].Labels, keys)
		}
	}
	return &cc
}

// px converts CSS pixels to device pixels.
func (r *resolved) px(v float64) float64 { return v * r.scale }

// draw lays the panel out and draws its elements in z-order: title, grid
// and axes, panel threshold areas, the firing period, series, references,
// threshold lines, alert markers, threshold labels and the legend. Each
// element lives in its own file (title.go, axis.go, thresholds.go,
// markers.go, lines.go, legend_layout.go, nodata.go); spacing.go names
// every gap.
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
	body := newFace(regular, r.px(bodyFontSize), &cv.buf)
	title := newFace(medium, r.px(titleFontSize), &cv.buf)

	top := r.drawTitle(cv, title, body)
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
	plotTop := top + r.px(plotTopGap)
	var lg legendLayout
	if r.st.LegendPlacement == "right" && r.st.LegendDisplay != "hidden" {
		lg = r.layoutRightLegend(cv, body, rows, float64(r.h)-r.px(xAxisHeight)-plotTop)
	} else {
		lg = r.layoutLegend(cv, body, rows)
	}
	plotBottom := float64(r.h) - lg.height - r.px(xAxisHeight)
	if lg.height == 0 || lg.right {
		plotBottom = float64(r.h) - r.px(xAxisHeight)
	}
	if plotBottom-plotTop < r.px(minPlotHeight) {
		plotBottom = plotTop + r.px(minPlotHeight)
	}

	// The value axis decides how wide its labels are, hence the plot's left edge.
	lo, hi := r.valueRange(ps, from, to)
	ax := r.valueAxis(lo, hi, plotBottom-plotTop)
	pad := r.px(edgePad)
	plotLeft := math.Round(pad + r.valueLabelWidth(cv, body, ax) + r.px(valueLabelGap))
	plotRight := math.Round(float64(r.w) - pad)
	if lg.right {
		plotRight = math.Round(float64(r.w) - pad - lg.width - r.px(rightLegendGap))
	}
	plotTop, plotBottom = math.Round(plotTop), math.Round(plotBottom)
	plot := image.Rect(int(plotLeft), int(plotTop), int(plotRight), int(plotBottom)+1)
	pl := plotArea{left: plotLeft, right: plotRight, top: plotTop, bottom: plotBottom, from: from, to: to, lo: ax.lo, hi: ax.hi, log: r.st.LogBase > 0}
	r.pl, r.rows, r.lg, r.ax = pl, rows, lg, ax

	r.drawAxes(cv, body, pl, ax)
	r.drawThresholdAreas(cv, pl, plot, ps, from, to)
	r.drawAlertShade(cv, pl)
	r.drawSeries(cv, pl, plot, ps)
	r.drawReferences(cv, pl, plot)
	r.drawThresholdLines(cv, pl, ps, from, to)
	r.drawAlertMarkers(cv, body, pl, ps)
	r.drawThresholdLabels(cv, body, pl)
	if lg.right {
		r.drawLegend(cv, body, lg, plotTop-r.px(plotTopGap), plotRight+r.px(rightLegendGap))
	} else {
		r.drawLegend(cv, body, lg, plotBottom+r.px(xAxisHeight), pad)
	}
	return cv, nil
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
