package store

import (
	"context"
	"errors"
	"time"
)

// Text state transitions of alertchart_channel rows. A row is pending until
// its text is sent (alone, combined with its chart, or in a digest) or given
// up; digest_owner says which job sends it. See the delivery package for
// the rules; these statements only record them.

// Claim makes owner the sender of the row if nobody claimed it yet and
// returns the row's owner afterwards.
func (db DB) Claim(ctx context.Context, k Key, owner string) (string, error) {
	n, err := db.x.exec(ctx, `UPDATE alertchart_channel SET digest_owner = $1 WHERE delivery_id = $2 AND channel = $3 AND digest_owner = ''`,
		owner, k.DeliveryID, k.Channel)
	if err != nil {
		return "", err
	}
	if n == 1 {
		return owner, nil
	}
	return db.OwnerOf(ctx, k)
}

// OwnerOf returns the row's digest_owner.
func (db DB) OwnerOf(ctx context.Context, k Key) (string, error) {
	var cur string
	err := db.x.queryRow(ctx, `SELECT digest_owner FROM alertchart_channel WHERE delivery_id = $1 AND channel = $2`, k.DeliveryID, k.Channel).Scan(&cur)
	return cur, err
}

// Digest is an open digest of a channel: its owner and how many alerts it
// gathered so far.
type Digest struct {
	Owner  string
	Alerts int
}

