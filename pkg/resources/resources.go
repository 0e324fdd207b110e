// Package resources is AlertChart's HTTP API. The Grafana plugin serves it
// as the app's resources (through the SDK's httpadapter) and the standalone
// server serves it at its root, so both speak exactly the same routes:
// webhook intake, explain, preview, recent alerts, delivery records, channel
// tests and health. Every route is declared once in the table of Routes
// with the role it needs, and one guard checks the caller of every request
// before its handler runs; docs/api.md describes each route.
package resources

import (
	"context"
	"net/http"
	"strconv"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/intake"
	"github.com/alertchart/alertchart/pkg/pipeline"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Health is the JSON health report.
type Health = pipeline.Health

// Source gives the handlers the current pipeline, or why there is none
// (invalid settings). The plugin rebuilds pipelines when settings change.
type Source interface {
	Pipeline() (*pipeline.Pipeline, error)
	// Health reports on the settings and, when there is one, the pipeline.
	Health(ctx context.Context) Health
}

// Options adapt the API to its host.
type Options struct {
	// Caller identifies who sent a request. The plugin reads the Grafana
	// user from the request's PluginContext; the standalone server trusts
	// whoever passed its bearer token.
	Caller func(*http.Request) Caller
	// RequireJSON makes every POST declare Content-Type: application/json,
	// even without a body. The standalone server sets it: a browser cannot
	// send that content type to another origin without a CORS preflight,
	// which the server never grants. Without it, only a POST that has a
	// body must be JSON (Grafana itself guards its resource route against
	// cross-site requests).
	RequireJSON bool
	// Refusals, when set, remembers refused webhook callers for health.
	Refusals *WebhookRefusals
}

// Route is one route of the API.
type Route struct {
	Method string // GET or POST
	// Path is the pattern relative to the resource root, e.g.
	// /deliveries/{id}/resend.
	Path   string
	Access Access
	// Body says what the request body is ("" for none).
	Body    string
	Summary string
	serve   func(a *api, w http.ResponseWriter, r *http.Request, c Caller)
}

// MaxDebugAlerts caps the alerts /explain plans and /preview accepts: each
// alert may cost a rules-API call and a range query with the plugin's
// data-source credentials.
const MaxDebugAlerts = 50

// routes is the API. docs/api.md documents every entry (TestAPIDocumentsEveryRoute).
var routes = []*Route{
	{Method: http.MethodPost, Path: "/webhook/{receiver}", Access: AccessAlertmanager, Body: "Alertmanager webhook payload",
		Summary: "Alertmanager intake, routed by {receiver}", serve: (*api).webhook},
	{Method: http.MethodPost, Path: "/webhook", Access: AccessAlertmanager, Body: "Alertmanager webhook payload",
		Summary: "Alertmanager intake, routed by the payload's receiver", serve: (*api).webhook},
	{Method: http.MethodPost, Path: "/explain", Access: AccessEditor, Body: "Alertmanager webhook payload",
		Summary: "how each alert's chart would be made, without drawing", serve: (*api).explain},
	{Method: http.MethodPost, Path: "/preview", Access: AccessEditor, Body: "Alertmanager webhook payload",
		Summary: "the plan and the rendered chart of one alert", serve: (*api).preview},
	{Method: http.MethodGet, Path: "/recent", Access: AccessEditor,
		Summary: "the last alerts received, for previews", serve: (*api).recent},
	{Method: http.MethodGet, Path: "/deliveries", Access: AccessEditor,
		Summary: "delivery records, newest first", serve: (*api).deliveries},
	{Method: http.MethodGet, Path: "/deliveries/{id}", Access: AccessEditor,
		Summary: "one delivery record with every attempt", serve: (*api).delivery},
	{Method: http.MethodGet, Path: "/deliveries/{id}/chart", Access: AccessEditor,
		Summary: "the chart image a delivery sent", serve: (*api).deliveryChart},
	{Method: http.MethodPost, Path: "/deliveries/{id}/resend", Access: AccessEditor,
		Summary: "queue a stored notification again", serve: (*api).resend},
	{Method: http.MethodPost, Path: "/channels/{name}/test", Access: AccessAdmin,
		Summary: "send a sample alert with a sample chart to one channel", serve: (*api).testChannel},
	{Method: http.MethodGet, Path: "/health", Access: AccessViewer,
		Summary: "health report; its checks only for Admin", serve: (*api).health},
}

// Routes lists every route of the API.
func Routes() []Route {
	out := make([]Route, len(routes))
	for i, r := range routes {
		out[i] = *r
		out[i].serve = nil
	}
	return out
}

type api struct {
	src  Source
	opts Options
}

// Register adds every route to mux, each behind the caller check.
func Register(mux *http.ServeMux, src Source, opts Options) {
	if opts.Caller == nil {
		opts.Caller = func(*http.Request) Caller { return Caller{} }
	}
	a := &api{src: src, opts: opts}
	for _, rt := range routes {
		mux.Handle(rt.Path, a.guard(rt))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		intake.WriteError(w, &intake.Error{Status: http.StatusNotFound, Msg: "no AlertChart resource at " + r.URL.Path})
	})
}

