package charter

import (
	"math"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/i18n"
	"github.com/alertchart/alertchart/pkg/render"
	"github.com/alertchart/alertchart/pkg/series"
)

// Sample draws the chart of the config page's test message
// (POST /channels/{name}/test) in lang, "" being chart.language: two
// made-up CPU series, one crossing a 90 % threshold, drawn by the native
// renderer with the chart settings, so the test shows what the channel's
// charts will look like, in the channel's language.
func (c *Charter) Sample(lang string) (*channels.Chart, error) {
	lang = c.Lang(lang)
	now := c.now().Truncate(time.Second)
	const window = 20 * time.Minute
	from := now.Add(-window)
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
	title := i18n.T(lang, "sample.chart_title", "window", i18n.T(lang, "chart.window", "span", i18n.Duration(lang, window)))
	rc := &render.Chart{
		Title:      title,
		Series:     []series.Series{mk("web-01:9100", 55, 38), mk("web-02:9100", 40, 0)},
		Thresholds: []series.Threshold{{Op: ">", Value: 90}},
		AlertStart: from.Add(145 * 5 * time.Second),
		From:       from, To: now, Unit: "percent",
	}
	ch := c.s.Chart
	img, err := render.Render(rc, render.Options{Width: ch.Width, Height: ch.Height,
		PixelRatio: ch.PixelRatio, Theme: ch.Theme, Location: c.loc, Format: "png", Language: lang})
	if err != nil {
		return nil, err
	}
	return &channels.Chart{Image: img.Bytes, ContentType: img.ContentType, Title: title, Series: rc.Series,
		Unit: "percent", Query: "100 - avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[5m])) * 100", From: from, To: now}, nil
}
