// Package settings is AlertChart's one settings model. The same field names are
// used by the Grafana config page (jsonData + secureJsonData), provisioning
// files and the standalone server's YAML file, so a user learns them once.
//
// Non-secret fields live in Settings (jsonData). Secrets never do: they are
// kept in the Secrets map (Grafana's decrypted secureJsonData, or the
// standalone file's secureJsonData section / environment) and read through the
// Secret* helpers, so they cannot be serialised back to a browser by accident.
package settings

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Settings is the plugin's jsonData.
type Settings struct {
	Prometheus PrometheusSettings `json:"prometheus" yaml:"prometheus"`
	Grafana    GrafanaSettings    `json:"grafana" yaml:"grafana"`
	// Alertmanager is where Silence links in messages point.
	Alertmanager AlertmanagerSettings `json:"alertmanager" yaml:"alertmanager"`
	Chart        ChartSettings        `json:"chart" yaml:"chart"`
	Channels     []Channel            `json:"channels" yaml:"channels"`
	Routes       []Route              `json:"routes" yaml:"routes"`
	ImageStore   ImageStoreSettings   `json:"imageStore" yaml:"imageStore"`
	Delivery     DeliverySettings     `json:"delivery" yaml:"delivery"`
	Webhook      WebhookSettings      `json:"webhook" yaml:"webhook"`

	// Secrets holds secureJsonData. It is never marshalled.
	Secrets map[string]string `json:"-" yaml:"-"`
}

// PrometheusSettings says where chart data and alerting rules come from:
// either a direct Prometheus-compatible URL or a Grafana data source UID.
type PrometheusSettings struct {
	// URL of a Prometheus-compatible API (Prometheus, Thanos, Mimir, VictoriaMetrics).
	URL string `json:"url,omitempty" yaml:"url,omitempty"`
	// DatasourceUID of a Grafana Prometheus data source, queried through
	// Grafana's data source proxy. Used when URL is empty.
	DatasourceUID string `json:"datasourceUid,omitempty" yaml:"datasourceUid,omitempty"`
	// RulesURL overrides where the rules API is read (default: URL).
	RulesURL      string `json:"rulesUrl,omitempty" yaml:"rulesUrl,omitempty"`
	BasicAuthUser string `json:"basicAuthUser,omitempty" yaml:"basicAuthUser,omitempty"`
	// Headers are extra non-secret request headers; secret headers go in
	// secureJsonData as "prometheusHeader.<Name>".
	Headers       map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
	TLSSkipVerify bool              `json:"tlsSkipVerify,omitempty" yaml:"tlsSkipVerify,omitempty"`
	// Timeout of one range query (default 10s).
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// RulesCacheTTL is how long a rules API answer is reused (default 30s).
	RulesCacheTTL Duration `json:"rulesCacheTtl,omitempty" yaml:"rulesCacheTtl,omitempty"`
	// ScrapeInterval is the data's resolution, like the "Scrape interval" of
	// Grafana's Prometheus data source: chart steps are never finer, so a
	// short window does not turn each raw sample into a stair step. Unset,
	// the step only aims at 300–1000 points per series.
	ScrapeInterval Duration `json:"scrapeInterval,omitempty" yaml:"scrapeInterval,omitempty"`
	// ExternalLabels are label names added by Prometheus' external_labels;
	// they are never injected into chart queries.
	ExternalLabels []string `json:"externalLabels,omitempty" yaml:"externalLabels,omitempty"`
}

// GrafanaSettings configures calls back into Grafana.
type GrafanaSettings struct {
	// URL overrides GF_APP_URL (root_url) when that is not reachable from the plugin.
	URL string `json:"url,omitempty" yaml:"url,omitempty"`
	// OrgID for API calls made with a service-account token (default 1).
	OrgID int64 `json:"orgId,omitempty" yaml:"orgId,omitempty"`
}

// AlertmanagerSettings say where users open Alertmanager.
type AlertmanagerSettings struct {
	// URL is the base of the "Silence" links in messages (an http or https
	// URL, as users reach Alertmanager). When set, the externalURL in the
	// webhook payload is not used for links, so a misconfigured or forged
	// payload cannot point them elsewhere.
	URL string `json:"url,omitempty" yaml:"url,omitempty"`
}

