package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// DeleteOld deletes notifications received before cut with their channel
// deliveries, attempts and charts, and idempotency keys expired at now.
// (Rate-limit slots are expired per channel, see ExpireSlots.)
func (db DB) DeleteOld(ctx context.Context, cut, now time.Time) error {
	stmts := []struct {
		q   string
		arg int64
	}{
		{`DELETE FROM alertchart_attempt WHERE delivery_id IN (SELECT id FROM alertchart_delivery WHERE received_at < $1)`, cut.UnixMilli()},
		{`DELETE FROM alertchart_chart WHERE delivery_id IN (SELECT id FROM alertchart_delivery WHERE received_at < $1)`, cut.UnixMilli()},
		{`DELETE FROM alertchart_channel WHERE received_at < $1`, cut.UnixMilli()},
		{`DELETE FROM alertchart_delivery WHERE received_at < $1`, cut.UnixMilli()},
		{`DELETE FROM alertchart_dedupe WHERE expires_at < $1`, now.UnixMilli()},
	}
	for _, st := range stmts {
		if _, err := db.x.exec(ctx, st.q, st.arg); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
	}
	return nil
}

// orphan is the condition of a pending text row r without a live River job
// that will send it: neither its own text job nor its digest owner's.
func (db DB) orphan() string {
	d, c := db.d.jsonText("j.args", "d"), db.d.jsonText("j.args", "c")
	live := `j.kind = '` + KindText + `' AND j.state IN ('available', 'pending', 'retryable', 'running', 'scheduled') AND ` + c + ` = r.channel`
	return `r.` + isPending + ` AND r.text_sent_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM river_job j WHERE ` + live + ` AND ` + d + ` = r.delivery_id)
		AND (r.digest_owner = '' OR NOT EXISTS (SELECT 1 FROM river_job j WHERE ` + live + ` AND ` + d + ` || '/' || r.channel = r.digest_owner))`
}

// Stranded lists (at most limit, oldest first) pending texts received
// before the given time that no live text job will send and that skip (if
// set) does not exclude. The live jobs are read once and matched in memory:
// a backlog of rows and jobs costs their sum, not their product.
func (db DB) Stranded(ctx context.Context, before time.Time, limit int, skip func(Key) bool) ([]Key, error) {
	live := map[Key]bool{}
	rows, err := db.x.query(ctx, `SELECT `+db.d.jsonText("args", "d")+`, `+db.d.jsonText("args", "c")+` FROM river_job
		WHERE kind = $1 AND state IN ('available', 'pending', 'retryable', 'running', 'scheduled')`, KindText)
	if err != nil {
		return nil, fmt.Errorf("look for stranded deliveries: %w", err)
	}
	for rows.Next() {
		var k Key
		if err := rows.Scan(&k.DeliveryID, &k.Channel); err != nil {
			rows.close()
			return nil, err
		}
		live[k] = true
	}
	rows.close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = db.x.query(ctx, `SELECT delivery_id, channel, digest_owner FROM alertchart_channel
		WHERE `+isPending+` AND text_sent_at IS NULL AND received_at < $1 ORDER BY received_at`, before.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("look for stranded deliveries: %w", err)
	}
	defer rows.close()
	var out []Key
	for rows.Next() && len(out) < limit {
		var k Key
		var owner string
		if err := rows.Scan(&k.DeliveryID, &k.Channel, &owner); err != nil {
			return nil, err
		}
		if live[k] || (owner != "" && live[ownerKey(owner)]) || (skip != nil && skip(k)) {
			continue
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// ownerKey parses a digest_owner value.
func ownerKey(owner string) Key {
	i := strings.LastIndexByte(owner, '/')
	if i < 0 {
		return Key{DeliveryID: owner}
	}
	return Key{DeliveryID: owner[:i], Channel: owner[i+1:]}
}

// UnclaimStranded releases a stranded row's claim if it is still stranded
// (checked again: a job may have appeared since) and reports whether it was.
func (db DB) UnclaimStranded(ctx context.Context, k Key) (bool, error) {
	n, err := db.x.exec(ctx, `UPDATE alertchart_channel SET digest_owner = '' WHERE delivery_id = $1 AND channel = $2 AND EXISTS (
		SELECT 1 FROM alertchart_channel r WHERE r.delivery_id = $1 AND r.channel = $2 AND `+db.orphan()+`)`, k.DeliveryID, k.Channel)
	return n > 0, err
}

// ClaimedBySelf lists the channel's pending rows received in [from, to)
// that are still claimed by their own key: sent by a lane, or by their own
// text job.
func (db DB) ClaimedBySelf(ctx context.Context, channel string, from, to time.Time) ([]Key, error) {
	rows, err := db.x.query(ctx, `SELECT delivery_id FROM alertchart_channel WHERE channel = $1 AND `+isPending+`
		AND received_at >= $2 AND received_at < $3 AND text_sent_at IS NULL AND digest_owner = delivery_id || '/' || channel`,
		channel, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.close()
	var out []Key
	for rows.Next() {
		k := Key{Channel: channel}
		if err := rows.Scan(&k.DeliveryID); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
