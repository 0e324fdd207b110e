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

// River queues used by the pipeline. Text and charts have separate queues so
// slow charts never hold a worker that a text needs.
const (
	queueText  = "alertchart_text"
	queueChart = "alertchart_chart"
	queueMaint = "alertchart_maintenance"
	// maxAttempts is high because the pipeline bounds retries by time
	// (delivery.retryHorizon), not by count; snoozes do not count anyway.
	maxAttempts = 10000
)

// textArgs is the job that sends one delivery's text to one channel (or the
// digest it owns during a storm).
type textArgs struct {
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

// InsertOpts puts text jobs on the text queue (river.JobArgsWithInsertOpts).
func (textArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueText, MaxAttempts: maxAttempts}
}

func (a textArgs) key() store.Key { return store.Key{DeliveryID: a.DeliveryID, Channel: a.Channel} }

// textJob is the insert of a text job for k, scheduled at once.
func textJob(k store.Key) river.InsertManyParams {
	return river.InsertManyParams{Args: textArgs{DeliveryID: k.DeliveryID, Channel: k.Channel}}
}

// chartArgs is the job that sends the follow-up chart (or its note).
type chartArgs struct {
	DeliveryID string `json:"d"`
	Channel    string `json:"c"`
}

func (chartArgs) Kind() string { return store.KindChart }

// InsertOpts puts chart jobs on the chart queue.
func (chartArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueChart, MaxAttempts: maxAttempts}
}

func (a chartArgs) key() store.Key { return store.Key{DeliveryID: a.DeliveryID, Channel: a.Channel} }

// guardArgs is the safety net of the rows lanes hold on PostgreSQL: the
// rows of one channel accepted in [From, To) (Unix ms). It comes due
// laneGrace after To, when any such row still claimed by a lane belongs to
// a replica that died (see lane.go).
type guardArgs struct {
	Channel string `json:"c"`
	From    int64  `json:"f"`
	To      int64  `json:"t"`
}

func (guardArgs) Kind() string { return store.KindGuard }

// InsertOpts puts guards on the text queue.
func (guardArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueText, MaxAttempts: maxAttempts}
}

type guardWorker struct {
	river.WorkerDefaults[guardArgs]
	s *Service
}

func (w *guardWorker) Work(ctx context.Context, job *river.Job[guardArgs]) error {
	return w.s.guard(ctx, job.Args)
}

// maintenanceArgs is the periodic retention and cleanup job.
type maintenanceArgs struct{}

func (maintenanceArgs) Kind() string { return store.KindMaintenance }

// InsertOpts puts maintenance on its own queue, retried a few times only.
func (maintenanceArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueMaint, MaxAttempts: 3}
}

type textWorker struct {
	river.WorkerDefaults[textArgs]
	s *Service
}

func (w *textWorker) Work(ctx context.Context, job *river.Job[textArgs]) error {
	if wait := time.Until(time.UnixMilli(job.Args.NotBefore)); job.Args.NotBefore != 0 && wait > 0 {
		return river.JobSnooze(wait)
	}
	if !waitHeld(ctx, job.Args.key()) {
		return river.JobSnooze(time.Second) // a lane of this process is sending it
	}
	return w.s.workText(ctx, job.Args.key())
}

type chartWorker struct {
	river.WorkerDefaults[chartArgs]
	s *Service
}

func (w *chartWorker) Work(ctx context.Context, job *river.Job[chartArgs]) error {
	return w.s.workChart(ctx, job.Args.key())
}

type maintenanceWorker struct {
	river.WorkerDefaults[maintenanceArgs]
	s *Service
}

func (w *maintenanceWorker) Work(ctx context.Context, _ *river.Job[maintenanceArgs]) error {
	return w.s.maintain(ctx)
}

var clientSeq atomic.Int64

func riverConfig(cfg *Config, workers *river.Workers, logger log.Logger, pollOnly bool) *river.Config {
	host, _ := os.Hostname()
	poll := cfg.PollInterval
	cooldown := min(poll, 5*time.Millisecond)
	textQ := river.QueueConfig{MaxWorkers: cfg.Workers}
	chartQ := river.QueueConfig{MaxWorkers: cfg.Workers}
	// River waits FetchCooldown (default 100 ms) between fetches of at most
	// MaxWorkers jobs, which would cap a queue at 80 jobs/s; a few ms lets a
	// burst through. PostgreSQL wakes the fetcher by LISTEN/NOTIFY, so it
	// only polls as a fallback.
	if !pollOnly {
		poll = time.Second
	}
	textQ.FetchPollInterval, textQ.FetchCooldown = poll, cooldown
	chartQ.FetchPollInterval, chartQ.FetchCooldown = poll, cooldown
	return &river.Config{
		ID:                          fmt.Sprintf("alertchart_%s_%d_%d", host, os.Getpid(), clientSeq.Add(1)),
		Queues:                      map[string]river.QueueConfig{queueText: textQ, queueChart: chartQ, queueMaint: {MaxWorkers: 1}},
		Workers:                     workers,
		JobTimeout:                  cfg.JobTimeout,
		RescueStuckJobsAfter:        cfg.RescueAfter,
		MaxAttempts:                 maxAttempts,
		CompletedJobRetentionPeriod: time.Hour,
		Logger:                      slog.New(&slogBridge{l: logger}),
		PollOnly:                    pollOnly,
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(5*time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return maintenanceArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true, ID: "alertchart_maintenance"})},
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
