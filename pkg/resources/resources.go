// Package resources is AlertChart's HTTP API. The Grafana plugin serves it
// as the app's resources (through the SDK's httpadapter) and the standalone
// server serves it at its root, so both speak exactly the same routes:
// webhook intake, explain, preview, recent alerts, channel tests, health and
// delivery records.
package resources

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/channels"
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

// Register adds every route to mux.
func Register(mux *http.ServeMux, src Source) {
	webhook := &webhookHandler{src: src}
	mux.Handle("/webhook", webhook)
	mux.Handle("/webhook/{receiver}", webhook)
	mux.HandleFunc("/explain", post(src, explain))
	mux.HandleFunc("/preview", post(src, preview))
	mux.HandleFunc("GET /recent", func(w http.ResponseWriter, r *http.Request) {
		p, err := src.Pipeline()
		if err != nil {
			intake.WriteJSON(w, http.StatusOK, map[string]any{"alerts": []any{}})
			return
		}
		intake.WriteJSON(w, http.StatusOK, map[string]any{"alerts": p.Recent.List()})
	})
	mux.HandleFunc("/channels/{name}/test", post(src, testChannel))
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		intake.WriteJSON(w, http.StatusOK, src.Health(r.Context()))
	})
	deliveries := func(w http.ResponseWriter, r *http.Request) {
		p, err := src.Pipeline()
		if err != nil {
			unavailable(w, err)
			return
		}
		p.Delivery().Handler().ServeHTTP(w, r)
	}
	mux.HandleFunc("/deliveries", deliveries)
	mux.HandleFunc("/deliveries/", deliveries)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		intake.WriteError(w, &intake.Error{Status: http.StatusNotFound, Msg: "no AlertChart resource at " + r.URL.Path})
	})
}

func unavailable(w http.ResponseWriter, err error) {
	intake.WriteError(w, &intake.Error{Status: http.StatusServiceUnavailable,
		Msg: "AlertChart is not configured correctly (fix the settings; Alertmanager will retry): " + err.Error()})
}

// webhookHandler takes the pipeline current at the time of the request.
type webhookHandler struct{ src Source }

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, err := h.src.Pipeline()
	ih := &intake.Handler{MaxBodyBytes: settings.DefaultMaxBodyBytes}
	if err != nil {
		ih.Acceptor = refuse{err}
	} else {
		ih.MaxBodyBytes = p.Settings.Webhook.MaxBodyBytes
		ih.ReceiverKnown = p.Settings.ReceiverKnown
		ih.Acceptor = p
	}
	ih.ServeHTTP(w, r)
}

type refuse struct{ err error }

func (r refuse) Accept(context.Context, string, string, *template.Data) (intake.Accepted, error) {
	return intake.Accepted{}, &intake.Error{Status: http.StatusServiceUnavailable,
		Msg: "AlertChart is not configured correctly (fix the settings; Alertmanager will retry): " + r.err.Error()}
}

// post wraps a POST handler that needs a pipeline and reads a JSON body.
func post(src Source, fn func(w http.ResponseWriter, r *http.Request, p *pipeline.Pipeline, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			intake.WriteError(w, &intake.Error{Status: http.StatusMethodNotAllowed, Msg: "use POST"})
			return
		}
		p, err := src.Pipeline()
		if err != nil {
			unavailable(w, err)
			return
		}
		limit := p.Settings.Webhook.MaxBodyBytes
		body, err := intake.Read(r.Body, limit)
		if err != nil {
			intake.WriteError(w, err)
			return
		}
		fn(w, r, p, body)
	}
}

func explain(w http.ResponseWriter, r *http.Request, p *pipeline.Pipeline, body []byte) {
	data, err := intake.Decode(body)
	if err != nil {
		intake.WriteError(w, err)
		return
	}
	intake.WriteJSON(w, http.StatusOK, map[string]any{"plans": p.Explain(r.Context(), data)})
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

func preview(w http.ResponseWriter, r *http.Request, p *pipeline.Pipeline, body []byte) {
	data, err := intake.Decode(body)
	if err != nil {
		intake.WriteError(w, err)
		return
	}
	idx := 0
	if s := r.URL.Query().Get("index"); s != "" {
		idx, err = strconv.Atoi(s)
		if err != nil || idx < 0 || idx >= len(data.Alerts) {
			intake.WriteError(w, &intake.Error{Status: http.StatusBadRequest, Field: "index", Msg: "no alert at that index"})
			return
		}
	}
	res, err := p.MakeChart(r.Context(), data.Alerts[idx])
	ans := previewAnswer{Plan: res.Plan, Renderer: res.Info.Renderer, FallbackReason: res.Info.FallbackReason, Note: res.Info.Note}
	if err != nil {
		ans.ImageError = err.Error()
	}
	if res.Chart != nil && len(res.Chart.Image) > 0 {
		ans.Image = "data:" + res.Chart.ContentType + ";base64," + base64.StdEncoding.EncodeToString(res.Chart.Image)
	}
	intake.WriteJSON(w, http.StatusOK, ans)
}

// testAnswer is POST /channels/{name}/test's answer.
type testAnswer struct {
	OK     bool               `json:"ok"`
	Error  string             `json:"error,omitempty"`
	Kind   channels.ErrorKind `json:"kind,omitempty"`
	Result *channels.Result   `json:"result,omitempty"`
}

func testChannel(w http.ResponseWriter, r *http.Request, p *pipeline.Pipeline, _ []byte) {
	name := r.PathValue("name")
	res, err := p.TestChannel(r.Context(), name)
	if pipeline.IsUnknownChannel(err) {
		intake.WriteError(w, &intake.Error{Status: http.StatusNotFound, Msg: "no channel named " + strconv.Quote(name)})
		return
	}
	ans := testAnswer{OK: err == nil, Result: res}
	if err != nil {
		ans.Error = err.Error()
		ans.Kind = channels.KindOf(err)
	}
	intake.WriteJSON(w, http.StatusOK, ans)
}
