package deliverytest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alertchart/alertchart/test/services"
)

// startPostgres runs a throw-away PostgreSQL 15 on a free loopback port
// (test/services) and returns its DSN.
func startPostgres(t testing.TB) string {
	t.Helper()
	p := services.StartPostgres(t)
	pgServers.Store(p.DSN, p)
	return p.DSN
}

var pgServers sync.Map // dsn → *services.Postgres

// pgCPU is the CPU time (user+system) the server started for dsn has used
// so far (see services.Postgres.CPU).
func pgCPU(dsn string) time.Duration {
	p, ok := pgServers.Load(dsn)
	if !ok {
		return 0
	}
	return p.(*services.Postgres).CPU()
}

// dumpQueue logs what the shared PostgreSQL queue holds, so a failed HA run
// shows where the missing deliveries are stuck.
func dumpQueue(t *testing.T, dsn string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Logf("queue dump: %v", err)
		return
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`SELECT kind, state, count(*), max(attempt), min(scheduled_at)::text, max(coalesce(attempted_by[array_upper(attempted_by,1)],'')) FROM river_job GROUP BY 1, 2 ORDER BY 1, 2`,
		`SELECT status, digest_owner <> '', text_sent_at IS NULL, count(*) FROM alertchart_channel GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
		`SELECT leader_id, elected_at::text, expires_at::text, now()::text FROM river_leader`,
		`SELECT id, kind, state, attempt, scheduled_at::text, attempted_at::text, coalesce(errors[array_upper(errors,1)]::text,'') FROM river_job WHERE state NOT IN ('completed') ORDER BY id LIMIT 20`,
		`SELECT channel, count(*), max(at) FROM alertchart_rate_slot GROUP BY 1`,
		`SELECT channel, paused_until FROM alertchart_rate`,
	} {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			t.Logf("queue dump %q: %v", q, err)
			continue
		}
		var out []string
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				break
			}
			out = append(out, fmt.Sprint(vals...))
		}
		rows.Close()
		t.Logf("queue dump %s\n  %s", q, strings.Join(out, "\n  "))
	}
}
