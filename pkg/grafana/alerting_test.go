package grafana_test

import (
	"context"
	"errors"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/series"
	fakegrafana "github.com/alertchart/alertchart/test/fakes/grafana"
)

const cpuExpr = `100 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100`

func cpuRule() fakegrafana.AlertRule {
	return fakegrafana.AlertRule{UID: "cpu-high", Title: "HighCPU", FolderUID: "infra", RuleGroup: "node", Condition: "C", For: "5m",
		Labels: map[string]string{"severity": "critical"}, Annotations: map[string]string{"summary": "CPU high"},
		Data: []fakegrafana.AlertQuery{
			fakegrafana.PromQuery("A", "prom-main", cpuExpr, 10*time.Minute),
			fakegrafana.Reduce("B", "A", "last"),
			fakegrafana.Threshold("C", "B", "gt", 80),
		}}
}

func alertingFake(t *testing.T) *fakegrafana.Fake {
	f := newFake(t)
	f.AddAlertRule(cpuRule())
	f.AddDatasource(fakegrafana.Datasource{UID: "prom-main", Name: "Prometheus", Type: fakegrafana.TypePrometheus,
		Series: []fakegrafana.Series{
			{Labels: map[string]string{"__name__": "cpu", "instance": "web-1"}, Value: func(t time.Time) float64 { return 50 }},
			{Labels: map[string]string{"__name__": "cpu", "instance": "web-2"}, Value: func(t time.Time) float64 { return float64(t.Unix() % 100) }},
		}})
	f.AddDatasource(fakegrafana.Datasource{UID: "pg", Name: "PostgreSQL", Type: fakegrafana.TypePostgres,
		Series: []fakegrafana.Series{
			{Labels: map[string]string{"host": "db-1"}, Value: func(time.Time) float64 { return 1.5 }},
			{Labels: map[string]string{"host": "db-2"}, Value: func(time.Time) float64 { return 7 }},
		}})
	return f
}

func checkCPURule(t *testing.T, r *grafana.AlertRule) {
	t.Helper()
	if r.UID != "cpu-high" || r.Title != "HighCPU" || r.Condition != "C" || r.For != 5*time.Minute ||
		r.FolderUID != "infra" || r.RuleGroup != "node" || r.Labels["severity"] != "critical" || len(r.Data) != 3 {
		t.Fatalf("rule %+v", r)
	}
	a := r.Query("A")
	if a == nil || a.IsExpression() || a.DatasourceUID != "prom-main" || a.DatasourceType() != "prometheus" ||
		a.RelativeFrom != 10*time.Minute || a.Model["expr"] != cpuExpr {
		t.Fatalf("query A %+v", a)
	}
	if b := r.Query("B"); b == nil || !b.IsExpression() || b.ExpressionType() != "reduce" || b.Model["expression"] != "A" {
		t.Fatalf("expression B %+v", b)
	}
	if c := r.Query("C"); c == nil || c.ExpressionType() != "threshold" {
		t.Fatalf("expression C %+v", c)
	}
}

func TestAlertRuleProvisioningAPI(t *testing.T) {
	f := alertingFake(t)
	c := newClient(t, f, token)
	r, err := c.AlertRule(context.Background(), "cpu-high")
	if err != nil {
		t.Fatal(err)
	}
	checkCPURule(t, r)
	if r.API != "provisioning" {
		t.Fatalf("answered by %q", r.API)
	}
	_, err = c.AlertRule(context.Background(), "gone")
	if !errors.Is(err, grafana.ErrRuleNotFound) {
		t.Fatalf("missing rule: %v", err)
	}
	all, err := c.AlertRules(context.Background())
	if err != nil || len(all) != 1 {
		t.Fatalf("list: %v %v", all, err)
	}
	checkCPURule(t, all["cpu-high"])
}

// A token with alert.rules:read but without folders:read is refused the
// provisioning API; where Grafana serves rules.alerting.grafana.app, the
// rule is read there.
func TestAlertRuleResourceAPIWhenProvisioningRefused(t *testing.T) {
	f := alertingFake(t)
	f.SetRulesResourceAPI(true)
	f.AddToken("rules-only", fakegrafana.PermAlertRulesRead)
	c := newClient(t, f, "rules-only")
	r, err := c.AlertRule(context.Background(), "cpu-high")
	if err != nil {
		t.Fatal(err)
	}
	checkCPURule(t, r)
	if r.API != "rules.alerting.grafana.app/v0alpha1" {
		t.Fatalf("answered by %q", r.API)
	}
	if _, err := c.AlertRule(context.Background(), "gone"); !errors.Is(err, grafana.ErrRuleNotFound) {
		t.Fatalf("missing rule: %v", err)
	}
}

// Without any alert-rule permission the error is a 403 naming what to grant.
func TestAlertRuleForbiddenNamesPermission(t *testing.T) {
	f := alertingFake(t)
	f.AddToken("dash-only", fakegrafana.PermDashboardsRead, fakegrafana.PermFoldersRead)
	c := newClient(t, f, "dash-only")
	_, err := c.AlertRule(context.Background(), "cpu-high")
	if !grafana.IsForbidden(err) {
		t.Fatalf("want 403, got %v", err)
	}
	var pe *grafana.PermissionError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "alert.rules:read") || !strings.Contains(err.Error(), "403") {
		t.Fatalf("error does not name the permission: %v", err)
	}
	// The health check says the same, in a warning with a stable code.
	checks := c.Health(context.Background(), mustSettings(t, `{"chart":{"renderer":"native"}}`, nil))
	var found bool
	for _, ch := range checks {
		if ch.Name == "Alert rules" {
			found = true
			if ch.Status != grafana.CheckWarning || ch.Code != "grafana.alert_rules_forbidden" || ch.Args["permission"] != "alert.rules:read" ||
				!strings.Contains(ch.Message, "alert.rules:read") {
				t.Fatalf("health %+v", ch)
			}
		}
	}
	if !found {
		t.Fatalf("no alert rules check in %+v", checks)
	}
	ok := newClient(t, f, token).Health(context.Background(), mustSettings(t, `{"chart":{"renderer":"native"}}`, nil))
	for _, ch := range ok {
		if ch.Name == "Alert rules" && ch.Status != grafana.CheckOK {
			t.Fatalf("health with the permission: %+v", ch)
		}
	}
}

