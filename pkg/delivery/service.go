package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/prometheus/alertmanager/template"
	"github.com/riverqueue/river"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Service is the durable delivery pipeline of one plugin instance.
type Service struct {
	cfg       Config
	s         *settings.Settings
	log       log.Logger
	m         *metrics
	st        *store.Store
	q         *store.Queue
	notifiers map[string]channels.Notifier
	charts    *chartCache
	chLocks   sync.Map // channel name → *sync.Mutex, see lockChannel
	lanes     map[string]*lane
	guarded   sync.Map // channel name → start (Unix ms) of the last second a committed guard covers

	dataDir string
	warning string

	closed atomic.Bool
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
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

// Open creates the queue tables if needed, re-queues work interrupted by a
// crash and starts the workers. The caller must Close the Service.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Settings == nil {
		return nil, errors.New("delivery: Config.Settings is required")
	}
	cfg.applyDefaults()
	logger := cfg.Logger
	if logger == nil {
		logger = log.NewNullLogger()
	}
	s := &Service{
		cfg:       cfg,
		s:         cfg.Settings,
		log:       logger,
		m:         newMetrics(cfg.Registerer),
		notifiers: cfg.Notifiers,
	}
	if s.notifiers == nil {
		s.notifiers = map[string]channels.Notifier{}
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.charts = newChartCache(s)

	workers := river.NewWorkers()
	river.AddWorker(workers, &textWorker{s: s})
	river.AddWorker(workers, &chartWorker{s: s})
	river.AddWorker(workers, &maintenanceWorker{s: s})
	river.AddWorker(workers, &guardWorker{s: s})

	var err error
	pollOnly := true
	switch cfg.Settings.Delivery.Queue {
	case "postgres":
		dsn := cfg.Settings.Secrets[settings.SecretPostgresDSN]
		if dsn == "" {
			s.cancel()
			return nil, errors.New("delivery: delivery.queue is postgres but secureJsonData.postgresDsn is empty")
		}
		s.st, err = store.OpenPostgres(ctx, dsn)
		pollOnly = false
	default:
		s.dataDir = cfg.DataDir
		if s.dataDir == "" {
			s.dataDir, s.warning = ChooseDataDir(cfg.Settings)
		}
		opt := store.Options{Sync: store.SyncNormal}
		if cfg.Settings.Delivery.Sync == string(store.SyncFull) {
			opt.Sync = store.SyncFull
		}
		s.st, err = store.OpenSQLite(ctx, s.dataDir, opt)
	}
	if err != nil {
		s.cancel()
		return nil, fmt.Errorf("delivery queue: %w", err)
	}
	if s.q, err = s.st.NewQueue(riverConfig(&s.cfg, workers, logger, pollOnly)); err != nil {
		s.st.Close()
		s.cancel()
		return nil, fmt.Errorf("delivery queue: river client: %w", err)
	}
	if s.st.Fresh() && s.st.SQLite() {
		if err := s.recoverLanes(ctx); err != nil {
			s.st.Close()
			s.cancel()
			return nil, fmt.Errorf("delivery queue: resume unsent texts: %w", err)
		}
	}
	s.startLanes()
	if err := s.q.Start(s.ctx); err != nil {
		_ = s.stopLanes(ctx)
		s.st.Close()
		s.cancel()
		return nil, fmt.Errorf("delivery queue: start: %w", err)
	}
	s.wg.Add(1)
	go s.gaugeLoop()
	return s, nil
}

// DataDir is the SQLite queue's directory ("" with PostgreSQL).
func (s *Service) DataDir() string { return s.dataDir }

// Warning is a health warning about the queue's durability ("" when fine),
// e.g. when the data directory is a temporary one.
func (s *Service) Warning() string { return s.warning }

// Ping checks that the queue database answers.
func (s *Service) Ping(ctx context.Context) error { return s.st.Ping(ctx) }

// Close stops taking work and waits for running deliveries until ctx ends;
// then it cancels them, and they are re-queued (a send cut short is sent
// again by the next instance: at least once, never lost).
func (s *Service) Close(ctx context.Context) error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	lanes := make(chan error, 1)
	go func() { lanes <- s.stopLanes(ctx) }()
	err := s.q.Stop(ctx)
	if err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err = s.q.StopAndCancel(cctx)
		cancel()
	}
	if lerr := <-lanes; lerr != nil {
		// Sends still running: cut them short (each is handed to River).
		s.cancel()
		_ = s.stopLanes(context.Background())
	}
	s.cancel()
	s.wg.Wait()
	s.st.Close()
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

func (s *Service) now() time.Time { return s.cfg.Now() }

// RecentAlert is one alert of a recently received notification.
type RecentAlert struct {
	Receiver   string         `json:"receiver"`
	ReceivedAt time.Time      `json:"receivedAt"`
	Alert      template.Alert `json:"alert"`
}

// Recent returns the last n alerts received, newest first (GET recent).
func (s *Service) Recent(ctx context.Context, n int) ([]RecentAlert, error) {
	if n <= 0 {
		n = 50
	}
	list, err := s.st.RecentNotifications(ctx, n)
	if err != nil {
		return nil, err
	}
	out := []RecentAlert{}
	for _, rec := range list {
		var d template.Data
		if err := json.Unmarshal([]byte(rec.Payload), &d); err != nil {
			continue
		}
		for _, a := range d.Alerts {
			if len(out) == n {
				return out, nil
			}
			out = append(out, RecentAlert{Receiver: rec.Receiver, ReceivedAt: rec.ReceivedAt.UTC(), Alert: a})
		}
	}
	return out, nil
}

// gaugeLoop refreshes the queue-depth gauge.
func (s *Service) gaugeLoop() {
	defer s.wg.Done()
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		s.updateDepth()
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) updateDepth() {
	ctx, cancel := context.WithTimeout(s.ctx, 2*time.Second)
	defer cancel()
	if text, chart, err := s.st.PendingCounts(ctx); err == nil {
		s.m.queueDepth.WithLabelValues("text").Set(float64(text))
		s.m.queueDepth.WithLabelValues("chart").Set(float64(chart))
	}
}
