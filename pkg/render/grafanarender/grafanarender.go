// Package grafanarender draws alert charts with Grafana itself, so they look
// exactly like the panel the user styled — without touching that panel.
//
// For each chart the template panel is cloned into a temporary dashboard of
// its own (unique UID, tagged "alertchart-tmp", in a dedicated folder) with
// the chart's query, title, thresholds and time range; Grafana's image
// renderer draws it through /render/d-solo; the copy is deleted. The shared
// template dashboard is only ever read, so alerts arriving together cannot
// overwrite each other's query (the race of rewriting one shared dashboard
// per alert). A janitor removes copies a crash left behind.
//
// Every failure comes back as an *Error naming the stage, so the pipeline can
// fall back to the native renderer and record why.
package grafanarender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/series"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Tag marks temporary dashboards; the janitor only deletes dashboards that
// carry it, sit in the temporary folder and have an AlertChart UID.
const Tag = "alertchart-tmp"

// Input limits: a query or title this long is a bug upstream, not a chart.
const (
	maxQueryBytes = 64 << 10
	// maxParts bounds the targets of one panel (refIds A–Z).
	maxParts      = 26
	maxTitleRunes = 300
	maxThresholds = 20
)

// Request is one chart to render.
type Request struct {
	// Query is the PromQL of the chart (already narrowed to the alert's series).
	Query string
	// DatasourceUID is the Grafana Prometheus data source to query; empty
	// keeps the template panel's data source.
	DatasourceUID string
	// Title is the panel title shown on the chart.
	Title string
	// Thresholds are drawn as lines; empty keeps the template's thresholds.
	Thresholds []series.Threshold
	From, To   time.Time
	// Width and Height in pixels (settings chart.width/height when zero).
	Width, Height int
	// Theme "dark" or "light", Timezone an IANA name (settings when empty).
	Theme, Timezone string
	// Legend is the legend format, e.g. "{{instance}}"; empty lets Grafana
	// choose ("__auto").
	Legend string
	// Parts, when set, replace Query by one panel target each (refId A, B,
	// …), named in the legend by the part's name: the windows of a
	// burn-rate tier that one `or` query would merge.
	Parts []Part
	// Targets, when set, are the panel's queries as Grafana query models —
	// a Grafana-managed rule's data queries, each with its refId and
	// datasource {type, uid} — and replace Query and Parts. Query is then
	// only a description (it names the chart in errors).
	Targets []map[string]any
	// Match narrows what Targets return to the series carrying these label
	// values, with Grafana's own transformations (for data sources whose
	// query language cannot select them, SQL…): labelsToFields, then
	// filterByValue, then prepareTimeSeries back to one series per frame.
	Match map[string]string
}

// Part is one separately queried expression of a chart.
type Part struct {
	Name, Query string
}

// Error is a failed Grafana render. Stage is one of "config", "slot",
// "template", "folder", "create", "render", and "probe" from Available.
type Error struct {
	Stage string
	Err   error
}

