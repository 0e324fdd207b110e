// Package store is the storage half of the delivery pipeline: every SQL
// statement the pipeline runs, the schema next to River's tables, the SQLite
// priority gate, group commit, and the River client bound to the same
// database. The delivery package decides what to send and when; this package
// only remembers it, on SQLite (modernc.org/sqlite, CGO-free) or PostgreSQL
// (pgx), with the same statements ($1-style placeholders, times as Unix
// milliseconds) on both.
//
// A Store is one caller's handle on a database. Handles on the same SQLite
// file share one physical connection, its statement cache and its group
// committer (a settings change opens the new pipeline before the old one is
// closed); a Queue is one River client working that database.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gofrs/flock"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// ErrNoRows is returned when a looked-up row does not exist, on both drivers.
var ErrNoRows = errors.New("no rows")

// ErrClosed is returned by work submitted to a closed Store.
var ErrClosed = errors.New("delivery store is closed")

// Options tune how a database is opened.
type Options struct {
	// Sync is the SQLite durability of accepted notifications (zero:
	// SyncNormal; see Sync). PostgreSQL ignores it: its synchronous_commit
	// is the server's.
	Sync Sync
}

// Store is one handle on the delivery database. Its embedded DB runs
// statements outside any transaction.
type Store struct {
	DB
	sh    *sharedSQLite // SQLite: the process-wide state of the file
	pool  *pgxpool.Pool // PostgreSQL
	batch *committer
	fresh bool
	once  sync.Once
}

// Fresh reports whether this handle opened the database for the process:
// nothing of this process has worked on it yet, so work a crash left
// unfinished can be taken back without asking anyone.
func (s *Store) Fresh() bool { return s.fresh }

// SQLite reports whether the database is the embedded SQLite file.
func (s *Store) SQLite() bool { return s.sh != nil }

// Close releases the handle; the last handle on a SQLite file closes it.
func (s *Store) Close() {
	s.once.Do(func() {
		if s.sh != nil {
			s.sh.release()
			return
		}
		s.batch.close()
		s.pool.Close()
	})
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.x.queryRow(ctx, `SELECT 1`).Scan(&one)
}

// ---- SQLite ----

// sharedSQLite is the process-wide state of one SQLite file: its lock, the
// one physical connection behind the gate, the statement cache and the group
// committer.
type sharedSQLite struct {
	path  string
	lock  *flock.Flock
	db    *sql.DB
	conn  *gatedConnector
	cache *stmtCache
	batch *committer
	wal   *walSyncer // nil with SyncNormal
	ckpt  *checkpointer
	refs  int
}

var (
	sqliteMu  sync.Mutex
	sqliteDBs = map[string]*sharedSQLite{}
)

// SQLiteFile is the SQLite queue's file name inside the data directory.
const SQLiteFile = "delivery.db"

// OpenSQLite opens (creating if needed) delivery.db in dir. One process owns
// a data directory: a second one would take the first one's running jobs
// for abandoned ones and send them again, so dir is locked (delivery.lock,
// released by the OS when the process dies) and a locked dir is refused.
// Within the process, handles share the file. The first handle migrates the
// schema and makes jobs a crashed process left running available again.
func OpenSQLite(ctx context.Context, dir string, opt Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	path, err := filepath.Abs(filepath.Join(dir, SQLiteFile))
	if err != nil {
		return nil, err
	}
	sqliteMu.Lock()
	defer sqliteMu.Unlock()
	sh := sqliteDBs[path]
	fresh := sh == nil
	if fresh {
		if sh, err = openSQLiteFile(ctx, dir, path, opt); err != nil {
			return nil, err
		}
		sqliteDBs[path] = sh
	}
	sh.refs++
	st := &Store{DB: DB{x: sqlDB{q: sh.db, cache: sh.cache}, d: &sqliteDialect}, sh: sh, batch: sh.batch, fresh: fresh}
	return st, nil
}

func openSQLiteFile(ctx context.Context, dir, path string, opt Options) (*sharedSQLite, error) {
	lock := flock.New(filepath.Join(filepath.Dir(path), "delivery.lock"))
	ok, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock data directory %s: %w", dir, err)
	}
	if !ok {
		return nil, fmt.Errorf("data directory %s is in use by another AlertChart process (%s is locked); "+
			"give each process its own delivery.dataDir, or use delivery.queue \"postgres\" to share one queue", dir, lock.Path())
	}
	file := "file:" + filepath.ToSlash(path) + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(0)"
	conn, err := newGatedConnector(file + "&_pragma=busy_timeout(10000)&_txlock=immediate")
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
	sh := &sharedSQLite{path: path, lock: lock, db: db, conn: conn, cache: newStmtCache(db)}
	fail := func(err error) (*sharedSQLite, error) {
		_ = db.Close()
		_ = conn.closePhysical()
		_ = lock.Unlock()
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		return fail(fmt.Errorf("open %s: %w", path, err))
	}
	if err := migrateRiver(ctx, riversqlite.New(db)); err != nil {
		return fail(err)
	}
	plain := DB{x: sqlDB{q: db}, d: &sqliteDialect}
	if err := plain.migrate(ctx); err != nil {
		return fail(err)
	}
	// This process is the only user of the file and nothing of it has it
	// open, so any job still "running" belongs to a process that died
	// (kill -9, power loss): hand it back to the queue at once instead of
	// waiting for River's stuck-job rescuer.
	if _, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running'`); err != nil {
		return fail(fmt.Errorf("requeue interrupted jobs: %w", err))
	}
	if sh.ckpt, err = startCheckpointer(file + "&_pragma=busy_timeout(100)"); err != nil {
		return fail(fmt.Errorf("open %s for checkpoints: %w", path, err))
	}
	var sync func() error
	if opt.Sync == SyncFull {
		w, err := newWALSyncer(path)
		if err != nil {
			sh.ckpt.close()
			return fail(err)
		}
		sh.wal, sync = w, w.sync
	}
	sh.batch = newCommitter(1, func(ctx context.Context) (*Tx, error) { return sh.begin(ctx) }, sync)
	return sh, nil
}

