package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/alertchart/alertchart/pkg/render/fonts"
	"github.com/alertchart/alertchart/pkg/series"
)

var t0 = time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)

func flat(n int, v float64, step time.Duration) []series.Point {
	pts := make([]series.Point, n)
	for i := range pts {
		pts[i] = series.Point{T: t0.Add(time.Duration(i) * step).UnixMilli(), V: v}
	}
	return pts
}

func wave(n int, base, amp float64, phase float64) []series.Point {
	pts := make([]series.Point, n)
	for i := range pts {
		pts[i] = series.Point{T: t0.Add(time.Duration(i) * 15 * time.Second).UnixMilli(), V: base + amp*math.Sin(float64(i)/9+phase)}
	}
	return pts
}

// draw renders c without encoding, for pixel checks.
func drawChart(t *testing.T, c *Chart, o Options) (*resolved, *image.RGBA) {
	t.Helper()
	if err := o.normalise(); err != nil {
		t.Fatal(err)
	}
	r, err := resolve(c, o)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := r.draw()
	if err != nil {
		t.Fatal(err)
	}
	return r, cv.img
}

func TestLegendRowsEqualComputedStats(t *testing.T) {
	t.Parallel()
	ss := []series.Series{
		{Labels: map[string]string{"instance": "a:9100", "job": "node"}, Points: wave(240, 50, 30, 0)},
		{Labels: map[string]string{"instance": "b:9100", "job": "node"}, Points: wave(240, 20, 5, 1)},
	}
	// NaN samples are nulls: they must not become max/min/last.
	ss[1].Points[239].V = math.NaN()
	ss[1].Points[100].V = math.NaN()
	c := &Chart{Series: ss, Unit: "percent", From: t0, To: t0.Add(time.Hour)}
	r, _ := drawChart(t, c, Options{LegendFormat: "{{instance}}"})
	if len(r.rows) != 2 {
		t.Fatalf("want 2 legend rows, got %d", len(r.rows))
	}
	for i, row := range r.rows {
		st := ss[i].Stats()
		want := []float64{st.Max, st.Min, st.Last}
		for j, v := range want {
			if row.Values[j] != v {
				t.Errorf("row %d (%s) %s = %v, want %v", i, row.Name, r.calcs[j], row.Values[j], v)
			}
		}
		if row.Texts[0] != formatFor("percent", st.Max) {
			t.Errorf("row %d max text %q", i, row.Texts[0])
		}
	}
	if r.rows[0].Name != "a:9100" || r.rows[1].Name != "b:9100" {
		t.Errorf("legend format not applied: %q, %q", r.rows[0].Name, r.rows[1].Name)
	}
	if r.calcs[2] != "lastNotNull" || calcTitles[r.calcs[2]] != "Last *" {
		t.Errorf("default calcs = %v", r.calcs)
	}
}

func formatFor(unit string, v float64) string {
	rows := legendRows([]series.Series{{Points: []series.Point{{T: 1, V: v}}}}, []string{"max"}, []color.NRGBA{{}}, "", unit, nil, "", false)
	return rows[0].Texts[0]
}

func TestLegendCalcsAndSort(t *testing.T) {
	t.Parallel()
	pts := []series.Point{{T: 1, V: 5}, {T: 2, V: math.NaN()}, {T: 3, V: 2}, {T: 4, V: 9}, {T: 5, V: math.NaN()}}
	want := map[string]float64{"max": 9, "min": 2, "mean": 16.0 / 3, "sum": 16, "count": 3, "range": 7,
		"firstNotNull": 5, "lastNotNull": 9, "diff": 4, "delta": 9}
	for id, w := range want {
		if got := calc(id, pts); math.Abs(got-w) > 1e-12 {
			t.Errorf("calc(%s) = %v, want %v", id, got, w)
		}
	}
	if !math.IsNaN(calc("last", pts)) {
		t.Error("last must be the last sample even when null")
	}
	ss := []series.Series{
		{Name: "low", Points: []series.Point{{T: 1, V: 1}}},
		{Name: "high", Points: []series.Point{{T: 1, V: 10}}},
		{Name: "mid", Points: []series.Point{{T: 1, V: 5}}},
	}
	rows := legendRows(ss, []string{"max"}, make([]color.NRGBA, 3), "", "", nil, "Max", true)
	if rows[0].Name != "high" || rows[1].Name != "mid" || rows[2].Name != "low" {
		t.Errorf("sort by Max desc: %v", rows)
	}
}

func TestLegendFormat(t *testing.T) {
	t.Parallel()
	s := series.Series{Labels: map[string]string{"__name__": "up", "instance": "h:1", "job": "node"}}
	for format, want := range map[string]string{
		"":                         `up{instance="h:1", job="node"}`,
		"{{instance}}":             "h:1",
		"{{ job }} @ {{instance}}": "node @ h:1",
		"{{missing}}":              `up{instance="h:1", job="node"}`,
		"static":                   "static",
	} {
		if got := legendName(s, format); got != want {
			t.Errorf("legendName(%q) = %q, want %q", format, got, want)
		}
	}
}

