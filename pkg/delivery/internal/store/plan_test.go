package store

import (
	"context"
	"strings"
	"testing"
)

// TestPendingQueriesUseIndex: the queries that look for waiting rows read
// the partial index of pending rows (by organisation and channel), not
// the whole table of records.
func TestPendingQueriesUseIndex(t *testing.T) {
	st := openTestStore(t)
	ctx := context.Background()
	for name, q := range map[string]string{
		"owned":   `SELECT ` + channelCols + ` FROM alertchart_channel WHERE org_id = $3 AND channel = $2 AND ` + isPending + ` AND digest_owner = $1 AND text_sent_at IS NULL ORDER BY received_at`,
		"unclaim": `UPDATE alertchart_channel SET digest_owner = '' WHERE org_id = $3 AND channel = $2 AND ` + isPending + ` AND digest_owner = $1 AND text_sent_at IS NULL RETURNING delivery_id`,
		"digests": `SELECT digest_owner, SUM(n_alerts) FROM alertchart_channel WHERE org_id = $3 AND channel = $1 AND ` + isPending + ` AND digest_owner <> '' AND text_sent_at IS NULL GROUP BY digest_owner`,
		"backlog": `SELECT COUNT(*) FROM alertchart_channel WHERE org_id = $3 AND channel = $1 AND ` + isPending,
		"org":     `SELECT COUNT(*), MIN(received_at) FROM alertchart_channel WHERE org_id = $3 AND ` + isPending,
		"charts":  `SELECT COUNT(*) FROM alertchart_channel WHERE ` + isChartPending,
	} {
		rows, err := st.sh.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, "a/b", "b", 1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, "alertchart_channel_waiting") && !strings.Contains(p, "alertchart_channel_chart_waiting") {
			t.Errorf("%s does not use a pending index: %s", name, p)
		}
	}
}