// guard runs before every handler: the caller check, then the method and
// the content type.
func (a *api) guard(rt *Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := a.opts.Caller(r)
		if !a.allowed(w, r, rt, c) {
			return
		}
		if r.Method != rt.Method && !(rt.Method == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", rt.Method)
			intake.WriteError(w, &intake.Error{Status: http.StatusMethodNotAllowed,
				Msg: "method " + r.Method + " not allowed: use " + rt.Method})
			return
		}
		if rt.Method == http.MethodPost {
			ct := r.Header.Get("Content-Type")
			hasBody := r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
			if (ct != "" || hasBody || a.opts.RequireJSON) && !intake.IsJSON(ct) {
				if ct == "" {
					ct = "(none)"
				}
				intake.WriteError(w, &intake.Error{Status: http.StatusUnsupportedMediaType,
					Msg: "Content-Type " + ct + " not supported: send application/json"})
				return
			}
		}
		rt.serve(a, w, r, c)
	})
}

// pipeline returns the current pipeline, or answers 503 and returns nil.
func (a *api) pipeline(w http.ResponseWriter, c Caller) *pipeline.Pipeline {
	p, err := a.src.Pipeline()
	if err != nil {
		a.unavailable(w, c, err)
		return nil
	}
	return p
}

// unavailable answers 503 for a plugin without a pipeline; only an Admin
// learns why (the reason may name internal addresses).
func (a *api) unavailable(w http.ResponseWriter, c Caller, err error) {
	msg := "AlertChart is not configured correctly (Alertmanager will retry); an administrator can see why on the configuration page"
	if c.Role >= RoleAdmin {
		msg = "AlertChart is not configured correctly (fix the settings; Alertmanager will retry): " + err.Error()
	}
	intake.WriteError(w, &intake.Error{Status: http.StatusServiceUnavailable, Msg: msg})
}

func (a *api) webhook(w http.ResponseWriter, r *http.Request, c Caller) {
	p := a.pipeline(w, c)
	if p == nil {
		return
	}
	h := &intake.Handler{MaxBodyBytes: p.Settings.Webhook.MaxBodyBytes, ReceiverKnown: p.Settings.ReceiverKnown, Acceptor: p}
	h.ServeHTTP(w, r)
}

// debugPayload reads /explain's and /preview's body: a webhook payload.
func (a *api) debugPayload(w http.ResponseWriter, r *http.Request, p *pipeline.Pipeline) *template.Data {
	limit := p.Settings.Webhook.MaxBodyBytes
	if limit <= 0 {
		limit = settings.DefaultMaxBodyBytes
	}
	body, err := intake.Read(r.Body, limit)
	if err == nil && len(body) == 0 {
		err = &intake.Error{Status: http.StatusBadRequest, Msg: "empty body: expected an Alertmanager webhook notification (JSON)"}
	}
	var data *template.Data
	if err == nil {
		data, err = intake.Decode(body)
	}
	if err != nil {
		intake.WriteError(w, err)
		return nil
	}
	return data
}

// explainAnswer is POST /explain's answer.
type explainAnswer struct {
	Plans any `json:"plans"`
	// Omitted counts the alerts beyond MaxDebugAlerts that were not planned.
	Omitted int `json:"omitted,omitempty"`
}

