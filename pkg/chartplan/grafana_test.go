package chartplan

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/intake"
	"github.com/alertchart/alertchart/pkg/series"
	fakegrafana "github.com/alertchart/alertchart/test/fakes/grafana"
)

const gToken = "glsa_plugin"

const cpuExpr = `100 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100`

// grafanaWorld is a fake Grafana with a Prometheus and a PostgreSQL data
// source and the rules of the scenarios.
func grafanaWorld(t *testing.T) *fakegrafana.Fake {
	t.Helper()
	f := fakegrafana.New(t)
	f.AddToken(gToken, fakegrafana.AllPermissions...)
	var prom []fakegrafana.Series
	for i := 1; i <= 5; i++ {
		base := float64(20 + i)
		if i == 2 || i == 4 {
			base = 90 + float64(i)
		}
		prom = append(prom, fakegrafana.Series{Labels: map[string]string{"instance": fmt.Sprintf("web-%d:9100", i)},
			Value: func(time.Time) float64 { return base }})
	}
	prom = append(prom, fakegrafana.Series{Labels: map[string]string{"__name__": "rack_temperature_celsius", "rack": "r7"},
		Value: func(time.Time) float64 { return 22 }})
	f.AddDatasource(fakegrafana.Datasource{UID: "prom-main", Name: "Prometheus", Type: fakegrafana.TypePrometheus, Series: prom})
	f.AddDatasource(fakegrafana.Datasource{UID: "pg-main", Name: "PostgreSQL", Type: fakegrafana.TypePostgres,
		Series: []fakegrafana.Series{
			{Labels: map[string]string{"host": "db-1"}, Value: func(time.Time) float64 { return 1.2 }},
			{Labels: map[string]string{"host": "db-2"}, Value: func(time.Time) float64 { return 6.5 }},
		}})
	f.AddAlertRule(fakegrafana.AlertRule{UID: "cpu-high", Title: "HighCPU", FolderUID: "infra", RuleGroup: "node", Condition: "C", For: "5m",
		Labels: map[string]string{"severity": "critical"},
		Data: []fakegrafana.AlertQuery{fakegrafana.PromQuery("A", "prom-main", cpuExpr, 10*time.Minute),
			fakegrafana.Reduce("B", "A", "last"), fakegrafana.Threshold("C", "B", "gt", 80)}})
	f.AddAlertRule(fakegrafana.AlertRule{UID: "db-load", Title: "DBLoadHigh", FolderUID: "db", RuleGroup: "db", Condition: "C", For: "2m",
		Data: []fakegrafana.AlertQuery{fakegrafana.SQLQuery("A", "pg-main",
			"SELECT $__timeGroupAlias(ts, 1m), host, avg(load) AS value FROM host_load WHERE $__timeFilter(ts) GROUP BY 1, 2 ORDER BY 1", 15*time.Minute),
			fakegrafana.Reduce("B", "A", "mean"), fakegrafana.Threshold("C", "B", "gt", 4)}})
	f.AddAlertRule(fakegrafana.AlertRule{UID: "rack-temp", Title: "RackTempInDeadBand", FolderUID: "dc", RuleGroup: "dc", Condition: "C", For: "1m",
		Data: []fakegrafana.AlertQuery{fakegrafana.PromQuery("A", "prom-main", `rack_temperature_celsius`, 10*time.Minute),
			fakegrafana.Reduce("B", "A", "last"), fakegrafana.Threshold("C", "B", "within_range", 27, 18)}})
	f.AddAlertRule(fakegrafana.AlertRule{UID: "cpu-classic", Title: "AnyCPUHigh", FolderUID: "infra", RuleGroup: "node", Condition: "B", For: "5m",
		Data: []fakegrafana.AlertQuery{fakegrafana.PromQuery("A", "prom-main", cpuExpr, 10*time.Minute),
			fakegrafana.Classic("B", fakegrafana.ClassicCondition{Query: "A", Reducer: "avg", Evaluator: "gt", Params: []float64{90}})}})
	f.AddAlertRule(fakegrafana.AlertRule{UID: "cpu-math", Title: "CPUMath", FolderUID: "infra", RuleGroup: "node", Condition: "C", For: "5m",
		Data: []fakegrafana.AlertQuery{fakegrafana.PromQuery("A", "prom-main", cpuExpr, 10*time.Minute),
			fakegrafana.Reduce("B", "A", "max"), fakegrafana.Math("C", "$B > 80 && ${B} < 99")}})
	f.AddAlertRule(fakegrafana.AlertRule{UID: "orphan", Title: "Orphaned", FolderUID: "infra", RuleGroup: "node", Condition: "C", For: "5m",
		Data: []fakegrafana.AlertQuery{fakegrafana.PromQuery("A", "prom-deleted", cpuExpr, 10*time.Minute),
			fakegrafana.Reduce("B", "A", "last"), fakegrafana.Threshold("C", "B", "gt", 80)}})
	return f
}