func (sh *sharedSQLite) begin(ctx context.Context) (*Tx, error) {
	tx, err := sh.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &Tx{DB: DB{x: sqlDB{q: tx, cache: sh.cache, tx: tx}, d: &sqliteDialect}, raw: tx,
		commitFn: func(context.Context) error { return tx.Commit() }, rollbackFn: func() { _ = tx.Rollback() }}, nil
}

func (sh *sharedSQLite) release() {
	sqliteMu.Lock()
	defer sqliteMu.Unlock()
	sh.refs--
	if sh.refs > 0 {
		return
	}
	delete(sqliteDBs, sh.path)
	sh.batch.close()
	if sh.wal != nil {
		sh.wal.close()
	}
	sh.ckpt.close()
	_ = sh.db.Close()
	_ = sh.conn.closePhysical()
	_ = sh.lock.Unlock()
}

// ---- PostgreSQL ----

// pgMigrationLock serialises schema migrations of replicas starting together.
const pgMigrationLock = 7402_3001

// pgWriters is how many group commits run at once on PostgreSQL, which
// (unlike SQLite) lets several transactions write in parallel; pgPoolConns
// is the connection pool's size unless the DSN sets pool_max_conns.
const (
	pgWriters   = 4
	pgPoolConns = 16
)

// OpenPostgres connects to dsn and migrates River's and AlertChart's tables
// (under an advisory lock, so replicas starting together take turns).
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// pgx's default (the number of CPUs, at least 4) is less than the
		// group-commit writers, the lanes and River's own work need at once.
		pcfg.MaxConns = pgPoolConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	fail := func(err error) (*Store, error) {
		pool.Close()
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		return fail(fmt.Errorf("postgres: %w", err))
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fail(fmt.Errorf("postgres: %w", err))
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, pgMigrationLock); err != nil {
		conn.Release()
		return fail(fmt.Errorf("postgres migration lock: %w", err))
	}
	merr := migrateRiver(ctx, riverpgxv5.New(pool))
	if merr == nil {
		merr = DB{x: pgxDB{pool}, d: &postgresDialect}.migrate(ctx)
	}
	_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, pgMigrationLock)
	conn.Release()
	if merr != nil {
		return fail(merr)
	}
	st := &Store{DB: DB{x: pgxDB{pool}, d: &postgresDialect}, pool: pool, fresh: true}
	st.batch = newCommitter(pgWriters, st.beginPG, nil)
	return st, nil
}

func (s *Store) beginPG(ctx context.Context) (*Tx, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return pgTx(tx, ctx), nil
}

func pgTx(tx pgx.Tx, ctx context.Context) *Tx {
	return &Tx{DB: DB{x: pgxDB{tx}, d: &postgresDialect}, raw: tx,
		commitFn: tx.Commit, rollbackFn: func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }}
}

func migrateRiver[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

// ---- transactions ----

func (s *Store) begin(ctx context.Context) (*Tx, error) {
	if s.sh != nil {
		return s.sh.begin(ctx)
	}
	return s.beginPG(ctx)
}

// Tx is one database transaction: records written and River jobs inserted
// in it commit or roll back together.
type Tx struct {
	DB
	raw        any // *sql.Tx or pgx.Tx, handed to River
	q          *Queue
	deferred   *deferredJobs // a group commit's jobs
	commitFn   func(context.Context) error
	rollbackFn func()
}

// Enqueue inserts River jobs in the transaction and returns their ids.
func (t *Tx) Enqueue(ctx context.Context, params ...river.InsertManyParams) ([]int64, error) {
	if len(params) == 0 {
		return nil, nil
	}
	if t.q == nil {
		return nil, errors.New("delivery store: a transaction without a queue cannot insert jobs")
	}
	return t.q.insert(ctx, t.raw, params)
}

// EnqueueBatched inserts jobs like Enqueue, except in a group commit
// (Queue.Batch), where the jobs of every caller are inserted together at the
// end of the batch; done, if set, gets their ids once they are inserted.
func (t *Tx) EnqueueBatched(ctx context.Context, done func(ids []int64), params ...river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	if t.deferred == nil {
		ids, err := t.Enqueue(ctx, params...)
		if err == nil && done != nil {
			done(ids)
		}
		return err
	}
	d := t.deferred
	if d.q == nil {
		d.q = t.q
	}
	d.params = append(d.params, params...)
	d.done = append(d.done, done)
	d.counts = append(d.counts, len(params))
	return nil
}

// Tx runs fn in a transaction without River (records only).
func (s *Store) Tx(ctx context.Context, fn func(*Tx) error) error {
	return runTx(ctx, s.begin, nil, fn)
}

func runTx(ctx context.Context, begin func(context.Context) (*Tx, error), q *Queue, fn func(*Tx) error) error {
	t, err := begin(ctx)
	if err != nil {
		return err
	}
	t.q = q
	if err := fn(t); err != nil {
		t.rollbackFn()
		return err
	}
	return t.commitFn(ctx)
}
