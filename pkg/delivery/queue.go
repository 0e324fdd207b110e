package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/riverqueue/river"

	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// maxAttempts is high because the pipeline bounds retries by time
// (delivery.retryHorizon), not by count; snoozes do not count anyway.
const maxAttempts = 10000

// orgOf is a job's organisation: jobs of versions before organisations
// carry none and are the main organisation's.
func orgOf(org int64) int64 {
	if org == 0 {
		return 1
	}
	return org
}

// textArgs is the job that sends one delivery's text to one channel (or the
// digest it owns during a storm).
type textArgs struct {
	Org        int64  `json:"o,omitempty"`
	DeliveryID string `json:"d"`
	Channel    string `json:"c"`
	// NotBefore (Unix ms), when set, is the earliest the text is tried (a
	// lane's failed first attempt handed to River with its backoff). The job
	// is inserted available and snoozes until then, like a River retry: a
	// job inserted with ScheduledAt would wait for River's scheduler, which
	// runs every 5 s.
	NotBefore int64 `json:"n,omitempty"`
}

func (textArgs) Kind() string { return store.KindText }

// InsertOpts puts text jobs on their organisation's text queue
// (river.JobArgsWithInsertOpts).
func (a textArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: store.QueueText(orgOf(a.Org)), MaxAttempts: maxAttempts}
}

func (a textArgs) key() store.Key {
	return store.Key{Org: orgOf(a.Org), DeliveryID: a.DeliveryID, Channel: a.Channel}
}

// textJob is the insert of a text job for k, scheduled at once.
func textJob(k store.Key) river.InsertManyParams {
	return river.InsertManyParams{Args: textArgs{Org: k.Org, DeliveryID: k.DeliveryID, Channel: k.Channel}}
}

// chartArgs is the job that sends the follow-up chart (or its note).
type chartArgs struct {
	Org        int64  `json:"o,omitempty"`
	DeliveryID string `json:"d"`
	Channel    string `json:"c"`
}

func (chartArgs) Kind() string { return store.KindChart }

// InsertOpts puts chart jobs on their organisation's chart queue.
func (a chartArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: store.QueueChart(orgOf(a.Org)), MaxAttempts: maxAttempts}
}

func (a chartArgs) key() store.Key {
	return store.Key{Org: orgOf(a.Org), DeliveryID: a.DeliveryID, Channel: a.Channel}
}

// unregisteredSnooze is how long a job waits when its organisation has no
// runtime in this process (it registered its queues and then went away: the
// process is shutting down, or its queue is being removed).
var unregisteredSnooze = 10 * time.Second // a variable for tests

type textWorker struct {
	river.WorkerDefaults[textArgs]
	e *engine
}

func (w *textWorker) Work(ctx context.Context, job *river.Job[textArgs]) error {
	if wait := time.Until(time.UnixMilli(job.Args.NotBefore)); job.Args.NotBefore != 0 && wait > 0 {
		return river.JobSnooze(wait)
	}
	k := job.Args.key()
	rt := w.e.current(k.Org)
	if rt == nil {
		return river.JobSnooze(unregisteredSnooze)
	}
	if !waitHeld(ctx, k) {
		return river.JobSnooze(time.Second) // a lane of this process is sending it
	}
	return rt.workText(ctx, k)
}

type chartWorker struct {
	river.WorkerDefaults[chartArgs]
	e *engine
}

func (w *chartWorker) Work(ctx context.Context, job *river.Job[chartArgs]) error {
	k := job.Args.key()
	rt := w.e.current(k.Org)
	if rt == nil {
		return river.JobSnooze(unregisteredSnooze)
	}
	return rt.workChart(ctx, k)
}

var clientSeq atomic.Int64

// queueConfigs are the River settings of an organisation's text and chart
// queues.
func queueConfigs(cfg *Config, pollOnly bool) (text, chart river.QueueConfig) {
	poll := cfg.PollInterval
	cooldown := min(poll, 5*time.Millisecond)
	// River waits FetchCooldown (default 100 ms) between fetches of at most
	// MaxWorkers jobs, which would cap a queue at 80 jobs/s; a few ms lets a
	// burst through. PostgreSQL wakes the fetcher by LISTEN/NOTIFY, so it
	// only polls as a fallback. On SQLite River polls (PollOnly): the jobs
	// are inserted in this package's own transactions (InsertManyTx, the
	// outbox), which River does not announce to its producers, and a
	// snoozed job becomes due without any announcement at all. (River's
	// SQLite listener would not help: it polls a notification table every
	// 50 ms itself.)
	if !pollOnly {
		poll = time.Second
	}
	text = river.QueueConfig{MaxWorkers: cfg.Workers, FetchPollInterval: poll, FetchCooldown: cooldown}
	chart = river.QueueConfig{MaxWorkers: cfg.Workers, FetchPollInterval: poll, FetchCooldown: cooldown}
	return text, chart
}

// riverConfig is the River client of an engine, working the queues of the
// given organisations (more are added as they register).
func riverConfig(cfg *Config, workers *river.Workers, logger log.Logger, pollOnly bool, orgs []int64) *river.Config {
	host, _ := os.Hostname()
	queues := map[string]river.QueueConfig{}
	for _, org := range orgs {
		queues[store.QueueText(org)], queues[store.QueueChart(org)] = queueConfigs(cfg, pollOnly)
	}
	return &river.Config{
		ID:                          fmt.Sprintf("alertchart_%s_%d_%d_%d", host, os.Getpid(), time.Now().UnixMilli(), clientSeq.Add(1)),
		Queues:                      queues,
		Workers:                     workers,
		JobTimeout:                  cfg.JobTimeout,
		RescueStuckJobsAfter:        cfg.RescueAfter,
		MaxAttempts:                 maxAttempts,
		CompletedJobRetentionPeriod: time.Hour,
		Logger:                      slog.New(&slogBridge{l: logger}),
		PollOnly:                    pollOnly,
	}
}

// ---- logging ----

// slogBridge forwards River's warnings and errors to the plugin logger;
// River's debug and info chatter is dropped.
type slogBridge struct {
	l     log.Logger
	attrs []any
}

func (h *slogBridge) Enabled(_ context.Context, l slog.Level) bool {
	return h.l != nil && l >= slog.LevelWarn
}

func (h *slogBridge) Handle(_ context.Context, r slog.Record) error {
	args := append([]any{}, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		args = append(args, a.Key, a.Value.String())
		return true
	})
	if r.Level >= slog.LevelError {
		h.l.Error("river: "+r.Message, args...)
	} else {
		h.l.Warn("river: "+r.Message, args...)
	}
	return nil
}

func (h *slogBridge) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := &slogBridge{l: h.l, attrs: append([]any{}, h.attrs...)}
	for _, a := range attrs {
		n.attrs = append(n.attrs, a.Key, a.Value.String())
	}
	return n
}

func (h *slogBridge) WithGroup(string) slog.Handler { return h }
