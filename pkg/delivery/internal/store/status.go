package store

import "strconv"

// Status is the text state of one delivery to one channel
// (alertchart_channel.status).
type Status string

const (
	// Pending: the text has not been sent yet (it may be waiting for a rate
	// slot, a retry, or a digest).
	Pending Status = "pending"
	// Sent: the text (alone, with its chart, or in a digest) reached the channel.
	Sent Status = "sent"
	// Failed: given up (permanent error or delivery.retryHorizon).
	Failed Status = "failed"
	// Deduplicated: every alert had already gone to the channel within
	// delivery.dedupeWindow; nothing is sent.
	Deduplicated Status = "deduplicated"
)

// ChartState is the follow-up chart state of one delivery to one channel
// (alertchart_channel.chart_state).
type ChartState string

const (
	// ChartNone: no chart follow-up (none wanted, or not decided yet).
	ChartNone ChartState = ""
	// ChartPending: a chart job will send the chart or its note.
	ChartPending ChartState = "pending"
	// ChartDone: the chart (or the note saying why there is none) went out.
	ChartDone ChartState = "done"
	// ChartSkipped: no chart was sent, to save a robot's rate budget or
	// because the chart could not be made in time; chart_note says why.
	ChartSkipped ChartState = "skipped"
)

// isPending and isChartPending are the conditions of the partial indexes on
// alertchart_channel, written out (not as parameters) so that both
// databases' planners see that a query's rows are in the index.
const (
	isPending      = "status = '" + string(Pending) + "'"
	isChartPending = "chart_state = '" + string(ChartPending) + "'"
)

// River job kinds of the pipeline. The store names them because a few
// statements look at River's jobs (is a pending text's job still there?).
const (
	KindText  = "alertchart_text"
	KindChart = "alertchart_chart"
	// Kinds of earlier versions, removed by migrateJobs.
	kindGuard       = "alertchart_lane_guard"
	kindMaintenance = "alertchart_maintenance"
)

// Each organisation's jobs have River queues of their own, worked only by
// processes that have its settings: a job is never taken by a process, or
// with settings, of another organisation. Texts and charts have separate
// queues so slow charts never hold a worker that a text needs.
const (
	legacyQueueText  = "alertchart_text"
	legacyQueueChart = "alertchart_chart"
)

// QueueText is org's River queue of text jobs.
func QueueText(org int64) string { return legacyQueueText + "_" + strconv.FormatInt(org, 10) }

// QueueChart is org's River queue of chart jobs.
func QueueChart(org int64) string { return legacyQueueChart + "_" + strconv.FormatInt(org, 10) }
