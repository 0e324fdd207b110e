package store

import (
	"context"
	"errors"
	"strings"
	"time"
)

// The robot rate limiter is a sliding window log kept in the database, so
// every replica sharing a PostgreSQL queue counts the same sends. Its rows
// are keyed by the robot (the "channel" argument and column hold the
// robot's key, which the delivery package derives from the destination:
// two channels, or two organisations, posting to one robot share one
// window), and the robot's alertchart_rate row is also the lock that
// orders its digests (LockDigests). A send
// first reserves slots (one row each in alertchart_rate_slot) while holding
// the channel's alertchart_rate row lock (FOR UPDATE on PostgreSQL, the
// database write lock on SQLite). alertchart_rate.used counts the channel's
// slot rows (kept in step under the same lock), so a decision reads one row
// and a reservation writes a few, however many sends the window holds: with
// a limit of a million a minute the window log must not cost a scan per
// send. Slots leave the window when a reservation or maintenance deletes
// them (ExpireSlots). paused_until holds a channel back after a platform
// asked for a pause (Retry-After, 429): every replica honours it.

// RateDecision says whether a send may go now.
type RateDecision struct {
	OK   bool
	Wait time.Duration
	// At is the reserved slots' time (Unix ms), moved to the send's end by Settle.
	At int64
}

// RateCheck decides whether cost slots of channel's window (limit per
// window ending at now) are free; with reserve it takes them, under the
// channel's lock (the caller's transaction). limit <= 0 means no known
// limit: only a pause applies.
func (db DB) RateCheck(ctx context.Context, channel string, cost, limit int, window time.Duration, now time.Time, reserve bool) (RateDecision, error) {
	nowMs := now.UnixMilli()
	cut := nowMs - window.Milliseconds()
	if reserve {
		if err := db.EnsureRate(ctx, channel); err != nil {
			return RateDecision{}, err
		}
	}
	lock := ""
	if reserve {
		lock = db.d.forUpdate
	}
	var paused, used int64
	if err := db.x.queryRow(ctx, `SELECT paused_until, used FROM alertchart_rate WHERE channel = $1`+lock, channel).Scan(&paused, &used); err != nil && !errors.Is(err, ErrNoRows) {
		return RateDecision{}, err
	}
	if paused > nowMs {
		return RateDecision{Wait: time.Duration(paused-nowMs) * time.Millisecond}, nil
	}
	if limit <= 0 {
		return RateDecision{OK: true}, nil
	}
	cost = max(1, min(cost, limit))
	if !reserve {
		if used+int64(cost) > int64(limit) {
			// Some of the counted slots may have left the window since.
			var expired int64
			if err := db.x.queryRow(ctx, `SELECT COUNT(*) FROM alertchart_rate_slot WHERE channel = $1 AND at <= $2`, channel, cut).Scan(&expired); err != nil {
				return RateDecision{}, err
			}
			used -= expired
		}
		if used+int64(cost) <= int64(limit) {
			return RateDecision{OK: true, At: nowMs}, nil
		}
		return db.rateWait(ctx, channel, used, cost, limit, window, now, false)
	}
	expired, err := db.x.exec(ctx, `DELETE FROM alertchart_rate_slot WHERE channel = $1 AND at <= $2`, channel, cut)
	if err != nil {
		return RateDecision{}, err
	}
	used = max(0, used-expired)
	take := 0
	if used+int64(cost) <= int64(limit) {
		take = cost
		q := `INSERT INTO alertchart_rate_slot (channel, at) VALUES ($1, $2)` + strings.Repeat(`, ($1, $2)`, cost-1)
		if _, err := db.x.exec(ctx, q, channel, nowMs); err != nil {
			return RateDecision{}, err
		}
	}
	if expired > 0 || take > 0 {
		if _, err := db.x.exec(ctx, `UPDATE alertchart_rate SET used = $1 WHERE channel = $2`, used+int64(take), channel); err != nil {
			return RateDecision{}, err
		}
	}
	if take > 0 {
		return RateDecision{OK: true, At: nowMs}, nil
	}
	return db.rateWait(ctx, channel, used, cost, limit, window, now, true)
}

// rateWait computes how long until cost slots are free in a window holding
// used slots: until the one that frees last among those needed leaves it.
// A count that ran ahead of the rows (a slot deleted by hand) is counted
// again when the caller holds the lock (repair), and the send retries soon.
func (db DB) rateWait(ctx context.Context, channel string, used int64, cost, limit int, window time.Duration, now time.Time, repair bool) (RateDecision, error) {
	nowMs := now.UnixMilli()
	var at int64
	err := db.x.queryRow(ctx, `SELECT at FROM alertchart_rate_slot WHERE channel = $1 AND at > $2 ORDER BY at LIMIT 1 OFFSET $3`,
		channel, nowMs-window.Milliseconds(), used+int64(cost)-int64(limit)-1).Scan(&at)
	if errors.Is(err, ErrNoRows) {
		if repair {
			_, err = db.x.exec(ctx, `UPDATE alertchart_rate SET used = (SELECT COUNT(*) FROM alertchart_rate_slot s WHERE s.channel = $1) WHERE channel = $1`, channel)
		}
		if err == nil || errors.Is(err, ErrNoRows) {
			return RateDecision{Wait: 100 * time.Millisecond}, nil
		}
	}
	if err != nil {
		return RateDecision{}, err
	}
	freeAt := at + window.Milliseconds()
	return RateDecision{Wait: time.Duration(max(freeAt-nowMs+1, 1)) * time.Millisecond}, nil
}

// ExpireSlots deletes the channel's slots at or before cut and keeps the
// count in step; the caller's transaction must hold LockRate.
func (db DB) ExpireSlots(ctx context.Context, channel string, cut time.Time) error {
	n, err := db.x.exec(ctx, `DELETE FROM alertchart_rate_slot WHERE channel = $1 AND at <= $2`, channel, cut.UnixMilli())
	if err != nil || n == 0 {
		return err
	}
	_, err = db.x.exec(ctx, `UPDATE alertchart_rate SET used = CASE WHEN used > $1 THEN used - $1 ELSE 0 END WHERE channel = $2`, n, channel)
	return err
}

// RateChannels lists the channels that have a rate row.
func (db DB) RateChannels(ctx context.Context) ([]string, error) {
	rows, err := db.x.query(ctx, `SELECT channel FROM alertchart_rate ORDER BY channel`)
	if err != nil {
		return nil, err
	}
	defer rows.close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
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
