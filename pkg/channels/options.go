package channels

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/alertchart/alertchart/pkg/imagestore"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Options carry what every platform notifier needs besides its own settings.
type Options struct {
	// Channel is the channel's settings (non-secret).
	Channel settings.Channel
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
	// Images hosts charts for platforms that take a URL; may be nil.
	Images imagestore.Store
	// Logger for degradations; nil discards.
	Logger *slog.Logger
	// Lang is the message language (zh or en).
	Lang string
	// Location formats times in messages.
	Location *time.Location
	// Links configure the Grafana Explore link of messages whose
	// Message.GrafanaURL is a base URL (or empty).
	Links Links
	// Now is the clock messages are written with ("已持续 5分钟", the
	// Explore window); nil means time.Now. Tests pin it.
	Now func() time.Time
}

// Formatter returns a Formatter for the platform's markup with the
// channel's language, template, time zone and link settings.
func (o Options) Formatter(mk Markup) (*Formatter, error) {
	f, err := NewFormatter(mk, o.Lang, o.Channel.Template, o.Location)
	if err != nil {
		return nil, err
	}
	f.Links = o.Links
	if o.Now != nil {
		f.Now = o.Now
	}
	return f, nil
}

// Log returns the logger, never nil.
func (o Options) Log() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// WantsChart reports whether m carries a chart that should be sent.
func (o Options) WantsChart(m *Message) bool {
	return !o.Channel.DisableChart && m.Part != PartText && m.Chart != nil && len(m.Chart.Image) > 0
}

// Limits returns a platform's limits with the channel's rateLimitPerMinute
// override applied, so every notifier reports them the same way.
func (o Options) Limits(platform Limits) Limits {
	if o.Channel.RateLimitPerMinute > 0 {
		platform.PerMinute = o.Channel.RateLimitPerMinute
	}
	return platform
}

// Base implements the identity part of Notifier for platform packages.
type Base struct {
	Opts     Options
	Fmt      *Formatter
	TypeName string
}

// Name is the channel's configured name.
func (b *Base) Name() string { return b.Opts.Channel.Name }

// Type is the platform.
func (b *Base) Type() string { return b.TypeName }

// Lang is the message language.
func (b *Base) Lang() string { return b.Fmt.Lang }
