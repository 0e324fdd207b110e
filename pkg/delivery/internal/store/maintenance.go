package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// DeleteOld deletes org's notifications received before cut with their
// channel deliveries, attempts and charts, and idempotency keys (of every
// organisation) expired at now. (Rate-limit slots are expired per robot,
// see ExpireSlots.)
func (db DB) DeleteOld(ctx context.Context, org int64, cut, now time.Time) error {
	old := `SELECT id FROM alertchart_delivery WHERE org_id = $2 AND received_at < $1`
	stmts := []struct {
		q    string
		args []any
	}{
		{`DELETE FROM alertchart_attempt WHERE delivery_id IN (` + old + `)`, []any{cut.UnixMilli(), org}},
		{`DELETE FROM alertchart_chart WHERE delivery_id IN (` + old + `)`, []any{cut.UnixMilli(), org}},
		{`DELETE FROM alertchart_channel WHERE org_id = $2 AND received_at < $1`, []any{cut.UnixMilli(), org}},
		{`DELETE FROM alertchart_delivery WHERE org_id = $2 AND received_at < $1`, []any{cut.UnixMilli(), org}},
		{`DELETE FROM alertchart_dedupe WHERE expires_at < $1`, []any{now.UnixMilli()}},
	}
	for _, st := range stmts {
		if _, err := db.x.exec(ctx, st.q, st.args...); err != nil {
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
// before the given time that no live text job will send, that no live
// replica's lane holds (live: its heartbeat is in alertchart_replica) and
// that skip (if set) does not exclude. The live jobs are read once and
// matched in memory: a backlog of rows and jobs costs their sum, not their
// product.
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
	replicas, err := db.liveReplicas(ctx)
	if err != nil {
		return nil, fmt.Errorf("look for stranded deliveries: %w", err)
	}
	rows, err = db.x.query(ctx, `SELECT org_id, delivery_id, channel, digest_owner, holder FROM alertchart_channel
		WHERE `+isPending+` AND text_sent_at IS NULL AND received_at < $1 ORDER BY received_at`, before.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("look for stranded deliveries: %w", err)
	}
	defer rows.close()
	var out []Key
	for rows.Next() && len(out) < limit {
		var k Key
		var owner, holder string
		if err := rows.Scan(&k.Org, &k.DeliveryID, &k.Channel, &owner, &holder); err != nil {
			return nil, err
		}
		id := Key{DeliveryID: k.DeliveryID, Channel: k.Channel}
		if live[id] || (owner != "" && live[ownerKey(owner)]) || (holder != "" && replicas[holder]) || (skip != nil && skip(k)) {
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

// UnclaimStranded releases a stranded row's claim (and its lane holder) if
// it is still stranded (checked again: a job may have appeared since) and
// reports whether it was.
func (db DB) UnclaimStranded(ctx context.Context, k Key) (bool, error) {
	n, err := db.x.exec(ctx, `UPDATE alertchart_channel SET digest_owner = '', holder = '' WHERE delivery_id = $1 AND channel = $2 AND EXISTS (
		SELECT 1 FROM alertchart_channel r WHERE r.delivery_id = $1 AND r.channel = $2 AND `+db.orphan()+`)`, k.DeliveryID, k.Channel)
	return n > 0, err
}
