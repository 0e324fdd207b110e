package store

import (
	"context"
	"errors"
	"fmt"
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
// them (ExpireSlots). A platform's shorter windows (Feishu 5 a second,
// Discord 5 per 2 seconds, Slack one a second) are kept in the same log:
// they hold only the few slots of the last seconds, read in one indexed
// range (see RateCheckWindows). paused_until holds a channel back after a
// platform asked for a pause (Retry-After, 429, Discord's
// X-RateLimit-Remaining 0): every replica honours it.

// RateDecision says whether a send may go now.
type RateDecision struct {
	OK   bool
	Wait time.Duration
	// Short says a refusal only paces the robot: every window that refused
	// is shorter than a minute (a platform's per-second window), or the
	// robot is paused for no longer than its longest such window (Discord's
	// X-RateLimit-Reset-After). The send should wait Wait and go on its
	// own; only a refusal by the minute window (a real storm) or a long
	// pause is a reason to merge waiting texts into a digest.
	Short bool
	// At is the reserved slots' time (Unix ms), moved to the send's end by Settle.
	At int64
}

// Window is one of a robot's rate windows: at most Max platform messages
// in any span of Per.
type Window struct {
	Max int
	Per time.Duration
	// Pace marks a platform's short window (per second): a refusal by
	// pace windows alone is pacing (RateDecision.Short), not a storm.
	Pace bool
}

func (w Window) short() bool { return w.Pace }

// RateCheck decides whether cost slots of channel's window (limit per
// window ending at now) are free; with reserve it takes them, under the
// channel's lock (the caller's transaction). limit <= 0 means no known
// limit: only a pause applies. It is RateCheckWindows with that one window.
func (db DB) RateCheck(ctx context.Context, channel string, cost, limit int, window time.Duration, now time.Time, reserve bool) (RateDecision, error) {
	var ws []Window
	if limit > 0 {
		ws = []Window{{Max: limit, Per: window}}
	}
	return db.RateCheckWindows(ctx, channel, cost, ws, now, reserve)
}

// RateCheckWindows decides whether cost slots are free in every one of the
// channel's windows at now; with reserve it takes them, under the
// channel's lock (the caller's transaction). No windows: only a pause
// applies.
//
// The longest window that is not a Pace window (the robot's minute limit)
// is counted by alertchart_rate.used (one row read however many slots it
// holds) and holds at most its Max slots (a send costing more takes Max).
// Pace windows — a platform's per-second pace — are counted from the few
// slot rows inside them. A send
// costing more than a short window admits (a Telegram photo followed by
// its text under one a second) goes when that window is empty, and its
// slots are spread one Window.Per/Max apart from now, so the next send
// waits until the platform's average rate allows it again.
func (db DB) RateCheckWindows(ctx context.Context, channel string, cost int, windows []Window, now time.Time, reserve bool) (RateDecision, error) {
	nowMs := now.UnixMilli()
	if reserve {
		if err := db.EnsureRate(ctx, channel); err != nil {
			return RateDecision{}, err
		}
	}
	lock := ""
	if reserve {
		lock = db.d.forUpdate
	}
	var long Window
	var short []Window
	keep := time.Duration(0) // the longest window: slots older than that are gone
	for _, w := range windows {
		if w.Max <= 0 || w.Per <= 0 {
			continue
		}
		keep = max(keep, w.Per)
		if !w.short() && w.Per >= long.Per {
			if long.Max > 0 {
				short = append(short, long) // counted from its rows, like a short one
			}
			long = w
			continue
		}
		short = append(short, w)
	}
	var paused, used int64
	if err := db.x.queryRow(ctx, `SELECT paused_until, used FROM alertchart_rate WHERE channel = $1`+lock, channel).Scan(&paused, &used); err != nil && !errors.Is(err, ErrNoRows) {
		return RateDecision{}, err
	}
	if paused > nowMs {
		wait := time.Duration(paused-nowMs) * time.Millisecond
		pace := time.Duration(0)
		for _, w := range short {
			if w.short() {
				pace = max(pace, w.Per)
			}
		}
		return RateDecision{Wait: wait, Short: wait <= pace}, nil
	}
	if long.Max <= 0 && len(short) == 0 {
		return RateDecision{OK: true}, nil
	}
	cost = max(1, cost)
	longCost := cost
	if long.Max > 0 {
		longCost = min(cost, long.Max)
	}
	cut := nowMs - keep.Milliseconds()
	var expired int64
	if reserve {
		n, err := db.x.exec(ctx, `DELETE FROM alertchart_rate_slot WHERE channel = $1 AND at <= $2`, channel, cut)
		if err != nil {
			return RateDecision{}, err
		}
		expired = n
	} else if long.Max > 0 && used+int64(longCost) > int64(long.Max) {
		// Some of the counted slots may have left the window since.
		if err := db.x.queryRow(ctx, `SELECT COUNT(*) FROM alertchart_rate_slot WHERE channel = $1 AND at <= $2`, channel, cut).Scan(&expired); err != nil {
			return RateDecision{}, err
		}
	}
	used = max(0, used-expired)
	longOK := long.Max <= 0 || used+int64(longCost) <= int64(long.Max)
	shortWait, pacing := time.Duration(0), true
	if longOK && len(short) > 0 {
		var err error
		if shortWait, pacing, err = db.shortWait(ctx, channel, longCost, short, nowMs); err != nil {
			return RateDecision{}, err
		}
	}
	take := 0
	if reserve && longOK && shortWait == 0 {
		take = longCost
		step := int64(0) // spread a send bigger than the shortest window admits
		for _, w := range short {
			if w.short() && longCost > w.Max {
				step = max(step, (w.Per / time.Duration(w.Max)).Milliseconds())
			}
		}
		q := `INSERT INTO alertchart_rate_slot (channel, at) VALUES ($1, $2)`
		args := []any{channel, nowMs}
		for i := 1; i < take; i++ {
			if step == 0 {
				q += `, ($1, $2)`
				continue
			}
			args = append(args, nowMs+int64(i)*step)
			q += fmt.Sprintf(`, ($1, $%d)`, len(args))
		}
		if _, err := db.x.exec(ctx, q, args...); err != nil {
			return RateDecision{}, err
		}
	}
	if reserve && (expired > 0 || take > 0) {
		if _, err := db.x.exec(ctx, `UPDATE alertchart_rate SET used = $1 WHERE channel = $2`, used+int64(take), channel); err != nil {
			return RateDecision{}, err
		}
	}
	switch {
	case !longOK:
		return db.rateWait(ctx, channel, used, longCost, long.Max, long.Per, now, reserve)
	case shortWait > 0:
		return RateDecision{Wait: shortWait, Short: pacing}, nil
	}
	return RateDecision{OK: true, At: nowMs}, nil
}

// shortWait is how long until cost more slots fit in every one of the
// windows counted from their rows (0: now), and whether only Pace windows
// refused. Each holds at most Max slots, except that a send fits an empty
// window whatever it costs.
func (db DB) shortWait(ctx context.Context, channel string, cost int, short []Window, nowMs int64) (time.Duration, bool, error) {
	span := time.Duration(0)
	for _, w := range short {
		span = max(span, w.Per)
	}
	rows, err := db.x.query(ctx, `SELECT at FROM alertchart_rate_slot WHERE channel = $1 AND at > $2 ORDER BY at`, channel, nowMs-span.Milliseconds())
	if err != nil {
		return 0, false, err
	}
	defer rows.close()
	var ats []int64
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			return 0, false, err
		}
		ats = append(ats, at)
	}
	if err := rows.Err(); err != nil {
		return 0, false, err
	}
	wait, pacing := int64(0), true
	for _, w := range short {
		per := w.Per.Milliseconds()
		i := 0
		for i < len(ats) && ats[i] <= nowMs-per {
			i++
		}
		in := ats[i:]
		n := len(in)
		if n == 0 || n+cost <= w.Max {
			continue
		}
		// The k oldest must leave first (all of them for a send bigger
		// than the window).
		k := min(n, n+cost-w.Max)
		wait = max(wait, in[k-1]+per-nowMs+1)
		pacing = pacing && w.Pace
	}
	return time.Duration(wait) * time.Millisecond, pacing, nil
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
	ms := (until.UnixNano() + int64(time.Millisecond) - 1) / int64(time.Millisecond) // rounded up: never a moment early
	_, err := db.x.exec(ctx, `INSERT INTO alertchart_rate (channel, paused_until) VALUES ($1, $2)
		ON CONFLICT (channel) DO UPDATE SET paused_until = CASE WHEN alertchart_rate.paused_until > $2 THEN alertchart_rate.paused_until ELSE $2 END`,
		channel, ms)
	return err
}
