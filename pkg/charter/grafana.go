package charter

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/chartplan"
	"github.com/alertchart/alertchart/pkg/render"
	"github.com/alertchart/alertchart/pkg/render/grafanarender"
)

// useGrafana decides whether to try Grafana's renderer (chart.renderer),
// recording in info why not when the settings asked for it.
func (c *Charter) useGrafana(ctx context.Context, info *channels.ChartInfo) bool {
	switch c.s.Chart.Renderer {
	case "native":
		return false
	case "grafana":
		if c.grender == nil {
			info.FallbackReason = "grafana renderer not available: " + c.GrafanaProblem()
			return false
		}
		return true
	default: // auto
		if c.grender == nil {
			return false
		}
		if err := c.grender.Available(ctx); err != nil {
			info.FallbackReason = c.redactor.String("auto: grafana renderer unavailable: " + err.Error())
			return false
		}
		return true
	}
}

// GrafanaProblem says why charts cannot be rendered through Grafana; ""
// when they can.
func (c *Charter) GrafanaProblem() string {
	switch {
	case c.grender != nil:
		return ""
	case c.gclient == nil && c.noGrafana != "":
		return c.noGrafana
	default:
		return "no template dashboard and panel configured"
	}
}

// grafanaDeadline leaves the native renderer a few seconds of the caller's
// deadline: a slow Grafana render must still end in a chart.
func grafanaDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	const nativeReserve = 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		if time.Until(dl) > 2*nativeReserve {
			return context.WithDeadline(ctx, dl.Add(-nativeReserve))
		}
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, 30*time.Second)
}

// grafanaRequest is the Grafana renderer's request for a plan. It shares
// nothing the planner may change later (a Fetch for another language).
func (c *Charter) grafanaRequest(pl *chartplan.Plan) grafanarender.Request {
	ch := c.s.Chart
	if g := pl.Grafana; g != nil {
		// A Grafana-managed rule: its own query models and data sources,
		// narrowed in Grafana where the query cannot be.
		req := grafanarender.Request{Query: pl.Query, Title: pl.Title, Thresholds: slices.Clone(pl.Thresholds), From: pl.Start, To: pl.End,
			Width: ch.Width, Height: ch.Height, Theme: ch.Theme, Timezone: ch.Timezone, Legend: pl.Legend, Match: maps.Clone(g.Match)}
		for _, q := range g.Queries {
			req.Targets = append(req.Targets, chartplan.GrafanaTarget(q))
		}
		return req
	}
	return grafanarender.Request{
		Query:         pl.Query,
		DatasourceUID: c.s.Prometheus.DatasourceUID,
		Title:         pl.Title,
		Thresholds:    slices.Clone(pl.Thresholds),
		From:          pl.Start,
		To:            pl.End,
		Width:         ch.Width,
		Height:        ch.Height,
		Theme:         ch.Theme,
		Timezone:      ch.Timezone,
		Legend:        pl.Legend,
		Parts:         grafanaParts(pl.Parts),
	}
}

func grafanaParts(ps []chartplan.Part) []grafanarender.Part {
	var out []grafanarender.Part
	for _, p := range ps {
		out = append(out, grafanarender.Part{Name: p.Name, Query: p.Query})
	}
	return out
}

// templateStyle reads the template panel's style through Grafana, cached
// for a minute; nil without a template panel or when it cannot be read.
func (c *Charter) templateStyle(ctx context.Context) *render.Style {
	if c.gclient == nil || c.s.Chart.TemplateDashboardUID == "" || c.s.Chart.TemplatePanelID == 0 {
		return nil
	}
	c.styleMu.Lock()
	defer c.styleMu.Unlock()
	if time.Since(c.styleAt) < time.Minute {
		return c.style
	}
	c.styleAt = time.Now()
	c.style = nil
	panel, err := c.gclient.GetPanel(ctx, c.s.Chart.TemplateDashboardUID, c.s.Chart.TemplatePanelID)
	if err != nil {
		return nil
	}
	st, err := render.StyleFromPanel(panel)
	if err != nil {
		return nil
	}
	c.style = &st
	return c.style
}
