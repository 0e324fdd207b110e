package delivery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/riverqueue/river"

	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
	"github.com/alertchart/alertchart/pkg/settings"
)

// An engine is the delivery machinery of one queue database in this
// process: the store, the River client, the lanes, the chart cache, the
// heartbeat and the reconnect loop. Grafana runs one plugin process for all
// organisations and builds an app instance per organisation — and a new one
// per settings save, keeping the old one five seconds — so several Services
// share an engine, reference-counted: each registers its organisation's
// runtime (settings, notifiers, charter), and the newest registration of an
// organisation is the one every job and lane of that organisation uses.
//
// Each organisation's jobs have River queues of their own
// (store.QueueText/QueueChart), added to the client when the organisation
// registers: a process only works the jobs of organisations whose settings
// it has, and always with those settings. An organisation whose instance
// has not been built since a restart keeps its jobs queued, untouched,
// until it registers.
type engine struct {
	key  string
	cfg  Config // tunables of the Service that opened it (its Settings, Notifiers and Charter are not used)
	log  log.Logger
	m    *metrics
	open func(ctx context.Context) (*store.Store, error)

	dataDir string
	warning string
	queue   string // "sqlite" or "postgres"

	st      *store.Store // set once connected
	q       *store.Queue
	replica string // the River client's id: this engine's name among replicas
	ready   atomic.Bool
	epoch   atomic.Int64 // bumped when other replicas took this one's lane rows over

	// qmu serialises adding organisations' River queues. Adding one writes
	// to the queue database, so it never happens under mu: a group commit
	// holding the database calls back into laneFor, which takes mu.
	qmu sync.Mutex

	mu     sync.Mutex
	refs   int
	regs   map[int64][]*orgRuntime // registrations by organisation, oldest first
	queues map[int64]bool          // organisations whose queues the River client works
	lanes  map[laneKey]*lane
	// stopping are lanes stopped but maybe still handing their texts to
	// River: closing waits for them.
	stopping []*lane
	connErr  error    // why the queue is not (or no longer) usable; nil when it is
	cur      sync.Map // org → *orgRuntime: the newest registration

	// orphans are rows a dead replica held that its take-over could not
	// give text jobs yet (liveness.go): tried again at every heartbeat.
	orphanMu   sync.Mutex
	orphans    []store.Key
	takingOver atomic.Bool // a take-over runs (one at a time)

	chLocks sync.Map // laneKey → *sync.Mutex, see lockChannel
	charts  *chartCache

	closed atomic.Bool
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// engines are this process's engines by queue database.
var engines = struct {
	sync.Mutex
	m map[string]*engine
}{m: map[string]*engine{}}

// attach registers a runtime for cfg's organisation with the process's
// engine for cfg's queue database, creating and connecting the engine if
// there is none, and takes a reference on it. A first connection that
// fails is an error unless cfg.RetryOpen is set: then the engine keeps
// trying in the background.
func attach(ctx context.Context, cfg Config) (*engine, *orgRuntime, error) {
	key, e, err := newEngine(cfg)
	if err != nil {
		return nil, nil, err
	}
	engines.Lock()
	defer engines.Unlock()
	if cur := engines.m[key]; cur != nil {
		cur.mu.Lock()
		cur.refs++
		cur.mu.Unlock()
		rt := newRuntime(cur, cfg)
		cur.register(rt)
		return cur, rt, nil
	}
	e.refs = 1
	rt := newRuntime(e, cfg)
	e.register(rt)
	if err := e.connect(ctx); err != nil {
		if !cfg.RetryOpen {
			e.cancel()
			return nil, nil, err
		}
		e.setErr(err)
		e.log.Error("delivery: the queue cannot be opened; retrying in the background (webhooks answer 503 meanwhile)", "error", err)
		e.wg.Add(1)
		go e.reconnect()
	}
	engines.m[key] = e
	return e, rt, nil
}

func newEngine(cfg Config) (string, *engine, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = log.NewNullLogger()
	}
	e := &engine{cfg: cfg, log: logger, regs: map[int64][]*orgRuntime{}, queues: map[int64]bool{}, lanes: map[laneKey]*lane{}}
	switch cfg.Settings.Delivery.Queue {
	case "postgres":
		dsn := cfg.Settings.Secrets[settings.SecretPostgresDSN]
		if dsn == "" {
			return "", nil, errors.New("delivery: delivery.queue is postgres but secureJsonData.postgresDsn is empty")
		}
		e.queue, e.key = "postgres", "postgres:"+dsn
		e.open = func(ctx context.Context) (*store.Store, error) { return store.OpenPostgres(ctx, dsn) }
	default:
		e.dataDir = cfg.DataDir
		if e.dataDir == "" {
			e.dataDir, e.warning = ChooseDataDir(cfg.Settings)
		}
		if abs, err := filepath.Abs(e.dataDir); err == nil {
			e.dataDir = abs
		}
		opt := store.Options{Sync: store.SyncNormal}
		if cfg.Settings.Delivery.Sync == string(store.SyncFull) {
			opt.Sync = store.SyncFull
		}
		e.queue, e.key = "sqlite", "sqlite:"+e.dataDir
		dir := e.dataDir
		e.open = func(ctx context.Context) (*store.Store, error) { return store.OpenSQLite(ctx, dir, opt) }
	}
	e.m = newMetrics(cfg.Registerer)
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.charts = newChartCache(e)
	return e.key, e, nil
}

