package delivery

import (
	"context"
	"database/sql"
	"errors"

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

// errNoRows is returned by queryRow(...).Scan when nothing matched, for both drivers.
var errNoRows = errors.New("no rows")

// ---- database/sql ----

type sqlQuerier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

type sqlDB struct{ q sqlQuerier }

func (d sqlDB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := d.q.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d sqlDB) query(ctx context.Context, q string, args ...any) (rowsIter, error) {
	rows, err := d.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (d sqlDB) queryRow(ctx context.Context, q string, args ...any) rowScanner {
	return sqlRow{d.q.QueryRowContext(ctx, q, args...)}
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