func (e *Error) Error() string { return "grafana renderer (" + e.Stage + "): " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Config configures a Renderer. ConfigFrom fills it from the plugin settings.
type Config struct {
	TemplateDashboardUID string
	TemplatePanelID      int64
	// FolderUID is the folder of temporary dashboards (created if missing).
	FolderUID string
	// MaxRenders caps concurrent renders through Grafana (default 2).
	MaxRenders int
	// Width, Height, Theme, Timezone are defaults for requests that leave them empty.
	Width, Height   int
	Theme, Timezone string
	// PixelRatio is the device scale factor (default 1).
	PixelRatio float64
	// TemplateTTL is how long a read template is reused (default 30s).
	TemplateTTL time.Duration
	// AvailableTTL is how long Available's answer is reused (default 30s).
	AvailableTTL time.Duration
	// Logger gets warnings about temporary dashboards that could not be
	// deleted (default: the SDK logger).
	Logger interface {
		Warn(msg string, args ...any)
	}
}

// ConfigFrom takes the chart settings.
func ConfigFrom(s *settings.Settings) Config {
	c := s.Chart
	return Config{
		TemplateDashboardUID: c.TemplateDashboardUID, TemplatePanelID: c.TemplatePanelID,
		FolderUID: c.TempFolderUID, MaxRenders: c.MaxGrafanaRenders,
		Width: c.Width, Height: c.Height, Theme: c.Theme, Timezone: c.Timezone, PixelRatio: c.PixelRatio,
	}
}

// Renderer renders charts through one Grafana. Safe for concurrent use; one
// per plugin instance (the render slots are per Renderer).
type Renderer struct {
	client *grafana.Client
	opts   Config
	slots  chan struct{}

	now    func() time.Time
	newUID func(now time.Time) string
	sleep  func(ctx context.Context, d time.Duration) error

	tmplMu      sync.Mutex
	tmpl        *template
	tmplExpires time.Time

	folderMu    sync.Mutex
	folderReady bool

	availMu      sync.Mutex
	availErr     error
	availExpires time.Time
}

type template struct {
	dash  *grafana.Dashboard
	panel map[string]any
}

// New builds a Renderer; zero fields of opts get their defaults. With a nil
// client every Render and Available call fails with a config error.
func New(client *grafana.Client, opts Config) *Renderer {
	if opts.FolderUID == "" {
		opts.FolderUID = "alertchart-tmp"
	}
	if opts.MaxRenders <= 0 {
		opts.MaxRenders = 2
	}
	if opts.Width <= 0 {
		opts.Width = settings.DefaultWidth
	}
	if opts.Height <= 0 {
		opts.Height = settings.DefaultHeight
	}
	if opts.Theme == "" {
		opts.Theme = "dark"
	}
	if opts.Timezone == "" {
		opts.Timezone = "UTC"
	}
	if opts.PixelRatio <= 0 {
		opts.PixelRatio = 1
	}
	if opts.TemplateTTL <= 0 {
		opts.TemplateTTL = 30 * time.Second
	}
	if opts.AvailableTTL <= 0 {
		opts.AvailableTTL = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = log.DefaultLogger
	}
	return &Renderer{
		client: client, opts: opts, slots: make(chan struct{}, opts.MaxRenders),
		now: time.Now, newUID: randomUID, sleep: sleepCtx,
	}
}

// Render draws one chart and returns PNG bytes. It waits for a render slot
// (at most Config.MaxRenders at once), honours 429 Retry-After while the
// context's deadline allows, and always deletes its temporary dashboard, even
// when ctx is cancelled.
func (r *Renderer) Render(ctx context.Context, req Request) ([]byte, error) {
	if err := r.checkRequest(&req); err != nil {
		return nil, &Error{Stage: "config", Err: err}
	}
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, &Error{Stage: "slot", Err: fmt.Errorf("no free render slot (%d renders running): %w", cap(r.slots), ctx.Err())}
	}
	defer func() { <-r.slots }()

	tmpl, err := r.template(ctx)
	if err != nil {
		return nil, &Error{Stage: "template", Err: err}
	}
	if err := r.ensureFolder(ctx); err != nil {
		return nil, &Error{Stage: "folder", Err: err}
	}
	created, err := r.create(ctx, tmpl, req)
	if err != nil {
		return nil, &Error{Stage: "create", Err: err}
	}
	defer r.remove(ctx, created.UID)

	png, err := r.renderWithRetry(ctx, created, req)
	if err != nil {
		return nil, &Error{Stage: "render", Err: err}
	}
	return png, nil
}

