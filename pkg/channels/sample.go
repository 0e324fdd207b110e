package channels

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"sync"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/i18n"
	"github.com/alertchart/alertchart/pkg/series"
)

// SampleMessage is a realistic firing alert with a chart, for the config
// page's "send test" button. Pass the chart drawn by the real renderer;
// with nil, a plain line drawing made here stands in, so the test still
// exercises the whole path including the image (and this package does not
// depend on the renderer).
func SampleMessage(lang string, chart *Chart) *Message {
	now := time.Now().Truncate(time.Second)
	start := now.Add(-7 * time.Minute)
	summary, desc := i18n.T(lang, "sample.summary"), i18n.T(lang, "sample.description")
	title := i18n.T(lang, "sample.chart_title", "window", i18n.T(lang, "chart.window", "span", 15*time.Minute))
	labels := amtemplate.KV{"alertname": "HighCPUUsage", "instance": "web-01:9100", "job": "node", "severity": "critical"}
	data := &amtemplate.Data{
		Receiver: "alertchart-test", Status: "firing",
		Alerts: amtemplate.Alerts{{
			Status: "firing", Labels: labels,
			Annotations:  amtemplate.KV{"summary": summary, "description": desc},
			StartsAt:     start,
			GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=node_cpu_usage+%3E+0.9",
			Fingerprint:  "0a1b2c3d4e5f6789",
		}},
		GroupLabels:       amtemplate.KV{"alertname": "HighCPUUsage"},
		CommonLabels:      labels,
		CommonAnnotations: amtemplate.KV{"summary": summary, "description": desc},
		ExternalURL:       "http://alertmanager.example:9093",
	}
	if chart == nil {
		chart = sampleChart(now, title)
	}
	return &Message{
		Data: data, Part: PartBoth, Chart: chart,
		GrafanaURL: "http://grafana.example:3000/explore",
	}
}

// sampleChart is a plain line chart of two made-up CPU series.
func sampleChart(now time.Time, title string) *Chart {
	from := now.Add(-15 * time.Minute)
	ss := make([]series.Series, len(sampleSeries))
	for si, def := range sampleSeries {
		s := series.Series{Name: def.name, Labels: map[string]string{"instance": def.name}}
		for i, v := range sampleValues(def.base, def.peak) {
			s.Points = append(s.Points, series.Point{T: from.Add(time.Duration(i) * 10 * time.Second).UnixMilli(), V: v})
		}
		ss[si] = s
	}
	return &Chart{
		Image: bytes.Clone(samplePNG()), ContentType: "image/png", Title: title, Series: ss, Unit: "percentunit",
		Query: `1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))`, From: from, To: now,
	}
}

// sampleSeries are the sample chart's two instances: one that spikes past
// the threshold half-way through and one that stays low.
var sampleSeries = []struct {
	name       string
	base, peak float64
}{{"web-01:9100", 0.42, 0.95}, {"web-02:9100", 0.35, 0.4}}

const samplePoints = 90 // one every 10 s over 15 minutes

func sampleValues(base, peak float64) []float64 {
	vs := make([]float64, samplePoints)
	for i := range vs {
		vs[i] = base + 0.05*math.Sin(float64(i)/4)
		if i > samplePoints/2 {
			vs[i] = peak + 0.03*math.Sin(float64(i)/3)
		}
	}
	return vs
}

// samplePNG draws the sample series. The picture depends on their values
// only, not on the time, so it is drawn and encoded once per process.
var samplePNG = sync.OnceValue(func() []byte {
	const w, h, n = 600, 240, samplePoints
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	bg := color.RGBA{0x18, 0x1b, 0x1f, 0xff}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, bg)
		}
	}
	grid := color.RGBA{0x2c, 0x30, 0x35, 0xff}
	for gy := 20; gy < h; gy += 50 {
		for x := 0; x < w; x++ {
			img.Set(x, gy, grid)
		}
	}
	thr := color.RGBA{0xf2, 0x49, 0x5c, 0xff}
	ty := h - int(0.9*float64(h-20)) - 10
	for x := 0; x < w; x += 2 {
		img.Set(x, ty, thr)
	}
	colors := []color.RGBA{{0x73, 0xbf, 0x69, 0xff}, {0xf2, 0xcc, 0x0c, 0xff}}
	for si, def := range sampleSeries {
		px, py := -1, -1
		for i, v := range sampleValues(def.base, def.peak) {
			x := i * (w - 1) / (n - 1)
			y := h - int(v*float64(h-20)) - 10
			if px >= 0 {
				drawLine(img, px, py, x, y, colors[si])
			}
			px, py = x, y
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
})

func drawLine(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		img.Set(x0, y0, c)
		img.Set(x0, y0+1, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// SendTest sends SampleMessage through n in the notifier's language, for
// POST /channels/{name}/test. The Result carries the platform's answer.
func SendTest(ctx context.Context, n Notifier, chart *Chart) (*Result, error) {
	lang := "zh"
	if l, ok := n.(interface{ Lang() string }); ok {
		lang = l.Lang()
	}
	return n.Send(ctx, SampleMessage(lang, chart))
}
