package delivery

import (
	"context"
	"errors"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Charter plans and renders the chart of one alert. The plugin wiring
// implements it with the planner, the renderers and the image store; the
// delivery stage only decides when to call it and what to do with the answer.
type Charter interface {
	Chart(ctx context.Context, receiver string, alert template.Alert) (*channels.Chart, channels.ChartInfo, error)
}

// OverviewCharter is implemented by a Charter that can also draw one chart
// for many alerts. A digest merges a storm's backlog into one text; a chart
// per alert would cost a rate slot each, which is exactly what the robot
// lacks, so the digest carries at most this one overview image.
type OverviewCharter interface {
	Overview(ctx context.Context, receiver string, alerts []template.Alert) (*channels.Chart, channels.ChartInfo, error)
}

// LanguageCharter is implemented by a Charter that draws an alert's chart
// in a given language ("zh" or "en": the title, the image's own words).
// Delivery then asks each channel's chart in the channel's language
// (channel language, else chart.language), so an English channel under a
// Chinese default gets English charts; an alert is drawn once per
// language, and its charts are cached and stored per language.
type LanguageCharter interface {
	ChartIn(ctx context.Context, receiver, lang string, alert template.Alert) (*channels.Chart, channels.ChartInfo, error)
}

// LanguageOverviewCharter is OverviewCharter in a given language (the
// digest's channel's).
type LanguageOverviewCharter interface {
	OverviewIn(ctx context.Context, receiver, lang string, alerts []template.Alert) (*channels.Chart, channels.ChartInfo, error)
}

// A Charter's error says why an alert has no chart: a *nochart.Error
// carries the kind (nochart.Reason), which words the chat's short note in
// the channel's language, and the full reason for the record. Any other
// error is recorded in full and noted as an internal error
// (nochart.ReasonOf).

// Config configures a Service.
type Config struct {
	// OrgID is the Grafana organisation whose settings these are
	// (PluginContext.OrgID); 0 means 1, Grafana's main organisation (and
	// the standalone server's). Every notification, record and job belongs
	// to one organisation.
	OrgID int64
	// Settings are the plugin settings (delivery, chart, channels, routes).
	Settings *settings.Settings
	// DataDir holds the SQLite queue; empty means ChooseDataDir(Settings).
	DataDir string
	// Notifiers by channel name.
	Notifiers map[string]channels.Notifier
	// Broken are the channels of the settings that could not be built, and
	// why: a notification routed to one is refused (ErrChannelUnavailable,
	// the webhook answers 503 and Alertmanager retries) rather than stored
	// and failed for a reason a settings fix removes.
	Broken map[string]error
	// Charter makes charts; nil sends text only.
	Charter Charter
	// Logger; nil logs nothing.
	Logger log.Logger
	// Registerer receives the self-metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
	// GrafanaURL is passed to message templates for links (e.g. GF_APP_URL).
	GrafanaURL string
	// DeliveriesURL is the page listing every delivery and its alerts (the
	// plugin's Deliveries page, <root_url>/a/alertchart-webhook-app/deliveries);
	// storm digests link it, so a reader finds every alert a digest merged.
	// Empty: no link.
	DeliveriesURL string

	// SendTimeout bounds one Notifier.Send (default 15s).
	SendTimeout time.Duration
	// ChartTimeout bounds one Charter.Chart call (default 60s). The text never
	// waits for it: only chart.budget decides how long text may wait.
	ChartTimeout time.Duration
	// RateWindow is the length of a robot's rate window (default 61s: a
	// platform's minute plus a second of margin for clock skew). Tests may
	// shorten it; production never should.
	RateWindow time.Duration
	// MaxDigestAlerts caps how many alerts one digest message lists (default 1000).
	MaxDigestAlerts int
	// MaxChartsPerNotification caps follow-up charts per notification and
	// channel (default 3); further alerts are covered by the text.
	MaxChartsPerNotification int
	// Workers is how many texts, and separately how many charts, are delivered
	// at once (default 8; one SQLite connection serves them all).
	Workers int
	// JobTimeout bounds one queue job (default 2m); RescueAfter is when a job
	// of a vanished replica is taken over (PostgreSQL only, default 3m).
	JobTimeout  time.Duration
	RescueAfter time.Duration
	// PollInterval is how often each SQLite queue (two per organisation:
	// texts and charts) looks for work (default 50ms; PostgreSQL is woken by
	// LISTEN/NOTIFY and polls every second). First attempts of texts do not
	// wait for it (lanes send them); charts, retries and what lanes hand
	// over do, by up to this much. Each look costs about 0.3 ms of CPU
	// even when nothing waits, so this is also what an idle organisation
	// costs (the README's performance table has the figures).
	PollInterval time.Duration
	// RetryOpen makes Open succeed when the queue cannot be opened yet: the
	// engine keeps trying in the background (every few seconds) and the
	// Service refuses notifications with ErrQueueUnavailable meanwhile. The
	// plugin sets it; a standalone server on SQLite does not (it refuses to
	// start instead).
	RetryOpen bool
	// HeartbeatInterval is how often a replica on PostgreSQL writes its
	// heartbeat and looks for replicas that stopped (default 2s);
	// ReplicaTimeout is how long a replica may be silent before another one
	// takes over its work (default 10s).
	HeartbeatInterval time.Duration
	ReplicaTimeout    time.Duration
}

// Errors returned by Accept: each means the notification was not persisted
// and the caller must answer 503 so Alertmanager retries — ErrQueueUnavailable
// (the queue database cannot be reached), ErrChannelUnavailable (a routed
// channel cannot be built), ErrClosed. Client mistakes are intake's to
// refuse before Accept is called. ErrNotFound is returned by Delivery,
// Resend and ChartImage for a delivery (or chart) that does not exist in
// the organisation (404).
var (
	ErrClosed             = errors.New("delivery service is shutting down")
	ErrNotFound           = errors.New("not found")
	ErrQueueUnavailable   = errors.New("the delivery queue is unavailable")
	ErrChannelUnavailable = errors.New("a channel the notification is routed to cannot be used")
)

const (
	defaultHeartbeat      = 2 * time.Second
	defaultReplicaTimeout = 10 * time.Second
	defaultSendTimeout    = 15 * time.Second
	defaultChartTimeout   = 60 * time.Second
	defaultRateWindow     = 61 * time.Second
	defaultDigestAlerts   = 1000
	defaultMaxCharts      = 3
	defaultWorkers        = 8
	defaultJobTimeout     = 2 * time.Minute
	defaultRescueAfter    = 3 * time.Minute
	defaultPoll           = 50 * time.Millisecond
)

func (c *Config) applyDefaults() {
	if c.OrgID == 0 {
		c.OrgID = 1
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = defaultHeartbeat
	}
	if c.ReplicaTimeout <= 0 {
		c.ReplicaTimeout = defaultReplicaTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = defaultSendTimeout
	}
	if c.ChartTimeout <= 0 {
		c.ChartTimeout = defaultChartTimeout
	}
	if c.RateWindow <= 0 {
		c.RateWindow = defaultRateWindow
	}
	if c.MaxDigestAlerts <= 0 {
		c.MaxDigestAlerts = defaultDigestAlerts
	}
	if c.MaxChartsPerNotification <= 0 {
		c.MaxChartsPerNotification = defaultMaxCharts
	}
	if c.Workers <= 0 {
		c.Workers = defaultWorkers
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = defaultJobTimeout
	}
	if c.RescueAfter <= c.JobTimeout {
		c.RescueAfter = max(defaultRescueAfter, c.JobTimeout+30*time.Second)
		if c.RescueAfter <= c.JobTimeout {
			c.RescueAfter = c.JobTimeout + time.Second
		}
	}
	if c.PollInterval <= 0 {
		c.PollInterval = defaultPoll
	}
}
