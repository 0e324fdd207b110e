package delivery

import (
	"context"
	"time"

	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// Liveness on PostgreSQL, independent of River's leader: every replica
// writes a heartbeat (its River client id, on the database's clock) every
// Config.HeartbeatInterval, and looks for replicas silent for longer than
// Config.ReplicaTimeout. The first replica to find one takes over its work
// in one transaction (store.TakeOver): the River jobs it was running —
// texts, digests it owned, charts — become available again, and the rows
// its lanes held get text jobs of their own (robot by robot, in batches,
// off the heartbeat's path; rows a batch could not queue are tried again
// at the next heartbeat). A digest whose owner died is
// therefore sent by whoever runs the owner's job next, never joined and
// left; alerts of its robot wait at most the take-over bound (timeout +
// interval + River's fetch) plus the robot's rate limit.
//
// A replica that was only slow (a pause longer than the timeout) finds its
// heartbeat gone: it bumps its epoch, and its lanes send what they still
// hold only after reading back that the row is still theirs (see
// sendFirst). Jobs it was running may then be sent twice; that is the
// price of a take-over in seconds rather than River's minutes.

func (e *engine) livenessLoop() {
	defer e.wg.Done()
	t := time.NewTicker(e.cfg.HeartbeatInterval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(e.ctx, max(e.cfg.HeartbeatInterval, 2*time.Second))
		err := e.beat(ctx)
		cancel()
		switch {
		case err != nil && !failing && e.ctx.Err() == nil:
			failing = true
			e.log.Warn("delivery: cannot write this replica's heartbeat; retrying", "error", err)
		case err == nil && failing:
			failing = false
			e.log.Info("delivery: heartbeat written again")
		}
	}
}

// beat writes the heartbeat and takes over replicas that stopped.
func (e *engine) beat(ctx context.Context) error {
	found, err := e.st.Beat(ctx, e.replica, hostname())
	if err != nil {
		return err
	}
	if !found {
		e.epoch.Add(1)
		e.log.Error("delivery: this replica was silent too long and another one took its work over; "+
			"texts its lanes held are sent only if still theirs", "replica", e.replica, "timeout", e.cfg.ReplicaTimeout)
	}
	dead, err := e.st.DeadReplicas(ctx, e.cfg.ReplicaTimeout)
	if err != nil {
		return err
	}
	var others []string
	for _, id := range dead {
		if id != e.replica {
			others = append(others, id)
		}
	}
	e.orphanMu.Lock()
	orphans := len(e.orphans)
	e.orphanMu.Unlock()
	if (len(others) > 0 || orphans > 0) && e.takingOver.CompareAndSwap(false, true) {
		// Off the heartbeat's path: handing over a large backlog must not
		// make this replica look silent.
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			defer e.takingOver.Store(false)
			for _, id := range others {
				e.takeOver(id)
			}
			e.requeueOrphans()
		}()
	}
	return nil
}

// takeOverTimeout bounds one take-over: its transaction and giving the
// rows the dead replica held their text jobs. It is not the heartbeat's
// deadline: a replica that died with thousands of texts in its lanes takes
// more than a heartbeat period to hand over.
const takeOverTimeout = 30 * time.Second

// heldBatch is how many held rows one transaction gives text jobs.
const heldBatch = 500

// takeOver gives a dead replica's work back to the queue.
func (e *engine) takeOver(id string) {
	ctx, cancel := context.WithTimeout(e.ctx, takeOverTimeout)
	defer cancel()
	var (
		ok   bool
		jobs int64
		held []store.Key
	)
	err := e.q.Tx(ctx, func(t *store.Tx) error {
		var err error
		ok, jobs, held, err = t.TakeOver(ctx, id, e.cfg.ReplicaTimeout)
		return err
	})
	if err != nil {
		e.log.Warn("delivery: could not take over a replica that stopped; trying again", "replica", id, "error", err)
		return
	}
	if !ok {
		return // it came back, or another replica was first
	}
	texts, left := e.requeueHeld(ctx, held)
	if len(left) > 0 {
		e.orphanMu.Lock()
		e.orphans = append(e.orphans, left...)
		e.orphanMu.Unlock()
		e.log.Warn("delivery: could not yet queue every text a stopped replica held; trying again at the next heartbeat",
			"replica", id, "left", len(left))
	}
	e.log.Warn("delivery: took over the work of a replica that stopped", "replica", id, "jobs", jobs, "texts", texts)
}

// requeueOrphans tries again to give text jobs to rows a dead replica held
// that a take-over could not queue (the database was slow or away).
func (e *engine) requeueOrphans() {
	e.orphanMu.Lock()
	keys := e.orphans
	e.orphans = nil
	e.orphanMu.Unlock()
	if len(keys) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(e.ctx, takeOverTimeout)
	defer cancel()
	texts, left := e.requeueHeld(ctx, keys)
	e.orphanMu.Lock()
	e.orphans = append(e.orphans, left...)
	e.orphanMu.Unlock()
	if texts > 0 || len(left) == 0 {
		e.log.Info("delivery: queued texts a stopped replica held", "texts", texts, "left", len(left))
	}
}

// requeueHeld gives each row a dead replica's lanes held a text job, as
// requeueStranded does: under its robot's lock, only if it is still
// without one, robot by robot in batches of heldBatch rows per
// transaction. left are the rows of batches that failed. Should this
// replica die half-way, the rows left still have a holder without a
// heartbeat, which maintenance requeues.
func (e *engine) requeueHeld(ctx context.Context, held []store.Key) (texts int, left []store.Key) {
	byRobot := map[string][]store.Key{}
	var robots []string
	for _, k := range held {
		r := e.robotOf(k.Org, k.Channel)
		if byRobot[r] == nil {
			robots = append(robots, r)
		}
		byRobot[r] = append(byRobot[r], k)
	}
	for _, robot := range robots {
		keys := byRobot[robot]
		for len(keys) > 0 {
			batch := keys[:min(len(keys), heldBatch)]
			keys = keys[len(batch):]
			n := 0
			err := e.q.Tx(ctx, func(t *store.Tx) error {
				n = 0
				if err := t.LockRate(ctx, robot); err != nil {
					return err
				}
				var free []store.Key
				for _, k := range batch {
					ok, err := t.UnclaimStranded(ctx, k)
					if err != nil {
						return err
					}
					if ok {
						free = append(free, k)
					}
				}
				n = len(free)
				return enqueueTexts(ctx, t, free)
			})
			if err != nil {
				e.log.Warn("delivery: could not queue texts a stopped replica held", "texts", len(batch), "error", err)
				left = append(left, batch...)
				continue
			}
			texts += n
		}
	}
	return texts, left
}
