package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// dbtx is the small slice of SQL access the delivery records need. It has two
// implementations so the same statements run inside River's transaction on
// both drivers: database/sql (SQLite through modernc.org/sqlite) and pgx
// (PostgreSQL through riverpgxv5). Statements use $1-style placeholders,
// which both SQLite and PostgreSQL understand.
type dbtx interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	query(ctx context.Context, q string, args ...any) (rowsIter, error)
	queryRow(ctx context.Context, q string, args ...any) rowScanner
	// pipeline runs stmts in order, returns how many rows each changed and
	// hands each row of the last one to scan (when set). PostgreSQL sends
	// them in one round trip.
	pipeline(ctx context.Context, stmts []stmt, scan func(rowScanner) error) ([]int64, error)
}

// stmt is one statement of a pipeline.
type stmt struct {
	q    string
	args []any
}

type rowsIter interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	close()
}

type rowScanner interface {
	Scan(dest ...any) error
}

// DB runs the pipeline's statements, on the database (Store) or inside a
// transaction (Tx).
type DB struct {
	x dbtx
	d *dialect
}

// errNoRows is returned by queryRow(...).Scan when nothing matched, for both drivers.
var errNoRows = ErrNoRows

// ---- database/sql ----

type sqlQuerier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// sqlDB runs statements on a *sql.DB or *sql.Tx. With a statement cache
// (SQLite), each statement is parsed once per connection instead of on every
// call: modernc.org/sqlite spends most of a small query parsing it.
type sqlDB struct {
	q     sqlQuerier
	cache *stmtCache
	tx    *sql.Tx
}

func (d sqlDB) querier(ctx context.Context, q string) (sqlQuerier, bool) {
	if d.cache == nil {
		return d.q, false
	}
	if d.tx != nil {
		// The transaction holds the pool's only connection: preparing on the
		// pool now would wait for it forever. Use a cached statement if there
		// is one, else parse this time and prepare for next time.
		st := d.cache.lookup(q)
		if st == nil {
			// Prepared in the background for the next caller; the statement
			// stays in the cache (closed with the store), and the request
			// does not wait for it.
			go func() { _, _ = d.cache.get(context.WithoutCancel(ctx), q) }() //nolint:sqlclosecheck // cached, closed with the store
			return d.q, false
		}
		return stmtQuerier{d.tx.StmtContext(ctx, st)}, true
	}
	st, err := d.cache.get(ctx, q)
	if err != nil {
		return d.q, false
	}
	return stmtQuerier{st}, true
}

func (d sqlDB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	qq, _ := d.querier(ctx, q)
	res, err := qq.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d sqlDB) query(ctx context.Context, q string, args ...any) (rowsIter, error) {
	qq, _ := d.querier(ctx, q)
	rows, err := qq.QueryContext(ctx, q, args...) //nolint:rowserrcheck // returned as rowsIter; its callers check Err
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (d sqlDB) pipeline(ctx context.Context, stmts []stmt, scan func(rowScanner) error) ([]int64, error) {
	n := make([]int64, len(stmts))
	for i, st := range stmts {
		if i < len(stmts)-1 || scan == nil {
			var err error
			if n[i], err = d.exec(ctx, st.q, st.args...); err != nil {
				return nil, err
			}
			continue
		}
		rows, err := d.query(ctx, st.q, st.args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			n[i]++
			if err := scan(rows); err != nil {
				rows.close()
				return nil, err
			}
		}
		rows.close()
		return n, rows.Err()
	}
	return n, nil
}

func (d sqlDB) queryRow(ctx context.Context, q string, args ...any) rowScanner {
	qq, _ := d.querier(ctx, q)
	return sqlRow{qq.QueryRowContext(ctx, q, args...)}
}

// stmtCache holds prepared statements of one *sql.DB by SQL text.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	st := c.m[q]
	c.mu.Unlock()
	if st != nil {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if old := c.m[q]; old != nil {
		c.mu.Unlock()
		_ = st.Close() //nolint:sqlclosecheck // another caller cached the same statement first; this one is not used
		return old, nil
	}
	c.m[q] = st
	c.mu.Unlock()
	return st, nil
}

// stmtQuerier adapts a prepared statement to sqlQuerier (the SQL text
// argument is ignored: the statement already has it).
// A statement bound to a transaction by Tx.StmtContext is closed with it.
type stmtQuerier struct{ st *sql.Stmt }

func (s stmtQuerier) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return s.st.ExecContext(ctx, args...)
}

func (s stmtQuerier) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return s.st.QueryContext(ctx, args...)
}

func (s stmtQuerier) QueryRowContext(ctx context.Context, _ string, args ...any) *sql.Row {
	return s.st.QueryRowContext(ctx, args...)
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) close() { _ = r.Rows.Close() }

type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return errNoRows
	}
	return err
}

// ---- pgx ----

type pgxQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

var (
	_ pgxQuerier = (*pgxpool.Pool)(nil)
	_ pgxQuerier = (pgx.Tx)(nil)
)

type pgxDB struct{ q pgxQuerier }

func (d pgxDB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := d.q.Exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (d pgxDB) query(ctx context.Context, q string, args ...any) (rowsIter, error) {
	rows, err := d.q.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgxRows{rows}, nil
}

func (d pgxDB) pipeline(ctx context.Context, stmts []stmt, scan func(rowScanner) error) ([]int64, error) {
	b := &pgx.Batch{}
	for _, st := range stmts {
		b.Queue(st.q, st.args...)
	}
	br := d.q.SendBatch(ctx, b)
	n := make([]int64, len(stmts))
	fail := func(err error) ([]int64, error) {
		_ = br.Close()
		return nil, err
	}
	for i := range stmts {
		if i < len(stmts)-1 || scan == nil {
			tag, err := br.Exec()
			if err != nil {
				return fail(err)
			}
			n[i] = tag.RowsAffected()
			continue
		}
		rows, err := br.Query()
		if err != nil {
			return fail(err)
		}
		for rows.Next() {
			n[i]++
			if err := scan(pgxRows{rows}); err != nil {
				rows.Close()
				return fail(err)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fail(err)
		}
	}
	return n, br.Close()
}

func (d pgxDB) queryRow(ctx context.Context, q string, args ...any) rowScanner {
	return pgxRow{d.q.QueryRow(ctx, q, args...)}
}

type pgxRows struct{ pgx.Rows }

func (r pgxRows) close() { r.Rows.Close() }

type pgxRow struct{ r pgx.Row }

func (r pgxRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoRows
	}
	return err
}
