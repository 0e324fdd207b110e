package delivery

import (
	"context"
	"time"
)

// The robot rate limiter is a sliding window log kept in the queue database,
// so every replica sharing a PostgreSQL queue counts the same sends: a send
// first reserves slots (one row each in alertchart_rate_slot) while holding
// the channel's alertchart_rate row lock (FOR UPDATE on PostgreSQL, the
// database write lock on SQLite). A window never holds more than the limit,
// whether the platform counts per calendar minute or per sliding minute,
// because the window (Config.RateWindow, default 61 s) is at least a minute
// long. Failed sends keep their slot: WeCom counts them too.
//
// paused_until holds a channel back after a platform asked for a pause
// (Retry-After, 429): every replica honours it.

// rateDecision says whether a send may go now.
type rateDecision struct {
	ok   bool
	wait time.Duration
	// at is the reserved slots' time (Unix ms), moved to the send's end by settle.
	at int64
}

// acquire reserves cost slots of channel's window when they are free.
// limit 0 means the platform has no known limit (only pauses apply).
func (s *Service) acquire(ctx context.Context, channel string, cost, limit int) (rateDecision, error) {
	if limit <= 0 {
		// No slots to reserve: only a platform-requested pause applies.
		return s.rateCheck(ctx, s.b.plain(), channel, cost, limit, false)
	}
	var dec rateDecision
	err := withTx(ctx, s.b, func(t txn) error {
		var err error
		dec, err = s.rateCheck(ctx, t.db(), channel, cost, limit, true)
		return err
	})
	return dec, err
}

// peek reports whether cost slots are free now, reserving nothing.
func (s *Service) peek(ctx context.Context, channel string, cost, limit int) (rateDecision, error) {
	return s.rateCheck(ctx, s.b.plain(), channel, cost, limit, false)
}

func (s *Service) rateCheck(ctx context.Context, db dbtx, channel string, cost, limit int, reserve bool) (rateDecision, error) {
	now := s.now().UnixMilli()
	window := s.cfg.RateWindow.Milliseconds()
	if reserve {
		if _, err := db.exec(ctx, `INSERT INTO alertchart_rate (channel, paused_until) VALUES ($1, 0) ON CONFLICT (channel) DO NOTHING`, channel); err != nil {
			return rateDecision{}, err
		}
	}
	lock := ""
	if reserve {
		lock = s.d.forUpdate
	}
	var paused int64
	if err := db.queryRow(ctx, `SELECT paused_until FROM alertchart_rate WHERE channel = $1`+lock, channel).Scan(&paused); err != nil && err != errNoRows {
		return rateDecision{}, err
	}
	if paused > now {
		return rateDecision{wait: time.Duration(paused-now) * time.Millisecond}, nil
	}
	if limit <= 0 {
		return rateDecision{ok: true}, nil
	}
	cost = max(1, min(cost, limit))
	rows, err := db.query(ctx, `SELECT at FROM alertchart_rate_slot WHERE channel = $1 AND at > $2 ORDER BY at`, channel, now-window)
	if err != nil {
		return rateDecision{}, err
	}
	var ats []int64
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			rows.close()
			return rateDecision{}, err
		}
		ats = append(ats, at)
	}
	rows.close()
	if err := rows.Err(); err != nil {
		return rateDecision{}, err
	}
	if len(ats)+cost <= limit {
		if reserve {
			if _, err := db.exec(ctx, `DELETE FROM alertchart_rate_slot WHERE channel = $1 AND at <= $2`, channel, now-window); err != nil {
				return rateDecision{}, err
			}
			for range cost {
				if _, err := db.exec(ctx, `INSERT INTO alertchart_rate_slot (channel, at) VALUES ($1, $2)`, channel, now); err != nil {
					return rateDecision{}, err
				}
			}
		}
		return rateDecision{ok: true, at: now}, nil
	}
	// The slot that frees last among the ones needed.
	freeAt := ats[len(ats)+cost-limit-1] + window
	return rateDecision{wait: time.Duration(freeAt-now+1) * time.Millisecond}, nil
}

// settle moves the slots reserved at dec.at to the end of the send. A
// platform counts a message somewhere between the request's start and its
// answer, so counting the window from the answer keeps a slow send from
// letting the next window start too early.
func (s *Service) settle(ctx context.Context, channel string, dec rateDecision) {
	if err := s.settleTx(context.WithoutCancel(ctx), s.b.plain(), channel, dec); err != nil {
		s.log.Warn("delivery: could not settle rate-limit slot", "channel", channel, "error", err)
	}
}

func (s *Service) settleTx(ctx context.Context, db dbtx, channel string, dec rateDecision) error {
	if !dec.ok || dec.at == 0 {
		return nil
	}
	end := s.now().UnixMilli()
	if end <= dec.at {
		return nil
	}
	_, err := db.exec(ctx, `UPDATE alertchart_rate_slot SET at = $1 WHERE channel = $2 AND at = $3`, end, channel, dec.at)
	return err
}

// pause holds a channel back until the given time (platform Retry-After).
func (s *Service) pause(ctx context.Context, channel string, until time.Time) error {
	ms := until.UnixMilli()
	_, err := s.b.plain().exec(ctx, `INSERT INTO alertchart_rate (channel, paused_until) VALUES ($1, $2)
		ON CONFLICT (channel) DO UPDATE SET paused_until = CASE WHEN alertchart_rate.paused_until > $2 THEN alertchart_rate.paused_until ELSE $2 END`,
		channel, ms)
	return err
}