func TestThresholdLineAtExpectedRow(t *testing.T) {
	t.Parallel()
	c := &Chart{
		Series:     []series.Series{{Name: "x", Points: flat(240, 10, 15*time.Second)}},
		Thresholds: []series.Threshold{{Op: ">", Value: 80}},
		From:       t0, To: t0.Add(time.Hour), Unit: "percent",
		Min: ptrF(0), Max: ptrF(100),
	}
	r, img := drawChart(t, c, Options{})
	wantRow := int(math.Round(r.pl.y(80)))
	// With 0–100 over the plot height, 80 % sits 20 % below the top.
	exact := r.pl.top + 0.2*(r.pl.bottom-r.pl.top)
	if math.Abs(float64(wantRow)-exact) > 1 {
		t.Fatalf("y(80) = %d, want ≈ %.1f", wantRow, exact)
	}
	red := func(y int) int {
		n := 0
		for x := int(r.pl.left) + 2; x < int(r.pl.right)-2; x++ {
			p := img.RGBAAt(x, y)
			if p.R > 150 && p.G < 120 && p.B < 130 {
				n++
			}
		}
		return n
	}
	on := red(wantRow)
	if on < int(r.pl.right-r.pl.left)/4 {
		t.Errorf("row %d has only %d threshold-red pixels", wantRow, on)
	}
	// Dashed: a good share of the row is background.
	if on > int(r.pl.right-r.pl.left)*3/4 {
		t.Errorf("threshold line is not dashed: %d red pixels", on)
	}
	for _, dy := range []int{-3, 3} {
		if n := red(wantRow + dy); n > 0 {
			t.Errorf("row %d (offset %d) has %d threshold-red pixels; the line must be 1 px", wantRow+dy, dy, n)
		}
	}
}

func ptrF(v float64) *float64 { return &v }

func TestCJKTitleIsDrawnWithGlyphs(t *testing.T) {
	t.Parallel()
	title := "主机CPU使用率过高（最近10分钟）告警恢复"
	chain, err := fonts.Medium()
	if err != nil {
		t.Fatal(err)
	}
	cv := newCanvas(10, 10)
	notdef := glyphMask(t, cv, chain, 0, true)
	for _, r := range title {
		f, idx, ok := chain.Lookup(&cv.buf, r)
		if !ok || idx == 0 {
			t.Errorf("no glyph for %q (U+%04X) in the font chain", r, r)
			continue
		}
		if r > 0x2E80 && f == chain.Fonts[0].SFNT {
			t.Errorf("%q drawn by the Latin font", r)
		}
		if r > 0x2E80 && bytes.Equal(glyphMask(t, cv, chain, r, false), notdef) {
			t.Errorf("%q renders like the .notdef box (tofu)", r)
		}
	}
	// The embedded subset alone covers GB2312 hanzi, whatever the host has.
	sub := chain.Fonts[1]
	missing := 0
	for hi := 0xB0; hi <= 0xF7; hi++ { // GB2312 level 1 and 2 hanzi
		for lo := 0xA1; lo <= 0xFE; lo++ {
			s, err := simplifiedchinese.GBK.NewDecoder().Bytes([]byte{byte(hi), byte(lo)})
			r := []rune(string(s))
			if err != nil || len(r) != 1 || r[0] == 0xFFFD || (hi == 0xD7 && lo > 0xF9) {
				continue // unassigned code points
			}
			if g, err := sub.SFNT.GlyphIndex(&cv.buf, r[0]); err != nil || g == 0 {
				missing++
			}
		}
	}
	if missing > 0 {
		t.Errorf("embedded CJK subset lacks %d GB2312 hanzi", missing)
	}
	var buf = &cv.buf
	for _, r := range "统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队" {
		if g, err := sub.SFNT.GlyphIndex(buf, r); err != nil || g == 0 {
			t.Errorf("embedded CJK subset lacks %q", r)
		}
	}
	// And the title region of a rendered chart has ink.
	c := &Chart{Title: title, Series: []series.Series{{Name: "x", Points: flat(10, 1, time.Minute)}}}
	r, img := drawChart(t, c, Options{})
	bg := r.th.bg
	ink := 0
	for y := 0; y < int(r.px(30)); y++ {
		for x := 0; x < r.w/2; x++ {
			p := img.RGBAAt(x, y)
			if absDiff(p.R, bg.R)+absDiff(p.G, bg.G)+absDiff(p.B, bg.B) > 120 {
				ink++
			}
		}
	}
	if ink < 800 {
		t.Errorf("title region has only %d inked pixels", ink)
	}
}

