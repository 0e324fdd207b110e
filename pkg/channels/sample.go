package channels

import (
	"context"
	"math"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/render"
	"github.com/alertchart/alertchart/pkg/series"
)

// Base implements the identity part of Notifier for platform packages.
type Base struct {
	Opts     Options
	Fmt      *Formatter
	TypeName string
}

// Name is the channel's configured name.
func (b *Base) Name() string { return b.Opts.Channel.Name }

// Type is the platform.
func (b *Base) Type() string { return b.TypeName }

// Lang is the message language.
func (b *Base) Lang() string { return b.Fmt.Lang }

// SampleMessage is a realistic firing alert with a chart, for the config
// page's "send test" button. chart may be nil: a small chart drawn here is
// used, so the test shows the whole path including the image.
func SampleMessage(lang string, chart *Chart) *Message {
	now := time.Now().Truncate(time.Second)
	start := now.Add(-7 * time.Minute)
	summary, desc, title := "CPU usage on web-01 is above 90%", "CPU usage has been above 90% for 5 minutes. Check the top processes.", "CPU usage (last 15 min)"
	if lang != "en" {
		summary, desc, title = "web-01 CPU 使用率超过 90%", "CPU 使用率已持续 5 分钟高于 90%，请检查占用最高的进程。", "CPU 使用率（最近15分钟）"
	}
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
		chart = sampleChart(now, title, lang, start)
	}
	return &Message{
		Data: data, Part: PartBoth, Chart: chart,
		GrafanaURL: "http://grafana.example:3000/explore",
	}
}

// sampleChart draws two made-up CPU series with the native renderer, so
// the test message shows what real alerts will look like.
func sampleChart(now time.Time, title, lang string, start time.Time) *Chart {
	const n = 90
	from := now.Add(-15 * time.Minute)
	mk := func(inst string, base, peak float64) series.Series {
		s := series.Series{Labels: map[string]string{"instance": inst}}
		for i := 0; i < n; i++ {
			t := from.Add(time.Duration(i) * 10 * time.Second)
			v := base + 0.05*math.Sin(float64(i)/4)
			if !t.Before(start) {
				v = peak + 0.03*math.Sin(float64(i)/3)
			}
			s.Points = append(s.Points, series.Point{T: t.UnixMilli(), V: v})
		}
		return s
	}
	ss := []series.Series{mk("web-01:9100", 0.42, 0.95), mk("web-02:9100", 0.35, 0.4)}
	c := &Chart{
		ContentType: "image/png", Title: title, Series: ss, Unit: "percentunit",
		Query: `1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))`, From: from, To: now,
	}
	img, err := render.Render(&render.Chart{
		Title: title, Series: ss, Thresholds: []series.Threshold{{Op: ">", Value: 0.9}},
		AlertStart: start, From: from, To: now, Unit: "percentunit",
	}, render.Options{Width: 800, Height: 400, Theme: "dark", Language: lang, LegendFormat: "{{instance}}"})
	if err == nil {
		c.Image, c.ContentType = img.Bytes, img.ContentType
	}
	return c
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
