// Package nochart says why an alert has no chart. The planner (chartplan)
// and the charter decide it, delivery tells the chat: a Reason is the
// machine-readable kind that records, decisions and words key on, and an
// Error carries it with the full reason for the delivery record and
// POST /preview.
//
// A chat gets only the short note of a reason, in the channel's language
// and without URLs, queries or upstream error texts:
//
//	nochart.QueryFailed.Note("zh") // 图表不可用：Prometheus 查询失败
//	nochart.QueryFailed.Note("en") // chart unavailable: the Prometheus query failed
//
// Some reasons are Quiet: the rule asked for no chart, or the health check
// already reports the cause once for every alert (no data source). They
// are worth a line in the record, not a message.
//
// This package depends only on the word catalogue, so that every stage can
// use it (delivery cannot import the charter, which implements delivery's
// Charter interface).
package nochart

import (
	"context"
	"errors"

	"github.com/alertchart/alertchart/pkg/i18n"
)

// Reason is a kind of "no chart": a catalogue id (chart.reason.*) whose
// text is the short reason a note gives. The channels package's image
// hosting reasons (channels.NoImageStore, …) are ids of the same family.
type Reason string

// Reasons found while planning (chartplan.Plan.NoChart).
const (
	// Disabled: the rule's chart_disable annotation. Quiet.
	Disabled Reason = "chart.reason.disabled"
	// NoDataSource: neither prometheus.url nor prometheus.datasourceUid is
	// set. Quiet: health says it once.
	NoDataSource Reason = "chart.reason.no_data_source"
	// NoQuery: no rule, no expression in the generatorURL and no
	// chart_query, or an expression that cannot be charted.
	NoQuery Reason = "chart.reason.no_query"
	// GrafanaNoAccess: a Grafana-managed rule, and no Grafana API (the
	// standalone server, or no service account token).
	GrafanaNoAccess Reason = "chart.reason.grafana_no_access"
	// GrafanaForbidden: Grafana refuses to let the plugin read the rule (403).
	GrafanaForbidden Reason = "chart.reason.grafana_forbidden"
	// GrafanaRuleMissing: Grafana has no rule with the alert's UID.
	GrafanaRuleMissing Reason = "chart.reason.grafana_rule_missing"
	// GrafanaRuleFailed: Grafana's alert rule API failed otherwise.
	GrafanaRuleFailed Reason = "chart.reason.grafana_rule_failed"
	// DatasourceMissing: a data source the rule queries no longer exists.
	DatasourceMissing Reason = "chart.reason.datasource_missing"
)

// Reasons found while fetching and drawing (the charter).
const (
	// QueryFailed: the Prometheus range query failed.
	QueryFailed Reason = "chart.reason.query_failed"
	// QueryTimeout: the Prometheus range query timed out (prometheus.timeout).
	QueryTimeout Reason = "chart.reason.query_timeout"
	// DatasourceQueryFailed: Grafana's /api/ds/query failed for a
	// Grafana-managed rule's queries.
	DatasourceQueryFailed Reason = "chart.reason.datasource_query_failed"
	// RenderFailed: the native renderer could not draw the data.
	RenderFailed Reason = "chart.reason.render_failed"
	// Timeout: the chart was not ready within the time it was given.
	Timeout Reason = "chart.reason.timeout"
	// Internal: anything else (a panic, an unexpected error).
	Internal Reason = "chart.reason.internal"
	// NoData: the query returned no series for the alert's window. An
	// empty "no data" image would cost a message and say nothing, so the
	// chat gets this note instead.
	NoData Reason = "chart.reason.no_data"
	// NoDataExpected: no data, and the rule fires on absent data
	// (absent(), Grafana's DatasourceNoData): the note says so.
	NoDataExpected Reason = "chart.reason.no_data_expected"
)

// Reasons delivery finds after the chart was made; they are worded the
// same way.
const (
	// SendFailed: the platform refused the chart message.
	SendFailed Reason = "chart.reason.send_failed"
	// GaveUp: delivery.retryHorizon passed before the chart could be sent.
	GaveUp Reason = "chart.reason.gave_up"
	// ChannelUnconfigured: the channel cannot be built from the settings.
	ChannelUnconfigured Reason = "chart.reason.channel_unconfigured"
)

// Quiet reports whether r is not worth a message of its own: the rule
// turned its chart off, or health already reports the cause for all alerts.
func (r Reason) Quiet() bool { return r == Disabled || r == NoDataSource }

// Text is the short reason in lang: "Prometheus 查询失败" / "the
// Prometheus query failed".
func (r Reason) Text(lang string) string {
	if !i18n.Has(string(r)) {
		return i18n.T(lang, string(Internal))
	}
	return i18n.T(lang, string(r))
}

// Note is the line a chat gets in lang: "图表不可用：Prometheus 查询失败" /
// "chart unavailable: the Prometheus query failed". It is the note even
// for a Quiet reason; whether to send it is the caller's decision.
func (r Reason) Note(lang string) string {
	return i18n.T(lang, "chart.unavailable", "reason", r.Text(lang))
}

// Error is why an alert has no chart: the kind and the full reason.
type Error struct {
	Reason Reason
	// Detail is the full reason in English, for the delivery record, the
	// plan and POST /preview: upstream errors, queries and hosts included,
	// secret values removed. Never sent to a chat.
	Detail string
	// Err is the underlying error, if any.
	Err error
}

// Error returns the full reason.
func (e *Error) Error() string {
	if e.Detail != "" {
		return e.Detail
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return string(e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// ChartReason is the reason's id. With ChartNote it lets a caller that
// cannot import this package read the kind through an interface:
//
//	var r interface{ ChartReason() string }
//	errors.As(err, &r)
func (e *Error) ChartReason() string { return string(e.Reason) }

// ChartNote is Reason.Note, or "" for a Quiet reason.
func (e *Error) ChartNote(lang string) string {
	if e.Reason.Quiet() {
		return ""
	}
	return e.Reason.Note(lang)
}

// New makes an Error of kind r with the full reason detail.
func New(r Reason, detail string) *Error { return &Error{Reason: r, Detail: detail} }

// ReasonOf is the kind of a chart error: an Error's Reason, Timeout for
// a deadline that passed, else Internal; "" for nil.
func ReasonOf(err error) Reason {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Reason
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	default:
		return Internal
	}
}

// Note is the note a chat in lang gets for a chart error: "" for nil or a
// Quiet reason, else ReasonOf(err).Note(lang).
func Note(lang string, err error) string {
	r := ReasonOf(err)
	if r == "" || r.Quiet() {
		return ""
	}
	return r.Note(lang)
}
