package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"reflect"
	"sync"

	"modernc.org/sqlite"
)

// The SQLite queue uses one physical connection: SQLite has one writer at a
// time, and a second connection only adds its busy-wait backoff (1, 2, 5,
// 10 ms … in modernc.org/sqlite, not adjustable) to every contended write.
// With database/sql's MaxOpenConns(1) that connection goes to a random
// waiter, and River's completer holds it for a whole batch of jobs (one
// statement per job, each parsed again), so under load a webhook's Accept
// queued behind tens of milliseconds of background work: p99 33–49 ms at
// 200 webhooks/s while the median stayed under 1 ms. With the gate and the
// statement cache below: p99 about 5 ms.
//
// gatedConnector hands database/sql any number of cheap logical connections
// that all share the one physical connection, and a gate decides who uses
// it next: work marked with withPriority (Accept's group commit) goes before everything
// else. Each statement holds the gate while it runs, a query until its rows
// are closed, and a transaction from BEGIN until COMMIT or ROLLBACK, so the
// physical connection is never used by two callers at once. Prepared
// statements are cached per SQL text on the physical connection and shared
// by the logical ones.
type gatedConnector struct {
	phys  sqliteConn
	gate  gate
	mu    sync.Mutex
	stmts map[string]driver.Stmt
}

// sqliteConn is the method set of modernc.org/sqlite's connection that the
// gate forwards to.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
}

func newGatedConnector(dsn string) (*gatedConnector, error) {
	c, err := (&sqlite.Driver{}).Open(dsn)
	if err != nil {
		return nil, err
	}
	pc, ok := c.(sqliteConn)
	if !ok {
		_ = c.Close()
		return nil, errors.New("modernc.org/sqlite connection lacks context methods")
	}
	return &gatedConnector{phys: pc, stmts: map[string]driver.Stmt{}}, nil
}

func (g *gatedConnector) Connect(context.Context) (driver.Conn, error) {
	return &gatedConn{g: g}, nil
}

func (g *gatedConnector) Driver() driver.Driver { return gatedDriver{} }

// closePhysical closes the shared connection after the sql.DB is closed.
func (g *gatedConnector) closePhysical() error {
	g.gate.acquire(context.Background(), false)
	defer g.gate.release()
	g.mu.Lock()
	for _, st := range g.stmts {
		_ = st.Close()
	}
	g.stmts = nil
	g.mu.Unlock()
	return g.phys.Close()
}

// gatedDriver exists only to satisfy driver.Connector; connections come from
// the connector.
type gatedDriver struct{}

func (gatedDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("delivery: the gated SQLite driver is used through its connector only")
}

// ---- priority ----

type priorityKey struct{}

// withPriority marks ctx's database work as urgent: it takes the SQLite
// connection before any waiting background work.
func withPriority(ctx context.Context) context.Context {
	return context.WithValue(ctx, priorityKey{}, true)
}

func hasPriority(ctx context.Context) bool {
	v, _ := ctx.Value(priorityKey{}).(bool)
	return v
}

// gate is a mutex whose waiters are served urgent-first, then in arrival
// order. A released gate is handed straight to the next waiter.
type gate struct {
	mu        sync.Mutex
	busy      bool
	high, low []chan struct{}
}

// acquire waits for the gate. It does not give up when ctx ends: the
// statement that follows fails on the cancelled context anyway, and a wait
// that could be abandoned half-granted would need a second hand-over path.
func (g *gate) acquire(ctx context.Context, urgent bool) {
	g.mu.Lock()
	if !g.busy {
		g.busy = true
		g.mu.Unlock()
		return
	}
	ch := make(chan struct{})
	if urgent {
		g.high = append(g.high, ch)
	} else {
		g.low = append(g.low, ch)
	}
	g.mu.Unlock()
	<-ch
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case len(g.high) > 0:
		ch := g.high[0]
		g.high = g.high[1:]
		close(ch)
	case len(g.low) > 0:
		ch := g.low[0]
		g.low = g.low[1:]
		close(ch)
	default:
		g.busy = false
	}
}

// ---- logical connection ----

// gatedConn is one logical connection. database/sql uses a logical
// connection from one goroutine at a time, so inTx needs no lock.
type gatedConn struct {
	g    *gatedConnector
	inTx bool
}

// enter takes the gate unless this connection's transaction already holds it.
func (c *gatedConn) enter(ctx context.Context) func() {
	if c.inTx {
		return func() {}
	}
	c.g.gate.acquire(ctx, hasPriority(ctx))
	return c.g.gate.release
}

func (c *gatedConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *gatedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.cached(ctx, query)
	if err != nil || st != nil {
		return st, err
	}
	leave := c.enter(ctx)
	defer leave()
	ps, err := c.g.phys.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &gatedStmt{c: c, st: ps, owned: true}, nil
}

// maxCachedStmts bounds the shared statement cache; statements beyond it
// (e.g. IN lists of every length) are prepared for one use.
const maxCachedStmts = 512

