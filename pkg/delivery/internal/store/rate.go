package store

import (
	"context"
	"time"
)

// The robot rate limiter is a sliding window log kept in the database, so
// every replica sharing a PostgreSQL queue counts the same sends: a send
// first reserves slots (one row each in alertchart_rate_slot) while holding
// the channel's alertchart_rate row lock (FOR UPDATE on PostgreSQL, the
// database write lock on SQLite). paused_until holds a channel back after a
// platform asked for a pause (Retry-After, 429): every replica honours it.

// RateDecision says whether a send may go now.
type RateDecision struct {
	OK   bool
	Wait time.Duration
	// At is the reserved slots' time (Unix ms), moved to the send's end by Settle.
	At int64
}

// RateCheck decides whether cost slots of channel's window (limit per
// window ending at now) are free; with reserve it takes them, under the
// channel's lock. limit <= 0 means no known limit: only a pause applies.
func (db DB) RateCheck(ctx context.Context, channel string, cost, limit int, window time.Duration, now time.Time, reserve bool) (RateDecision, error) {
	nowMs := now.UnixMilli()
	windowMs := window.Milliseconds()
	if reserve {
		if err := db.EnsureRate(ctx, channel); err != nil {
			return RateDecision{}, err
		}
	}
	lock := ""
	if reserve {
		lock = db.d.forUpdate
	}
	var paused int64
	if err := db.x.queryRow(ctx, `SELECT paused_until FROM alertchart_rate WHERE channel = $1`+lock, channel).Scan(&paused); err != nil && err != ErrNoRows {
		return RateDecision{}, err
	}
	if paused > nowMs {
		return RateDecision{Wait: time.Duration(paused-nowMs) * time.Millisecond}, nil
	}
	if limit <= 0 {
		return RateDecision{OK: true}, nil
	}
	cost = max(1, min(cost, limit))
	rows, err := db.x.query(ctx, `SELECT at FROM alertchart_rate_slot WHERE channel = $1 AND at > $2 ORDER BY at`, channel, nowMs-windowMs)
	if err != nil {
		return RateDecision{}, err
	}
	var ats []int64
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			rows.close()
			return RateDecision{}, err
		}
		ats = append(ats, at)
	}
	rows.close()
	if err := rows.Err(); err != nil {
		return RateDecision{}, err
	}
	if len(ats)+cost <= limit {
		if reserve {
			if _, err := db.x.exec(ctx, `DELETE FROM alertchart_rate_slot WHERE channel = $1 AND at <= $2`, channel, nowMs-windowMs); err != nil {
				return RateDecision{}, err
			}
			for range cost {
				if _, err := db.x.exec(ctx, `INSERT INTO alertchart_rate_slot (channel, at) VALUES ($1, $2)`, channel, nowMs); err != nil {
					return RateDecision{}, err
				}
			}
		}
		return RateDecision{OK: true, At: nowMs}, nil
	}
	// The slot that frees last among the ones needed.
	freeAt := ats[len(ats)+cost-limit-1] + windowMs
	return RateDecision{Wait: time.Duration(freeAt-nowMs+1) * time.Millisecond}, nil
}

// EnsureRate creates the channel's rate row if it has none.
func (db DB) EnsureRate(ctx context.Context, channel string) error {
	_, err := db.x.exec(ctx, `INSERT INTO alertchart_rate (channel, paused_until) VALUES ($1, 0) ON CONFLICT (channel) DO NOTHING`, channel)
	return err
}

// LockRate creates the channel's rate row if needed and locks it until the
// transaction ends (PostgreSQL; SQLite transactions are exclusive).
func (db DB) LockRate(ctx context.Context, channel string) error {
	if err := db.EnsureRate(ctx, channel); err != nil {
		return err
	}
	var paused int64
	return db.x.queryRow(ctx, `SELECT paused_until FROM alertchart_rate WHERE channel = $1`+db.d.forUpdate, channel).Scan(&paused)
}

// Settle moves the slots reserved at the given time (Unix ms) to end.
func (db DB) Settle(ctx context.Context, channel string, at int64, end time.Time) error {
	_, err := db.x.exec(ctx, `UPDATE alertchart_rate_slot SET at = $1 WHERE channel = $2 AND at = $3`, end.UnixMilli(), channel, at)
	return err
}

// Pause holds a channel back until the given time, or later if it is
// already paused longer.
func (db DB) Pause(ctx context.Context, channel string, until time.Time) error {
	ms := until.UnixMilli()
	_, err := db.x.exec(ctx, `INSERT INTO alertchart_rate (channel, paused_until) VALUES ($1, $2)
		ON CONFLICT (channel) DO UPDATE SET paused_until = CASE WHEN alertchart_rate.paused_until > $2 THEN alertchart_rate.paused_until ELSE $2 END`,
		channel, ms)
	return err
}