func TestDataSource(t *testing.T) {
	f := alertingFake(t)
	c := newClient(t, f, token)
	ds, err := c.DataSource(context.Background(), "pg")
	if err != nil || ds.Type != fakegrafana.TypePostgres || ds.Name != "PostgreSQL" {
		t.Fatalf("%+v %v", ds, err)
	}
	f.RemoveDatasource("pg")
	if _, err := c.DataSource(context.Background(), "pg"); !grafana.IsNotFound(err) || !strings.Contains(err.Error(), "Data source not found") {
		t.Fatalf("deleted data source: %v", err)
	}
}

func names(ss []series.Series) []string {
	var out []string
	for _, s := range ss {
		out = append(out, series.LabelString(s.Labels))
	}
	sort.Strings(out)
	return out
}

// TestQueryDataFrames: /api/ds/query answers SDK data frames; Prometheus
// wide frames (labels on the value field) and a SQL long frame (string
// columns become labels) both read as one series per label set.
func TestQueryDataFrames(t *testing.T) {
	f := alertingFake(t)
	c := newClient(t, f, token)
	to := time.Now().Truncate(time.Second)
	from := to.Add(-10 * time.Minute)
	res, err := c.QueryData(context.Background(), grafana.QueryRequest{From: from, To: to, Queries: []map[string]any{
		{"refId": "A", "datasource": map[string]any{"type": "prometheus", "uid": "prom-main"}, "expr": `cpu{instance="web-2"}`,
			"range": true, "instant": false, "intervalMs": float64(15000), "maxDataPoints": float64(1000)},
		{"refId": "S", "datasource": map[string]any{"type": fakegrafana.TypePostgres, "uid": "pg"}, "rawSql": "SELECT 1",
			"format": "table", "intervalMs": float64(60000), "maxDataPoints": float64(1000)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	prom, problems := grafana.FramesToSeries(res["A"].Frames)
	if len(problems) > 0 || len(prom) != 1 || prom[0].Labels["instance"] != "web-2" || len(prom[0].Points) < 40 {
		t.Fatalf("prometheus series %v %v", names(prom), problems)
	}
	sql, problems := grafana.FramesToSeries(res["S"].Frames)
	if len(problems) > 0 || strings.Join(names(sql), " ") != `{host="db-1"} {host="db-2"}` {
		t.Fatalf("sql series %v %v", names(sql), problems)
	}
	for _, s := range sql {
		if len(s.Points) < 10 || s.Points[0].T < from.UnixMilli() || (s.Labels["host"] == "db-2" && s.Points[0].V != 7) {
			t.Fatalf("sql series %v: %d points from %d", s.Labels, len(s.Points), s.Points[0].T)
		}
	}
	// The data source was deleted: Grafana fails the request.
	f.RemoveDatasource("pg")
	_, err = c.QueryData(context.Background(), grafana.QueryRequest{From: from, To: to, Queries: []map[string]any{
		{"refId": "S", "datasource": map[string]any{"uid": "pg"}, "rawSql": "SELECT 1"}}})
	if !grafana.IsNotFound(err) || !strings.Contains(err.Error(), "Data source not found") {
		t.Fatalf("deleted data source: %v", err)
	}
	// A failing query is that refId's error, not the request's.
	res, err = c.QueryData(context.Background(), grafana.QueryRequest{From: from, To: to, Queries: []map[string]any{
		{"refId": "A", "datasource": map[string]any{"uid": "prom-main"}, "expr": "rate(("}}})
	if err != nil || res["A"].Error == "" || len(res["A"].Frames) != 0 {
		t.Fatalf("bad query: %+v %v", res, err)
	}
	// Without datasources:query, 403.
	f.AddToken("no-query", fakegrafana.PermAlertRulesRead)
	_, err = newClient(t, f, "no-query").QueryData(context.Background(), grafana.QueryRequest{From: from, To: to,
		Queries: []map[string]any{{"refId": "A", "datasource": map[string]any{"uid": "prom-main"}, "expr": "cpu"}}})
	if !grafana.IsForbidden(err) || !strings.Contains(err.Error(), "datasources:query") {
		t.Fatalf("no permission: %v", err)
	}
}

func TestFramesToSeriesSkipsTables(t *testing.T) {
	f := alertingFake(t)
	c := newClient(t, f, token)
	to := time.Now()
	res, err := c.QueryData(context.Background(), grafana.QueryRequest{From: to.Add(-time.Hour), To: to, Queries: []map[string]any{
		{"refId": "W", "datasource": map[string]any{"uid": "pg"}, "rawSql": "SELECT 1", "format": "time_series", "intervalMs": float64(60000)}}})
	if err != nil {
		t.Fatal(err)
	}
	ss, problems := grafana.FramesToSeries(res["W"].Frames)
	if len(problems) > 0 || len(ss) != 2 {
		t.Fatalf("wide SQL frames: %v %v", names(ss), problems)
	}
	for _, s := range ss {
		for _, p := range s.Points {
			if math.IsNaN(p.V) {
				t.Fatalf("NaN in %v", s.Labels)
			}
		}
	}
}
