package delivery

import (
	"context"
	"time"

	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// The robot rate limiter is a sliding window log kept in the queue database
// (see the store), so every replica sharing a PostgreSQL queue counts the
// same sends. A send first reserves slots, one per platform message it
// will cost, under the channel's lock. A window never holds more than the
// limit, whether the platform counts per calendar minute or per sliding
// minute, because the window (Config.RateWindow, default 61 s) is at least
// a minute long. Failed sends keep their slot: WeCom counts them too. A
// platform-requested pause (Retry-After, 429) holds the channel back on
// every replica.

// rateDecision says whether a send may go now.
type rateDecision = store.RateDecision

// acquire reserves cost slots of channel's window when they are free.
// limit 0 means the platform has no known limit (only pauses apply).
func (s *Service) acquire(ctx context.Context, channel string, cost, limit int) (rateDecision, error) {
	if limit <= 0 {
		// No slots to reserve: only a platform-requested pause applies.
		return s.st.RateCheck(ctx, channel, cost, limit, s.cfg.RateWindow, s.now(), false)
	}
	var dec rateDecision
	err := s.st.Tx(ctx, func(t *store.Tx) error {
		var err error
		dec, err = t.RateCheck(ctx, channel, cost, limit, s.cfg.RateWindow, s.now(), true)
		return err
	})
	return dec, err
}

// peek reports whether cost slots are free now, reserving nothing.
func (s *Service) peek(ctx context.Context, channel string, cost, limit int) (rateDecision, error) {
	return s.st.RateCheck(ctx, channel, cost, limit, s.cfg.RateWindow, s.now(), false)
}

// settle moves the slots reserved at dec.At to the end of the send. A
// platform counts a message somewhere between the request's start and its
// answer, so counting the window from the answer keeps a slow send from
// letting the next window start too early.
func (s *Service) settle(ctx context.Context, channel string, dec rateDecision) {
	if err := s.settleIn(context.WithoutCancel(ctx), s.st.DB, channel, dec); err != nil {
		s.log.Warn("delivery: could not settle rate-limit slot", "channel", channel, "error", err)
	}
}

func (s *Service) settleIn(ctx context.Context, db store.DB, channel string, dec rateDecision) error {
	if !dec.OK || dec.At == 0 {
		return nil
	}
	end := s.now()
	if end.UnixMilli() <= dec.At {
		return nil
	}
	return db.Settle(ctx, channel, dec.At, end)
}

// pause holds a channel back until the given time (platform Retry-After).
func (s *Service) pause(ctx context.Context, channel string, until time.Time) error {
	return s.st.Pause(ctx, channel, until)
}
