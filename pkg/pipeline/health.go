package pipeline

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/render"
	"github.com/alertchart/alertchart/pkg/series"
)

// Check is one line of the health report.
type Check struct {
	Name    string `json:"name"`
	Status  string `json:"status"` // ok | warning | error
	Message string `json:"message"`
}

// Health is the JSON health report (GET /health) behind CheckHealth.
type Health struct {
	Status  string  `json:"status"`
	Message string  `json:"message"`
	Checks  []Check `json:"checks"`
}

// Summarise folds checks into one status and a plain-words message.
func Summarise(checks []Check) Health {
	h := Health{Status: "ok", Checks: checks}
	var problems []string
	for _, c := range checks {
		switch c.Status {
		case "error":
			h.Status = "error"
			problems = append(problems, c.Name+": "+c.Message)
		case "warning":
			if h.Status == "ok" {
				h.Status = "warning"
			}
			problems = append(problems, c.Name+": "+c.Message)
		}
	}
	if len(problems) == 0 {
		h.Message = "AlertChart is ready"
	} else {
		h.Message = strings.Join(problems, "; ")
	}
	return h
}

// Checks probes every configured part, each within a few seconds.
func (p *Pipeline) Checks(ctx context.Context) []Check {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s := p.Settings
	var out []Check
	if len(s.Channels) == 0 {
		out = append(out, Check{"channels", "warning", "no chat channel is configured: alerts are accepted but go nowhere"})
	} else {
		bad := 0
		for name, err := range p.notifErrs {
			bad++
			out = append(out, Check{"channel " + name, "error", err.Error()})
		}
		if bad == 0 {
			out = append(out, Check{"channels", "ok", fmt.Sprintf("%d channel(s) configured", len(s.Channels))})
		}
	}
	if p.promErr != nil {
		out = append(out, Check{"prometheus", "warning", "charts are off: " + p.promErr.Error()})
	} else if err := p.planner.Ping(ctx); err != nil {
		out = append(out, Check{"prometheus", "warning", "charts may be missing: " + err.Error()})
	} else {
		out = append(out, Check{"prometheus", "ok", "rules API reachable"})
	}
	if p.storeErr != nil {
		out = append(out, Check{"image store", "warning", p.storeErr.Error() + " (DingTalk, Teams and Slack webhooks get text only)"})
	} else if c, ok := p.store.(interface{ Check(context.Context) error }); ok {
		if err := c.Check(ctx); err != nil {
			out = append(out, Check{"image store", "warning", err.Error() + " (charts for URL-only platforms become a note)"})
		} else {
			out = append(out, Check{"image store", "ok", "bucket reachable"})
		}
	}
	if p.gclient != nil {
		for _, c := range p.gclient.Health(ctx, s) {
			out = append(out, Check{c.Name, string(c.Status), c.Message})
		}
	} else if s.Chart.Renderer == "grafana" {
		out = append(out, Check{"grafana", "warning", "the grafana renderer is selected but " + p.grafanaProblem() + "; the native renderer is used"})
	}
	if w := p.delivery.Warning(); w != "" {
		out = append(out, Check{"queue", "warning", w})
	} else {
		out = append(out, Check{"queue", "ok", "delivery queue open (" + s.Delivery.Queue + ")"})
	}
	return out
}

// TestChannel sends a realistic sample alert with a natively rendered sample
// chart straight to one channel (not through the queue) and returns the
// platform's answer, for the config page's "send test" button.
func (p *Pipeline) TestChannel(ctx context.Context, name string) (*channels.Result, error) {
	n, err := p.Notifier(name)
	if err != nil {
		return nil, err
	}
	chart, err := p.sampleChart()
	if err != nil {
		return nil, err
	}
	return channels.SendTest(ctx, n, chart)
}

// sampleChart draws two made-up CPU series with one crossing a threshold.
func (p *Pipeline) sampleChart() (*channels.Chart, error) {
	now := time.Now().Truncate(time.Second)
	from := now.Add(-20 * time.Minute)
	mk := func(inst string, base, spike float64) series.Series {
		s := series.Series{Name: inst, Labels: map[string]string{"instance": inst}}
		for i := 0; i <= 240; i++ {
			t := from.Add(time.Duration(i) * 5 * time.Second)
			v := base + 6*math.Sin(float64(i)/9)
			if i > 140 {
				v += spike
			}
			s.Points = append(s.Points, series.Point{T: t.UnixMilli(), V: v})
		}
		return s
	}
	title := "CPU 使用率（最近20分钟）"
	if p.Settings.Chart.Language == "en" {
		title = "CPU usage (last 20m)"
	}
	c := &render.Chart{
		Title:      title,
		Series:     []series.Series{mk("web-01:9100", 55, 38), mk("web-02:9100", 40, 0)},
		Thresholds: []series.Threshold{{Op: ">", Value: 90}},
		AlertStart: from.Add(145 * 5 * time.Second),
		From:       from, To: now, Unit: "percent",
	}
	img, err := render.Render(c, render.Options{Width: p.Settings.Chart.Width, Height: p.Settings.Chart.Height,
		PixelRatio: p.Settings.Chart.PixelRatio, Theme: p.Settings.Chart.Theme, Location: p.loc, Format: "png",
		Language: p.Settings.Chart.Language})
	if err != nil {
		return nil, err
	}
	return &channels.Chart{Image: img.Bytes, ContentType: img.ContentType, Title: title, Series: c.Series,
		Unit: "percent", Query: "100 - avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[5m])) * 100", From: from, To: now}, nil
}
