// Package channels defines how a notification reaches a chat platform. Each
// platform lives in its own small sub-package behind the Notifier interface,
// in the manner of Alertmanager's notify/ packages; templating and error
// classification live here, once. Retries, rate limits and queueing belong
// to the delivery package, not to the integrations.
package channels

import (
	"context"
	"errors"
	"fmt"
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

// Limits describes a channel's platform constraints.
type Limits struct {
	// PerMinute is the robot's message limit (0 = no known limit).
	PerMinute int
	// CombinesTextAndImage is true when one message can carry both text and
	// chart (so PartBoth costs one message).
	CombinesTextAndImage bool
	// MessagesPerSend is how many platform messages one Send of PartBoth
	// costs (e.g. WeCom: markdown + image = 2).
	MessagesPerSend int
}

// Coster is implemented by notifiers whose Send does not always cost the
// same number of platform messages: a WeCom text with @mobile mentions is
// followed by a mention message, a Telegram alert too long for a photo
// caption goes as photo plus text. The delivery stage reserves that many of
// the robot's rate-limit slots before it sends, so the limit holds exactly.
type Coster interface {
	Cost(m *Message) int
}

// CostOf is how many platform messages sending m through n costs: the
// notifier's own Cost when it has one, else MessagesPerSend for a combined
// message and one for anything else.
func CostOf(n Notifier, m *Message) int {
	if c, ok := n.(Coster); ok {
		return max(1, c.Cost(m))
	}
	if m.Part == PartBoth {
		return max(1, n.Limits().MessagesPerSend)
	}
	return 1
}

// ErrorKind classifies a failed send.
type ErrorKind string

const (
	// Retryable: rate limit, 5xx, timeout, connection error.
	Retryable ErrorKind = "retryable"
	// Permanent: bad key, bad signature, keyword missing, bad request.
	Permanent ErrorKind = "permanent"
	// TooBig: the message or image exceeds a platform limit; shrink and retry once.
	TooBig ErrorKind = "too_big"
	// BadCredentials: fail fast, surface in health and records.
	BadCredentials ErrorKind = "bad_credentials"
)

// Error is a classified send failure.
type Error struct {
	Kind ErrorKind
	// RetryAfter is the platform's requested wait, when it gave one.
	RetryAfter time.Duration
	// StatusCode and Code are the HTTP status and the platform's errcode/code.
	StatusCode int
	Code       int
	Msg        string
	Err        error
	// Sent says what reached the platform before the failure (e.g. the
	// text of a PartBoth send whose image then failed), so a retry can send
	// only the rest; empty means nothing was delivered.
	Sent Part
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s", e.Kind, e.Msg)
	if e.StatusCode != 0 {
		s += fmt.Sprintf(" (HTTP %d", e.StatusCode)
		if e.Code != 0 {
			s += fmt.Sprintf(", code %d", e.Code)
		}
		s += ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of err; unclassified errors are Retryable, since a
// retry is the safe choice for an alert.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Retryable
}

// RetryAfterOf returns the wait the platform asked for, or 0.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
