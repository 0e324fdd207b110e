package store

import (
	"context"
	"time"
)

// Liveness of the replicas sharing a PostgreSQL queue. Each replica (one
// delivery engine of one process, named by its River client id) writes a
// heartbeat into alertchart_replica every few seconds, on the database's
// clock so that the replicas' own clocks do not matter. Any replica that
// finds another silent for longer than a timeout takes over its work in one
// transaction: the row is deleted (only one taker wins), the River jobs the
// dead replica was running (river_job.attempted_by ends with its client id)
// are made available again, and the rows its lanes held (holder) are
// returned so that the caller can give each a text job. Nothing waits for
// River's stuck-job rescue, which comes minutes later and only runs on the
// leader.

// nowMs is the database's clock in Unix milliseconds.
func (db DB) nowMs() string {
	if db.d.name == "postgres" {
		return `(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT`
	}
	return `CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`
}

// Beat records that replica id is alive. It reports whether the replica's
// row was there already: false on the first beat, and when another replica
// found it silent, declared it dead and took its work over.
func (db DB) Beat(ctx context.Context, id, host string) (found bool, err error) {
	n, err := db.x.exec(ctx, `UPDATE alertchart_replica SET heartbeat_at = `+db.nowMs()+` WHERE id = $1`, id)
	if err != nil || n > 0 {
		return n > 0, err
	}
	_, err = db.x.exec(ctx, `INSERT INTO alertchart_replica (id, heartbeat_at, started_at, host) VALUES ($1, `+db.nowMs()+`, `+db.nowMs()+`, $2)
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`, id, host)
	return false, err
}

// Leave removes replica id's heartbeat (a clean shutdown: it holds nothing
// any more).
func (db DB) Leave(ctx context.Context, id string) error {
	_, err := db.x.exec(ctx, `DELETE FROM alertchart_replica WHERE id = $1`, id)
	return err
}

// DeadReplicas lists the replicas whose last heartbeat is older than
// silence on the database's clock.
func (db DB) DeadReplicas(ctx context.Context, silence time.Duration) ([]string, error) {
	rows, err := db.x.query(ctx, `SELECT id FROM alertchart_replica WHERE heartbeat_at < `+db.nowMs()+` - $1 ORDER BY heartbeat_at`,
		silence.Milliseconds())
	if err != nil {
		return nil, err
	}
	defer rows.close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// liveReplicas is the set of replicas with a heartbeat row.
func (db DB) liveReplicas(ctx context.Context) (map[string]bool, error) {
	rows, err := db.x.query(ctx, `SELECT id FROM alertchart_replica`)
	if err != nil {
		return nil, err
	}
	defer rows.close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// TakeOver declares replica id dead if it is still silent for longer than
// silence, in the caller's transaction: its heartbeat row is deleted (ok is
// false when it beat meanwhile or another replica took it over first), the
// River jobs it was running become available again (jobs counts them), and
// held lists the pending rows its lanes held, still claimed (the caller
// releases each with UnclaimStranded and gives it a text job).
func (db DB) TakeOver(ctx context.Context, id string, silence time.Duration) (ok bool, jobs int64, held []Key, err error) {
	n, err := db.x.exec(ctx, `DELETE FROM alertchart_replica WHERE id = $1 AND heartbeat_at < `+db.nowMs()+` - $2`, id, silence.Milliseconds())
	if err != nil || n == 0 {
		return false, 0, nil, err
	}
	last := `json_extract(attempted_by, '$[#-1]')`
	if db.d.name == "postgres" {
		last = `attempted_by[array_upper(attempted_by, 1)]`
	}
	if jobs, err = db.x.exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = CURRENT_TIMESTAMP
		WHERE state = 'running' AND `+last+` = $1`, id); err != nil {
		return false, 0, nil, err
	}
	rows, err := db.x.query(ctx, `SELECT org_id, delivery_id, channel FROM alertchart_channel
		WHERE `+isPending+` AND holder = $1 AND text_sent_at IS NULL ORDER BY received_at`, id)
	if err != nil {
		return false, 0, nil, err
	}
	defer rows.close()
	for rows.Next() {
		var k Key
		if err := rows.Scan(&k.Org, &k.DeliveryID, &k.Channel); err != nil {
			return false, 0, nil, err
		}
		held = append(held, k)
	}
	return true, jobs, held, rows.Err()
}
