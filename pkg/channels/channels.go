// Package channels defines how a notification reaches a chat platform. Each
// platform lives in its own small sub-package behind the Notifier interface,
// in the manner of Alertmanager's notify/ packages; templating and error
// classification live here, once. Retries, rate limits and queueing belong
// to the delivery package, not to the integrations.
package channels

import (
	"context"
	"encoding/json"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/series"
)

// Part says what a message carries.
type Part string

const (
	// PartText is the alert text alone (the chart follows, or never comes).
	PartText Part = "text"
	// PartChart is the chart following an earlier text message.
	PartChart Part = "chart"
	// PartBoth is text and chart together, when the chart made the budget.
	PartBoth Part = "both"
)

// Chart is a rendered chart ready to send.
type Chart struct {
	// PNG or JPEG bytes.
	Image       []byte
	ContentType string
	// URL is where the image is hosted (image store), when a platform needs one.
	URL string
	// Title of the chart, e.g. "CPU usage high (最近10分钟)".
	Title string
	// Series summarised in messages (Max/Min/Last); may be empty.
	Series []series.Series
	// Unit of the values (Grafana unit id), for formatting.
	Unit string
	// Query is the chart's PromQL, for an Explore link.
	Query string
	From  time.Time
	To    time.Time
}

// ChartInfo describes how a chart was made: what the delivery records keep
// next to the sent image (the Deliveries page shows it). It sits beside
// Chart so that chart production (pkg/charter) needs nothing of the
// delivery queue.
type ChartInfo struct {
	// Renderer that produced the image: "native" or "grafana".
	Renderer string `json:"renderer,omitempty"`
	// FallbackReason is set when the preferred renderer was not used.
	FallbackReason string `json:"fallbackReason,omitempty"`
	// Plan is the chart plan (chartplan.Plan JSON), kept for the records.
	Plan json.RawMessage `json:"plan,omitempty"`
	// Note is a short remark worth showing, e.g. "series truncated to 10".
	Note string `json:"note,omitempty"`
}

// Message is one notification to one channel.
type Message struct {
	// Data is the Alertmanager webhook payload (possibly a subset of its
	// alerts, or a digest of several payloads merged by the delivery stage).
	Data *template.Data
	Part Part
	// Chart is set for PartChart and PartBoth.
	Chart *Chart
	// ChartNote explains a missing chart ("chart unavailable: …").
	ChartNote string
	// Digest is true when Data merges several notifications during a storm.
	Digest bool
	// Links for templates.
	GrafanaURL      string
	AlertmanagerURL string
	// ListURL is where a digest's reader finds every alert it merged and
	// what became of each (the plugin's Deliveries page); a digest links
	// it where the platform's markup has links. Empty: no link.
	ListURL string
}

// Result is the platform's answer, kept for delivery records and the
// config page's "send test" button.
type Result struct {
	// StatusCode of the last HTTP request.
	StatusCode int `json:"statusCode"`
	// Body is the platform's answer (truncated to a few KiB).
	Body string `json:"body"`
	// Requests is how many HTTP requests the send needed.
	Requests int `json:"requests"`
	// Note records degradations, e.g. "image dropped: too big".
	Note string `json:"note,omitempty"`
	// Pause is how long the platform asked, on a successful answer, not to
	// send to this destination again: Discord's X-RateLimit-Remaining: 0
	// with its X-RateLimit-Reset-After. The delivery stage holds the
	// channel's next send that long. Zero: no hint.
	Pause time.Duration `json:"-"`
}

// Notifier sends a message to one configured channel.
type Notifier interface {
	// Name is the channel's configured name.
	Name() string
	// Type is the platform, e.g. "wecom".
	Type() string
	// Limits tells the delivery stage how to pace this channel.
	Limits() Limits
	// Send delivers the message. Errors should be *Error so the delivery
	// stage can decide whether to retry.
	Send(ctx context.Context, m *Message) (*Result, error)
}
