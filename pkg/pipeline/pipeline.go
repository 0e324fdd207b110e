// Package pipeline assembles AlertChart's stages from one settings value:
// intake hands a notification to delivery, delivery sends the text at once
// and asks the pipeline (its Charter) for each alert's chart — planned by
// chartplan, drawn by the native renderer or through Grafana, hosted by the
// image store when a platform needs a URL. The Grafana plugin and the
// standalone server both run exactly this assembly.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/registry"
	"github.com/alertchart/alertchart/pkg/chartplan"
	"github.com/alertchart/alertchart/pkg/delivery"
	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/imagestore"
	"github.com/alertchart/alertchart/pkg/intake"
	"github.com/alertchart/alertchart/pkg/promapi"
	"github.com/alertchart/alertchart/pkg/render"
	"github.com/alertchart/alertchart/pkg/render/grafanarender"
	"github.com/alertchart/alertchart/pkg/series"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Env is what the host (plugin or standalone server) provides besides the settings.
type Env struct {
	// Grafana credentials; zero when there is no Grafana (standalone) or
	// none could be resolved (GrafanaErr says why).
	Grafana    grafana.Credentials
	GrafanaErr error
	// GrafanaLinkURL is the Grafana URL used in message links (Explore).
	GrafanaLinkURL string
	// DataDir overrides delivery.ChooseDataDir.
	DataDir string
	// Registerer receives self-metrics (nil: none).
	Registerer prometheus.Registerer
	Logger     log.Logger
	// HTTPClient for chat platforms, Prometheus and object storage (nil: a default with timeouts).
	HTTPClient *http.Client
	// Delivery tunes the delivery stage (tests); zero values are the defaults.
	Delivery delivery.Config
}

// Pipeline is one configured AlertChart.
type Pipeline struct {
	Settings *settings.Settings
	env      Env
	logger   log.Logger
	loc      *time.Location

	planner   *chartplan.Planner
	promErr   error
	store     imagestore.Store
	storeErr  error
	notifiers map[string]channels.Notifier
	notifErrs map[string]error
	gclient   *grafana.Client
	grender   *grafanarender.Renderer
	delivery  *delivery.Service
	Recent    *intake.Recent

	stopJanitor context.CancelFunc

	styleMu  sync.Mutex
	style    *render.Style
	styleAt  time.Time
	styleErr error
}

