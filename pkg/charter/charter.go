package charter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/chartplan"
	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/i18n"
	"github.com/alertchart/alertchart/pkg/nochart"
	"github.com/alertchart/alertchart/pkg/render"
	"github.com/alertchart/alertchart/pkg/render/grafanarender"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Config is what a Charter is made of.
type Config struct {
	// Settings: chart.* and prometheus.datasourceUid; secret values are
	// removed from every reason a Charter records.
	Settings *settings.Settings
	// Planner plans charts and fetches their data.
	Planner *chartplan.Planner
	// Grafana is the Grafana API client, nil without one. With a template
	// panel configured it styles native charts and, unless chart.renderer
	// is native, renders charts through Grafana.
	Grafana *grafana.Client
	// NoGrafana says why there is no Grafana client (for fallback reasons
	// and health); empty when there is one.
	NoGrafana string
	// Logger; nil is the SDK's default.
	Logger log.Logger
}

// Charter makes charts. It is safe for concurrent use.
type Charter struct {
	s         *settings.Settings
	planner   *chartplan.Planner
	gclient   *grafana.Client
	grender   *grafanarender.Renderer
	noGrafana string
	logger    log.Logger
	loc       *time.Location
	redactor  *channels.Redactor
	cache     *cache
	now       func() time.Time

	stopJanitor context.CancelFunc

	styleMu sync.Mutex
	style   *render.Style
	styleAt time.Time
}

// New makes a Charter. With a Grafana client, a template panel and a
// renderer other than native it also starts the janitor that removes the
// Grafana renderer's temporary dashboards a crash left behind (Close stops
// it).
func New(cfg Config) *Charter {
	s := cfg.Settings
	c := &Charter{s: s, planner: cfg.Planner, gclient: cfg.Grafana, noGrafana: cfg.NoGrafana, logger: cfg.Logger,
		cache: newCache(), now: time.Now}
	if c.logger == nil {
		c.logger = log.DefaultLogger
	}
	loc, err := time.LoadLocation(s.Chart.Timezone)
	if err != nil {
		loc = time.UTC
	}
	c.loc = loc
	secrets := make([]string, 0, len(s.Secrets))
	for _, v := range s.Secrets {
		secrets = append(secrets, v)
	}
	c.redactor = channels.NewRedactor(secrets...)
	if c.gclient != nil && s.Chart.TemplateDashboardUID != "" && s.Chart.TemplatePanelID != 0 && s.Chart.Renderer != "native" {
		c.grender = grafanarender.New(c.gclient, grafanarender.ConfigFrom(s))
		jctx, cancel := context.WithCancel(context.Background())
		c.stopJanitor = cancel
		go c.grender.RunJanitor(jctx, 5*time.Minute, grafanarender.DefaultJanitorAge)
	}
	return c
}

// Close stops the janitor.
func (c *Charter) Close() {
	if c.stopJanitor != nil {
		c.stopJanitor()
	}
}

// Result is a chart with how it was made.
type Result struct {
	// Plan is the plan drawn, worded in the chart's language.
	Plan  *chartplan.Plan
	Chart *channels.Chart
	Info  channels.ChartInfo
}

// Lang is the language a chart is made in for lang: "zh" or "en", and
// chart.language for "".
func (c *Charter) Lang(lang string) string {
	if lang == "" {
		return i18n.Lang(c.s.Chart.Language)
	}
	return i18n.Lang(lang)
}

// Chart implements delivery.Charter, which does not say for which channel:
// the alert's chart in the language all its channels share (LangFor).
func (c *Charter) Chart(ctx context.Context, receiver string, alert template.Alert) (*channels.Chart, channels.ChartInfo, error) {
	return c.ChartIn(ctx, receiver, c.LangFor(receiver, alert), alert)
}

// LangFor is the language of the chart of alerts sent to receiver when
// the caller does not name a channel: the language every channel they are
// routed to (and that takes charts) shares — an English channel under
// chart.language zh gets English charts — else chart.language.
func (c *Charter) LangFor(receiver string, alerts ...template.Alert) string {
	lang := ""
	for _, a := range alerts {
		for _, name := range c.s.ChannelsFor(receiver, a.Labels) {
			ch, ok := c.s.Channel(name)
			if !ok || ch.DisableChart {
				continue
			}
			l := c.Lang(ch.Language)
			if lang != "" && l != lang {
				return c.Lang("")
			}
			lang = l
		}
	}
	return c.Lang(lang)
}

// ChartIn is the alert's chart in lang (a channel's language; "" is
// chart.language). The alert is planned and fetched once and drawn once
// per language, however many channels ask and however concurrently; the
// chart is kept for a short while for the channels that ask later.
//
// A chart whose query returned no data is no chart for delivery: an empty
// "no data" image costs a message and says nothing, so the answer is a
// nochart.NoData error (NoDataExpected when the rule fires on absent data),
// which the channel words as a one-line note. MakeChartIn (POST /preview)
// still draws it.
func (c *Charter) ChartIn(ctx context.Context, receiver, lang string, alert template.Alert) (*channels.Chart, channels.ChartInfo, error) {
	r, err := c.cache.get(ctx, c, alert, c.Lang(lang))
	if err == nil {
		if err = noData(r); err != nil {
			return nil, r.Info, err
		}
	}
	chart := r.Chart
	if chart != nil {
		// Callers get their own copy (the image bytes are shared).
		cp := *chart
		chart = &cp
	}
	return chart, r.Info, err
}

