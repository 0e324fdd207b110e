// Package registry builds a channel's Notifier from the settings model, so
// the plugin, the standalone server and the config page's test button all
// construct channels the same way and report configuration mistakes with
// the same messages.
package registry

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/dingtalk"
	"github.com/alertchart/alertchart/pkg/channels/discord"
	"github.com/alertchart/alertchart/pkg/channels/feishu"
	"github.com/alertchart/alertchart/pkg/channels/inbox"
	"github.com/alertchart/alertchart/pkg/channels/slack"
	"github.com/alertchart/alertchart/pkg/channels/teams"
	"github.com/alertchart/alertchart/pkg/channels/telegram"
	"github.com/alertchart/alertchart/pkg/channels/webhook"
	"github.com/alertchart/alertchart/pkg/channels/wecom"
	"github.com/alertchart/alertchart/pkg/imagestore"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Deps are the shared services notifiers use.
type Deps struct {
	// HTTP sends platform requests; nil means a client with a 15s timeout.
	HTTP *http.Client
	// Images hosts charts for URL-only platforms; may be nil.
	Images imagestore.Store
	// GrafanaURL is Grafana's public URL for Explore links, used when a
	// message carries none.
	GrafanaURL string
	// Logger; nil discards.
	Logger *slog.Logger
}

// DefaultTimeout bounds one platform request when Deps.HTTP is nil.
const DefaultTimeout = 15 * time.Second

var defaultClient = &http.Client{Timeout: DefaultTimeout}

// New builds the notifier for ch. Errors name the setting to fix and never
// contain secret values.
func New(ch settings.Channel, s *settings.Settings, deps Deps) (channels.Notifier, error) {
	if s == nil {
		s = &settings.Settings{}
		s.ApplyDefaults()
	}
	lang := ch.Language
	if lang == "" {
		lang = s.Chart.Language
	}
	loc, err := time.LoadLocation(s.Chart.Timezone)
	if err != nil || s.Chart.Timezone == "" {
		loc = time.UTC
	}
	client := deps.HTTP
	if client == nil {
		client = defaultClient
	}
	opts := channels.Options{Channel: ch, HTTP: client, Logger: deps.Logger, Lang: lang, Location: loc,
		Links: channels.Links{GrafanaURL: deps.GrafanaURL, DatasourceUID: s.Prometheus.DatasourceUID, OrgID: s.Grafana.OrgID,
			AlertmanagerURL: s.Alertmanager.URL}}
	// imagestore.FromSettings returns a nil *S3 when no store is configured;
	// stored in the interface it would not compare equal to nil.
	if s3, ok := deps.Images.(*imagestore.S3); deps.Images != nil && !(ok && s3 == nil) {
		opts.Images = deps.Images
	}
	secret := func(field string) string { return s.ChannelSecret(ch.Name, field) }
	var n channels.Notifier
	switch ch.Type {
	case "wecom":
		n, err = wecom.New(opts, secret(settings.SecretURL))
	case "dingtalk":
		n, err = dingtalk.New(opts, secret(settings.SecretURL), secret(settings.SecretSecret))
	case "feishu":
		n, err = feishu.New(opts, secret(settings.SecretURL), secret(settings.SecretSecret), secret(settings.SecretAppSecret))
	case "teams":
		n, err = teams.New(opts, secret(settings.SecretURL))
	case "slack":
		n, err = slack.New(opts, secret(settings.SecretURL), secret(settings.SecretToken))
	case "telegram":
		n, err = telegram.New(opts, secret(settings.SecretToken))
	case "discord":
		n, err = discord.New(opts, secret(settings.SecretURL))
	case "webhook":
		n, err = webhook.New(opts, secret(settings.SecretURL), secret(settings.SecretToken), secret(settings.SecretSecret))
	case "inbox":
		n, err = inbox.New(opts)
	default:
		return nil, fmt.Errorf("channel %q: unknown type %q", ch.Name, ch.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("channel %q (%s): %w", ch.Name, ch.Type, err)
	}
	return n, nil
}

// All builds every configured channel. Channels that fail are reported in
// errs by name; the others are returned, so one broken channel does not
// silence the rest.
func All(s *settings.Settings, deps Deps) (map[string]channels.Notifier, map[string]error) {
	out := map[string]channels.Notifier{}
	errs := map[string]error{}
	for _, ch := range s.Channels {
		n, err := New(ch, s, deps)
		if err != nil {
			errs[ch.Name] = err
			continue
		}
		out[ch.Name] = n
	}
	return out, errs
}
