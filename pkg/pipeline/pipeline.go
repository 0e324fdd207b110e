// Package pipeline assembles AlertChart's stages from one settings value:
// intake hands a notification to delivery, delivery sends the text at once
// and asks the charter (pkg/charter) for each alert's chart — planned by
// chartplan, drawn by the native renderer or through Grafana — and the
// channels host it in the image store when a platform needs a URL. The
// Grafana plugin and the standalone server both run exactly this assembly;
// the pipeline builds the stages and reports their health, and makes
// nothing itself.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/registry"
	"github.com/alertchart/alertchart/pkg/charter"
	"github.com/alertchart/alertchart/pkg/chartplan"
	"github.com/alertchart/alertchart/pkg/delivery"
	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/i18n"
	"github.com/alertchart/alertchart/pkg/imagestore"
	"github.com/alertchart/alertchart/pkg/intake"
	"github.com/alertchart/alertchart/pkg/promapi"
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
	// DeliveriesURL is the plugin's Deliveries page, linked from storm
	// digests (delivery.Config.DeliveriesURL); empty where there is none
	// (the standalone server has no such page).
	DeliveriesURL string
	// DataDir overrides delivery.ChooseDataDir.
	DataDir string
	// Registerer receives self-metrics (nil: none).
	Registerer prometheus.Registerer
	Logger     log.Logger
	// HTTPClient for chat platforms, Prometheus and object storage (nil: a default with timeouts).
	HTTPClient *http.Client
	// Delivery tunes the delivery stage (tests); zero values are the defaults.
	Delivery delivery.Config
	// OrgID is the Grafana organisation the settings belong to (0: the
	// main organisation, 1; the standalone server has no other).
	OrgID int64
	// RetryQueue keeps the pipeline up when its queue cannot be opened yet:
	// the delivery engine retries in the background, webhooks answer 503
	// meanwhile and health says why (the plugin). Without it New fails.
	RetryQueue bool
}

// The chart stage is the delivery queue's Charter, in every form delivery
// asks for; charter itself does not import the queue.
var (
	_ delivery.Charter                 = (*charter.Charter)(nil)
	_ delivery.OverviewCharter         = (*charter.Charter)(nil)
	_ delivery.LanguageCharter         = (*charter.Charter)(nil)
	_ delivery.LanguageOverviewCharter = (*charter.Charter)(nil)
)

// Pipeline is one configured AlertChart.
type Pipeline struct {
	Settings *settings.Settings
	env      Env
	logger   log.Logger

	planner   *chartplan.Planner
	promErr   error
	store     imagestore.Store
	storeErr  error
	notifiers map[string]channels.Notifier
	notifErrs map[string]error
	gclient   *grafana.Client
	charts    *charter.Charter
	delivery  *delivery.Service
}

// New builds the pipeline and opens the delivery queue. A channel or data
// source that cannot be built does not stop the pipeline — the problem is
// reported by Health, every other channel keeps working, and a webhook
// routed to the broken channel answers 503 until the settings are fixed.
// A queue that cannot be opened is fatal unless env.RetryQueue is set
// (then the queue is retried in the background and webhooks answer 503
// meanwhile), because accepting alerts without it would lose them.
func New(ctx context.Context, s *settings.Settings, env Env) (*Pipeline, error) {
	if env.Logger == nil {
		env.Logger = log.DefaultLogger
	}
	if env.HTTPClient == nil {
		env.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	p := &Pipeline{Settings: s, env: env, logger: env.Logger,
		notifiers: map[string]channels.Notifier{}, notifErrs: map[string]error{}}

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
		} else {
			p.env.GrafanaErr = err
		}
	}
	p.charts = charter.New(charter.Config{Settings: s, Planner: p.planner, Grafana: p.gclient, NoGrafana: p.noGrafana(), Logger: p.logger})

	dcfg := env.Delivery
	dcfg.OrgID = env.OrgID
	dcfg.Settings = s
	dcfg.DataDir = env.DataDir
	dcfg.Notifiers = p.notifiers
	dcfg.Broken = p.notifErrs
	dcfg.RetryOpen = dcfg.RetryOpen || env.RetryQueue
	dcfg.Charter = p.charts
	dcfg.Logger = p.logger
	dcfg.Registerer = env.Registerer
	dcfg.GrafanaURL = env.GrafanaLinkURL
	dcfg.DeliveriesURL = env.DeliveriesURL
	svc, err := delivery.Open(ctx, dcfg)
	if err != nil {
		p.charts.Close()
		return nil, fmt.Errorf("opening the delivery queue: %w", err)
	}
	p.delivery = svc
	return p, nil
}

// Close finishes or re-queues in-flight work.
func (p *Pipeline) Close(ctx context.Context) error {
	p.charts.Close()
	if p.delivery == nil {
		return nil
	}
	return p.delivery.Close(ctx)
}

// Delivery is the delivery service (records, resend).
func (p *Pipeline) Delivery() *delivery.Service { return p.delivery }

// Charter makes the charts (delivery's Charter; POST /preview).
func (p *Pipeline) Charter() *charter.Charter { return p.charts }

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

// Accept persists a notification and schedules its delivery
// (intake.Acceptor). intake has decided that it may be accepted; delivery's
// errors all mean "not stored, retry" and go back to intake unchanged.
func (p *Pipeline) Accept(ctx context.Context, receiver, groupKey string, data *template.Data) (intake.Accepted, error) {
	res, err := p.delivery.AcceptGroup(ctx, receiver, groupKey, data)
	if err != nil {
		return intake.Accepted{}, err
	}
	return intake.Accepted{Status: "accepted", ID: res.ID, Alerts: res.Alerts, Duplicates: res.Duplicates}, nil
}

// Explain returns each alert's chart plan, with the renderer that would be used.
func (p *Pipeline) Explain(ctx context.Context, data *template.Data) []*chartplan.Plan {
	return chartplan.Explain(ctx, p.planner, data, time.Now())
}

// noGrafana says why there is no Grafana client ("" when there is one).
func (p *Pipeline) noGrafana() string {
	switch {
	case p.gclient != nil:
		return ""
	case p.env.GrafanaErr != nil:
		return p.env.GrafanaErr.Error()
	case p.env.Grafana.URL == "":
		return "Grafana's URL is unknown (set grafana.url)"
	default:
		return "no Grafana service account token"
	}
}

// ChannelLang is the language of a channel's messages, charts and notes:
// its own language, else chart.language.
func (p *Pipeline) ChannelLang(name string) string {
	if n, ok := p.notifiers[name].(interface{ Lang() string }); ok {
		return i18n.Lang(n.Lang())
	}
	if ch, ok := p.Settings.Channel(name); ok && ch.Language != "" {
		return i18n.Lang(ch.Language)
	}
	return i18n.Lang(p.Settings.Chart.Language)
}

// TestChannel sends a realistic sample alert with a natively rendered sample
// chart to one channel, text and chart in the channel's language, and
// returns the platform's answer, for the config page's "send test" button.
// It is not queued, but takes the robot's rate-limit slots like any send
// (and is refused while alerts need them, see delivery.Service.SendTest).
func (p *Pipeline) TestChannel(ctx context.Context, name string) (*channels.Result, error) {
	n, err := p.Notifier(name)
	if err != nil {
		return nil, err
	}
	lang := p.ChannelLang(name)
	chart, err := p.charts.Sample(lang)
	if err != nil {
		return nil, err
	}
	return p.delivery.SendTest(ctx, name, n, channels.SampleMessage(lang, chart))
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
