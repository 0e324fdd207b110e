package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// SQLite's own checkpoints run in the connection that commits past
// wal_autocheckpoint pages: the webhook whose commit crosses the line waits
// while the log is copied into the database and both files are fsynced,
// holding the one connection everybody else waits for (a tail of tens of
// milliseconds at a thousand webhooks a second). The queue turns them off
// and checkpoints from a second connection of its own instead, which WAL
// mode allows next to a writer: a PASSIVE checkpoint copies what the log
// holds without blocking anyone, and the writer starts the log over once
// it was copied completely. Once a second (rather than every 100 ms): the
// checkpoint's fsync of the database competes with the fsync a webhook
// waits for under delivery.sync "full" (measured: p99 at 1,000 webhooks/s
// 20-100 ms with 100 ms, 12-20 ms with 1 s, same load).
const checkpointEvery = time.Second

type checkpointer struct {
	db   *sql.DB
	stop chan struct{}
	wg   sync.WaitGroup
}

func startCheckpointer(dsn string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(context.Background()); err != nil {
		_ = db.Close()
		return nil, err
	}
	c := &checkpointer{db: db, stop: make(chan struct{})}
	c.wg.Add(1)
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer c.wg.Done()
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		// Errors (SQLITE_BUSY while the writer resets the log) are retried
		// at the next tick.
		_, _ = c.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
		cancel()
	}
}

func (c *checkpointer) close() {
	close(c.stop)
	c.wg.Wait()
	_ = c.db.Close()
}
