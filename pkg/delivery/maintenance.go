package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// maintenanceEvery is how often an engine deletes old records and looks for
// stranded texts (and once right after it opened the queue).
const maintenanceEvery = 5 * time.Minute

func (e *engine) maintenanceLoop() {
	defer e.wg.Done()
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(e.ctx, 2*time.Minute)
		if err := e.maintain(ctx); err != nil && e.ctx.Err() == nil {
			e.log.Warn("delivery: maintenance failed; it runs again in a few minutes", "error", err)
		}
		cancel()
		t.Reset(maintenanceEvery)
	}
}

// maintain deletes the records of every registered organisation older than
// its delivery.retention, expired idempotency keys and rate-limit slots,
// then looks for stranded texts. An organisation without settings in this
// process keeps its records until one that has them runs maintenance.
func (e *engine) maintain(ctx context.Context) error {
	now := e.now()
	e.mu.Lock()
	orgs := make([]*orgRuntime, 0, len(e.regs))
	for org := range e.regs {
		if rt := e.current(org); rt != nil {
			orgs = append(orgs, rt)
		}
	}
	e.mu.Unlock()
	for _, rt := range orgs {
		// Never delete what may still be retried.
		keep := max(rt.s.Delivery.Retention.D(), rt.horizon()+time.Hour)
		if err := e.st.DeleteOld(ctx, rt.org, now.Add(-keep), now); err != nil {
			return err
		}
	}
	robots, err := e.st.RateChannels(ctx)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	for _, robot := range robots {
		err := e.st.Tx(ctx, func(t *store.Tx) error {
			if err := t.LockRate(ctx, robot); err != nil {
				return err
			}
			return t.ExpireSlots(ctx, robot, now.Add(-e.cfg.RateWindow))
		})
		if err != nil {
			return fmt.Errorf("retention: rate slots of %s: %w", robot, err)
		}
	}
	return e.requeueStranded(ctx)
}

// strandedAfter is how old a pending text must be before maintenance looks
// for a job that will send it.
const strandedAfter = 2 * time.Minute

// requeueStranded is the safety net behind "an accepted alert is never
// lost": every pending text must have a live River job that will send it,
// either its own or the job of the digest it joined, or be held by the lane
// of a live replica. Accept, release, the digest hand-over and the take-over
// of a dead replica create rows and jobs in one transaction, so finding a
// row without one means a bug; rather than let that lose an alert, the row
// gets a fresh text job and the incident is logged.
func (e *engine) requeueStranded(ctx context.Context) error {
	stranded, err := e.st.Stranded(ctx, e.now().Add(-strandedAfter), 1000, isHeld)
	if err != nil {
		return err
	}
	for _, k := range stranded {
		err := e.q.Tx(ctx, func(t *store.Tx) error {
			// The robot's lock (made if need be) orders this with claims,
			// digest owners and take-overs of the channel.
			if err := t.LockRate(ctx, e.robotOf(k.Org, k.Channel)); err != nil {
				return err
			}
			// Checked again under the lock: a job may have appeared since.
			if ok, err := t.UnclaimStranded(ctx, k); err != nil || !ok {
				return err
			}
			_, err := t.Enqueue(ctx, textJob(k))
			return err
		})
		if err != nil {
			return fmt.Errorf("requeue stranded delivery %s: %w", k.DeliveryID, err)
		}
		e.log.Error("delivery: a pending text had no job that would send it; queued it again", "delivery", k.DeliveryID, "channel", k.Channel, "org", k.Org)
	}
	return nil
}