// glyphMask renders one rune (or the .notdef glyph) into a small image.
func glyphMask(t *testing.T, cv *canvas, chain *fonts.Chain, r rune, notdef bool) []byte {
	t.Helper()
	c := newCanvas(40, 40)
	c.uni.C = color.NRGBA{255, 255, 255, 255}
	f, idx := chain.Fonts[1].SFNT, sfnt.GlyphIndex(0)
	if !notdef {
		f, idx, _ = chain.Lookup(&c.buf, r)
	}
	c.glyph(f, idx, newFace(chain, 24, &c.buf).ppem, 4, 30)
	return c.img.Pix
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestGapsBreakLines(t *testing.T) {
	t.Parallel()
	pts := flat(20, 1, 15*time.Second)
	pts[5].V = math.NaN()
	pts = append(pts[:12], pts[15:]...) // 45 s hole: 3 × the step
	runs := splitRuns(pts, 2*typicalStep(pts), false)
	if len(runs) != 3 {
		t.Fatalf("want 3 runs (NaN and hole break the line), got %d", len(runs))
	}
	if len(runs[0]) != 5 || len(runs[1]) != 6 || len(runs[2]) != 5 {
		t.Errorf("run lengths %d %d %d", len(runs[0]), len(runs[1]), len(runs[2]))
	}
	// spanNulls joins the hole but a NaN still ends a run.
	r := &resolved{st: Style{SpanNulls: true}}
	if n := len(splitRuns(pts, r.maxGap(pts), false)); n != 2 {
		t.Errorf("spanNulls: want 2 runs, got %d", n)
	}
	// A drawn gap leaves the background visible between the runs.
	c := &Chart{Series: []series.Series{{Name: "x", Points: pts}}, From: t0, To: t0.Add(5 * time.Minute), Min: ptrF(0), Max: ptrF(2)}
	rr, img := drawChart(t, c, Options{})
	y := int(math.Round(rr.pl.y(1)))
	holeX := int(rr.pl.xms(t0.Add(12*15*time.Second + 20*time.Second).UnixMilli()))
	lineX := int(rr.pl.xms(t0.Add(2 * 15 * time.Second).UnixMilli()))
	green := func(x int) bool { p := img.RGBAAt(x, y); return p.G > 150 && p.R < 160 }
	if !green(lineX) {
		t.Errorf("line not drawn at x=%d", lineX)
	}
	if green(holeX) {
		t.Errorf("line drawn across the gap at x=%d", holeX)
	}
}

func TestTimeTicksRoundInZone(t *testing.T) {
	t.Parallel()
	kolkata, err := time.LoadLocation("Asia/Kolkata") // +05:30
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 25, 4, 3, 0, 0, time.UTC)
	ticks := timeTicks(from, from.Add(time.Hour), kolkata, 900, 80)
	if len(ticks) < 4 {
		t.Fatalf("too few ticks: %v", ticks)
	}
	for _, tk := range ticks {
		lt := tk.t.In(kolkata)
		if lt.Minute()%10 != 0 || lt.Second() != 0 {
			t.Errorf("tick %s is not on a round 10 minutes in Kolkata", lt)
		}
		if tk.label != lt.Format("15:04") {
			t.Errorf("label %q for %s", tk.label, lt)
		}
	}
	// Ticks at least 80 px apart.
	span := float64(time.Hour)
	for i := 1; i < len(ticks); i++ {
		if px := float64(ticks[i].t.Sub(ticks[i-1].t)) / span * 900; px < 80 {
			t.Errorf("ticks %d px apart", int(px))
		}
	}
	// A window across midnight labels the midnight tick with the date.
	ny, _ := time.LoadLocation("America/New_York")
	f2 := time.Date(2026, 11, 24, 20, 0, 0, 0, ny)
	ticks = timeTicks(f2, f2.Add(8*time.Hour), ny, 1000, 80)
	found := false
	for _, tk := range ticks {
		if tk.label == "11/25" {
			found = true
		}
	}
	if !found {
		t.Errorf("no date label at midnight: %v", ticks)
	}
	// Seconds resolution for short windows.
	ticks = timeTicks(from, from.Add(2*time.Minute), time.UTC, 1000, 80)
	if len(ticks) == 0 || len(ticks[0].label) != len("15:04:05") {
		t.Errorf("short window ticks: %v", ticks)
	}
}

func TestYAxisNiceTicks(t *testing.T) {
	t.Parallel()
	ax := buildYAxis(5.97, 95.4, false, false, "percent", nil, 6)
	if ax.lo != 0 || ax.hi != 100 {
		t.Errorf("percent axis %v–%v, want 0–100", ax.lo, ax.hi)
	}
	if strings.Join(ax.labels, " ") != "0% 20% 40% 60% 80% 100%" {
		t.Errorf("labels %v", ax.labels)
	}
	gib := float64(1 << 30)
	ax = buildYAxis(0.23*gib, 3.68*gib, false, false, "bytes", nil, 8)
	if ax.labels[0] != "0 B" || ax.labels[len(ax.labels)-1] != "4.0 GiB" || ax.labels[1] != "0.5 GiB" {
		t.Errorf("bytes labels %v", ax.labels)
	}
	ax = buildYAxis(0.0149, 0.236, false, false, "s", nil, 10)
	if ax.labels[0] != "0 s" || ax.labels[1] != "25 ms" || ax.labels[len(ax.labels)-1] != "250 ms" {
		t.Errorf("seconds labels %v", ax.labels)
	}
	// Rounding up across a prefix boundary re-scales: 980 ms → "1.0 s".
	ax = buildYAxis(0.1, 0.98, false, false, "s", nil, 5)
	if last := ax.labels[len(ax.labels)-1]; last != "1.0 s" {
		t.Errorf("top label %q, want 1.0 s (%v)", last, ax.labels)
	}
	// Fixed min/max and decimals are kept.
	one := 1
	ax = buildYAxis(0, 1, true, true, "percentunit", &one, 5)
	if ax.lo != 0 || ax.hi != 1 || ax.labels[0] != "0.0%" || ax.labels[len(ax.labels)-1] != "100.0%" {
		t.Errorf("percentunit fixed axis %v–%v %v", ax.lo, ax.hi, ax.labels)
	}
	// A flat series still gets a range.
	ax = buildYAxis(7, 7, false, false, "", nil, 5)
	if !(ax.lo < 7 && ax.hi > 7) {
		t.Errorf("flat axis %v–%v", ax.lo, ax.hi)
	}
}