func grafanaPlanner(t *testing.T, f *fakegrafana.Fake, token string) *Planner {
	t.Helper()
	c, err := grafana.NewClient(grafana.Credentials{URL: f.URL, Token: token, Source: grafana.SourceManagedServiceAccount}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPlanner(Config{Language: "en", RulesCacheTTL: 30 * time.Second}, nil)
	p.UseGrafana(c)
	return p
}

// grafanaAlert decodes a Grafana webhook (version "1") alert for rule uid
// through intake, as the plugin receives it.
func grafanaAlert(t *testing.T, name, uid string, labels map[string]string, values map[string]float64) template.Alert {
	t.Helper()
	l := map[string]string{"alertname": name, "grafana_folder": "Infrastructure"}
	for k, v := range labels {
		l[k] = v
	}
	body, _ := json.Marshal(map[string]any{"version": "1", "status": "firing", "receiver": "alertchart", "orgId": 1,
		"title": "[FIRING:1] " + name, "state": "alerting", "message": "", "externalURL": "http://grafana.example/",
		"alerts": []any{map[string]any{"status": "firing", "labels": l, "annotations": map[string]string{"summary": "s"},
			"startsAt": t0.Add(-90 * time.Second).Format(time.RFC3339), "endsAt": "0001-01-01T00:00:00Z",
			"generatorURL": "http://grafana.example/alerting/grafana/" + uid + "/view?orgId=1", "fingerprint": "abc",
			"silenceURL": "http://grafana.example/alerting/silence/new?alertmanager=grafana&matcher=__alert_rule_uid__%3D" + uid,
			"values":     values, "valueString": ""}}})
	d, err := intake.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	return d.Alerts[0]
}

func seriesNames(ss []series.Series) string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return strings.Join(out, ",")
}

func TestGrafanaRuleUIDSources(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a    template.Alert
		want string
	}{
		{template.Alert{GeneratorURL: "https://g.example/grafana/alerting/grafana/abc-1_Z/view?orgId=1"}, "abc-1_Z"},
		{template.Alert{GeneratorURL: "http://g:3000/alerting/abc123/edit"}, "abc123"},
		{template.Alert{GeneratorURL: "http://prom:9090/graph?g0.expr=up"}, ""},
		{template.Alert{GeneratorURL: "http://g:3000/alerting/list"}, ""},
		{template.Alert{GeneratorURL: "http://g:3000/alerting/prometheus/x/view"}, ""},
		{template.Alert{Labels: template.KV{"__alert_rule_uid__": "via-am"}}, "via-am"},
		{template.Alert{Annotations: template.KV{intake.AnnotationGrafanaRuleUID: "from-payload"}, GeneratorURL: "http://g/alerting/grafana/other/view"}, "from-payload"},
		{template.Alert{Annotations: template.KV{intake.AnnotationGrafanaSilenceURL: "http://g/alerting/silence/new?matcher=__alert_rule_uid__%3Dsil&matcher=a%3Db"}}, "sil"},
	} {
		if got := GrafanaRuleUID(c.a); got != c.want {
			t.Errorf("%+v: %q, want %q", c.a, got, c.want)
		}
	}
}