// connect opens the database and starts the River client, the lanes and
// the background loops.
func (e *engine) connect(ctx context.Context) error {
	st, err := e.open(ctx)
	if err != nil {
		return fmt.Errorf("delivery queue: %w", err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &textWorker{e: e})
	river.AddWorker(workers, &chartWorker{e: e})
	e.mu.Lock()
	orgs := make([]int64, 0, len(e.regs))
	for org := range e.regs {
		orgs = append(orgs, org)
	}
	e.mu.Unlock()
	rcfg := riverConfig(&e.cfg, workers, e.log, st.SQLite(), orgs)
	q, err := st.NewQueue(rcfg)
	if err != nil {
		st.Close()
		return fmt.Errorf("delivery queue: river client: %w", err)
	}
	e.st, e.q, e.replica = st, q, rcfg.ID
	if st.Fresh() && st.SQLite() {
		if err := e.recoverLanes(ctx); err != nil {
			st.Close()
			return fmt.Errorf("delivery queue: resume unsent texts: %w", err)
		}
	}
	if !st.SQLite() {
		// Announce this replica before its lanes hold anything.
		if _, err := st.Beat(ctx, e.replica, hostname()); err != nil {
			st.Close()
			return fmt.Errorf("delivery queue: heartbeat: %w", err)
		}
	}
	e.mu.Lock()
	for _, org := range orgs {
		e.queues[org] = true
	}
	e.ready.Store(true)
	e.connErr = nil
	registered := make([]int64, 0, len(e.regs))
	for org := range e.regs {
		e.activateLocked(org)
		registered = append(registered, org)
	}
	e.mu.Unlock()
	for _, org := range registered {
		e.ensureQueues(org)
	}
	if err := q.Start(e.ctx); err != nil {
		e.ready.Store(false)
		_ = e.stopLanes(ctx)
		st.Close()
		return fmt.Errorf("delivery queue: start: %w", err)
	}
	e.wg.Add(2)
	go e.gaugeLoop()
	go e.maintenanceLoop()
	if !st.SQLite() {
		e.wg.Add(1)
		go e.livenessLoop()
	}
	return nil
}

// reconnect retries connect with backoff until it succeeds or the engine
// closes: a queue database that was down when the process started (a
// cluster restart where Grafana comes up first) is used as soon as it
// answers, without a settings save or a restart.
func (e *engine) reconnect() {
	defer e.wg.Done()
	wait := 500 * time.Millisecond
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-time.After(wait):
		}
		ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
		err := e.connect(ctx)
		cancel()
		if err == nil {
			e.log.Info("delivery: the queue is open", "queue", e.queue)
			return
		}
		if e.ctx.Err() != nil {
			return
		}
		e.setErr(err)
		wait = min(2*wait, reconnectMax)
	}
}

// reconnectMax is the longest wait between two attempts to open the queue.
const reconnectMax = 3 * time.Second

func (e *engine) setErr(err error) {
	e.mu.Lock()
	e.connErr = err
	e.mu.Unlock()
}

// unavailable is why the queue cannot take work now (nil when it can).
func (e *engine) unavailable() error {
	if e.ready.Load() {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.connErr != nil {
		return fmt.Errorf("%w: %v", ErrQueueUnavailable, e.connErr)
	}
	return ErrQueueUnavailable
}

// release drops a reference; the last one closes the engine: the lanes hand
// their waiting texts to River, running sends finish until ctx ends and are
// then cancelled (re-queued: at least once, never lost).
func (e *engine) release(ctx context.Context) error {
	engines.Lock()
	defer engines.Unlock()
	e.mu.Lock()
	e.refs--
	last := e.refs == 0
	e.mu.Unlock()
	if !last {
		return nil
	}
	if engines.m[e.key] == e {
		delete(engines.m, e.key)
	}
	return e.close(ctx)
}

func (e *engine) close(ctx context.Context) error {
	if !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	if !e.ready.Load() {
		e.cancel()
		e.wg.Wait()
		if e.ready.Load() { // connected while closing
			return e.shutdown(ctx)
		}
		return nil
	}
	return e.shutdown(ctx)
}

func (e *engine) shutdown(ctx context.Context) error {
	lanes := make(chan error, 1)
	go func() { lanes <- e.stopLanes(ctx) }()
	err := e.q.Stop(ctx)
	if err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err = e.q.StopAndCancel(cctx)
		cancel()
	}
	if lerr := <-lanes; lerr != nil {
		// Sends still running: cut them short (each is handed to River).
		e.cancel()
		_ = e.stopLanes(context.Background())
	}
	e.cancel()
	e.wg.Wait()
	if !e.st.SQLite() {
		lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := e.st.Leave(lctx, e.replica); err != nil {
			e.log.Warn("delivery: could not remove this replica's heartbeat", "error", err)
		}
		cancel()
	}
	e.st.Close()
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

func (e *engine) now() time.Time { return e.cfg.Now() }

func hostname() string {
	h, _ := os.Hostname()
	return h
}

// gaugeLoop refreshes the queue-depth gauge.
func (e *engine) gaugeLoop() {
	defer e.wg.Done()
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(e.ctx, 2*time.Second)
		if text, chart, err := e.st.PendingCounts(ctx); err == nil {
			e.m.queueDepth.WithLabelValues("text").Set(float64(text))
			e.m.queueDepth.WithLabelValues("chart").Set(float64(chart))
		}
		cancel()
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
		}
	}
}