// A Grafana 11 time series panel as GET /api/dashboards/uid/:uid returns it.
const timeseriesPanel = `{
  "datasource": {"type": "prometheus", "uid": "PBFA97CFB590B2093"},
  "fieldConfig": {
    "defaults": {
      "color": {"mode": "fixed", "fixedColor": "semi-dark-blue"},
      "custom": {
        "axisBorderShow": false, "axisCenteredZero": false, "axisColorMode": "text", "axisLabel": "",
        "axisPlacement": "auto", "axisSoftMin": 0, "barAlignment": 0, "drawStyle": "line",
        "fillOpacity": 25, "gradientMode": "none",
        "hideFrom": {"legend": false, "tooltip": false, "viz": false},
        "insertNulls": false, "lineInterpolation": "linear", "lineWidth": 2, "pointSize": 5,
        "scaleDistribution": {"type": "linear"}, "showPoints": "auto", "spanNulls": 300000,
        "stacking": {"group": "A", "mode": "none"}, "thresholdsStyle": {"mode": "dashed+area"}
      },
      "decimals": 1,
      "mappings": [],
      "max": 100,
      "min": 0,
      "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": null}, {"color": "red", "value": 80}]},
      "unit": "percent"
    },
    "overrides": []
  },
  "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
  "id": 2,
  "options": {
    "legend": {"calcs": ["mean", "max", "lastNotNull"], "displayMode": "table", "placement": "bottom", "showLegend": true, "sortBy": "Max", "sortDesc": true},
    "tooltip": {"mode": "single", "sort": "none"}
  },
  "targets": [{"datasource": {"type": "prometheus", "uid": "PBFA97CFB590B2093"}, "editorMode": "code", "expr": "100 - avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[5m])) * 100", "legendFormat": "{{instance}}", "range": true, "refId": "A"}],
  "title": "CPU",
  "type": "timeseries"
}`

func TestStyleFromPanel(t *testing.T) {
	t.Parallel()
	var panel map[string]any
	if err := json.Unmarshal([]byte(timeseriesPanel), &panel); err != nil {
		t.Fatal(err)
	}
	st, err := StyleFromPanel(panel)
	if err != nil {
		t.Fatal(err)
	}
	if st.Unit != "percent" || *st.Decimals != 1 || *st.Min != 0 || *st.Max != 100 || *st.SoftMin != 0 {
		t.Errorf("axis fields: %+v", st)
	}
	if st.ColorMode != "fixed" || st.FixedColor != "semi-dark-blue" || st.LineWidth != 2 || st.FillOpacity != 25 {
		t.Errorf("line fields: %+v", st)
	}
	if st.SpanNullsMs != 300000 || st.SpanNulls {
		t.Errorf("spanNulls: %+v", st)
	}
	if st.ThresholdsStyle != "dashed+area" || len(st.Thresholds) != 2 || st.Thresholds[0].Value != nil || *st.Thresholds[1].Value != 80 || st.Thresholds[1].Color != "red" {
		t.Errorf("thresholds: %+v", st.Thresholds)
	}
	if strings.Join(st.LegendCalcs, ",") != "mean,max,lastNotNull" || st.LegendDisplay != "table" || st.LegendSortBy != "Max" || !st.LegendSortDesc {
		t.Errorf("legend: %+v", st)
	}
	if st.LegendFormat != "{{instance}}" || st.LegendPlacement != "bottom" {
		t.Errorf("legend format %q placement %q", st.LegendFormat, st.LegendPlacement)
	}
	// Rendering with it works and uses the fixed colour.
	c := &Chart{Series: []series.Series{{Labels: map[string]string{"instance": "a"}, Points: wave(240, 50, 20, 0)}}, From: t0, To: t0.Add(time.Hour), Style: st}
	r, _ := drawChart(t, c, Options{})
	if want, _ := ParseColor("semi-dark-blue"); r.rows[0].Color != want {
		t.Errorf("series colour %v, want %v", r.rows[0].Color, want)
	}
	if r.rows[0].Name != "a" {
		t.Errorf("template legend format not applied: %q", r.rows[0].Name)
	}

	// A displayName with label variables becomes the legend format.
	dn := map[string]any{"type": "timeseries", "fieldConfig": map[string]any{"defaults": map[string]any{"displayName": "${__field.labels.job}/${__field.labels.instance}"}}}
	if st, err := StyleFromPanel(dn); err != nil || st.LegendFormat != "{{job}}/{{instance}}" {
		t.Errorf("displayName: %q %v", st.LegendFormat, err)
	}

	// Hidden legend, list legend, legacy graph panel.
	hidden := map[string]any{"type": "timeseries", "options": map[string]any{"legend": map[string]any{"showLegend": false, "displayMode": "list", "calcs": []any{}}}}
	if st, err := StyleFromPanel(hidden); err != nil || st.LegendDisplay != "hidden" {
		t.Errorf("hidden legend: %+v %v", st, err)
	}
	graph := map[string]any{"type": "graph", "yaxes": []any{map[string]any{"format": "bytes", "min": "0", "max": nil}},
		"linewidth": 2.0, "fill": 1.0, "legend": map[string]any{"show": true, "alignAsTable": true, "max": true, "current": true},
		"targets": []any{map[string]any{"legendFormat": "{{pod}}"}}}
	st, err = StyleFromPanel(graph)
	if err != nil || st.Unit != "bytes" || *st.Min != 0 || st.Max != nil || st.FillOpacity != 10 || strings.Join(st.LegendCalcs, ",") != "max,lastNotNull" || st.LegendDisplay != "table" || st.LegendFormat != "{{pod}}" {
		t.Errorf("graph panel: %+v %v", st, err)
	}

	// Wrong types and values are clear errors.
	bad := []map[string]any{
		nil,
		{"fieldConfig": map[string]any{"defaults": map[string]any{"unit": 5}}},
		{"fieldConfig": map[string]any{"defaults": map[string]any{"min": 10, "max": 5}}},
		{"fieldConfig": map[string]any{"defaults": map[string]any{"custom": map[string]any{"fillOpacity": 150}}}},
		{"fieldConfig": map[string]any{"defaults": map[string]any{"color": map[string]any{"mode": "fixed", "fixedColor": "not-a-colour"}}}},
		{"fieldConfig": map[string]any{"defaults": map[string]any{"custom": map[string]any{"spanNulls": "yes"}}}},
		{"options": map[string]any{"legend": map[string]any{"calcs": []any{"p99"}}}},
		{"options": map[string]any{"legend": map[string]any{"displayMode": "sideways"}}},
	}
	for i, p := range bad {
		if _, err := StyleFromPanel(p); err == nil {
			t.Errorf("bad panel %d accepted", i)
		}
	}
}

