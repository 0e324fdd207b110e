package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// Queue is a River client working the Store's database. Several Queues may
// work one database (pipelines of one process during a settings change,
// replicas on PostgreSQL); River hands each job to one of them.
type Queue struct {
	st            *Store
	insert        func(ctx context.Context, tx any, params []river.InsertManyParams) ([]int64, error)
	start         func(ctx context.Context) error
	stop          func(ctx context.Context) error
	stopAndCancel func(ctx context.Context) error
	addQueue      func(name string, cfg river.QueueConfig) error
	removeQueue   func(ctx context.Context, name string) error
}

// NewQueue creates a River client on the Store's database with cfg (its
// workers, queues and periodic jobs are the caller's).
func (s *Store) NewQueue(cfg *river.Config) (*Queue, error) {
	if s.sh != nil {
		c, err := river.NewClient(riversqlite.New(s.sh.db), cfg)
		if err != nil {
			return nil, err
		}
		return newQueue(s, c, func(tx any) *sql.Tx { return tx.(*sql.Tx) }), nil
	}
	c, err := river.NewClient(riverpgxv5.New(s.pool), cfg)
	if err != nil {
		return nil, err
	}
	return newQueue(s, c, func(tx any) pgx.Tx { return tx.(pgx.Tx) }), nil
}

func newQueue[TTx any](s *Store, c *river.Client[TTx], cast func(any) TTx) *Queue {
	return &Queue{
		st: s,
		insert: func(ctx context.Context, tx any, params []river.InsertManyParams) ([]int64, error) {
			res, err := c.InsertManyTx(ctx, cast(tx), params)
			if err != nil {
				return nil, err
			}
			return ids(res), nil
		},
		start:         c.Start,
		stop:          c.Stop,
		stopAndCancel: c.StopAndCancel,
		addQueue:      c.Queues().Add,
		removeQueue:   c.Queues().Remove,
	}
}

func ids(res []*rivertype.JobInsertResult) []int64 {
	out := make([]int64, len(res))
	for i, r := range res {
		out[i] = r.Job.ID
	}
	return out
}

// Start starts working jobs.
func (q *Queue) Start(ctx context.Context) error { return q.start(ctx) }

// Stop stops fetching and waits for running jobs until ctx ends.
func (q *Queue) Stop(ctx context.Context) error { return q.stop(ctx) }

// StopAndCancel stops and cancels running jobs' contexts.
func (q *Queue) StopAndCancel(ctx context.Context) error { return q.stopAndCancel(ctx) }

// AddQueue starts working another River queue (an organisation that
// registered); before Start it is worked from Start on.
func (q *Queue) AddQueue(name string, cfg river.QueueConfig) error { return q.addQueue(name, cfg) }

// RemoveQueue stops working a queue, waiting for its running jobs until ctx
// ends.
func (q *Queue) RemoveQueue(ctx context.Context, name string) error { return q.removeQueue(ctx, name) }

// Tx runs fn in one transaction in which it may also insert jobs.
func (q *Queue) Tx(ctx context.Context, fn func(*Tx) error) error {
	return runTx(ctx, q.st.begin, q, fn)
}

// Batch runs fn in the next group commit: the transactions of concurrent
// callers are merged into one and committed at once, so a burst of webhooks
// pays for one commit — and, with synchronous=FULL, one fsync — instead of
// one each, and their jobs (EnqueueBatched) are inserted in one statement.
// Batch returns once the commit is durable or failed; if any caller's fn
// fails, the whole batch is rolled back and every caller gets an error (a
// webhook answered 503 is sent again by Alertmanager). The transaction runs
// before any waiting background work (see sqlitegate.go).
func (q *Queue) Batch(ctx context.Context, fn func(*Tx) error) error {
	return q.st.batch.submit(ctx, q, fn)
}

// ---- group commit ----

// maxBatch bounds how many callers share one commit, so one batch never
// holds the SQLite connection for long.
const maxBatch = 64

type commitReq struct {
	ctx  context.Context
	q    *Queue
	fn   func(*Tx) error
	done chan error
}