// OpenDigests lists the channel's digests still gathering (owned pending
// rows whose text is not out), oldest first. A row a replica's lane holds
// (holder, PostgreSQL) is no digest: a lane sends its row alone, so a row
// that joined it would only come back (and its record would have to take
// the robot's lock to find it, see RecordSent).
func (db DB) OpenDigests(ctx context.Context, org int64, channel string) ([]Digest, error) {
	rows, err := db.x.query(ctx, `SELECT digest_owner, SUM(n_alerts) FROM alertchart_channel
		WHERE org_id = $2 AND channel = $1 AND `+isPending+` AND digest_owner <> '' AND text_sent_at IS NULL AND holder = ''
		GROUP BY digest_owner ORDER BY MIN(received_at)`, channel, org)
	if err != nil {
		return nil, err
	}
	defer rows.close()
	var out []Digest
	for rows.Next() {
		var d Digest
		var sum int64
		if err := rows.Scan(&d.Owner, &sum); err != nil {
			return nil, err
		}
		d.Alerts = int(sum)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Owned lists the pending, unsent rows of org's channel that owner sends,
// oldest first.
func (db DB) Owned(ctx context.Context, org int64, owner, channel string) ([]*Channel, error) {
	return db.queryChannels(ctx, `org_id = $3 AND channel = $2 AND `+isPending+` AND digest_owner = $1 AND text_sent_at IS NULL ORDER BY received_at`,
		owner, channel, org)
}

// Gather makes owner the sender of up to room of the channel's oldest
// unclaimed pending rows (a digest gathering the robot's backlog).
func (db DB) Gather(ctx context.Context, org int64, owner, channel string, room int) error {
	_, err := db.x.exec(ctx, `UPDATE alertchart_channel SET digest_owner = $1
		WHERE org_id = $4 AND channel = $2 AND `+isPending+` AND digest_owner = '' AND text_sent_at IS NULL AND delivery_id IN (
			SELECT delivery_id FROM alertchart_channel WHERE org_id = $4 AND channel = $2 AND `+isPending+` AND digest_owner = ''
			ORDER BY received_at LIMIT $3)`, owner, channel, room, org)
	return err
}

// GatherHeld gathers the rows of keys (one channel's) that a lane of holder
// still holds (claimed by their own key; holder "" on SQLite) into one
// digest owned by the oldest of them, and lets the lane go of them: the
// owner's text job sends them all. It returns the owner and how many rows
// moved (none: no owner).
func (db DB) GatherHeld(ctx context.Context, holder string, keys []Key) (Key, int, error) {
	if len(keys) == 0 {
		return Key{}, 0, nil
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.DeliveryID
	}
	in, args := inList(3, ids)
	args = append([]any{keys[0].Channel, holder}, args...)
	held := `channel = $1 AND holder = $2 AND delivery_id IN (` + in + `) AND ` + isPending + ` AND text_sent_at IS NULL
		AND digest_owner = delivery_id || '/' || channel`
	rows, err := db.x.query(ctx, `UPDATE alertchart_channel SET holder = '', digest_owner = (
			SELECT delivery_id || '/' || channel FROM alertchart_channel WHERE `+held+` ORDER BY received_at, delivery_id LIMIT 1)
		WHERE `+held+` RETURNING digest_owner`, args...)
	if err != nil {
		return Key{}, 0, err
	}
	defer rows.close()
	var owner string
	n := 0
	for rows.Next() {
		if err := rows.Scan(&owner); err != nil {
			return Key{}, 0, err
		}
		n++
	}
	if err := rows.Err(); err != nil || n == 0 {
		return Key{}, 0, err
	}
	k := ownerKey(owner)
	k.Org = keys[0].Org
	return k, n, nil
}

// Unclaim hands every pending, unsent row owner holds back to nobody (and
// to no replica's lane) and returns their keys (each needs a text job of
// its own again).
func (db DB) Unclaim(ctx context.Context, org int64, owner, channel string) ([]Key, error) {
	left, err := db.Owned(ctx, org, owner, channel)
	if err != nil || len(left) == 0 {
		return nil, err
	}
	if _, err := db.x.exec(ctx, `UPDATE alertchart_channel SET digest_owner = '', holder = ''
		WHERE org_id = $3 AND channel = $2 AND `+isPending+` AND digest_owner = $1 AND text_sent_at IS NULL`,
		owner, channel, org); err != nil {
		return nil, err
	}
	keys := make([]Key, len(left))
	for i, r := range left {
		keys[i] = Key{Org: r.Org, DeliveryID: r.DeliveryID, Channel: r.Channel}
	}
	return keys, nil
}

// TextSent is what a successful text send records on one row.
type TextSent struct {
	Key
	At        time.Time // when the send finished
	Latency   time.Duration
	Part      string
	Chart     ChartState
	ChartSent *time.Time // the chart went with the text
	ChartLat  *time.Duration
	Renderer  string
	Fallback  string
	Note      string
}

// Sending is one send's outcome to record at once: the rows the message
// carried, their attempts, and the sender's bookkeeping.
type Sending struct {
	Org     int64
	Channel string
	// Robot is the rate-limit key of the channel's robot (see RateCheck):
	// its row is the lock that orders digests.
	Robot string
	// Owner is the sender's key: rows that joined its digest but were not
	// in the message are released (returned by RecordSent).
	Owner string
	// HandTo, when set, is the owner the sender's leftover rows pass to
	// (a digest that could not name them all, see the delivery package):
	// they stay claimed, by HandTo, instead of being released.
	HandTo   string
	Rows     []TextSent
	Attempts []Attempt
	// SettleAt, when set, moves the slots reserved at that time (Unix ms)
	// to SettleTo, the end of the send.
	SettleAt int64
	SettleTo time.Time
	// Held says the sender is a lane whose row a replica holds (holder is
	// set, PostgreSQL): no digest gathered rows under it (see OpenDigests),
	// so there is no lock to take and nothing to release. Should a row
	// have joined all the same (a replica of an earlier version),
	// maintenance finds it stranded and queues it (requeueStranded).
	Held bool
}

// RecordSentNow is RecordSent in a transaction of its own, for a sender
// with no job to insert along with it: on PostgreSQL it is one round trip
// (the statements are pipelined and run as one implicit transaction). The
// rows it releases (rare: rows that joined the sender's digest while it was
// sending) must get their text jobs in a transaction that follows; should
// the process die in between, maintenance finds them (requeueStranded).
func (s *Store) RecordSentNow(ctx context.Context, rec Sending) ([]Key, error) {
	if s.pool != nil {
		return DB{x: pgxDB{s.pool}, d: s.d}.RecordSent(ctx, rec)
	}
	var left []Key
	err := s.Tx(ctx, func(t *Tx) error {
		var err error
		left, err = t.RecordSent(ctx, rec)
		return err
	})
	return left, err
}

// RecordSent records a successful send in one go (on PostgreSQL, one round
// trip): under the channel's digest lock, the slots settled, every row sent,
// every attempt, and the owner's leftover rows released.
// It returns the released rows, which need text jobs of their own again
// (or, with HandTo, the rows passed to it, which need one job: HandTo's).
func (db DB) RecordSent(ctx context.Context, s Sending) ([]Key, error) {
	stmts := make([]stmt, 0, 2*len(s.Rows)+4)
	alone := s.Held && s.SettleAt == 0 && s.HandTo == "" && db.d.forUpdate != ""
	if db.d.forUpdate != "" && !alone {
		stmts = append(stmts, stmt{`SELECT paused_until FROM alertchart_rate WHERE channel = $1` + db.d.forUpdate, []any{s.Robot}})
	}
	if s.SettleAt != 0 && s.SettleTo.UnixMilli() > s.SettleAt {
		stmts = append(stmts, stmt{`UPDATE alertchart_rate_slot SET at = $1 WHERE channel = $2 AND at = $3`, []any{s.SettleTo.UnixMilli(), s.Robot, s.SettleAt}})
	}
	for _, r := range s.Rows {
		var chartSent, chartLat any
		if r.ChartSent != nil {
			chartSent = r.ChartSent.UnixMilli()
		}
		if r.ChartLat != nil {
			chartLat = r.ChartLat.Milliseconds()
		}
		stmts = append(stmts, stmt{`UPDATE alertchart_channel SET status = $1, text_sent_at = $2, text_latency_ms = $3, text_part = $4,
		attempts = attempts + 1, last_error = '', chart_state = $5, chart_sent_at = $6, chart_latency_ms = $7,
		renderer = $8, fallback_reason = $9, chart_note = $10 WHERE delivery_id = $11 AND channel = $12`,
			[]any{string(Sent), r.At.UnixMilli(), r.Latency.Milliseconds(), r.Part, string(r.Chart), chartSent, chartLat,
				r.Renderer, r.Fallback, r.Note, r.DeliveryID, r.Channel}})
	}
	if alone && len(s.Rows) == 1 && len(s.Attempts) == 1 && s.Attempts[0].Key == s.Rows[0].Key {
		// A lane's text: the row and its attempt in one statement.
		a := attemptStmt(s.Attempts[0])
		row := stmts[len(stmts)-1]
		_, err := db.x.exec(ctx, `WITH sent AS (`+row.q+`)
		INSERT INTO alertchart_attempt (delivery_id, channel, part, at, ok, error, status_code, duration_ms)
		VALUES ($11, $12, $13, $14, $15, $16, $17, $18)`, append(row.args, a.args[2:]...)...)
		return nil, err
	}
	for _, a := range s.Attempts {
		stmts = append(stmts, attemptStmt(a))
	}
	if !alone {
		stmts = append(stmts, stmt{`UPDATE alertchart_channel SET digest_owner = $4, holder = '' WHERE org_id = $3 AND channel = $2 AND ` + isPending + ` AND digest_owner = $1 AND text_sent_at IS NULL
		RETURNING delivery_id`, []any{s.Owner, s.Channel, s.Org, s.HandTo}})
	}
	var released []Key
	_, err := db.x.pipeline(ctx, stmts, func(r rowScanner) error {
		k := Key{Org: s.Org, Channel: s.Channel}
		if err := r.Scan(&k.DeliveryID); err != nil {
			return err
		}
		released = append(released, k)
		return nil
	})
	return released, err
}

// RecordFailure counts a failed text attempt and keeps its error.
func (db DB) RecordFailure(ctx context.Context, k Key, msg string) error {
	_, err := db.x.exec(ctx, `UPDATE alertchart_channel SET attempts = attempts + 1, last_error = $1 WHERE delivery_id = $2 AND channel = $3`,
		msg, k.DeliveryID, k.Channel)
	return err
}

// SetLastError notes why a pending row waits, without counting an attempt.
func (db DB) SetLastError(ctx context.Context, k Key, msg string) error {
	_, err := db.x.exec(ctx, `UPDATE alertchart_channel SET last_error = $1 WHERE delivery_id = $2 AND channel = $3`, msg, k.DeliveryID, k.Channel)
	return err
}

// MarkFailed gives the row up with reason and releases its claim.
func (db DB) MarkFailed(ctx context.Context, k Key, reason string) error {
	_, err := db.x.exec(ctx, `UPDATE alertchart_channel SET status = $1, last_error = $2, digest_owner = '' WHERE delivery_id = $3 AND channel = $4`,
		string(Failed), reason, k.DeliveryID, k.Channel)
	return err
}

// SetNoCombine makes the row's next attempt send text and chart apart.
func (db DB) SetNoCombine(ctx context.Context, k Key) error {
	_, err := db.x.exec(ctx, `UPDATE alertchart_channel SET no_combine = 1 WHERE delivery_id = $1 AND channel = $2`, k.DeliveryID, k.Channel)
	return err
}

// PendingTexts counts the channel's pending texts, leaving out those owner
// sends ("" counts all).
func (db DB) PendingTexts(ctx context.Context, org int64, channel, owner string) (int64, error) {
	var n int64
	var err error
	if owner == "" {
		err = db.x.queryRow(ctx, `SELECT COUNT(*) FROM alertchart_channel WHERE org_id = $2 AND channel = $1 AND `+isPending, channel, org).Scan(&n)
	} else {
		err = db.x.queryRow(ctx, `SELECT COUNT(*) FROM alertchart_channel WHERE org_id = $3 AND channel = $1 AND `+isPending+` AND digest_owner <> $2`,
			channel, owner, org).Scan(&n)
	}
	return n, err
}

// LockDigests takes the lock of the channel's robot (its rate row, see
// RateCheck; PostgreSQL — SQLite transactions are exclusive already),
// which a job takes while it picks a digest to join. Taken first in a
// transaction, before any channel row, so two orders cannot deadlock. A
// robot without a rate row never had a digest, so there is nothing to
// lock.
func (db DB) LockDigests(ctx context.Context, robot string) error {
	if db.d.forUpdate == "" {
		return nil
	}
	var paused int64
	err := db.x.queryRow(ctx, `SELECT paused_until FROM alertchart_rate WHERE channel = $1`+db.d.forUpdate, robot).Scan(&paused)
	if errors.Is(err, ErrNoRows) {
		return nil
	}
	return err
}

// ---- charts ----

// ChartProgress records that the first sentParts charts of the row were
// dealt with and keeps note (when none of them was sent).
func (db DB) ChartProgress(ctx context.Context, k Key, sentParts int, note string) error {
	_, err := db.x.exec(ctx, `UPDATE alertchart_channel SET chart_parts_sent = $1, chart_note = $2 WHERE delivery_id = $3 AND channel = $4`,
		sentParts, note, k.DeliveryID, k.Channel)
	return err
}

// ChartSent records a sent follow-up chart; the first one sets the chart's
// time, latency, renderer and fallback reason.
func (db DB) ChartSent(ctx context.Context, k Key, sentParts int, at time.Time, latency time.Duration, renderer, fallback, note string) error {
	_, err := db.x.exec(ctx, `UPDATE alertchart_channel SET chart_parts_sent = $1,
		chart_latency_ms = CASE WHEN chart_sent_at IS NULL THEN $2 ELSE chart_latency_ms END,
		chart_sent_at = CASE WHEN chart_sent_at IS NULL THEN $3 ELSE chart_sent_at END,
		renderer = CASE WHEN renderer = '' THEN $4 ELSE renderer END,
		fallback_reason = CASE WHEN fallback_reason = '' THEN $5 ELSE fallback_reason END,
		chart_note = CASE WHEN $6 <> '' THEN $6 ELSE chart_note END
		WHERE delivery_id = $7 AND channel = $8`,
		sentParts, latency.Milliseconds(), at.UnixMilli(), renderer, fallback, note, k.DeliveryID, k.Channel)
	return err
}

// SetChartState ends the row's chart follow-up; a non-empty note replaces
// the chart note.
func (db DB) SetChartState(ctx context.Context, k Key, state ChartState, note string) error {
	if note == "" {
		_, err := db.x.exec(ctx, `UPDATE alertchart_channel SET chart_state = $1 WHERE delivery_id = $2 AND channel = $3`,
			string(state), k.DeliveryID, k.Channel)
		return err
	}
	_, err := db.x.exec(ctx, `UPDATE alertchart_channel SET chart_state = $1, chart_note = $4 WHERE delivery_id = $2 AND channel = $3`,
		string(state), k.DeliveryID, k.Channel, note)
	return err
}

// CountChartAttempt counts a failed chart send.
func (db DB) CountChartAttempt(ctx context.Context, k Key) error {
	_, err := db.x.exec(ctx, `UPDATE alertchart_channel SET chart_attempts = chart_attempts + 1 WHERE delivery_id = $1 AND channel = $2`,
		k.DeliveryID, k.Channel)
	return err
}

// Overview is what became of a digest's overview chart, recorded on every
// row the digest carried.
type Overview struct {
	State    ChartState
	Note     string
	SentAt   *time.Time
	Renderer string
	Fallback string
}

// RecordOverview writes a digest's overview outcome into one of its rows.
func (db DB) RecordOverview(ctx context.Context, r *Channel, o Overview) error {
	var sentAt, lat any
	if o.SentAt != nil {
		sentAt, lat = o.SentAt.UnixMilli(), o.SentAt.Sub(r.ReceivedAt).Milliseconds()
	}
	_, err := db.x.exec(ctx, `UPDATE alertchart_channel SET chart_state = $1, chart_note = $2, chart_sent_at = $3, chart_latency_ms = $4,
		renderer = $5, fallback_reason = $6 WHERE delivery_id = $7 AND channel = $8`,
		string(o.State), o.Note, sentAt, lat, o.Renderer, o.Fallback, r.DeliveryID, r.Channel)
	return err
}