// A rule on a Prometheus data source: the firing instance is injected into
// the rule's PromQL, the threshold comes from the threshold expression, the
// window from `for`; the data comes through /api/ds/query as a range query.
func TestGrafanaPrometheusRule(t *testing.T) {
	t.Parallel()
	f := grafanaWorld(t)
	p := grafanaPlanner(t, f, gToken)
	a := grafanaAlert(t, "HighCPU", "cpu-high", map[string]string{"instance": "web-2:9100", "severity": "critical"}, map[string]float64{"B": 92, "C": 1})
	pl := p.Plan(context.Background(), a, t0)
	if pl.Source != SourceGrafanaRule || pl.Rule == nil || pl.Rule.Name != "HighCPU" || pl.Rule.For.D() != 5*time.Minute || pl.NoChartReason != "" {
		t.Fatalf("plan %+v", pl)
	}
	g := pl.Grafana
	if g == nil || g.RuleUID != "cpu-high" || g.Condition != "C" || len(g.Queries) != 1 || g.Values["B"] != 92 {
		t.Fatalf("grafana plan %+v", g)
	}
	q := g.Queries[0]
	if q.DatasourceType != "prometheus" || !strings.Contains(q.Query, `instance="web-2:9100"`) || strings.Contains(q.Query, "severity") ||
		q.Model["range"] != true || q.Model["instant"] != false || q.Model["expr"] != q.Query {
		t.Fatalf("query %+v", q)
	}
	if len(pl.Thresholds) != 1 || pl.Thresholds[0].Op != ">" || pl.Thresholds[0].Value != 80 {
		t.Fatalf("thresholds %+v", pl.Thresholds)
	}
	if pl.Window.D() != 10*time.Minute || pl.Evaluator != EvaluatorGrafana || strings.Join(pl.EvaluatorLabels, ",") != "grafana_folder" {
		t.Fatalf("window %v evaluator %q %v", pl.Window, pl.Evaluator, pl.EvaluatorLabels)
	}
	if strings.Join(g.Chain, "; ") != "C: threshold B > 80; B: reduce last(A); A: prometheus query on prom-main" {
		t.Fatalf("chain %q", g.Chain)
	}
	if pl.Title != "HighCPU (last 10m)" {
		t.Fatalf("title %q", pl.Title)
	}
	res, err := p.Fetch(context.Background(), pl)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Series) != 1 || res.Series[0].Labels["instance"] != "web-2:9100" || res.Series[0].Name != "web-2:9100" {
		t.Fatalf("series %+v", res.Series)
	}
	qs := f.DSQueries()
	sent := qs[len(qs)-1]
	if !sent.From.Equal(pl.Start) || !sent.To.Equal(pl.End) || sent.Queries[0]["intervalMs"] != float64(pl.Step.D().Milliseconds()) ||
		sent.Queries[0]["refId"] != "A" {
		t.Fatalf("ds/query request %+v", sent)
	}
	// The plan is what /explain shows.
	b, _ := json.Marshal(pl)
	for _, want := range []string{`"grafana":{"ruleUid":"cpu-high"`, `"chain":[`, `"datasourceType":"prometheus"`, `"source":"grafana_rule"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("plan JSON lacks %s: %s", want, b)
		}
	}
}

// A rule on a SQL data source with two hosts: the query runs as the rule
// has it; the long frame's host column becomes labels and only the firing
// host is kept. The window is the query's 15m range (longer than 2m × 2).
func TestGrafanaSQLRule(t *testing.T) {
	t.Parallel()
	f := grafanaWorld(t)
	p := grafanaPlanner(t, f, gToken)
	pl := p.Plan(context.Background(), grafanaAlert(t, "DBLoadHigh", "db-load", map[string]string{"host": "db-2"}, map[string]float64{"B": 6.5, "C": 1}), t0)
	if pl.NoChartReason != "" || pl.Grafana == nil || len(pl.Grafana.Queries) != 1 {
		t.Fatalf("plan %+v", pl)
	}
	q := pl.Grafana.Queries[0]
	if q.DatasourceType != fakegrafana.TypePostgres || q.Query != "" || !strings.HasPrefix(q.Expr, "SELECT") || pl.Query != q.Expr ||
		pl.Grafana.Match["host"] != "db-2" || len(pl.InjectedLabels) != 0 {
		t.Fatalf("query %+v match %v", q, pl.Grafana.Match)
	}
	if pl.Window.D() != 15*time.Minute || pl.Grafana.RelativeRange.D() != 15*time.Minute {
		t.Fatalf("window %v range %v", pl.Window, pl.Grafana.RelativeRange)
	}
	if len(pl.Thresholds) != 1 || pl.Thresholds[0].Value != 4 {
		t.Fatalf("thresholds %+v", pl.Thresholds)
	}
	res, err := p.Fetch(context.Background(), pl)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Series) != 1 || res.Series[0].Labels["host"] != "db-2" || res.Returned != 2 || res.FilteredOut != 1 || res.Series[0].Name != "db-2" {
		t.Fatalf("fetch %+v", res)
	}
	if v := res.Series[0].Points[0].V; v != 6.5 {
		t.Fatalf("value %v", v)
	}
}

func TestGrafanaWithinRangeBand(t *testing.T) {
	t.Parallel()
	f := grafanaWorld(t)
	p := grafanaPlanner(t, f, gToken)
	pl := p.Plan(context.Background(), grafanaAlert(t, "RackTempInDeadBand", "rack-temp", map[string]string{"__name__": "rack_temperature_celsius", "rack": "r7"}, nil), t0)
	if len(pl.Thresholds) != 1 || !pl.Thresholds[0].IsBand() || !pl.Thresholds[0].Inside() {
		t.Fatalf("thresholds %+v", pl.Thresholds)
	}
	lo, hi := pl.Thresholds[0].Bounds()
	if lo != 18 || hi != 27 {
		t.Fatalf("band %v–%v", lo, hi)
	}
	if !strings.Contains(pl.Grafana.Queries[0].Query, `rack="r7"`) || strings.Contains(pl.Grafana.Queries[0].Query, "__name__") {
		t.Fatalf("query %q", pl.Grafana.Queries[0].Query)
	}
	res, err := p.Fetch(context.Background(), pl)
	if err != nil || len(res.Series) != 1 {
		t.Fatalf("fetch %+v %v", res, err)
	}
}

// Classic conditions give the alert no series labels and fire on any
// series: every series of the query is charted, the evaluator drawn.
func TestGrafanaClassicCondition(t *testing.T) {
	t.Parallel()
	f := grafanaWorld(t)
	p := grafanaPlanner(t, f, gToken)
	pl := p.Plan(context.Background(), grafanaAlert(t, "AnyCPUHigh", "cpu-classic", nil, map[string]float64{"B0": 94}), t0)
	if pl.NoChartReason != "" || len(pl.Thresholds) != 1 || pl.Thresholds[0].Op != ">" || pl.Thresholds[0].Value != 90 || len(pl.Grafana.Match) != 0 {
		t.Fatalf("plan %+v", pl)
	}
	if pl.Grafana.Chain[0] != "B: classic condition avg(A) > 90" {
		t.Fatalf("chain %q", pl.Grafana.Chain)
	}
	res, err := p.Fetch(context.Background(), pl)
	if err != nil || len(res.Series) != 5 {
		t.Fatalf("fetch %v %v", seriesNames(res.Series), err)
	}
}

// A multi-dimensional rule: each of the two firing alerts (of five
// series) gets exactly its own series.
func TestGrafanaMultiDimensionalEachAlertItsSeries(t *testing.T) {
	t.Parallel()
	f := grafanaWorld(t)
	p := grafanaPlanner(t, f, gToken)
	for _, inst := range []string{"web-2:9100", "web-4:9100"} {
		pl := p.Plan(context.Background(), grafanaAlert(t, "HighCPU", "cpu-high", map[string]string{"instance": inst, "severity": "critical"}, nil), t0)
		res, err := p.Fetch(context.Background(), pl)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Series) != 1 || res.Series[0].Labels["instance"] != inst {
			t.Fatalf("%s: series %v", inst, seriesNames(res.Series))
		}
	}
	if n := p.GrafanaRuleRequests(); n != 1 {
		t.Fatalf("rule read %d times, want 1 (cached)", n)
	}
}

func TestGrafanaMathCondition(t *testing.T) {
	t.Parallel()
	f := grafanaWorld(t)
	p := grafanaPlanner(t, f, gToken)
	pl := p.Plan(context.Background(), grafanaAlert(t, "CPUMath", "cpu-math", map[string]string{"instance": "web-4:9100"}, nil), t0)
	var got []string
	for _, th := range pl.Thresholds {
		got = append(got, th.Condition(formatNum))
	}
	if strings.Join(got, ", ") != "> 80, < 99" {
		t.Fatalf("thresholds %v", got)
	}
}

// The plugin may not read rules: no chart, a plain reason naming the
// permission; the text goes regardless (the plan has no chart, not an
// error).
func TestGrafanaRuleForbidden(t *testing.T) {
	t.Parallel()
	f := grafanaWorld(t)
	f.AddToken("no-rules", fakegrafana.PermDatasourcesQuery, fakegrafana.PermDashboardsRead)
	p := grafanaPlanner(t, f, "no-rules")
	pl := p.Plan(context.Background(), grafanaAlert(t, "HighCPU", "cpu-high", map[string]string{"instance": "web-2:9100"}, nil), t0)
	if pl.HasChart() || !strings.Contains(pl.NoChartReason, "alert.rules:read") || !strings.Contains(pl.NoChartReason, "403") {
		t.Fatalf("no-chart reason %q", pl.NoChartReason)
	}
}

func TestGrafanaRuleMissingOrDataSourceDeleted(t *testing.T) {
	t.Parallel()
	f := grafanaWorld(t)
	p := grafanaPlanner(t, f, gToken)
	pl := p.Plan(context.Background(), grafanaAlert(t, "Gone", "no-such-rule", nil, nil), t0)
	if pl.HasChart() || !strings.Contains(pl.NoChartReason, `no alert rule "no-such-rule"`) {
		t.Fatalf("missing rule: %q", pl.NoChartReason)
	}
	pl = p.Plan(context.Background(), grafanaAlert(t, "Orphaned", "orphan", map[string]string{"instance": "x"}, nil), t0)
	if pl.HasChart() || !strings.Contains(pl.NoChartReason, `data source "prom-deleted"`) || pl.Rule == nil {
		t.Fatalf("deleted data source: %q", pl.NoChartReason)
	}
	// Without Grafana access at all (standalone) the plan says so.
	pl = NewPlanner(Config{}, nil).Plan(context.Background(), grafanaAlert(t, "HighCPU", "cpu-high", nil, nil), t0)
	if pl.HasChart() || !strings.Contains(pl.NoChartReason, "Grafana-managed rule") {
		t.Fatalf("no Grafana: %q", pl.NoChartReason)
	}
}

// Explaining alerts of many Grafana rules reads them in one request.
func TestGrafanaPrefetchOneRequest(t *testing.T) {
	t.Parallel()
	f := grafanaWorld(t)
	p := grafanaPlanner(t, f, gToken)
	data := &template.Data{Alerts: []template.Alert{
		grafanaAlert(t, "HighCPU", "cpu-high", map[string]string{"instance": "web-2:9100"}, nil),
		grafanaAlert(t, "DBLoadHigh", "db-load", map[string]string{"host": "db-2"}, nil),
		grafanaAlert(t, "AnyCPUHigh", "cpu-classic", nil, nil),
		grafanaAlert(t, "Gone", "no-such-rule", nil, nil),
	}}
	plans := Explain(context.Background(), p, data, t0)
	if n := f.RuleRequests(); n != 1 {
		t.Fatalf("%d rule requests, want 1", n)
	}
	if plans[0].Rule == nil || plans[1].Rule == nil || plans[2].Rule == nil || !strings.Contains(plans[3].NoChartReason, "no alert rule") {
		t.Fatalf("plans %+v", plans)
	}
}

// A storm digest's overview of a Grafana rule's alerts charts exactly
// their series: the instances as a union, injected into the PromQL.
func TestGrafanaOverview(t *testing.T) {
	t.Parallel()
	f := grafanaWorld(t)
	p := grafanaPlanner(t, f, gToken)
	alerts := []template.Alert{
		grafanaAlert(t, "HighCPU", "cpu-high", map[string]string{"instance": "web-2:9100", "severity": "critical"}, nil),
		grafanaAlert(t, "HighCPU", "cpu-high", map[string]string{"instance": "web-4:9100", "severity": "critical"}, nil),
	}
	pl := p.PlanOverview(context.Background(), alerts, t0)
	if pl.Grafana == nil || !strings.Contains(pl.Query, `instance=~"web-2:9100|web-4:9100"`) {
		t.Fatalf("overview query %q %+v", pl.Query, pl.Grafana)
	}
	res, err := p.Fetch(context.Background(), pl)
	if err != nil || len(res.Series) != 2 {
		t.Fatalf("overview series %v %v", seriesNames(res.Series), err)
	}
	sqlAlerts := []template.Alert{
		grafanaAlert(t, "DBLoadHigh", "db-load", map[string]string{"host": "db-2"}, nil),
		grafanaAlert(t, "DBLoadHigh", "db-load", map[string]string{"host": "db-1"}, nil),
	}
	pl = p.PlanOverview(context.Background(), sqlAlerts, t0)
	res, err = p.Fetch(context.Background(), pl)
	if err != nil || len(res.Series) != 2 || res.FilteredOut != 0 {
		t.Fatalf("sql overview %v %+v %v", seriesNames(res.Series), res, err)
	}
}