// cached returns the shared prepared statement for query, preparing it on
// first use; nil (and no error) when the cache is full.
func (c *gatedConn) cached(ctx context.Context, query string) (*gatedStmt, error) {
	c.g.mu.Lock()
	if c.g.stmts == nil {
		c.g.mu.Unlock()
		return nil, errors.New("delivery: the SQLite queue is closed")
	}
	st := c.g.stmts[query]
	full := len(c.g.stmts) >= maxCachedStmts
	c.g.mu.Unlock()
	if st == nil && full {
		return nil, nil
	}
	if st == nil {
		leave := c.enter(ctx)
		if c.closed() {
			// closePhysical ran while this waited for the gate (a
			// statement prepared in the background at shutdown).
			leave()
			return nil, errors.New("delivery: the SQLite queue is closed")
		}
		var err error
		st, err = c.g.phys.PrepareContext(ctx, query)
		leave()
		if err != nil {
			return nil, err
		}
		c.g.mu.Lock()
		if c.g.stmts == nil {
			// Closed meanwhile: the statement went with the connection.
			c.g.mu.Unlock()
			return nil, errors.New("delivery: the SQLite queue is closed")
		}
		if old := c.g.stmts[query]; old != nil || len(c.g.stmts) >= maxCachedStmts {
			// Someone cached it meanwhile, or filled the cache.
			c.g.mu.Unlock()
			leave := c.enter(ctx)
			if !c.closed() { // finalizing on a closed connection crashes
				_ = st.Close()
			}
			leave()
			if old == nil {
				return nil, nil
			}
			st = old
		} else {
			c.g.stmts[query] = st
			c.g.mu.Unlock()
		}
	}
	return &gatedStmt{c: c, st: st}, nil
}

// closed reports whether closePhysical has run.
func (c *gatedConn) closed() bool {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	return c.g.stmts == nil
}

// Close of a logical connection leaves the shared one open.
func (c *gatedConn) Close() error { return nil }

func (c *gatedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *gatedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.inTx {
		return nil, errors.New("delivery: nested transaction on a gated SQLite connection")
	}
	c.g.gate.acquire(ctx, hasPriority(ctx))
	tx, err := c.g.phys.BeginTx(ctx, opts)
	if err != nil {
		c.g.gate.release()
		return nil, err
	}
	c.inTx = true
	return &gatedTx{c: c, tx: tx}, nil
}

// ExecContext and QueryContext run every statement as a cached prepared
// one: River sends the same few statements over and over (its completer
// updates a batch of jobs one statement at a time inside one transaction),
// and modernc.org/sqlite spends most of a small statement parsing it, so
// parsing once cuts how long anyone holds the connection.
func (c *gatedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		defer c.enter(ctx)()
		return c.g.phys.ExecContext(ctx, query, args)
	}
	return st.ExecContext(ctx, args)
}

func (c *gatedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		leave := c.enter(ctx)
		rows, err := c.g.phys.QueryContext(ctx, query, args)
		if err != nil {
			leave()
			return nil, err
		}
		return &gatedRows{Rows: rows, leave: leave}, nil
	}
	return st.QueryContext(ctx, args)
}

func (c *gatedConn) Ping(ctx context.Context) error {
	defer c.enter(ctx)()
	return c.g.phys.Ping(ctx)
}

func (c *gatedConn) ResetSession(context.Context) error { return nil }
func (c *gatedConn) IsValid() bool                      { return true }

type gatedTx struct {
	c    *gatedConn
	tx   driver.Tx
	once sync.Once
}

func (t *gatedTx) end(f func() error) error {
	err := errors.New("delivery: transaction already ended")
	t.once.Do(func() {
		err = f()
		t.c.inTx = false
		t.c.g.gate.release()
	})
	return err
}

func (t *gatedTx) Commit() error   { return t.end(t.tx.Commit) }
func (t *gatedTx) Rollback() error { return t.end(t.tx.Rollback) }

// gatedStmt is a logical connection's handle on a shared prepared statement.
type gatedStmt struct {
	c  *gatedConn
	st driver.Stmt
	// owned marks a statement outside the shared cache: Close finalizes it.
	owned bool
}

// Close finalizes an owned statement and leaves a shared one prepared for
// the next user.
func (s *gatedStmt) Close() error {
	if !s.owned {
		return nil
	}
	defer s.c.enter(context.Background())()
	return s.st.Close()
}
func (s *gatedStmt) NumInput() int { return s.st.NumInput() }

func (s *gatedStmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), namedValues(args))
}

func (s *gatedStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), namedValues(args))
}

func (s *gatedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	defer s.c.enter(ctx)()
	return s.st.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *gatedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	leave := s.c.enter(ctx)
	rows, err := s.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		leave()
		return nil, err
	}
	return &gatedRows{Rows: rows, leave: leave}, nil
}

func namedValues(args []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return nv
}

// gatedRows holds the gate until the rows are closed: SQLite steps the
// statement on the shared connection as the caller reads.
type gatedRows struct {
	driver.Rows
	leave func()
	once  sync.Once
}

func (r *gatedRows) Close() error {
	err := r.Rows.Close()
	r.once.Do(r.leave)
	return err
}

func (r *gatedRows) ColumnTypeScanType(i int) reflect.Type {
	if ct, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return ct.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *gatedRows) ColumnTypeDatabaseTypeName(i int) string {
	if ct, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return ct.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *gatedRows) ColumnTypeNullable(i int) (bool, bool) {
	if ct, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return ct.ColumnTypeNullable(i)
	}
	return false, false
}
