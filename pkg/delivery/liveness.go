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
// its lanes held get text jobs of their own. A digest whose owner died is
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
	for _, id := range dead {
		if id != e.replica {
			e.takeOver(ctx, id)
		}
	}
	return nil
}

// takeOver gives a dead replica's work back to the queue.
func (e *engine) takeOver(ctx context.Context, id string) {
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
	texts := 0
	for _, k := range held {
		// As requeueStranded: under the robot's lock, only if still
		// without a job. Should this replica die half-way, the rows left
		// have a holder without a heartbeat, which maintenance requeues.
		err := e.q.Tx(ctx, func(t *store.Tx) error {
			if err := t.LockRate(ctx, e.robotOf(k.Org, k.Channel)); err != nil {
				return err
			}
			if ok, err := t.UnclaimStranded(ctx, k); err != nil || !ok {
				return err
			}
			texts++
			_, err := t.Enqueue(ctx, textJob(k))
			return err
		})
		if err != nil {
			e.log.Warn("delivery: could not queue a text a stopped replica held; maintenance will", "replica", id, "delivery", k.DeliveryID, "error", err)
		}
	}
	e.log.Warn("delivery: took over the work of a replica that stopped", "replica", id, "jobs", jobs, "texts", texts)
}
