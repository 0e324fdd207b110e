package delivery

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofrs/flock"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
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
}

func (textArgs) Kind() string { return "alertchart_text" }

// chartArgs is the job that sends the follow-up chart (or its note).
type chartArgs struct {
	DeliveryID string `json:"d"`
	Channel    string `json:"c"`
}

func (chartArgs) Kind() string { return "alertchart_chart" }

// maintenanceArgs is the periodic retention and cleanup job.
type maintenanceArgs struct{}

func (maintenanceArgs) Kind() string { return "alertchart_maintenance" }

// backend hides which River driver (and transaction type) is in use.
type backend interface {
	begin(ctx context.Context) (txn, error)
	plain() dbtx
	start(ctx context.Context) error
	stop(ctx context.Context) error
	stopAndCancel(ctx context.Context) error
	close()
}

// txn is one database transaction in which records are written and River
// jobs inserted atomically.
type txn interface {
	db() dbtx
	enqueue(ctx context.Context, params ...river.InsertManyParams) error
	commit(ctx context.Context) error
	rollback()
}

func withTx(ctx context.Context, b backend, fn func(t txn) error) error {
	t, err := b.begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(t); err != nil {
		t.rollback()
		return err
	}
	return t.commit(ctx)
}

type riverBackend[TTx any] struct {
	client  *river.Client[TTx]
	plainDB dbtx
	beginFn func(ctx context.Context) (TTx, dbtx, func(context.Context) error, func(), error)
	closeFn func()
}

func (b *riverBackend[TTx]) begin(ctx context.Context) (txn, error) {
	tx, d, commit, rollback, err := b.beginFn(ctx)
	if err != nil {
		return nil, err
	}
	return &riverTxn[TTx]{b: b, tx: tx, d: d, commitFn: commit, rollbackFn: rollback}, nil
}

func (b *riverBackend[TTx]) plain() dbtx                     { return b.plainDB }
func (b *riverBackend[TTx]) start(ctx context.Context) error { return b.client.Start(ctx) }
func (b *riverBackend[TTx]) stop(ctx context.Context) error  { return b.client.Stop(ctx) }
func (b *riverBackend[TTx]) close()                          { b.closeFn() }
func (b *riverBackend[TTx]) stopAndCancel(ctx context.Context) error {
	return b.client.StopAndCancel(ctx)
}

type riverTxn[TTx any] struct {
	b          *riverBackend[TTx]
	tx         TTx
	d          dbtx
	commitFn   func(context.Context) error
	rollbackFn func()
}

func (t *riverTxn[TTx]) db() dbtx { return t.d }
func (t *riverTxn[TTx]) enqueue(ctx context.Context, params ...river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	_, err := t.b.client.InsertManyTx(ctx, t.tx, params)
	return err
}
func (t *riverTxn[TTx]) commit(ctx context.Context) error { return t.commitFn(ctx) }
func (t *riverTxn[TTx]) rollback()                        { t.rollbackFn() }

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
			func() (river.JobArgs, *river.InsertOpts) {
				return maintenanceArgs{}, &river.InsertOpts{Queue: queueMaint, MaxAttempts: 3}
			}, &river.PeriodicJobOpts{RunOnStart: true, ID: "alertchart_maintenance"})},
	}
}

// ---- SQLite ----

// sharedSQLite lets a Service created by a settings change share the SQLite
// pool with the one it replaces (the SDK disposes the old instance 5 s
// later): one connection, so writers never race for SQLite's lock.
type sharedSQLite struct {
	lock  *flock.Flock
	db    *sql.DB
	conn  *gatedConnector
	cache *stmtCache
	refs  int
}

var sqliteMu sync.Mutex
var sqliteDBs = map[string]*sharedSQLite{}