// New builds the pipeline and opens the delivery queue. A channel or data
// source that cannot be built does not stop the pipeline — the problem is
// reported by Health, and every other channel keeps working; only a queue
// that cannot be opened is fatal, because accepting alerts without it would
// lose them.
func New(ctx context.Context, s *settings.Settings, env Env) (*Pipeline, error) {
	if env.Logger == nil {
		env.Logger = log.DefaultLogger
	}
	if env.HTTPClient == nil {
		env.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	p := &Pipeline{Settings: s, env: env, logger: env.Logger, Recent: intake.NewRecent(50),
		notifiers: map[string]channels.Notifier{}, notifErrs: map[string]error{}}
	loc, err := time.LoadLocation(s.Chart.Timezone)
	if err != nil {
		loc = time.UTC
	}
	p.loc = loc

	var src *promapi.Client
	if pcfg, err := promapi.FromSettings(s, env.Grafana.URL, env.Grafana.Token); err != nil {
		p.promErr = err
	} else if src, err = promapi.New(pcfg); err != nil {
		p.promErr = err
	}
	p.planner = chartplan.NewPlanner(chartplan.ConfigFrom(s), src)

	if s.ImageStore.Endpoint != "" {
		st, err := imagestore.New(s.ImageStore, imagestore.Options{
			AccessKey: s.Secrets[settings.SecretImageStoreAccess],
			SecretKey: s.Secrets[settings.SecretImageStoreSecret],
		})
		if err != nil {
			p.storeErr = err
		} else {
			p.store = st
		}
	}

	slogger := slog.New(slogHandler{p.logger})
	for _, ch := range s.Channels {
		n, err := registry.New(ch, s, registry.Deps{HTTP: env.HTTPClient, Images: p.store, Logger: slogger, GrafanaURL: env.GrafanaLinkURL})
		if err != nil {
			p.notifErrs[ch.Name] = err
			p.logger.Warn("channel not usable", "channel", ch.Name, "error", err.Error())
			continue
		}
		p.notifiers[ch.Name] = n
	}

	if env.Grafana.URL != "" && env.Grafana.Token != "" {
		if c, err := grafana.NewClient(env.Grafana, env.HTTPClient); err == nil {
			p.gclient = c
			// Alerts of Grafana-managed rules are charted from the rule
			// Grafana serves, their data through Grafana.
			p.planner.UseGrafana(c)
			if s.Chart.TemplateDashboardUID != "" && s.Chart.TemplatePanelID != 0 && s.Chart.Renderer != "native" {
				p.grender = grafanarender.New(c, grafanarender.ConfigFrom(s))
				jctx, cancel := context.WithCancel(context.Background())
				p.stopJanitor = cancel
				go p.grender.RunJanitor(jctx, 5*time.Minute, grafanarender.DefaultJanitorAge)
			}
		} else {
			p.env.GrafanaErr = err
		}
	}

	dcfg := env.Delivery
	dcfg.Settings = s
	dcfg.DataDir = env.DataDir
	dcfg.Notifiers = p.notifiers
	dcfg.Charter = p
	dcfg.Logger = p.logger
	dcfg.Registerer = env.Registerer
	dcfg.GrafanaURL = env.GrafanaLinkURL
	svc, err := delivery.Open(ctx, dcfg)
	if err != nil {
		return nil, fmt.Errorf("opening the delivery queue: %w", err)
	}
	p.delivery = svc
	return p, nil
}

// Close finishes or re-queues in-flight work.
func (p *Pipeline) Close(ctx context.Context) error {
	if p.stopJanitor != nil {
		p.stopJanitor()
	}
	if p.delivery == nil {
		return nil
	}
	return p.delivery.Close(ctx)
}

// Delivery is the delivery service (records, resend).
func (p *Pipeline) Delivery() *delivery.Service { return p.delivery }

// Notifier returns a configured channel's notifier, or why it is unusable.
func (p *Pipeline) Notifier(name string) (channels.Notifier, error) {
	if n, ok := p.notifiers[name]; ok {
		return n, nil
	}
	if err, ok := p.notifErrs[name]; ok {
		return nil, err
	}
	return nil, errUnknownChannel
}

var errUnknownChannel = errors.New("no channel with that name")

// IsUnknownChannel reports whether err means the channel does not exist.
func IsUnknownChannel(err error) bool { return errors.Is(err, errUnknownChannel) }

// Accept persists a notification and schedules its delivery (intake.Acceptor).
func (p *Pipeline) Accept(ctx context.Context, receiver, groupKey string, data *template.Data) (intake.Accepted, error) {
	p.Recent.Add(receiver, data)
	res, err := p.delivery.AcceptGroup(ctx, receiver, groupKey, data)
	if err != nil {
		switch {
		case errors.Is(err, delivery.ErrUnknownReceiver):
			return intake.Accepted{}, &intake.Error{Status: http.StatusNotFound, Msg: err.Error()}
		case errors.Is(err, delivery.ErrInvalid):
			return intake.Accepted{}, &intake.Error{Status: http.StatusBadRequest, Msg: err.Error()}
		}
		return intake.Accepted{}, err
	}
	return intake.Accepted{Status: "accepted", ID: res.ID, Alerts: res.Alerts, Duplicates: res.Duplicates}, nil
}

// Explain returns each alert's chart plan, with the renderer that would be used.
func (p *Pipeline) Explain(ctx context.Context, data *template.Data) []*chartplan.Plan {
	return chartplan.Explain(ctx, p.planner, data, time.Now())
}

// ChartResult is a chart with how it was made.
type ChartResult struct {
	Plan  *chartplan.Plan
	Chart *channels.Chart
	Info  delivery.ChartInfo
}

// Chart implements delivery.Charter: plan, fetch, render, with the Grafana
// renderer when chosen and the native renderer as the fallback.
func (p *Pipeline) Chart(ctx context.Context, receiver string, alert template.Alert) (*channels.Chart, delivery.ChartInfo, error) {
	r, err := p.MakeChart(ctx, alert)
	return r.Chart, r.Info, err
}

// MakeChart plans and renders one alert's chart.
func (p *Pipeline) MakeChart(ctx context.Context, alert template.Alert) (ChartResult, error) {
	plan := p.planner.Plan(ctx, alert, time.Now())
	res, err := planned(plan)
	if err != nil {
		return res, err
	}
	if p.useGrafana(ctx, &res.Info) {
		gctx, cancel := grafanaDeadline(ctx)
		img, err := p.grender.Render(gctx, p.grafanaRequest(plan))
		cancel()
		if err == nil {
			res.Info.Renderer = "grafana"
			res.Chart = p.chartOf(plan, nil, img, "image/png")
			return res, nil
		}
		res.Info.FallbackReason = "grafana renderer failed: " + err.Error()
		p.logger.Warn("grafana render failed, using the native renderer", "alert", plan.Alert.Name, "error", err.Error())
	}
	err = p.nativeChart(ctx, &res)
	return res, err
}

// planned starts a ChartResult from a plan, recording it; a plan without a
// chart query ends there with the reason as note and error.
func planned(plan *chartplan.Plan) (ChartResult, error) {
	res := ChartResult{Plan: plan}
	if b, err := json.Marshal(plan); err == nil {
		res.Info.Plan = b
	}
	if !plan.HasChart() {
		reason := plan.NoChartReason
		if reason == "" {
			reason = "no chart query"
		}
		res.Info.Note = reason
		return res, errors.New(reason)
	}
	return res, nil
}

// nativeChart fetches the plan's data and draws it with the native
// renderer, filling res.Chart and res.Info.
func (p *Pipeline) nativeChart(ctx context.Context, res *ChartResult) error {
	plan := res.Plan
	res.Info.Renderer = "native"
	data, err := p.planner.Fetch(ctx, plan)
	if err != nil {
		res.Info.Note = "query failed: " + err.Error()
		return fmt.Errorf("chart query failed: %w", err)
	}
	// Fetch amends the plan when the data disproves an injected label;
	// record the plan that was drawn.
	if b, err := json.Marshal(plan); err == nil {
		res.Info.Plan = b
	}
	chart := p.renderChart(ctx, plan, data)
	img, err := render.Render(chart, p.renderOptions(plan))
	if err != nil {
		return fmt.Errorf("rendering: %w", err)
	}
	if data.Dropped > 0 {
		res.Info.Note = fmt.Sprintf("%d more series not shown", data.Dropped)
	}
	res.Chart = p.chartOf(plan, data.Series, img.Bytes, img.ContentType)
	return nil
}

var _ delivery.OverviewCharter = (*Pipeline)(nil)

// Overview implements delivery.OverviewCharter: one chart for a storm
// digest's alerts (chartplan.PlanOverview), drawn natively. The digest waits
// for it only within chart.budget, and the native renderer is the fast,
// always-available one; a Grafana render would mostly miss that budget.
func (p *Pipeline) Overview(ctx context.Context, receiver string, alerts []template.Alert) (*channels.Chart, delivery.ChartInfo, error) {
	r, err := p.MakeOverview(ctx, alerts)
	return r.Chart, r.Info, err
}

// MakeOverview plans and renders the overview chart of several alerts.
func (p *Pipeline) MakeOverview(ctx context.Context, alerts []template.Alert) (ChartResult, error) {
	plan := p.planner.PlanOverview(ctx, alerts, time.Now())
	if plan == nil {
		return ChartResult{}, errors.New("no alerts to chart")
	}
	res, err := planned(plan)
	if err != nil {
		return res, err
	}
	err = p.nativeChart(ctx, &res)
	if plan.Overview != nil {
		res.Info.Note = channels.JoinNotes(plan.Overview.Note, res.Info.Note)
	}
	return res, err
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

func (p *Pipeline) useGrafana(ctx context.Context, info *delivery.ChartInfo) bool {
	switch p.Settings.Chart.Renderer {
	case "native":
		return false
	case "grafana":
		if p.grender == nil {
			info.FallbackReason = "grafana renderer not available: " + p.grafanaProblem()
			return false
		}
		return true
	default: // auto
		if p.grender == nil {
			return false
		}
		if err := p.grender.Available(ctx); err != nil {
			info.FallbackReason = "auto: grafana renderer unavailable: " + err.Error()
			return false
		}
		return true
	}
}

func (p *Pipeline) grafanaProblem() string {
	switch {
	case p.env.GrafanaErr != nil:
		return p.env.GrafanaErr.Error()
	case p.env.Grafana.URL == "":
		return "Grafana's URL is unknown (set grafana.url)"
	case p.env.Grafana.Token == "":
		return "no Grafana service account token"
	default:
		return "no template dashboard and panel configured"
	}
}

func (p *Pipeline) grafanaRequest(plan *chartplan.Plan) grafanarender.Request {
	if g := plan.Grafana; g != nil {
		// A Grafana-managed rule: its own query models and data sources,
		// narrowed in Grafana where the query cannot be.
		req := grafanarender.Request{Query: plan.Query, Title: plan.Title, Thresholds: plan.Thresholds, From: plan.Start, To: plan.End,
			Width: p.Settings.Chart.Width, Height: p.Settings.Chart.Height, Theme: p.Settings.Chart.Theme,
			Timezone: p.Settings.Chart.Timezone, Legend: plan.Legend, Match: g.Match}
		for _, q := range g.Queries {
			req.Targets = append(req.Targets, chartplan.GrafanaTarget(q))
		}
		return req
	}
	return grafanarender.Request{
		Query:         plan.Query,
		DatasourceUID: p.Settings.Prometheus.DatasourceUID,
		Title:         plan.Title,
		Thresholds:    plan.Thresholds,
		From:          plan.Start,
		To:            plan.End,
		Width:         p.Settings.Chart.Width,
		Height:        p.Settings.Chart.Height,
		Theme:         p.Settings.Chart.Theme,
		Timezone:      p.Settings.Chart.Timezone,
		Legend:        plan.Legend,
		Parts:         grafanaParts(plan.Parts),
	}
}

func grafanaParts(ps []chartplan.Part) []grafanarender.Part {
	var out []grafanarender.Part
	for _, p := range ps {
		out = append(out, grafanarender.Part{Name: p.Name, Query: p.Query})
	}
	return out
}

// templateStyle reads the template panel's style through Grafana, cached for a minute.
func (p *Pipeline) templateStyle(ctx context.Context) *render.Style {
	if p.gclient == nil || p.Settings.Chart.TemplateDashboardUID == "" || p.Settings.Chart.TemplatePanelID == 0 {
		return nil
	}
	p.styleMu.Lock()
	defer p.styleMu.Unlock()
	if time.Since(p.styleAt) < time.Minute {
		return p.style
	}
	p.styleAt = time.Now()
	panel, err := p.gclient.GetPanel(ctx, p.Settings.Chart.TemplateDashboardUID, p.Settings.Chart.TemplatePanelID)
	if err != nil {
		p.styleErr = err
		p.style = nil
		return nil
	}
	st, err := render.StyleFromPanel(panel)
	if err != nil {
		p.styleErr = err
		p.style = nil
		return nil
	}
	p.styleErr = nil
	p.style = &st
	return p.style
}

func (p *Pipeline) renderChart(ctx context.Context, plan *chartplan.Plan, data *chartplan.FetchResult) *render.Chart {
	c := &render.Chart{
		Title:        plan.Title,
		Series:       data.Series,
		Thresholds:   plan.Thresholds,
		AlertStart:   plan.Alert.StartsAt,
		From:         plan.Start,
		To:           plan.End,
		Unit:         plan.Unit,
		HiddenSeries: data.Dropped,
		References:   data.References,
	}
	if plan.Alert.Status == "resolved" {
		c.AlertEnd = plan.Alert.EndsAt
	}
	if st := p.templateStyle(ctx); st != nil {
		c.Style = *st
	}
	if len(data.Series) == 0 {
		c.NoDataReason = plan.NoDataNote
		if c.NoDataReason == "" {
			if p.Settings.Chart.Language == "en" {
				c.NoDataReason = "the query returned no data for this alert"
			} else {
				c.NoDataReason = "查询在该时间范围内没有数据"
			}
		}
	}
	return c
}

func (p *Pipeline) renderOptions(plan *chartplan.Plan) render.Options {
	c := p.Settings.Chart
	return render.Options{
		Width: c.Width, Height: c.Height, PixelRatio: c.PixelRatio, Theme: c.Theme,
		Location: p.loc, Format: "png", Language: c.Language, LegendFormat: plan.Legend,
	}
}

func (p *Pipeline) chartOf(plan *chartplan.Plan, ss []series.Series, img []byte, ct string) *channels.Chart {
	query := plan.Query
	if g := plan.Grafana; g != nil && len(g.Queries) > 0 && g.Queries[0].Query == "" {
		// A SQL or other non-PromQL query: the messages' Explore link is
		// built for PromQL, so it gets none.
		query = ""
	}
	return &channels.Chart{
		Image: img, ContentType: ct, Title: plan.Title, Series: ss, Unit: plan.Unit,
		Query: query, From: plan.Start, To: plan.End,
	}
}

// ConfigErrors lists what could not be built from the settings: channels,
// the data source, the image store. The plugin reports them in its health
// check and keeps the rest working; the standalone server refuses to start.
func (p *Pipeline) ConfigErrors() []error {
	var errs []error
	for _, ch := range p.Settings.Channels {
		if err := p.notifErrs[ch.Name]; err != nil {
			errs = append(errs, fmt.Errorf("channels %s: %w", ch.Name, err))
		}
	}
	if p.promErr != nil && !errors.Is(p.promErr, promapi.ErrNoDataSource) {
		errs = append(errs, fmt.Errorf("prometheus: %w", p.promErr))
	}
	if p.storeErr != nil {
		errs = append(errs, fmt.Errorf("imageStore: %w", p.storeErr))
	}
	return errs
}
