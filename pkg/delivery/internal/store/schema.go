package store

import (
	"context"
	"fmt"
	"strings"
)

// dialect holds the few statements that differ between SQLite and PostgreSQL.
type dialect struct {
	name string
	// blob is the binary column type.
	blob string
	// forUpdate locks a selected row until the transaction ends (PostgreSQL);
	// SQLite transactions are already exclusive (BEGIN IMMEDIATE).
	forUpdate string
	// jsonText extracts a top-level string field of a JSON column (River's
	// job args): jsonb on PostgreSQL, SQLite's JSONB blob.
	jsonText func(col, key string) string
}

var (
	sqliteDialect = dialect{name: "sqlite", blob: "BLOB", forUpdate: "",
		jsonText: func(col, key string) string { return "json_extract(" + col + ", '$." + key + "')" }}
	postgresDialect = dialect{name: "postgres", blob: "BYTEA", forUpdate: " FOR UPDATE",
		jsonText: func(col, key string) string { return "(" + col + " ->> '" + key + "')" }}
)

// schema creates AlertChart's own tables next to River's. Times are Unix
// milliseconds (BIGINT) so both databases store and compare them the same way.
//
//   - alertchart_delivery: one accepted webhook notification and its payload.
//   - alertchart_channel: one delivery to one channel; the outbox row whose
//     state drives the text and chart jobs (text_sent_at is the idempotency
//     marker checked before every send).
//   - alertchart_attempt: every send attempt (part, outcome, error, timing).
//   - alertchart_chart: rendered charts (or the reason there is none), shared
//     by all channels of a delivery.
//   - alertchart_dedupe: idempotency keys (receiver, channel, fingerprint,
//     status, startsAt) with their expiry.
//   - alertchart_rate / alertchart_rate_slot: the per-robot sliding-window
//     rate limiter shared by every replica and organisation using the same
//     database; used counts the robot's slot rows, so a send asks one row,
//     not the window.
//   - alertchart_replica: the heartbeats of the replicas working the queue
//     (see replica.go).
//
// Every notification and channel delivery carries the Grafana organisation
// it belongs to (org_id); what one organisation reads or sends is selected
// by it.
func schema(d dialect) []string {
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS alertchart_delivery (
			id TEXT PRIMARY KEY,
			received_at BIGINT NOT NULL,
			receiver TEXT NOT NULL,
			group_key TEXT NOT NULL,
			payload TEXT NOT NULL,
			alerts TEXT NOT NULL,
			resent_from TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX IF NOT EXISTS alertchart_delivery_received ON alertchart_delivery (received_at)`,
		`CREATE TABLE IF NOT EXISTS alertchart_channel (
			delivery_id TEXT NOT NULL,
			channel TEXT NOT NULL,
			type TEXT NOT NULL,
			received_at BIGINT NOT NULL,
			status TEXT NOT NULL,
			fingerprints TEXT NOT NULL,
			attempts INTEGER NOT NULL DEFAULT 0,
			last_error TEXT NOT NULL DEFAULT '',
			text_part TEXT NOT NULL DEFAULT '',
			text_sent_at BIGINT,
			chart_sent_at BIGINT,
			text_latency_ms BIGINT,
			chart_latency_ms BIGINT,
			renderer TEXT NOT NULL DEFAULT '',
			fallback_reason TEXT NOT NULL DEFAULT '',
			chart_note TEXT NOT NULL DEFAULT '',
			chart_state TEXT NOT NULL DEFAULT '',
			chart_parts_sent INTEGER NOT NULL DEFAULT 0,
			chart_attempts INTEGER NOT NULL DEFAULT 0,
			no_combine INTEGER NOT NULL DEFAULT 0,
			digest_owner TEXT NOT NULL DEFAULT '',
			n_alerts INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (delivery_id, channel)
		)`,
		`DROP INDEX IF EXISTS alertchart_channel_backlog`,
		`CREATE TABLE IF NOT EXISTS alertchart_attempt (
			delivery_id TEXT NOT NULL,
			channel TEXT NOT NULL,
			part TEXT NOT NULL,
			at BIGINT NOT NULL,
			ok INTEGER NOT NULL,
			error TEXT NOT NULL DEFAULT '',
			status_code INTEGER NOT NULL DEFAULT 0,
			duration_ms BIGINT NOT NULL DEFAULT 0
		)`,
		`CREATE INDEX IF NOT EXISTS alertchart_attempt_delivery ON alertchart_attempt (delivery_id, at)`,
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS alertchart_chart (
			delivery_id TEXT NOT NULL,
			fingerprint TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			content_type TEXT NOT NULL DEFAULT '',
			image %s,
			meta TEXT NOT NULL DEFAULT '',
			renderer TEXT NOT NULL DEFAULT '',
			fallback_reason TEXT NOT NULL DEFAULT '',
			plan TEXT NOT NULL DEFAULT '',
			note TEXT NOT NULL DEFAULT '',
			error TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (delivery_id, fingerprint)
		)`, d.blob),
		`CREATE TABLE IF NOT EXISTS alertchart_dedupe (
			key TEXT PRIMARY KEY,
			delivery_id TEXT NOT NULL,
			expires_at BIGINT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS alertchart_dedupe_expires ON alertchart_dedupe (expires_at)`,
		`CREATE TABLE IF NOT EXISTS alertchart_rate (
			channel TEXT PRIMARY KEY,
			paused_until BIGINT NOT NULL DEFAULT 0,
			used BIGINT NOT NULL DEFAULT 0
		)`,
		`CREATE TABLE IF NOT EXISTS alertchart_rate_slot (
			channel TEXT NOT NULL,
			at BIGINT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS alertchart_rate_slot_channel ON alertchart_rate_slot (channel, at)`,
		`CREATE TABLE IF NOT EXISTS alertchart_replica (
			id TEXT PRIMARY KEY,
			heartbeat_at BIGINT NOT NULL,
			started_at BIGINT NOT NULL,
			host TEXT NOT NULL DEFAULT ''
		)`,
	}
	return stmts
}