func openSQLite(ctx context.Context, cfg *Config, dir string, workers *river.Workers, logger log.Logger) (backend, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	path, err := filepath.Abs(filepath.Join(dir, "delivery.db"))
	if err != nil {
		return nil, err
	}
	sqliteMu.Lock()
	defer sqliteMu.Unlock()
	sh := sqliteDBs[path]
	first := sh == nil
	if first {
		// One process owns a data directory: a second one would take the
		// first one's running jobs for abandoned ones (see below) and send
		// them again. The lock is released by the OS if the process dies.
		lock := flock.New(filepath.Join(filepath.Dir(path), "delivery.lock"))
		ok, err := lock.TryLock()
		if err != nil {
			return nil, fmt.Errorf("lock data directory %s: %w", dir, err)
		}
		if !ok {
			return nil, fmt.Errorf("data directory %s is in use by another AlertChart process (%s is locked); "+
				"give each process its own delivery.dataDir, or use delivery.queue \"postgres\" to share one queue", dir, lock.Path())
		}
		dsn := "file:" + filepath.ToSlash(path) +
			"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		conn, err := newGatedConnector(dsn)
		if err != nil {
			_ = lock.Unlock()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		// Logical connections are free (they share the one physical
		// connection through the gate), so database/sql never makes anyone
		// wait: the gate alone orders the work, urgent first.
		db := sql.OpenDB(conn)
		db.SetMaxOpenConns(0)
		db.SetMaxIdleConns(64)
		if err := db.PingContext(ctx); err != nil {
			_ = db.Close()
			_ = conn.closePhysical()
			_ = lock.Unlock()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		sh = &sharedSQLite{lock: lock, db: db, conn: conn, cache: newStmtCache(db)}
	}
	driver := riversqlite.New(sh.db)
	fail := func(err error) (backend, error) {
		if first {
			_ = sh.db.Close()
			_ = sh.conn.closePhysical()
			_ = sh.lock.Unlock()
		}
		return nil, err
	}
	if first {
		if err := migrate(ctx, driver); err != nil {
			return fail(err)
		}
		if err := migrateOwn(ctx, sqlDB{q: sh.db}, sqliteDialect); err != nil {
			return fail(err)
		}
		// This process is the only user of the file and no Service of it has
		// it open, so any job still "running" belongs to a process that died
		// (kill -9, power loss): hand it back to the queue at once instead of
		// waiting for River's stuck-job rescuer.
		if _, err := sh.db.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running'`); err != nil {
			return fail(fmt.Errorf("requeue interrupted jobs: %w", err))
		}
	}
	client, err := river.NewClient(driver, riverConfig(cfg, workers, logger, true))
	if err != nil {
		return fail(fmt.Errorf("river client: %w", err))
	}
	sh.refs++
	sqliteDBs[path] = sh
	return &riverBackend[*sql.Tx]{
		client:  client,
		plainDB: sqlDB{q: sh.db, cache: sh.cache},
		beginFn: func(ctx context.Context) (*sql.Tx, dbtx, func(context.Context) error, func(), error) {
			tx, err := sh.db.BeginTx(ctx, nil)
			if err != nil {
				return nil, nil, nil, nil, err
			}
			return tx, sqlDB{q: tx, cache: sh.cache, tx: tx}, func(context.Context) error { return tx.Commit() }, func() { _ = tx.Rollback() }, nil
		},
		closeFn: func() {
			sqliteMu.Lock()
			defer sqliteMu.Unlock()
			sh.refs--
			if sh.refs == 0 {
				delete(sqliteDBs, path)
				_ = sh.db.Close()
				_ = sh.conn.closePhysical()
				_ = sh.lock.Unlock()
			}
		},
	}, nil
}

func migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

// ---- PostgreSQL ----

// pgMigrationLock serialises schema migrations of replicas starting together.
const pgMigrationLock = 7402_3001

func openPostgres(ctx context.Context, cfg *Config, dsn string, workers *river.Workers, logger log.Logger) (backend, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	fail := func(err error) (backend, error) {
		pool.Close()
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		return fail(fmt.Errorf("postgres: %w", err))
	}
	driver := riverpgxv5.New(pool)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fail(fmt.Errorf("postgres: %w", err))
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, pgMigrationLock); err != nil {
		conn.Release()
		return fail(fmt.Errorf("postgres migration lock: %w", err))
	}
	merr := migrate(ctx, driver)
	if merr == nil {
		merr = migrateOwn(ctx, pgxDB{pool}, postgresDialect)
	}
	_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, pgMigrationLock)
	conn.Release()
	if merr != nil {
		return fail(merr)
	}
	client, err := river.NewClient(driver, riverConfig(cfg, workers, logger, false))
	if err != nil {
		return fail(fmt.Errorf("river client: %w", err))
	}
	return &riverBackend[pgx.Tx]{
		client:  client,
		plainDB: pgxDB{pool},
		beginFn: func(ctx context.Context) (pgx.Tx, dbtx, func(context.Context) error, func(), error) {
			tx, err := pool.Begin(ctx)
			if err != nil {
				return nil, nil, nil, nil, err
			}
			return tx, pgxDB{tx}, tx.Commit, func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }, nil
		},
		closeFn: pool.Close,
	}, nil
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
