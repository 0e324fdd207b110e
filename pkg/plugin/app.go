// Package plugin wires AlertChart into Grafana: one App instance per
// organisation and settings version (the SDK keys instances by
// "<plugin id>#<org id>", rebuilds one when jsonData, secrets or Grafana's
// config change, and disposes the old one five seconds later), CheckHealth
// in plain words, and CallResource serving the AlertChart HTTP API (package
// resources) through the SDK's httpadapter.
//
// The instances of one process share one delivery engine per queue
// database (package delivery): each registers its organisation's settings,
// the newest registration of an organisation sends its deliveries, and a
// job is only ever taken with its own organisation's settings.
package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/backend/resource/httpadapter"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertchart/alertchart/pkg/delivery"
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
	refusals    *resources.WebhookRefusals
	logger      log.Logger
}

// NewApp builds an instance from the app's settings. Invalid settings, an
// unsafe data directory or a queue that cannot open do not fail the
// instance: the webhook then answers 503 (Alertmanager keeps the alert and
// retries) and CheckHealth names every problem; a queue database that does
// not answer yet is retried in the background. ctx carries the request's
// PluginContext — its OrgID is the instance's organisation — and Grafana's
// config (GF_APP_URL, the managed service account token), but ends with
// the request, so nothing long-lived uses it.
func NewApp(ctx context.Context, s backend.AppInstanceSettings) (instancemgmt.Instance, error) {
	org := backend.PluginConfigFromContext(ctx).OrgID //nolint:staticcheck // Grafana still sets OrgID, and the instance cache is keyed by it
	if org <= 0 {
		org = 1
	}
	app := &App{logger: log.DefaultLogger.With("org", org), refusals: &resources.WebhookRefusals{}}
	app.settings, app.settingsErr = settings.Parse(s.JSONData, s.DecryptedSecureJSONData)
	if app.settingsErr != nil {
		app.logger.Warn("AlertChart settings are invalid", "error", app.settingsErr.Error())
	} else {
		env := pipeline.Env{Logger: app.logger, Registerer: prometheus.DefaultRegisterer, OrgID: org, RetryQueue: true}
		env.Grafana, env.GrafanaErr = grafanaCredentials(ctx, app.settings)
		env.GrafanaLinkURL = env.Grafana.URL
		if u := strings.TrimRight(env.Grafana.URL, "/"); u != "" {
			// Storm digests link the organisation's Deliveries page.
			env.DeliveriesURL = u + "/a/" + PluginID + "/deliveries?orgId=" + strconv.FormatInt(org, 10)
		}
		if app.settings.Delivery.Queue != "postgres" {
			dir, _ := delivery.ChooseDataDir(app.settings)
			app.pipeErr = delivery.SecureDataDir(dir)
		}
		if app.pipeErr == nil {
			app.pipe, app.pipeErr = pipeline.New(context.WithoutCancel(ctx), app.settings, env)
		}
		if app.pipeErr != nil {
			app.logger.Error("AlertChart cannot start its delivery queue", "error", app.pipeErr.Error())
		}
	}
	mux := http.NewServeMux()
	resources.Register(mux, app, resources.Options{Caller: GrafanaCaller, Refusals: app.refusals})
	app.CallResourceHandler = httpadapter.New(mux)
	return app, nil
}

// grafanaCredentials resolves how to call Grafana (grafana.ResolveCredentials)
// with the /apis namespace Grafana put in the plugin context, e.g.
// "stacks-<id>" on Grafana Cloud, where one is given.
func grafanaCredentials(ctx context.Context, s *settings.Settings) (grafana.Credentials, error) {
	creds, err := grafana.ResolveCredentials(ctx, s)
	if ns := backend.PluginConfigFromContext(ctx).Namespace; ns != "" && err == nil {
		creds.Namespace = ns
	}
	return creds, err
}

// GrafanaCaller is the user Grafana authenticated for a resource call: the
// SDK's httpadapter puts the request's PluginContext into its context.
// Grafana fills PluginContext.User from the signed-in identity — a session
// user, or for a service-account token the account's login
// ("sa-<org>-<name>") and role — and strips the Authorization header, so the
// plugin never sees the token itself.
func GrafanaCaller(r *http.Request) resources.Caller {
	u := backend.UserFromContext(r.Context())
	if u == nil {
		u = backend.PluginConfigFromContext(r.Context()).User
	}
	return callerOf(u)
}

func callerOf(u *backend.User) resources.Caller {
	if u == nil {
		return resources.Caller{}
	}
	return resources.Caller{Login: u.Login, Role: resources.ParseRole(u.Role)}
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

// Health implements resources.Source: the full report, for an Admin.
func (a *App) Health(ctx context.Context) resources.Health {
	var extra []pipeline.Check
	var secrets map[string]string
	if a.settings != nil {
		extra = append(extra, pipeline.WebhookIdentity(a.settings))
		secrets = a.settings.Secrets
	}
	extra = append(extra, a.refusals.Checks()...)
	return pipeline.Report(ctx, secrets, a.settingsErr, a.pipe, a.pipeErr, extra...)
}

// CheckHealth reports configuration problems in plain words. Warnings keep
// the status OK (Grafana shows the message) because alerts still flow.
// Grafana lets every signed-in user call it (GET
// /api/plugins/<id>/health), so only an Admin gets the checks.
func (a *App) CheckHealth(ctx context.Context, req *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	h := a.Health(ctx)
	if req == nil || callerOf(req.PluginContext.User).Role < resources.RoleAdmin {
		h = h.Restricted()
	}
	status := backend.HealthStatusOk
	if h.Status == pipeline.StatusError {
		status = backend.HealthStatusError
	}
	details, err := json.Marshal(h)
	if err != nil {
		return nil, errors.Join(errors.New("encoding health details"), err)
	}
	return &backend.CheckHealthResult{Status: status, Message: h.Message, JSONDetails: details}, nil
}