// indexes are created after the columns they name exist (see migrate).
// Only the rows still waiting are indexed: an index of the sent ones would
// grow with the records and be written twice per text.
func indexes() []string {
	return []string{
		`DROP INDEX IF EXISTS alertchart_channel_pending`,
		`DROP INDEX IF EXISTS alertchart_channel_chart_pending`,
		`CREATE INDEX IF NOT EXISTS alertchart_channel_waiting ON alertchart_channel (org_id, channel, digest_owner, received_at) WHERE ` + isPending,
		`CREATE INDEX IF NOT EXISTS alertchart_channel_chart_waiting ON alertchart_channel (org_id, channel) WHERE ` + isChartPending,
		`CREATE INDEX IF NOT EXISTS alertchart_delivery_org ON alertchart_delivery (org_id, received_at)`,
	}
}

// columns are those added since the tables were first created: table,
// column, definition.
var columns = [][3]string{
	{"alertchart_delivery", "org_id", "BIGINT NOT NULL DEFAULT 1"},
	{"alertchart_channel", "org_id", "BIGINT NOT NULL DEFAULT 1"},
	{"alertchart_channel", "holder", "TEXT NOT NULL DEFAULT ''"},
}

// migrate creates AlertChart's tables (River's are migrated by rivermigrate)
// and adds the columns later versions introduced to tables created before.
func (db DB) migrate(ctx context.Context) error {
	for _, s := range schema(*db.d) {
		if _, err := db.x.exec(ctx, s); err != nil {
			f := strings.Fields(s)
			return fmt.Errorf("create delivery tables: %w (statement: %s)", err, strings.Join(f[:min(len(f), 6)], " "))
		}
	}
	for _, c := range columns {
		has, err := db.hasColumn(ctx, c[0], c[1])
		if err != nil {
			return fmt.Errorf("inspect %s: %w", c[0], err)
		}
		if !has {
			if _, err := db.x.exec(ctx, `ALTER TABLE `+c[0]+` ADD COLUMN `+c[1]+` `+c[2]); err != nil {
				return fmt.Errorf("add %s.%s: %w", c[0], c[1], err)
			}
		}
	}
	for _, s := range indexes() {
		if _, err := db.x.exec(ctx, s); err != nil {
			return fmt.Errorf("index delivery tables: %w", err)
		}
	}
	if err := db.migrateJobs(ctx); err != nil {
		return err
	}
	if err := db.migrateChartLang(ctx); err != nil {
		return err
	}
	has, err := db.hasColumn(ctx, "alertchart_rate", "used")
	if err != nil {
		return fmt.Errorf("inspect alertchart_rate: %w", err)
	}
	if !has {
		for _, q := range []string{
			`ALTER TABLE alertchart_rate ADD COLUMN used BIGINT NOT NULL DEFAULT 0`,
			`UPDATE alertchart_rate SET used = (SELECT COUNT(*) FROM alertchart_rate_slot s WHERE s.channel = alertchart_rate.channel)`,
		} {
			if _, err := db.x.exec(ctx, q); err != nil {
				return fmt.Errorf("add alertchart_rate.used: %w", err)
			}
		}
	}
	return nil
}