// committer runs group commits with a fixed number of writers. A writer
// takes every request queued while the previous commit ran, so batches grow
// with the load and an idle system commits each request alone at once.
// With sync set (SQLite, SyncFull) a committed batch is answered only after
// sync returns: syncer goroutines call it once for all the batches
// committed while they were busy, and the writer meanwhile goes on with the
// next batch.
type committer struct {
	begin  func(context.Context) (*Tx, error)
	sync   func() error
	reqs   chan *commitReq
	synced chan []*commitReq
	quit   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
	syncWG sync.WaitGroup
}

func newCommitter(writers int, begin func(context.Context) (*Tx, error), sync func() error) *committer {
	c := &committer{begin: begin, sync: sync, reqs: make(chan *commitReq, 4*maxBatch), quit: make(chan struct{})}
	for range writers {
		c.wg.Add(1)
		go c.run()
	}
	if sync != nil {
		c.synced = make(chan []*commitReq, 64)
		for range syncers {
			c.syncWG.Add(1)
			go c.syncLoop()
		}
	}
	return c
}

// syncers is how many fsyncs may run at once: a batch committed while one
// runs need not wait for it to end before its own starts.
const syncers = 2

// syncLoop answers committed batches once they are on disk: every batch
// it takes was committed before its fsync started.
func (c *committer) syncLoop() {
	defer c.syncWG.Done()
	for first := range c.synced {
		batches := [][]*commitReq{first}
	gather:
		for {
			select {
			case b, ok := <-c.synced:
				if !ok {
					break gather
				}
				batches = append(batches, b)
			default:
				break gather
			}
		}
		err := c.sync()
		if err != nil {
			err = fmt.Errorf("fsync of the queue's write-ahead log: %w", err)
		}
		for _, b := range batches {
			for _, r := range b {
				r.done <- err
			}
		}
	}
}

func (c *committer) submit(ctx context.Context, q *Queue, fn func(*Tx) error) error {
	r := &commitReq{ctx: ctx, q: q, fn: fn, done: make(chan error, 1)}
	select {
	case c.reqs <- r:
	case <-c.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, wait for the outcome even if ctx ends: the caller must
	// not act on a commit it cannot see (a batch is short).
	select {
	case err := <-r.done:
		return err
	case <-c.quit:
		select {
		case err := <-r.done:
			return err
		default:
			return ErrClosed
		}
	}
}

func (c *committer) close() {
	c.once.Do(func() { close(c.quit) })
	c.wg.Wait()
	if c.synced != nil {
		close(c.synced)
		c.syncWG.Wait()
	}
	// Answer whatever was queued after the writers left.
	for {
		select {
		case r := <-c.reqs:
			r.done <- ErrClosed
		default:
			return
		}
	}
}

func (c *committer) run() {
	defer c.wg.Done()
	for {
		var first *commitReq
		select {
		case first = <-c.reqs:
		case <-c.quit:
			return
		}
		batch := []*commitReq{first}
	gather:
		for len(batch) < maxBatch {
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		c.commit(batch)
	}
}

// commit runs one batch. Requests whose caller already gave up are skipped.
func (c *committer) commit(batch []*commitReq) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	ctx := withPriority(context.WithoutCancel(live[0].ctx))
	t, err := c.begin(ctx)
	failed := -1
	if err == nil {
		t.deferred = &deferredJobs{}
		for i, r := range live {
			t.q = r.q
			if err = r.fn(t); err != nil {
				failed = i
				break
			}
		}
		if err == nil {
			err = t.deferred.insert(ctx, t)
		}
		if err != nil {
			t.rollbackFn()
		} else {
			err = t.commitFn(ctx)
		}
	}
	if err == nil && c.synced != nil {
		c.synced <- live
		return
	}
	for i, r := range live {
		switch {
		case err == nil:
			r.done <- nil
		case i == failed:
			r.done <- err
		default:
			r.done <- fmt.Errorf("the group commit it shared failed: %w", err)
		}
	}
}

// deferredJobs are the jobs of a batch's callers, inserted together at the
// end of the batch.
type deferredJobs struct {
	q      *Queue
	params []river.InsertManyParams
	done   []func([]int64)
	counts []int
}

func (d *deferredJobs) insert(ctx context.Context, t *Tx) error {
	if len(d.params) == 0 {
		return nil
	}
	ids, err := d.q.insert(ctx, t.raw, d.params)
	if err != nil {
		return err
	}
	for i, fn := range d.done {
		n := d.counts[i]
		if fn != nil {
			fn(ids[:n])
		}
		ids = ids[n:]
	}
	return nil
}
