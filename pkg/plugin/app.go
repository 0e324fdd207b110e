// Package plugin wires AlertChart into Grafana: one App instance per
// settings version (the SDK rebuilds it when jsonData, secrets or Grafana's
// config change, and disposes the old one five seconds later), CheckHealth
// in plain words, and CallResource serving the AlertChart HTTP API (package
// resources) through the SDK's httpadapter.
package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/backend/resource/httpadapter"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/pipeline"
	"github.com/alertchart/alertchart/pkg/resources"
	"github.com/alertchart/alertchart/pkg/settings"
)

// PluginID is the Grafana plugin id.
const PluginID = "alertchart-webhook-app"

var (
	_ backend.CallResourceHandler   = (*App)(nil)
	_ instancemgmt.InstanceDisposer = (*App)(nil)
	_ backend.CheckHealthHandler    = (*App)(nil)
	_ resources.Source              = (*App)(nil)
)

// App is one configured instance of the plugin.
type App struct {
	backend.CallResourceHandler
	settings    *settings.Settings
	settingsErr error
	pipe        *pipeline.Pipeline
	pipeErr     error
	logger      log.Logger
}

// NewApp builds an instance from the app's settings. Invalid settings or a
// queue that cannot open do not fail the instance: the webhook then answers
// 503 (Alertmanager keeps the alert and retries) and CheckHealth names every
// problem. ctx carries Grafana's config (GF_APP_URL, the managed service
// account token) but ends with the request, so nothing long-lived uses it.
func NewApp(ctx context.Context, s backend.AppInstanceSettings) (instancemgmt.Instance, error) {
	app := &App{logger: log.DefaultLogger}
	app.settings, app.settingsErr = settings.Parse(s.JSONData, s.DecryptedSecureJSONData)
	if app.settingsErr != nil {
		app.logger.Warn("AlertChart settings are invalid", "error", app.settingsErr.Error())
	} else {
		env := pipeline.Env{Logger: app.logger, Registerer: prometheus.DefaultRegisterer}
		env.Grafana, env.GrafanaErr = grafana.ResolveCredentials(ctx, app.settings)
		env.GrafanaLinkURL = env.Grafana.URL
		app.pipe, app.pipeErr = pipeline.New(context.WithoutCancel(ctx), app.settings, env)
		if app.pipeErr != nil {
			app.logger.Error("AlertChart cannot start its delivery queue", "error", app.pipeErr.Error())
		}
	}
	mux := http.NewServeMux()
	resources.Register(mux, app)
	app.CallResourceHandler = httpadapter.New(mux)
	return app, nil
}

// Pipeline implements resources.Source.
func (a *App) Pipeline() (*pipeline.Pipeline, error) {
	if a.settingsErr != nil {
		return nil, a.settingsErr
	}
	if a.pipeErr != nil {
		return nil, a.pipeErr
	}
	return a.pipe, nil
}

// Dispose finishes or re-queues in-flight deliveries; the SDK calls it five
// seconds after a newer instance replaced this one, and at shutdown.
func (a *App) Dispose() {
	if a.pipe == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.pipe.Close(ctx); err != nil {
		a.logger.Warn("closing the delivery pipeline", "error", err.Error())
	}
}

// Health implements resources.Source.
func (a *App) Health(ctx context.Context) resources.Health {
	var checks []pipeline.Check
	switch {
	case a.settingsErr != nil:
		checks = append(checks, pipeline.Check{Name: "settings", Status: "error", Message: a.settingsErr.Error()})
	case a.pipeErr != nil:
		checks = append(checks, pipeline.Check{Name: "settings", Status: "ok", Message: "settings are valid"},
			pipeline.Check{Name: "queue", Status: "error", Message: a.pipeErr.Error()})
	default:
		checks = append(checks, pipeline.Check{Name: "settings", Status: "ok", Message: "settings are valid"})
		checks = append(checks, a.pipe.Checks(ctx)...)
	}
	return pipeline.Summarise(checks)
}

// CheckHealth reports configuration problems in plain words. Warnings keep
// the status OK (Grafana shows the message) because alerts still flow.
func (a *App) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	h := a.Health(ctx)
	status := backend.HealthStatusOk
	if h.Status == "error" {
		status = backend.HealthStatusError
	}
	details, err := json.Marshal(h)
	if err != nil {
		return nil, errors.Join(errors.New("encoding health details"), err)
	}
	return &backend.CheckHealthResult{Status: status, Message: h.Message, JSONDetails: details}, nil
}