// ChartSettings are the chart defaults.
type ChartSettings struct {
	// Renderer: "auto" (default), "native" or "grafana".
	Renderer string `json:"renderer,omitempty" yaml:"renderer,omitempty"`
	// WindowMultiplier: the chart covers for × multiplier (default 2).
	WindowMultiplier float64  `json:"windowMultiplier,omitempty" yaml:"windowMultiplier,omitempty"`
	MinWindow        Duration `json:"minWindow,omitempty" yaml:"minWindow,omitempty"` // default 10m
	MaxWindow        Duration `json:"maxWindow,omitempty" yaml:"maxWindow,omitempty"` // default 24h
	Width            int      `json:"width,omitempty" yaml:"width,omitempty"`         // default 1000
	Height           int      `json:"height,omitempty" yaml:"height,omitempty"`       // default 500
	PixelRatio       float64  `json:"pixelRatio,omitempty" yaml:"pixelRatio,omitempty"`
	Theme            string   `json:"theme,omitempty" yaml:"theme,omitempty"`               // dark (default) | light
	Timezone         string   `json:"timezone,omitempty" yaml:"timezone,omitempty"`         // IANA name, default UTC
	Language         string   `json:"language,omitempty" yaml:"language,omitempty"`         // zh (default) | en
	MaxSeries        int      `json:"maxSeries,omitempty" yaml:"maxSeries,omitempty"`       // default 10
	LegendFormat     string   `json:"legendFormat,omitempty" yaml:"legendFormat,omitempty"` // e.g. {{instance}}
	// Budget is how long text may wait for the chart to share one message (default 5s).
	Budget Duration `json:"budget,omitempty" yaml:"budget,omitempty"`
	// TemplateDashboardUID / TemplatePanelID name a Grafana panel whose style
	// (native renderer) or clone (grafana renderer) is used.
	TemplateDashboardUID string `json:"templateDashboardUid,omitempty" yaml:"templateDashboardUid,omitempty"`
	TemplatePanelID      int64  `json:"templatePanelId,omitempty" yaml:"templatePanelId,omitempty"`
	// TempFolderUID is where temporary render dashboards are created (default "alertchart-tmp").
	TempFolderUID string `json:"tempFolderUid,omitempty" yaml:"tempFolderUid,omitempty"`
	// MaxGrafanaRenders caps concurrent renders through Grafana (default 2).
	MaxGrafanaRenders int `json:"maxGrafanaRenders,omitempty" yaml:"maxGrafanaRenders,omitempty"`
}

// Channel is one chat destination.
type Channel struct {
	Name string `json:"name" yaml:"name"`
	// Type: wecom, dingtalk, feishu, teams, slack, telegram, discord, webhook, inbox.
	Type string `json:"type" yaml:"type"`
	// Language overrides chart.language for this channel's messages.
	Language string `json:"language,omitempty" yaml:"language,omitempty"`
	// Template overrides the default message body (Go text/template).
	Template string `json:"template,omitempty" yaml:"template,omitempty"`
	// Mentions: user ids (WeCom userids, DingTalk userIds, Feishu open_ids, Slack member ids,
	// Discord user ids), mobiles (WeCom, DingTalk) and @all where the platform has one;
	// which platform takes which is in each platform's Spec (docs/channels.md).
	MentionUsers   []string `json:"mentionUsers,omitempty" yaml:"mentionUsers,omitempty"`
	MentionMobiles []string `json:"mentionMobiles,omitempty" yaml:"mentionMobiles,omitempty"`
	MentionAll     bool     `json:"mentionAll,omitempty" yaml:"mentionAll,omitempty"`
	// MentionLabel names an alert label whose value lists extra user ids to mention.
	MentionLabel string `json:"mentionLabel,omitempty" yaml:"mentionLabel,omitempty"`
	// Keyword is the DingTalk/Feishu "custom keyword" security word; it is
	// appended to any message that does not already contain it.
	Keyword string `json:"keyword,omitempty" yaml:"keyword,omitempty"`
	// SlackChannel is the channel ID for Slack bot-token uploads.
	SlackChannel string `json:"slackChannel,omitempty" yaml:"slackChannel,omitempty"`
	// ChatID is the Telegram chat id.
	ChatID string `json:"chatId,omitempty" yaml:"chatId,omitempty"`
	// FeishuAppID enables image upload with app credentials (secret: appSecret).
	FeishuAppID string `json:"feishuAppId,omitempty" yaml:"feishuAppId,omitempty"`
	// Lark switches Feishu endpoints to open.larksuite.com.
	Lark bool `json:"lark,omitempty" yaml:"lark,omitempty"`
	// ImageBase64 makes the generic webhook embed the chart as base64.
	ImageBase64 bool `json:"imageBase64,omitempty" yaml:"imageBase64,omitempty"`
	// Dir is the folder of the inbox channel.
	Dir string `json:"dir,omitempty" yaml:"dir,omitempty"`
	// DisableChart sends text only.
	DisableChart bool `json:"disableChart,omitempty" yaml:"disableChart,omitempty"`
	// RateLimitPerMinute overrides the platform's default robot limit.
	RateLimitPerMinute int `json:"rateLimitPerMinute,omitempty" yaml:"rateLimitPerMinute,omitempty"`
	// APIURL overrides the platform's API base (self-hosted, proxies, tests).
	APIURL string `json:"apiUrl,omitempty" yaml:"apiUrl,omitempty"`
}