// MakeChart plans and renders one alert's chart in chart.language, afresh
// (POST /preview).
func (c *Charter) MakeChart(ctx context.Context, alert template.Alert) (Result, error) {
	return c.MakeChartIn(ctx, "", alert)
}

// MakeChartIn plans and renders one alert's chart in lang, afresh.
func (c *Charter) MakeChartIn(ctx context.Context, lang string, alert template.Alert) (Result, error) {
	return c.draw(ctx, &drawing{}, alert, c.Lang(lang))
}

// Overview implements delivery.OverviewCharter: one chart for a storm
// digest's alerts (chartplan.PlanOverview), in the language their channels
// share (LangFor).
func (c *Charter) Overview(ctx context.Context, receiver string, alerts []template.Alert) (*channels.Chart, channels.ChartInfo, error) {
	return c.OverviewIn(ctx, receiver, c.LangFor(receiver, alerts...), alerts)
}

// OverviewIn is Overview in lang (the digest's channel's language).
// An overview without data is no chart either (see ChartIn).
func (c *Charter) OverviewIn(ctx context.Context, receiver, lang string, alerts []template.Alert) (*channels.Chart, channels.ChartInfo, error) {
	r, err := c.MakeOverviewIn(ctx, lang, alerts)
	if err == nil {
		if err = noData(r); err != nil {
			return nil, r.Info, err
		}
	}
	return r.Chart, r.Info, err
}

// noData is the reason a natively drawn chart is not worth sending: its
// query returned no series. The full reason names the query and, for a
// rule that fires on absent data, says that this is expected.
func noData(r Result) error {
	if r.Chart == nil || r.Info.Renderer != "native" || len(r.Chart.Series) > 0 || r.Plan == nil {
		return nil
	}
	detail := "no data: the query returned no series for the alert's window"
	if r.Chart.Query != "" {
		detail += " (" + r.Chart.Query + ")"
	}
	if r.Plan.NoDataNote != "" {
		return nochart.New(nochart.NoDataExpected, detail+"; expected: "+r.Plan.In("en").NoDataNote)
	}
	return nochart.New(nochart.NoData, detail)
}

// MakeOverview plans and renders the overview chart of several alerts in
// chart.language.
func (c *Charter) MakeOverview(ctx context.Context, alerts []template.Alert) (Result, error) {
	return c.MakeOverviewIn(ctx, "", alerts)
}

// MakeOverviewIn plans and renders the overview chart of several alerts in
// lang. It is drawn natively: a digest waits for it only within
// chart.budget, and the native renderer is the fast, always-available one;
// a Grafana render would mostly miss that budget.
func (c *Charter) MakeOverviewIn(ctx context.Context, lang string, alerts []template.Alert) (Result, error) {
	base := c.planner.PlanOverview(ctx, alerts, c.now())
	if base == nil {
		return Result{}, nochart.New(nochart.NoQuery, "no alerts to chart")
	}
	lang = c.Lang(lang)
	res, err := c.planned(base.In(lang))
	if err != nil {
		return res, err
	}
	d := &drawing{plan: base}
	err = c.native(ctx, d, lang, &res)
	if base.Overview != nil {
		res.Info.Note = channels.JoinNotes(base.Overview.Note, res.Info.Note)
	}
	return res, err
}

// drawing is one alert's chart being made: its plan and, once fetched,
// its data, shared by the languages it is drawn in. mu guards every read
// of the plan: Fetch amends it.
type drawing struct {
	mu      sync.Mutex
	plan    *chartplan.Plan
	fetched bool
	data    *chartplan.FetchResult
	err     error
}

// draw makes alert's chart in lang: planned once per drawing, through
// Grafana when chosen, natively otherwise and as the fallback.
func (c *Charter) draw(ctx context.Context, d *drawing, alert template.Alert, lang string) (Result, error) {
	d.mu.Lock()
	if d.plan == nil {
		d.plan = c.planner.Plan(ctx, alert, c.now())
	}
	res, err := c.planned(d.plan.In(lang))
	d.mu.Unlock()
	if err != nil {
		return res, err
	}
	if c.useGrafana(ctx, &res.Info) {
		d.mu.Lock()
		pl := d.plan.In(lang)
		req, meta := c.grafanaRequest(pl), c.chartOf(pl)
		d.mu.Unlock()
		gctx, cancel := grafanaDeadline(ctx)
		img, err := c.grender.Render(gctx, req)
		cancel()
		if err == nil {
			res.Info.Renderer = "grafana"
			meta.Image, meta.ContentType = img, "image/png"
			res.Chart = meta
			return res, nil
		}
		res.Info.FallbackReason = c.redactor.String("grafana renderer failed: " + err.Error())
		c.logger.Warn("grafana render failed, using the native renderer", "alert", alert.Labels["alertname"], "error", res.Info.FallbackReason)
	}
	err = c.native(ctx, d, lang, &res)
	return res, err
}

