package delivery

import (
	"context"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// How texts a lane lets go reach River: hand-offs, retries, and on a fresh
// SQLite file the rows a dead process's lanes held; untilStored keeps
// trying while the queue database is away. Apart from lane.go, which sends.

// retryLater gives a task to River, still claimed by its key, to be tried
// again after delay.
func (s *engine) retryLater(ctx context.Context, t *laneTask, delay time.Duration) {
	k := t.key()
	notBefore := time.Now().Add(delay).UnixMilli()
	s.untilStored(context.WithoutCancel(ctx), "queue a text's retry (delivery "+k.DeliveryID+")", func(ctx context.Context) error {
		return s.q.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Enqueue(ctx, river.InsertManyParams{Args: textArgs{Org: k.Org, DeliveryID: k.DeliveryID, Channel: k.Channel,
				NotBefore: notBefore}})
			return err
		})
	}, func() {})
}

// handOff gives tasks to River unclaimed, each with a text job due now, so
// River's claim decides (send, or join the robot's digest).
func (s *engine) handOff(ctx context.Context, tasks []*laneTask) {
	if len(tasks) == 0 {
		return
	}
	k0 := tasks[0].k
	s.untilStored(context.WithoutCancel(ctx), "hand "+strconv.Itoa(len(tasks))+" texts to the queue", func(ctx context.Context) error {
		return s.q.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.LockDigests(ctx, s.robotOf(k0.Org, k0.Channel)); err != nil {
				return err
			}
			var left []store.Key
			for _, t := range tasks {
				// Rows that joined the task's digest go back too (see releaseIn).
				keys, err := tx.Unclaim(ctx, t.k.Org, t.k.Owner(), t.k.Channel)
				if err != nil {
					return err
				}
				left = append(left, keys...)
			}
			return enqueueTexts(ctx, tx, left)
		})
	}, func() {
		for _, t := range tasks {
			unhold(t.key())
		}
	})
}

// recoverLanes gives a text job to every pending row no job will send: on
// the first open of a SQLite file in a process, those are the rows a dead
// process held in its lanes.
func (s *engine) recoverLanes(ctx context.Context) error {
	n := 0
	for {
		keys, err := s.st.Stranded(ctx, s.now().Add(time.Hour), 1000, isHeld)
		if err != nil || len(keys) == 0 {
			if n > 0 {
				s.log.Info("delivery: queued the texts a previous process had accepted but not sent", "texts", n)
			}
			return err
		}
		queued := 0
		err = s.q.Tx(ctx, func(t *store.Tx) error {
			jobs := make([]river.InsertManyParams, 0, len(keys))
			for _, k := range keys {
				// Checked again: a job may have appeared since.
				if ok, err := t.UnclaimStranded(ctx, k); err != nil {
					return err
				} else if ok {
					jobs = append(jobs, textJob(k))
				}
			}
			queued = len(jobs)
			_, err := t.Enqueue(ctx, jobs...)
			return err
		})
		if err != nil || queued == 0 {
			return err
		}
		n += queued
	}
}

// untilStored runs f, a transaction that gives texts (back) to River, and
// when the queue database does not answer runs it again in the background,
// with backoff, until it succeeds or the engine closes; then done runs. A
// text a lane could not hand over while the database was down is thus
// queued within seconds of the database coming back, not left to
// maintenance's safety net (minutes). Should the process die meanwhile,
// the rows are still marked as this replica's: a live replica takes them
// over (liveness.go), or on SQLite the next process (recoverLanes).
func (e *engine) untilStored(ctx context.Context, what string, f func(context.Context) error, done func()) {
	err := f(ctx)
	if err == nil || e.ctx.Err() != nil {
		if err != nil {
			e.log.Error("delivery: could not "+what+" before closing; the next start or another replica will", "error", err)
		}
		done()
		return
	}
	e.log.Warn("delivery: could not "+what+"; retrying until the queue database answers", "error", err)
	go func() {
		defer done()
		wait := 250 * time.Millisecond
		for tries := 1; ; tries++ {
			select {
			case <-e.ctx.Done():
				e.log.Error("delivery: could not "+what+" before closing; the next start or another replica will", "error", err)
				return
			case <-time.After(wait):
			}
			rctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
			err = f(rctx)
			cancel()
			if err == nil {
				e.log.Info("delivery: done after the queue database answered again: "+what, "tries", tries)
				return
			}
			wait = min(2*wait, reconnectMax)
		}
	}()
}