// Channel secret field names, stored in secureJsonData as "channels.<name>.<field>".
const (
	SecretURL       = "url"       // webhook URL (it carries the robot key/token)
	SecretSecret    = "secret"    // signing secret (DingTalk, Feishu)
	SecretToken     = "token"     // bot token (Slack, Telegram)
	SecretAppSecret = "appSecret" // Feishu app secret for image upload
)

// Route maps an Alertmanager receiver (the {receiver} in /webhook/{receiver})
// to channels; optional label matchers narrow it.
type Route struct {
	Receiver string            `json:"receiver" yaml:"receiver"`
	Channels []string          `json:"channels" yaml:"channels"`
	Match    map[string]string `json:"match,omitempty" yaml:"match,omitempty"`
}

// ImageStoreSettings configures S3-compatible hosting of chart images for
// platforms that only accept a URL.
type ImageStoreSettings struct {
	Endpoint string `json:"endpoint,omitempty" yaml:"endpoint,omitempty"` // host[:port], no scheme
	Bucket   string `json:"bucket,omitempty" yaml:"bucket,omitempty"`
	Region   string `json:"region,omitempty" yaml:"region,omitempty"`
	Prefix   string `json:"prefix,omitempty" yaml:"prefix,omitempty"`
	Insecure bool   `json:"insecure,omitempty" yaml:"insecure,omitempty"` // plain HTTP
	// PathStyle forces path-style addressing (MinIO); default virtual-hosted.
	PathStyle bool `json:"pathStyle,omitempty" yaml:"pathStyle,omitempty"`
	// PresignExpiry of GET URLs (default 24h, at most 7 days).
	PresignExpiry Duration `json:"presignExpiry,omitempty" yaml:"presignExpiry,omitempty"`
	// PublicURLPrefix, when set, is used instead of presigning (public-read bucket/CDN).
	PublicURLPrefix string `json:"publicUrlPrefix,omitempty" yaml:"publicUrlPrefix,omitempty"`
}

// DeliverySettings configures the durable delivery pipeline.
type DeliverySettings struct {
	// DataDir holds the embedded queue (default: GF_PLUGIN_DATA_DIR, then Grafana's data path, then a temp dir).
	DataDir string `json:"dataDir,omitempty" yaml:"dataDir,omitempty"`
	// Queue: "sqlite" (default) or "postgres" (secret: postgresDsn).
	Queue        string   `json:"queue,omitempty" yaml:"queue,omitempty"`
	DedupeWindow Duration `json:"dedupeWindow,omitempty" yaml:"dedupeWindow,omitempty"` // default 10m
	RetryHorizon Duration `json:"retryHorizon,omitempty" yaml:"retryHorizon,omitempty"` // default 1h
	Retention    Duration `json:"retention,omitempty" yaml:"retention,omitempty"`       // default 168h
	// Sync: "normal" (default): an accepted notification survives a killed
	// process, not an OS crash or power loss; "full": the SQLite queue
	// fsyncs it before the webhook's 200, so it survives those too, at the
	// cost of an fsync in every answer. PostgreSQL ignores it.
	Sync string `json:"sync,omitempty" yaml:"sync,omitempty"`
}