func (db DB) hasColumn(ctx context.Context, table, column string) (bool, error) {
	q := `SELECT COUNT(*) FROM pragma_table_info($1) WHERE name = $2`
	if db.d.name == "postgres" {
		q = `SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`
	}
	var n int64
	err := db.x.queryRow(ctx, q, table, column).Scan(&n)
	return n > 0, err
}

// migrateJobs moves the jobs of versions before organisations had queues of
// their own into the main organisation's (1): their notifications are
// org 1's too (the column's default). Guard jobs (the lanes' safety net
// before replica heartbeats) and the periodic maintenance job are no longer
// worked and are removed.
func (db DB) migrateJobs(ctx context.Context) error {
	unfinished := `state IN ('available', 'pending', 'retryable', 'running', 'scheduled')`
	for _, q := range []struct{ from, to string }{{legacyQueueText, QueueText(1)}, {legacyQueueChart, QueueChart(1)}} {
		if _, err := db.x.exec(ctx, `UPDATE river_job SET queue = $1 WHERE queue = $2 AND `+unfinished, q.to, q.from); err != nil {
			return fmt.Errorf("move queued jobs to organisation 1: %w", err)
		}
	}
	if _, err := db.x.exec(ctx, `DELETE FROM river_job WHERE kind IN ($1, $2) AND state <> 'running'`, kindGuard, kindMaintenance); err != nil {
		return fmt.Errorf("remove retired jobs: %w", err)
	}
	return nil
}

// chartTableLang is alertchart_chart since charts are made per language:
// the chart of one alert in each language its channels use (lang, "" for a
// Charter that does not take one), and the kind of reason there is none
// (reason: a nochart.Reason id) next to the full reason (error).
func chartTableLang(table, blob string) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
			delivery_id TEXT NOT NULL,
			fingerprint TEXT NOT NULL,
			lang TEXT NOT NULL DEFAULT '',
			created_at BIGINT NOT NULL,
			content_type TEXT NOT NULL DEFAULT '',
			image %s,
			meta TEXT NOT NULL DEFAULT '',
			renderer TEXT NOT NULL DEFAULT '',
			fallback_reason TEXT NOT NULL DEFAULT '',
			plan TEXT NOT NULL DEFAULT '',
			note TEXT NOT NULL DEFAULT '',
			error TEXT NOT NULL DEFAULT '',
			reason TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (delivery_id, fingerprint, lang)
		)`, table, blob)
}

// migrateChartLang rebuilds an alertchart_chart without a lang column (its
// key was one chart per alert) as chartTableLang, keeping its records
// (lang ""). Every step can be repeated, so a process killed half way
// finishes the move on its next start: the copy is made first, the old
// table dropped, and the copy renamed last (schema() has meanwhile
// recreated an empty old-style table, which the repeat drops).
func (db DB) migrateChartLang(ctx context.Context) error {
	has, err := db.hasColumn(ctx, "alertchart_chart", "lang")
	if err != nil || has {
		return err
	}
	cols := `delivery_id, fingerprint, created_at, content_type, image, meta, renderer, fallback_reason, plan, note, error`
	for _, q := range []string{
		chartTableLang("alertchart_chart_lang", db.d.blob),
		`INSERT INTO alertchart_chart_lang (` + cols + `) SELECT ` + cols + ` FROM alertchart_chart WHERE true ON CONFLICT DO NOTHING`, // WHERE: SQLite parses an upsert after a SELECT only with one,
		`DROP TABLE alertchart_chart`,
		`ALTER TABLE alertchart_chart_lang RENAME TO alertchart_chart`,
	} {
		if _, err := db.x.exec(ctx, q); err != nil {
			return fmt.Errorf("key alertchart_chart by language: %w", err)
		}
	}
	return nil
}