// planned starts a Result from a plan, recording it; a plan without a
// chart query ends there with the reason as note and error.
func (c *Charter) planned(pl *chartplan.Plan) (Result, error) {
	res := Result{Plan: pl}
	res.Info.Plan = c.planJSON(pl)
	if !pl.HasChart() {
		reason, kind := pl.NoChartReason, pl.NoChart
		if reason == "" {
			reason = "no chart query"
		}
		if kind == "" {
			kind = nochart.NoQuery
		}
		reason = c.redactor.String(reason)
		res.Info.Note = reason
		return res, nochart.New(kind, reason)
	}
	return res, nil
}

func (c *Charter) planJSON(pl *chartplan.Plan) json.RawMessage {
	b, err := json.Marshal(pl)
	if err != nil {
		return nil
	}
	return json.RawMessage(c.redactor.String(string(b)))
}

// native fetches the drawing's data (once for all its languages) and draws
// it with the native renderer in lang, filling res.
func (c *Charter) native(ctx context.Context, d *drawing, lang string, res *Result) error {
	res.Info.Renderer = "native"
	style := c.templateStyle(ctx)
	d.mu.Lock()
	if !d.fetched {
		d.data, d.err = c.planner.Fetch(ctx, d.plan)
		// A fetch cut short by this caller's context is not the alert's
		// answer: the next caller fetches again.
		d.fetched = d.err == nil || ctx.Err() == nil
	}
	data, ferr := d.data, d.err
	// Fetch amends the plan when the data disproves an injected label;
	// record the plan that was drawn.
	pl := d.plan.In(lang)
	res.Plan, res.Info.Plan = pl, c.planJSON(pl)
	chart, meta := renderChart(pl, data, style), c.chartOf(pl)
	opts := c.renderOptions(pl, lang)
	d.mu.Unlock()
	if ferr != nil {
		detail := c.redactor.String("chart query failed: " + ferr.Error())
		res.Info.Note = c.redactor.String("query failed: " + ferr.Error())
		return &nochart.Error{Reason: queryReason(ctx, pl, ferr), Detail: detail, Err: ferr}
	}
	img, err := render.Render(chart, opts)
	if err != nil {
		return &nochart.Error{Reason: nochart.RenderFailed, Detail: "rendering: " + err.Error(), Err: err}
	}
	if data.Dropped > 0 {
		res.Info.Note = fmt.Sprintf("%d more series not shown", data.Dropped)
	}
	meta.Image, meta.ContentType, meta.Series = img.Bytes, img.ContentType, data.Series
	res.Chart = meta
	return nil
}

// queryReason is the kind of a failed fetch: the chart's own deadline,
// the data source's timeout, or the query's failure.
func queryReason(ctx context.Context, pl *chartplan.Plan, err error) nochart.Reason {
	var te interface{ Timeout() bool } // promapi.Error, net.Error
	switch {
	case ctx.Err() != nil:
		return nochart.Timeout
	case pl.Grafana != nil:
		return nochart.DatasourceQueryFailed
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &te) && te.Timeout():
		return nochart.QueryTimeout
	default:
		return nochart.QueryFailed
	}
}

// renderChart is what the native renderer draws for a plan and its data,
// styled like the template panel when there is one.
func renderChart(pl *chartplan.Plan, data *chartplan.FetchResult, style *render.Style) *render.Chart {
	if data == nil {
		return nil
	}
	rc := &render.Chart{
		Title:        pl.Title,
		Series:       data.Series,
		Thresholds:   pl.Thresholds,
		AlertStart:   pl.Alert.StartsAt,
		From:         pl.Start,
		To:           pl.End,
		Unit:         pl.Unit,
		HiddenSeries: data.Dropped,
		References:   data.References,
	}
	if pl.Alert.Status == "resolved" {
		rc.AlertEnd = pl.Alert.EndsAt
	}
	if style != nil {
		rc.Style = *style
	}
	if len(data.Series) == 0 {
		rc.NoDataReason = pl.NoDataNote
		if rc.NoDataReason == "" {
			rc.NoDataReason = i18n.T(pl.Language, "chart.nodata.empty")
		}
	}
	return rc
}

func (c *Charter) renderOptions(pl *chartplan.Plan, lang string) render.Options {
	ch := c.s.Chart
	return render.Options{
		Width: ch.Width, Height: ch.Height, PixelRatio: ch.PixelRatio, Theme: ch.Theme,
		Location: c.loc, Format: "png", Language: lang, LegendFormat: pl.Legend,
	}
}

// chartOf is the chart's description for the messages, without the image.
func (c *Charter) chartOf(pl *chartplan.Plan) *channels.Chart {
	query := pl.Query
	if g := pl.Grafana; g != nil && len(g.Queries) > 0 && g.Queries[0].Query == "" {
		// A SQL or other non-PromQL query: the messages' Explore link is
		// built for PromQL, so it gets none.
		query = ""
	}
	return &channels.Chart{Title: pl.Title, Unit: pl.Unit, Query: query, From: pl.Start, To: pl.End}
}