// WebhookSettings configures intake.
type WebhookSettings struct {
	// MaxBodyBytes caps a webhook body (default 4 MiB); larger bodies get 413.
	MaxBodyBytes int64 `json:"maxBodyBytes,omitempty" yaml:"maxBodyBytes,omitempty"`
	// AllowedUsers are the Grafana logins that may POST /webhook in the
	// plugin — Alertmanager's service account, e.g. "sa-1-alertmanager".
	// With secureJsonData.webhookToken set too, a caller needs both. The
	// standalone server has no Grafana users and ignores it.
	AllowedUsers []string `json:"allowedUsers,omitempty" yaml:"allowedUsers,omitempty"`
}

// Top-level secureJsonData keys.
const (
	SecretPrometheusPassword = "prometheusPassword"
	SecretPrometheusToken    = "prometheusToken"
	SecretGrafanaToken       = "grafanaToken"
	SecretImageStoreAccess   = "imageStoreAccessKey"
	SecretImageStoreSecret   = "imageStoreSecretKey"
	SecretPostgresDSN        = "postgresDsn"
	SecretWebhookToken       = "webhookToken"
	// PrometheusHeaderPrefix + header name holds a secret request header.
	PrometheusHeaderPrefix = "prometheusHeader."
)

// ChannelTypes lists the supported channel types.
var ChannelTypes = []string{"wecom", "dingtalk", "feishu", "teams", "slack", "telegram", "discord", "webhook", "inbox"}

// Parse decodes jsonData (empty means all defaults), attaches the secrets,
// fills defaults and validates. Unknown fields are an error so typos surface.
func Parse(jsonData []byte, secrets map[string]string) (*Settings, error) {
	s := &Settings{}
	if len(bytes.TrimSpace(jsonData)) > 0 && string(bytes.TrimSpace(jsonData)) != "null" {
		dec := json.NewDecoder(bytes.NewReader(jsonData))
		dec.DisallowUnknownFields()
		if err := dec.Decode(s); err != nil {
			return nil, fmt.Errorf("jsonData: %w", err)
		}
	}
	s.Secrets = map[string]string{}
	for k, v := range secrets {
		s.Secrets[k] = v
	}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Channel returns the channel with the given name.
func (s *Settings) Channel(name string) (Channel, bool) {
	for _, c := range s.Channels {
		if c.Name == name {
			return c, true
		}
	}
	return Channel{}, false
}

// ChannelSecret reads "channels.<name>.<field>" from the secrets.
func (s *Settings) ChannelSecret(channel, field string) string {
	return s.Secrets[ChannelSecretKey(channel, field)]
}

// ChannelSecretKey is the secureJsonData key of a channel's secret field.
func ChannelSecretKey(channel, field string) string {
	return "channels." + channel + "." + field
}

// ReceiverKnown reports whether a receiver name has a route. With no routes
// configured at all, every receiver is accepted (and delivered to every channel).
func (s *Settings) ReceiverKnown(receiver string) bool {
	if len(s.Routes) == 0 {
		return true
	}
	for _, r := range s.Routes {
		if r.Receiver == receiver || r.Receiver == "*" {
			return true
		}
	}
	return false
}

// ChannelsFor returns the names of the channels a receiver's alert with the
// given labels goes to. Routes with Match only apply when every label matches.
// With no routes configured every channel receives everything.
func (s *Settings) ChannelsFor(receiver string, labels map[string]string) []string {
	if len(s.Routes) == 0 {
		out := make([]string, 0, len(s.Channels))
		for _, c := range s.Channels {
			out = append(out, c.Name)
		}
		return out
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range s.Routes {
		if r.Receiver != receiver && r.Receiver != "*" {
			continue
		}
		ok := true
		for k, v := range r.Match {
			if labels[k] != v {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		for _, c := range r.Channels {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}
