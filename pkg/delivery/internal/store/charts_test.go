package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// oldChartTable is alertchart_chart as versions before per-language charts
// created it (one chart per alert).
func oldChartTable(t *testing.T, d dialect) string {
	for _, s := range schema(d) {
		if strings.Contains(s, "TABLE IF NOT EXISTS alertchart_chart (") {
			return s
		}
	}
	t.Fatal("no alertchart_chart in the schema")
	return ""
}

// A database of an older version keeps its chart records, now in language
// "", and takes a chart per language; a move cut short by a killed process
// is finished on the next start.
func TestChartTableKeyedByLanguage(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testChartTableKeyedByLanguage(t, openTestStore(t), sqliteDialect) })
	t.Run("postgres", func(t *testing.T) {
		testChartTableKeyedByLanguage(t, openTestPostgres(t), postgresDialect)
	})
}

func testChartTableKeyedByLanguage(t *testing.T, st *Store, d dialect) {
	ctx := context.Background()
	for _, q := range []string{`DROP TABLE alertchart_chart`, oldChartTable(t, d),
		`INSERT INTO alertchart_chart (delivery_id, fingerprint, created_at, content_type, error) VALUES ('d1', 'fp', 1, '', 'chart query failed: boom')`} {
		if _, err := st.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.migrate(ctx); err != nil {
		t.Fatal(err)
	}
	old, err := st.Chart(ctx, "d1", "fp", "")
	if err != nil || old.Error != "chart query failed: boom" || old.Reason != "" {
		t.Fatalf("old record: %+v %v", old, err)
	}
	for _, lang := range []string{"zh", "en"} {
		if err := st.InsertChart(ctx, ChartRecord{DeliveryID: "d1", Fingerprint: "fp", Lang: lang, CreatedAt: time.Now(),
			Error: "no data", Reason: "chart.reason.no_data"}); err != nil {
			t.Fatal(err)
		}
	}
	en, err := st.Chart(ctx, "d1", "fp", "en")
	if err != nil || en.Reason != "chart.reason.no_data" || en.Lang != "en" {
		t.Fatalf("en record: %+v %v", en, err)
	}

	// Killed after the copy and the drop, before the rename: the next
	// start recreates an empty old-style table first.
	for _, q := range []string{chartTableLang("alertchart_chart_lang", d.blob),
		`INSERT INTO alertchart_chart_lang SELECT * FROM alertchart_chart`, `DROP TABLE alertchart_chart`, oldChartTable(t, d)} {
		if _, err := st.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := st.QueryInt(ctx, `SELECT COUNT(*) FROM alertchart_chart`); err != nil || n != 3 {
		t.Fatalf("%d records after the resumed move (%v), want 3", n, err)
	}
}
