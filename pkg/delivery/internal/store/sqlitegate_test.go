package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestGateServesUrgentFirst(t *testing.T) {
	var g gate
	ctx := context.Background()
	g.acquire(ctx, false)
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	queue := func(name string, urgent bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.acquire(ctx, urgent)
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			g.release()
		}()
	}
	queue("low1", false)
	waitWaiters(t, &g, 1)
	queue("low2", false)
	waitWaiters(t, &g, 2)
	queue("urgent", true)
	waitWaiters(t, &g, 3)
	g.release()
	wg.Wait()
	if fmt.Sprint(order) != "[urgent low1 low2]" {
		t.Fatalf("served %v, want urgent first, then arrival order", order)
	}
	if g.busy {
		t.Fatal("gate still busy after everyone left")
	}
}

func countWaiters(g *gate) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.high) + len(g.low)
}

func waitWaiters(t *testing.T, g *gate, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for countWaiters(g) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d waiters queued", countWaiters(g), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGatedSQLiteConcurrent drives the shared connection from many
// goroutines at once: transactions, open row sets, prepared statements and
// more distinct statements than the cache holds. Every write must land and
// no statement may see another's half-finished work.
func TestGatedSQLiteConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	dsn := "file:" + filepath.ToSlash(filepath.Join(t.TempDir(), "g.db")) + "?_pragma=journal_mode(WAL)&_txlock=immediate"
	conn, err := newGatedConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(0)
	t.Cleanup(func() {
		_ = db.Close()
		if err := conn.closePhysical(); err != nil {
			t.Error(err)
		}
	})
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (g INTEGER, i INTEGER); CREATE TABLE u (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	ins, err := db.PrepareContext(ctx, `INSERT INTO u (n) VALUES ($1)`)
	if err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 12, 60
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wctx := ctx
			if w%3 == 0 {
				wctx = withPriority(ctx)
			}
			for r := range rounds {
				tx, err := db.BeginTx(wctx, nil)
				if err != nil {
					errs <- err
					return
				}
				// Two rows per transaction: readers must see both or neither.
				for k := range 2 {
					if _, err := tx.ExecContext(wctx, `INSERT INTO t (g, i) VALUES ($1, $2)`, w*1000+r, k); err != nil {
						errs <- err
						return
					}
				}
				if _, err := tx.StmtContext(wctx, ins).ExecContext(wctx, r); err != nil {
					errs <- err
					return
				}
				if err := tx.Commit(); err != nil {
					errs <- err
					return
				}
				rows, err := db.QueryContext(wctx, `SELECT g, COUNT(*) FROM t GROUP BY g`)
				if err != nil {
					errs <- err
					return
				}
				for rows.Next() {
					var g, n int
					if err := rows.Scan(&g, &n); err != nil {
						errs <- err
						return
					}
					if n != 2 {
						errs <- fmt.Errorf("group %d has %d rows: a transaction was seen half done", g, n)
						return
					}
				}
				if err := rows.Close(); err != nil {
					errs <- err
					return
				}
				// Distinct statement texts, more than the cache keeps.
				var v int
				if err := db.QueryRowContext(wctx, fmt.Sprintf("SELECT %d", w*rounds+r)).Scan(&v); err != nil || v != w*rounds+r {
					errs <- fmt.Errorf("select %d: %v %d", w*rounds+r, err, v)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n, u int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 2*workers*rounds {
		t.Fatalf("rows %d (%v), want %d", n, err, 2*workers*rounds)
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM u`).Scan(&u); err != nil || u != workers*rounds {
		t.Fatalf("prepared inserts %d (%v), want %d", u, err, workers*rounds)
	}
	conn.mu.Lock()
	cached := len(conn.stmts)
	conn.mu.Unlock()
	if cached > maxCachedStmts {
		t.Fatalf("statement cache grew to %d, cap %d", cached, maxCachedStmts)
	}
}