func TestParseColor(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]color.NRGBA{
		"red":                   {0xF2, 0x49, 0x5C, 255},
		"#73BF69":               {0x73, 0xBF, 0x69, 255},
		"#fff":                  {255, 255, 255, 255},
		"rgba(10, 20, 30, 0.5)": {10, 20, 30, 128},
		"rgb(1,2,3)":            {1, 2, 3, 255},
	} {
		if got, err := ParseColor(in); err != nil || got != want {
			t.Errorf("ParseColor(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "#12", "rgb(1,2)", "mauve-ish"} {
		if _, err := ParseColor(in); err == nil {
			t.Errorf("ParseColor(%q) accepted", in)
		}
	}
}

func TestOptionsAndInputValidation(t *testing.T) {
	t.Parallel()
	c := &Chart{Series: []series.Series{{Name: "x", Points: flat(10, 1, time.Minute)}}}
	for _, o := range []Options{
		{Width: 100}, {Height: 5000}, {PixelRatio: 9}, {Theme: "blue"}, {Format: "gif"}, {Language: "fr"},
		{JPEGQuality: 101}, {MaxLegendRows: -1}, {Width: 4000, Height: 3000, PixelRatio: 2},
	} {
		if _, err := Render(c, o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
	if _, err := Render(nil, Options{}); err == nil {
		t.Error("nil chart accepted")
	}
	if _, err := Render(&Chart{Min: ptrF(5), Max: ptrF(1), Series: c.Series}, Options{}); err == nil {
		t.Error("min above max accepted")
	}
	if _, err := Render(&Chart{From: t0, To: t0.Add(-time.Hour)}, Options{}); err == nil {
		t.Error("reversed time range accepted")
	}
	if _, err := Render(&Chart{Thresholds: []series.Threshold{{Op: ">", Value: math.NaN()}}}, Options{}); err == nil {
		t.Error("NaN threshold accepted")
	}
	big := &Chart{Series: make([]series.Series, MaxSeries+1)}
	if _, err := Render(big, Options{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too many series: %v", err)
	}
}

func TestNoDataImage(t *testing.T) {
	t.Parallel()
	for _, c := range []*Chart{
		{Title: "磁盘空间不足", NoDataReason: "query returned no series"},
		{Series: []series.Series{{Name: "all NaN", Points: []series.Point{{T: 1, V: math.NaN()}}}}},
	} {
		img, err := Render(c, Options{Language: "en"})
		if err != nil {
			t.Fatal(err)
		}
		if img.ContentType != "image/png" || img.Width != 1000 || img.Height != 500 {
			t.Errorf("no-data image %s %dx%d", img.ContentType, img.Width, img.Height)
		}
		dec, err := png.Decode(bytes.NewReader(img.Bytes))
		if err != nil {
			t.Fatal(err)
		}
		// The message is in the middle of the image.
		ink := 0
		for y := 230; y < 300; y++ {
			for x := 400; x < 600; x++ {
				r, _, _, _ := dec.At(x, y).RGBA()
				if r>>8 > 0x60 {
					ink++
				}
			}
		}
		if ink < 50 {
			t.Errorf("no-data message missing (%d inked pixels)", ink)
		}
	}
}

func TestFormatsAndSizeLimit(t *testing.T) {
	t.Parallel()
	c := &Chart{Title: "t", Series: []series.Series{{Name: "x", Points: wave(240, 50, 30, 0)}}}
	img, err := Render(c, Options{Format: "jpeg", JPEGQuality: 70})
	if err != nil {
		t.Fatal(err)
	}
	if img.ContentType != "image/jpeg" {
		t.Fatalf("content type %s", img.ContentType)
	}
	if _, err := jpeg.Decode(bytes.NewReader(img.Bytes)); err != nil {
		t.Fatal(err)
	}
	img, err = Render(c, Options{PixelRatio: 2})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img.Bytes))
	if err != nil || cfg.Width != 2000 || cfg.Height != 1000 || img.Width != 2000 {
		t.Fatalf("2× PNG: %+v %v", cfg, err)
	}
	// A PNG over MaxBytes falls back to JPEG.
	img, err = Render(c, Options{MaxBytes: 40_000})
	if err != nil {
		t.Fatal(err)
	}
	if img.ContentType != "image/jpeg" || len(img.Bytes) > 40_000 {
		t.Errorf("fallback: %s, %d bytes", img.ContentType, len(img.Bytes))
	}
}

func TestLegendCapShowsMore(t *testing.T) {
	t.Parallel()
	var ss []series.Series
	for i := 0; i < 40; i++ {
		ss = append(ss, series.Series{Name: string(rune('a' + i%26)), Points: wave(60, float64(i), 3, float64(i))})
	}
	r, _ := drawChart(t, &Chart{Series: ss}, Options{Language: "en"})
	shown := len(r.lg.rows)
	if shown+r.lg.more != 40 || r.lg.more == 0 {
		t.Fatalf("shown %d + more %d != 40", shown, r.lg.more)
	}
	if r.lg.height > float64(r.h)*0.5+1 {
		t.Errorf("legend %v px is more than half of %d", r.lg.height, r.h)
	}
	r, _ = drawChart(t, &Chart{Series: ss}, Options{MaxLegendRows: 5})
	if len(r.lg.rows) != 4 || r.lg.more != 36 {
		t.Errorf("MaxLegendRows 5: %d rows + %d more", len(r.lg.rows), r.lg.more)
	}
}

func TestDecimateKeepsEnvelope(t *testing.T) {
	t.Parallel()
	var p []pt
	for i := 0; i < 10000; i++ {
		p = append(p, pt{float64(i) / 100, math.Sin(float64(i)) * float64(i%97)})
	}
	type mm struct{ lo, hi float64 }
	env := func(p []pt) map[int]mm {
		m := map[int]mm{}
		for _, q := range p {
			c := int(math.Floor(q.x))
			e, ok := m[c]
			if !ok {
				e = mm{q.y, q.y}
			}
			m[c] = mm{math.Min(e.lo, q.y), math.Max(e.hi, q.y)}
		}
		return m
	}
	want := env(p)
	first, last := p[0], p[len(p)-1]
	d := decimate(append([]pt(nil), p...))
	if len(d) > 4*len(want) {
		t.Errorf("decimated to %d points for %d columns", len(d), len(want))
	}
	if got := env(d); len(got) != len(want) {
		t.Fatalf("columns %d, want %d", len(got), len(want))
	} else {
		for c, w := range want {
			if got[c] != w {
				t.Errorf("column %d envelope %v, want %v", c, got[c], w)
			}
		}
	}
	if d[0] != first || d[len(d)-1] != last {
		t.Error("end points moved")
	}
	for i := 1; i < len(d); i++ {
		if d[i].x < d[i-1].x {
			t.Fatal("order lost")
		}
	}
}

func TestFarOutOfRangeSamplesAreClipped(t *testing.T) {
	t.Parallel()
	// Values far outside a fixed axis and a sample far outside the window
	// must neither hang the rasteriser nor smear across the plot.
	pts := flat(240, 50, 15*time.Second)
	pts[100].V = 1e300
	pts[101].V = -1e300
	pts = append([]series.Point{{T: t0.Add(-365 * 24 * time.Hour).UnixMilli(), V: 50}}, pts...)
	c := &Chart{Series: []series.Series{{Name: "x", Points: pts}}, From: t0, To: t0.Add(time.Hour), Min: ptrF(0), Max: ptrF(100), Style: Style{FillOpacity: 30}}
	r, img := drawChart(t, c, Options{})
	// The spike is drawn as two near-vertical strokes at its column, not as
	// slanted lines: a column well away from it shows only the flat line.
	x := int(r.pl.xms(pts[50].T))
	inked := 0
	for y := int(r.pl.top) + 2; y < int(r.pl.bottom)-2; y++ {
		if p := img.RGBAAt(x, y); p.G > 150 && p.R < 160 && p.B < 160 {
			inked++
		}
	}
	if inked > 4 {
		t.Errorf("column %d has %d line pixels; the spike smeared", x, inked)
	}
}

func TestConcurrentRenders(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	t.Parallel()
	c := &Chart{Title: "并发 concurrent", Series: []series.Series{{Name: "x", Points: wave(240, 50, 30, 0)}}, Unit: "percent"}
	want, err := Render(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func(i int) {
			o := Options{}
			if i%2 == 1 {
				o.PixelRatio = 2 // different buffer sizes through the pool
			}
			img, err := Render(c, o)
			if err == nil && i%2 == 0 && !bytes.Equal(img.Bytes, want.Bytes) {
				err = errors.New("concurrent render differs from a lone one")
			}
			errs <- err
		}(i)
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestFontsDescribesChain(t *testing.T) {
	t.Parallel()
	names, err := Fonts()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 2 || !strings.Contains(names[0], "Inter") || !strings.Contains(names[1], "Noto Sans CJK SC") {
		t.Errorf("font chain %v", names)
	}
	t.Logf("font chain: %v", names)
}

func TestStepInterpolation(t *testing.T) {
	t.Parallel()
	p := []pt{{0, 10}, {10, 20}, {20, 5}}
	after := steps(nil, p, "stepAfter")
	want := []pt{{0, 10}, {10, 10}, {10, 20}, {20, 20}, {20, 5}}
	if len(after) != len(want) {
		t.Fatalf("stepAfter %v", after)
	}
	for i := range want {
		if after[i] != want[i] {
			t.Errorf("stepAfter[%d] = %v, want %v", i, after[i], want[i])
		}
	}
	before := steps(nil, p, "stepBefore")
	if before[1] != (pt{0, 20}) || before[3] != (pt{10, 5}) {
		t.Errorf("stepBefore %v", before)
	}
	if len(steps(nil, p, "linear")) != 0 {
		t.Error("linear must not add points")
	}
}

func TestLogAxis(t *testing.T) {
	t.Parallel()
	ax := buildLogAxis(0.003, 7.5, 10, false, false, "s", nil, 10)
	if ax.lo != 0.001 || ax.hi != 10 {
		t.Errorf("log axis %v–%v, want 0.001–10", ax.lo, ax.hi)
	}
	if ax.labels[0] != "1 ms" || ax.labels[len(ax.labels)-1] != "10 s" {
		t.Errorf("log labels %v", ax.labels)
	}
	ax = buildLogAxis(1, 50, 10, false, false, "", nil, 10)
	if strings.Join(ax.labels, " ") != "1 2 5 10 20 50 100" {
		t.Errorf("short log range labels %v", ax.labels)
	}
	// Zero and negative samples are gaps on a log axis; the plot maps
	// powers of the base to equal steps.
	pts := []series.Point{{T: 1, V: 1}, {T: 2, V: 0}, {T: 3, V: 10}, {T: 4, V: 100}}
	if n := len(splitRuns(pts, math.MaxInt64, true)); n != 2 {
		t.Errorf("log runs %d, want 2", n)
	}
	pl := plotArea{top: 0, bottom: 300, lo: 1, hi: 1000, log: true}
	if math.Abs(pl.y(10)-200) > 1e-9 || math.Abs(pl.y(100)-100) > 1e-9 {
		t.Errorf("log mapping y(10)=%v y(100)=%v", pl.y(10), pl.y(100))
	}
	var panel map[string]any
	json.Unmarshal([]byte(`{"type":"timeseries","fieldConfig":{"defaults":{"custom":{"scaleDistribution":{"type":"log","log":10}}}}}`), &panel)
	if st, err := StyleFromPanel(panel); err != nil || st.LogBase != 10 {
		t.Errorf("scaleDistribution: %+v %v", st, err)
	}
	c := &Chart{Series: []series.Series{{Name: "x", Points: wave(240, 50, 49.9, 0)}}, Style: Style{LogBase: 10}, Thresholds: []series.Threshold{{Op: ">", Value: 90}}}
	if _, err := Render(c, Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestFieldOverrides(t *testing.T) {
	t.Parallel()
	var panel map[string]any
	err := json.Unmarshal([]byte(`{
	  "type": "timeseries",
	  "fieldConfig": {
	    "defaults": {"custom": {"lineWidth": 1}},
	    "overrides": [
	      {"matcher": {"id": "byName", "options": "db-master-01:9100"},
	       "properties": [{"id": "color", "value": {"fixedColor": "purple", "mode": "fixed"}}, {"id": "custom.lineWidth", "value": 3}]},
	      {"matcher": {"id": "byRegexp", "options": "cache-.*"},
	       "properties": [{"id": "custom.hideFrom", "value": {"legend": false, "tooltip": false, "viz": true}}]},
	      {"matcher": {"id": "byType", "options": "number"}, "properties": [{"id": "unit", "value": "bytes"}]}
	    ]
	  },
	  "targets": [{"expr": "up", "legendFormat": "{{instance}}", "refId": "A"}]
	}`), &panel)
	if err != nil {
		t.Fatal(err)
	}
	st, err := StyleFromPanel(panel)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Overrides) != 2 {
		t.Fatalf("overrides %+v", st.Overrides)
	}
	ss := []series.Series{
		{Labels: map[string]string{"instance": "web-01:9100"}, Points: wave(240, 50, 20, 0)},
		{Labels: map[string]string{"instance": "db-master-01:9100"}, Points: wave(240, 30, 20, 1)},
		{Labels: map[string]string{"instance": "cache-05"}, Points: wave(240, 70, 20, 2)},
	}
	c := &Chart{Series: ss, From: t0, To: t0.Add(time.Hour), Style: st}
	if err := c.Style.validate(); err != nil {
		t.Fatal(err)
	}
	o := Options{}
	if err := o.normalise(); err != nil {
		t.Fatal(err)
	}
	r, err := resolve(c, o)
	if err != nil {
		t.Fatal(err)
	}
	_, _, ps, _ := r.prepare()
	purple, _ := ParseColor("purple")
	if ps[1].color != purple || ps[1].lineWidth != 3 || ps[0].color == purple {
		t.Errorf("byName override: %+v / %+v", ps[1], ps[0])
	}
	if !ps[2].hidden || ps[0].hidden {
		t.Error("byRegexp hideFrom.viz not applied")
	}
	bad := map[string]any{"fieldConfig": map[string]any{"overrides": []any{map[string]any{"matcher": map[string]any{"id": "byRegexp", "options": "("}, "properties": []any{map[string]any{"id": "custom.lineWidth", "value": 2}}}}}}
	if _, err := StyleFromPanel(bad); err == nil {
		t.Error("invalid override regexp accepted")
	}
}

func TestHiddenSeriesCountInLegend(t *testing.T) {
	t.Parallel()
	ss := []series.Series{{Name: "a", Points: wave(60, 1, 3, 1)}, {Name: "b", Points: wave(60, 2, 3, 2)}}
	r, _ := drawChart(t, &Chart{Series: ss, HiddenSeries: 7}, Options{Language: "en"})
	if len(r.lg.rows) != 2 || r.lg.more != 7 {
		t.Fatalf("rows %d, more %d; want 2 rows and 7 more", len(r.lg.rows), r.lg.more)
	}
	r, _ = drawChart(t, &Chart{Series: ss, HiddenSeries: 7}, Options{Language: "en", MaxLegendRows: 2})
	if len(r.lg.rows) != 1 || r.lg.more != 8 {
		t.Fatalf("capped: rows %d, more %d; want 1 row and 8 more", len(r.lg.rows), r.lg.more)
	}
}

func TestReferencesAreDrawnInThresholdColour(t *testing.T) {
	t.Parallel()
	s := series.Series{Name: "a", Points: wave(120, 50, 10, 0)}
	ref := series.Series{Name: "< ref", Points: make([]series.Point, len(s.Points))}
	for i, p := range s.Points {
		ref.Points[i] = series.Point{T: p.T, V: 45}
	}
	with, a := drawChart(t, &Chart{Series: []series.Series{s}, References: []series.Series{ref}}, Options{})
	_, b := drawChart(t, &Chart{Series: []series.Series{s}}, Options{})
	if bytes.Equal(a.Pix, b.Pix) {
		t.Fatal("the reference line changed nothing")
	}
	if len(with.lg.rows) != 1 {
		t.Fatalf("references got legend rows: %d", len(with.lg.rows))
	}
}

// TestBandsShadeWhatFires: a within_range threshold shades the inside of
// its bounds and an outside_range one the outside; both edges are in
// range and the label states the condition.
func TestBandsShadeWhatFires(t *testing.T) {
	t.Parallel()
	s := series.Series{Name: "a", Points: wave(120, 50, 30, 0)} // 20–80
	lo, hi := 40.0, 60.0
	plain, bg := drawChart(t, &Chart{Series: []series.Series{s}}, Options{})
	pixel := func(img *image.RGBA, r *resolved, v float64) color.RGBA {
		x := int(r.pl.left) + 3 // left of the series' first samples is still plot
		return img.RGBAAt(x, int(math.Round(r.pl.y(v))))
	}
	for _, c := range []struct {
		op            string
		shadedInside  bool
		label         string
		outsideProbes []float64
	}{
		{series.OpWithinRange, true, "40 < x < 60", []float64{30, 70}},
		{series.OpOutsideRange, false, "x < 40 or x > 60", []float64{30, 70}},
	} {
		th := series.Threshold{Op: c.op, Value: lo, Upper: &hi}
		r, img := drawChart(t, &Chart{Series: []series.Series{s}, Thresholds: []series.Threshold{th}}, Options{})
		if r.ax.lo > lo || r.ax.hi < hi {
			t.Fatalf("%s: axis %v–%v leaves out the band %v–%v", c.op, r.ax.lo, r.ax.hi, lo, hi)
		}
		inside := pixel(img, r, 50) != pixel(bg, plain, 50)
		if inside != c.shadedInside {
			t.Errorf("%s: inside shaded = %v, want %v", c.op, inside, c.shadedInside)
		}
		for _, v := range c.outsideProbes {
			if got := pixel(img, r, v) != pixel(bg, plain, v); got == c.shadedInside {
				t.Errorf("%s: value %v shaded = %v, want %v", c.op, v, got, !c.shadedInside)
			}
		}
		if got := th.Condition(func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }); got != c.label {
			t.Errorf("%s: label %q, want %q", c.op, got, c.label)
		}
	}
}
