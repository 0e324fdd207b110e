package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// maintain deletes records older than delivery.retention and expired
// idempotency keys and rate-limit slots, then looks for stranded texts.
func (s *Service) maintain(ctx context.Context) error {
	now := s.now()
	// Never delete what may still be retried.
	keep := max(s.s.Delivery.Retention.D(), s.horizon()+time.Hour)
	if err := s.st.DeleteOld(ctx, now.Add(-keep), now); err != nil {
		return err
	}
	chans, err := s.st.RateChannels(ctx)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	for _, ch := range chans {
		err := s.st.Tx(ctx, func(t *store.Tx) error {
			if err := t.LockRate(ctx, ch); err != nil {
				return err
			}
			return t.ExpireSlots(ctx, ch, now.Add(-s.cfg.RateWindow))
		})
		if err != nil {
			return fmt.Errorf("retention: rate slots of %s: %w", ch, err)
		}
	}
	return s.requeueStranded(ctx)
}

// strandedAfter is how old a pending text must be before maintenance looks
// for a job that will send it.
const strandedAfter = 2 * time.Minute

// requeueStranded is the safety net behind "an accepted alert is never
// lost": every pending text must have a live River job that will send it,
// either its own or the job of the digest it joined. Accept, release and
// the digest hand-over create rows and jobs in one transaction, so finding
// a row without one means a bug; rather than let that lose an alert, the
// row gets a fresh text job and the incident is logged.
func (s *Service) requeueStranded(ctx context.Context) error {
	age := strandedAfter
	if !s.st.SQLite() {
		// Rows another replica's lane holds have no job until their guard
		// comes due (see lane.go).
		age = max(age, s.laneGrace()+guardWindow+time.Minute)
	}
	stranded, err := s.st.Stranded(ctx, s.now().Add(-age), 1000, isHeld)
	if err != nil {
		return err
	}
	for _, k := range stranded {
		err := s.q.Tx(ctx, func(t *store.Tx) error {
			// The channel's lock (made if need be) orders this with claims,
			// digest owners and guards of the channel.
			if err := t.LockRate(ctx, k.Channel); err != nil {
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
		s.log.Error("delivery: a pending text had no job that would send it; queued it again", "delivery", k.DeliveryID, "channel", k.Channel)
	}
	return nil
}