func (a *api) explain(w http.ResponseWriter, r *http.Request, c Caller) {
	p := a.pipeline(w, c)
	if p == nil {
		return
	}
	data := a.debugPayload(w, r, p)
	if data == nil {
		return
	}
	alerts := data.Alerts
	omitted := 0
	if len(alerts) > MaxDebugAlerts {
		omitted = len(alerts) - MaxDebugAlerts
		alerts = alerts[:MaxDebugAlerts]
	}
	// One alert at a time, so that a caller who goes away stops the work:
	// rules-API answers are shared between callers and not cancelled with
	// one of them.
	plans := make([]any, 0, len(alerts))
	for _, al := range alerts {
		if r.Context().Err() != nil {
			return
		}
		one := *data
		one.Alerts = template.Alerts{al}
		for _, pl := range p.Explain(r.Context(), &one) {
			plans = append(plans, pl)
		}
	}
	intake.WriteJSON(w, http.StatusOK, explainAnswer{Plans: plans, Omitted: omitted})
}

// previewAnswer is POST /preview's answer.
type previewAnswer struct {
	Plan           any    `json:"plan"`
	Image          string `json:"image,omitempty"`
	Renderer       string `json:"renderer,omitempty"`
	FallbackReason string `json:"fallbackReason,omitempty"`
	Note           string `json:"note,omitempty"`
	ImageError     string `json:"imageError,omitempty"`
}

func (a *api) preview(w http.ResponseWriter, r *http.Request, c Caller) {
	p := a.pipeline(w, c)
	if p == nil {
		return
	}
	data := a.debugPayload(w, r, p)
	if data == nil {
		return
	}
	if len(data.Alerts) > MaxDebugAlerts {
		intake.WriteError(w, &intake.Error{Status: http.StatusBadRequest, Field: "alerts",
			Msg: "at most " + strconv.Itoa(MaxDebugAlerts) + " alerts in a preview"})
		return
	}
	idx := 0
	if s := r.URL.Query().Get("index"); s != "" {
		var err error
		idx, err = strconv.Atoi(s)
		if err != nil || idx < 0 || idx >= len(data.Alerts) {
			intake.WriteError(w, &intake.Error{Status: http.StatusBadRequest, Field: "index", Msg: "no alert at that index"})
			return
		}
	}
	res, err := p.Charter().MakeChart(r.Context(), data.Alerts[idx])
	if r.Context().Err() != nil {
		return
	}
	ans := previewAnswer{Plan: res.Plan, Renderer: res.Info.Renderer, FallbackReason: res.Info.FallbackReason, Note: res.Info.Note}
	if err != nil {
		ans.ImageError = err.Error()
	}
	if res.Chart != nil && len(res.Chart.Image) > 0 {
		ans.Image = dataURI(res.Chart.ContentType, res.Chart.Image)
	}
	intake.WriteJSON(w, http.StatusOK, ans)
}

// recentAlerts is how many alerts GET /recent answers.
const recentAlerts = 50

// recent answers the organisation's last alerts from the queue database:
// the same on every replica, and kept across settings saves.
func (a *api) recent(w http.ResponseWriter, r *http.Request, c Caller) {
	p, err := a.src.Pipeline()
	if err != nil {
		// No pipeline, no queue to read (invalid settings): nothing to
		// preview from, which the page shows as an empty list.
		intake.WriteJSON(w, http.StatusOK, map[string]any{"alerts": []any{}})
		return
	}
	list, err := p.Delivery().Recent(r.Context(), recentAlerts)
	if err != nil {
		intake.WriteError(w, &intake.Error{Status: http.StatusServiceUnavailable, Msg: "could not read the recent alerts: " + err.Error()})
		return
	}
	intake.WriteJSON(w, http.StatusOK, map[string]any{"alerts": list})
}

func (a *api) health(w http.ResponseWriter, r *http.Request, c Caller) {
	h := a.src.Health(r.Context())
	if c.Role < RoleAdmin {
		h = h.Restricted()
	}
	intake.WriteJSON(w, http.StatusOK, h)
}

func itoa(n int) string { return strconv.Itoa(n) }
