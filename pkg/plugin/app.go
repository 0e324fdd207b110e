// Package plugin wires AlertChart into Grafana: one App instance per
// settings version (the SDK rebuilds it when jsonData, secrets or Grafana's
// config change), CheckHealth in plain words, and CallResource serving the
// AlertChart HTTP API through the SDK's httpadapter.
package plugin

import (
	"context"
	"net/http"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/backend/resource/httpadapter"
	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/intake"
	"github.com/alertchart/alertchart/pkg/settings"
)

// PluginID is the Grafana plugin id.
const PluginID = "alertchart-webhook-app"

var (
	_ backend.CallResourceHandler   = (*App)(nil)
	_ instancemgmt.InstanceDisposer = (*App)(nil)
	_ backend.CheckHealthHandler    = (*App)(nil)
)

// App is one configured instance of the plugin.
type App struct {
	backend.CallResourceHandler
	settings    *settings.Settings
	settingsErr error
	logger      log.Logger
	recent      *intake.Recent
}

// NewApp builds an instance from the app's settings. Invalid settings do not
// fail the instance: the webhook then answers 503 (Alertmanager keeps the
// alert and retries) and CheckHealth names every problem.
func NewApp(_ context.Context, s backend.AppInstanceSettings) (instancemgmt.Instance, error) {
	app := &App{logger: log.DefaultLogger, recent: intake.NewRecent(50)}
	app.settings, app.settingsErr = settings.Parse(s.JSONData, s.DecryptedSecureJSONData)
	if app.settingsErr != nil {
		app.logger.Warn("AlertChart settings are invalid", "error", app.settingsErr.Error())
	}
	mux := http.NewServeMux()
	app.registerRoutes(mux)
	app.CallResourceHandler = httpadapter.New(mux)
	return app, nil
}

// Dispose is called by the SDK 5 s after a newer instance replaced this one.
func (a *App) Dispose() {}

func (a *App) registerRoutes(mux *http.ServeMux) {
	webhook := &intake.Handler{
		MaxBodyBytes: settings.DefaultMaxBodyBytes,
		Recent:       a.recent,
	}
	if a.settings != nil {
		webhook.MaxBodyBytes = a.settings.Webhook.MaxBodyBytes
		webhook.ReceiverKnown = a.settings.ReceiverKnown
	} else {
		webhook.Acceptor = unavailable{a.settingsErr}
	}
	mux.Handle("/webhook", webhook)
	mux.Handle("/webhook/{receiver}", webhook)
	mux.HandleFunc("GET /recent", func(w http.ResponseWriter, r *http.Request) {
		intake.WriteJSON(w, http.StatusOK, map[string]any{"alerts": a.recent.List()})
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		intake.WriteJSON(w, http.StatusOK, a.health(r.Context()))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		intake.WriteError(w, &intake.Error{Status: http.StatusNotFound, Msg: "no AlertChart resource at " + r.URL.Path})
	})
}

// unavailable refuses notifications while the settings are invalid, with a
// 503 so that Alertmanager keeps them and retries after the fix.
type unavailable struct{ err error }

func (u unavailable) Accept(context.Context, string, *template.Data) (intake.Accepted, error) {
	return intake.Accepted{}, &intake.Error{Status: http.StatusServiceUnavailable,
		Msg: "AlertChart settings are invalid, fix them in Grafana (Alertmanager will retry): " + u.err.Error()}
}
