package delivery

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// Service is one app instance's handle on the delivery pipeline: it accepts
// its organisation's notifications and reads its organisation's records.
// The work itself is done by the process's engine for the queue database
// (see engine.go), with the organisation's newest settings (register.go).
type Service struct {
	e      *engine
	rt     *orgRuntime
	closed atomic.Bool
}

// AcceptResult is the answer to an accepted webhook.
type AcceptResult struct {
	// ID of the notification (a ULID), shown in the delivery records.
	ID string `json:"id"`
	// Alerts in the notification.
	Alerts int `json:"alerts"`
	// Duplicates is how many of them every channel had already received
	// within delivery.dedupeWindow (they are recorded but not sent again).
	Duplicates int `json:"duplicates"`
}

// Open registers an organisation's settings, notifiers and charter with
// the process's delivery engine for the queue database the settings name,
// opening it if needed: the tables are created, work a crash interrupted
// is queued again and the workers start. The newest Service of an
// organisation is the one whose settings send its deliveries. The caller
// must Close the Service.
//
// A queue that cannot be opened is an error, unless Config.RetryOpen is
// set: then Open returns a Service whose engine keeps trying in the
// background, Accept answers ErrQueueUnavailable meanwhile, and Status says
// why.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Settings == nil {
		return nil, errors.New("delivery: Config.Settings is required")
	}
	cfg.applyDefaults()
	e, rt, err := attach(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Service{e: e, rt: rt}, nil
}

// Org is the Grafana organisation of the Service.
func (s *Service) Org() int64 { return s.rt.org }

// DataDir is the SQLite queue's directory ("" with PostgreSQL).
func (s *Service) DataDir() string { return s.e.dataDir }

// Warning is a health warning about the queue's durability ("" when fine),
// e.g. when the data directory is a temporary one.
func (s *Service) Warning() string { return s.e.warning }

// Ping checks that the queue database answers.
func (s *Service) Ping(ctx context.Context) error {
	if err := s.e.unavailable(); err != nil {
		return err
	}
	return s.e.st.Ping(ctx)
}

// Close withdraws the organisation's registration (an older Service of the
// same organisation still open becomes current again) and drops the
// Service's reference on the engine. The last reference stops the engine:
// it stops taking work and waits for running deliveries until ctx ends;
// then it cancels them, and they are re-queued (a send cut short is sent
// again by the next process: at least once, never lost).
func (s *Service) Close(ctx context.Context) error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.e.unregister(s.rt)
	return s.e.release(ctx)
}

// QueueStatus is what health reports about the queue database.
type QueueStatus struct {
	// Queue is "sqlite" or "postgres".
	Queue string
	// Err is why the queue cannot take work now: it could not be opened
	// (Retrying: the engine keeps trying) or does not answer. nil when it
	// works.
	Err      error
	Retrying bool
	// Backlog is how many of the organisation's texts wait, the oldest
	// since Oldest (zero when none waits).
	Backlog int64
	Oldest  time.Time
}

// Status probes the queue database (a few seconds at most).
func (s *Service) Status(ctx context.Context) QueueStatus {
	st := QueueStatus{Queue: s.e.queue}
	if err := s.e.unavailable(); err != nil {
		st.Err, st.Retrying = err, !s.e.closed.Load()
		return st
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	n, oldest, err := s.e.st.Backlog(ctx, s.rt.org)
	if err != nil {
		st.Err = err
		return st
	}
	st.Backlog, st.Oldest = n, oldest
	return st
}