func (r *Renderer) checkRequest(req *Request) error {
	if r.client == nil {
		return errors.New("no Grafana client (Grafana's URL or token is missing)")
	}
	if r.opts.TemplateDashboardUID == "" || r.opts.TemplatePanelID == 0 {
		return errors.New("no template panel configured (chart.templateDashboardUid and chart.templatePanelId)")
	}
	if strings.TrimSpace(req.Query) == "" && len(req.Targets) == 0 {
		return errors.New("the chart has no query")
	}
	n := len(req.Query)
	if len(req.Parts) > 0 {
		n = 0
		for _, p := range req.Parts {
			n += len(p.Query)
		}
	}
	if len(req.Targets) > 0 {
		b, err := json.Marshal(req.Targets)
		if err != nil {
			return fmt.Errorf("the chart's query models are not JSON: %v", err)
		}
		n = len(b)
		for i, t := range req.Targets {
			if ref, _ := t["refId"].(string); ref == "" {
				return fmt.Errorf("query model %d has no refId", i)
			}
		}
	}
	if n > maxQueryBytes {
		return fmt.Errorf("the chart query is %d bytes long, more than the %d a dashboard copy may carry", n, maxQueryBytes)
	}
	if len(req.Parts) > maxParts || len(req.Targets) > maxParts {
		return fmt.Errorf("%d queries, at most %d can be drawn", max(len(req.Parts), len(req.Targets)), maxParts)
	}
	if len(req.Thresholds) > maxThresholds {
		return fmt.Errorf("%d thresholds, at most %d can be drawn", len(req.Thresholds), maxThresholds)
	}
	if r := []rune(req.Title); len(r) > maxTitleRunes {
		req.Title = string(r[:maxTitleRunes-1]) + "…"
	}
	if !req.To.After(req.From) {
		return fmt.Errorf("the time range %s – %s is empty", req.From.Format(time.RFC3339), req.To.Format(time.RFC3339))
	}
	if req.Width <= 0 {
		req.Width = r.opts.Width
	}
	if req.Height <= 0 {
		req.Height = r.opts.Height
	}
	if req.Theme == "" {
		req.Theme = r.opts.Theme
	}
	if req.Timezone == "" {
		req.Timezone = r.opts.Timezone
	}
	if req.Theme != "dark" && req.Theme != "light" {
		return fmt.Errorf("theme must be dark or light, not %q", req.Theme)
	}
	if _, err := time.LoadLocation(req.Timezone); err != nil {
		return fmt.Errorf("unknown time zone %q", req.Timezone)
	}
	for _, t := range req.Thresholds {
		if math.IsNaN(t.Value) || math.IsInf(t.Value, 0) || (t.Upper != nil && (math.IsNaN(*t.Upper) || math.IsInf(*t.Upper, 0))) {
			return fmt.Errorf("threshold %s %v is not a finite number", t.Op, t.Value)
		}
	}
	return nil
}

// renderWithRetry renders, waiting out 429 answers while the deadline allows.
func (r *Renderer) renderWithRetry(ctx context.Context, c grafana.Created, req Request) ([]byte, error) {
	backoff := time.Second
	for attempt := 1; ; attempt++ {
		timeout := 60 * time.Second
		if dl, ok := ctx.Deadline(); ok {
			timeout = max(time.Until(dl), time.Second)
		}
		png, err := r.client.Render(ctx, grafana.RenderRequest{
			DashboardUID: c.UID, Slug: c.Slug, PanelID: 1, From: req.From, To: req.To,
			Width: req.Width, Height: req.Height, Scale: r.opts.PixelRatio, Theme: req.Theme, Timezone: req.Timezone,
			Timeout: timeout,
		})
		if err == nil {
			return png, nil
		}
		var ae *grafana.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests {
			return nil, err
		}
		wait := ae.RetryAfter
		if wait <= 0 {
			wait = backoff
			backoff *= 2
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait+time.Second {
			return nil, fmt.Errorf("%w; waiting %s would pass the chart's deadline", err, wait)
		}
		if _, ok := ctx.Deadline(); !ok && attempt >= 4 {
			return nil, fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
		}
		if serr := r.sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("%w; then %v", err, serr)
		}
	}
}

// Available tells "auto" renderer selection whether Grafana can render now:
// a template panel is configured and readable, and Grafana reports an image
// renderer. The answer is cached for Config.AvailableTTL.
func (r *Renderer) Available(ctx context.Context) error {
	r.availMu.Lock()
	defer r.availMu.Unlock()
	if r.now().Before(r.availExpires) {
		return r.availErr
	}
	r.availErr = r.probe(ctx)
	r.availExpires = r.now().Add(r.opts.AvailableTTL)
	return r.availErr
}

func (r *Renderer) probe(ctx context.Context) error {
	if r.client == nil {
		return &Error{Stage: "config", Err: errors.New("no Grafana client (Grafana's URL or token is missing)")}
	}
	if r.opts.TemplateDashboardUID == "" || r.opts.TemplatePanelID == 0 {
		return &Error{Stage: "config", Err: errors.New("no template panel configured (chart.templateDashboardUid and chart.templatePanelId)")}
	}
	info, err := r.client.Renderer(ctx)
	if err != nil {
		return &Error{Stage: "probe", Err: err}
	}
	if !info.Available {
		return &Error{Stage: "probe", Err: errors.New("Grafana has no image renderer configured ([rendering] server_url)")}
	}
	if _, err := r.template(ctx); err != nil {
		return &Error{Stage: "template", Err: err}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
