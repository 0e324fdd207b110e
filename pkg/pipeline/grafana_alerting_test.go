package pipeline_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/delivery/queuetest"
	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/intake"
	"github.com/alertchart/alertchart/pkg/pipeline"
	"github.com/alertchart/alertchart/pkg/settings"
	fakegrafana "github.com/alertchart/alertchart/test/fakes/grafana"
)

// TestGrafanaRendererDrawsGrafanaRules: with chart.renderer grafana, an
// alert of a Grafana-managed SQL rule is rendered from a clone of the
// template panel carrying the rule's own query model and data source,
// narrowed to the alert's host by Grafana's transformations, with the
// rule's threshold; the template is never written.
func TestGrafanaRendererDrawsGrafanaRules(t *testing.T) {
	const token = "glsa_pipeline"
	f := fakegrafana.New(t)
	f.AddToken(token, fakegrafana.AllPermissions...)
	f.AddFolder("infra", "Infrastructure")
	if err := f.AddDashboard(fakegrafana.SampleDashboard, "infra"); err != nil {
		t.Fatal(err)
	}
	f.AddDatasource(fakegrafana.Datasource{UID: "pg-main", Name: "PostgreSQL", Type: fakegrafana.TypePostgres,
		Series: []fakegrafana.Series{{Labels: map[string]string{"host": "db-1"}, Value: func(time.Time) float64 { return 1 }},
			{Labels: map[string]string{"host": "db-2"}, Value: func(time.Time) float64 { return 7 }}}})
	sql := fakegrafana.SQLQuery("A", "pg-main", "SELECT $__timeGroupAlias(ts, 1m), host, avg(load) AS value FROM host_load WHERE $__timeFilter(ts) GROUP BY 1, 2 ORDER BY 1", 10*time.Minute)
	f.AddAlertRule(fakegrafana.AlertRule{UID: "db-load", Title: "DBLoadHigh", FolderUID: "infra", RuleGroup: "db", Condition: "C", For: "2m",
		Data: []fakegrafana.AlertQuery{sql, fakegrafana.Reduce("B", "A", "mean"), fakegrafana.Threshold("C", "B", "gt", 4)}})

	js := fmt.Sprintf(`{"chart":{"renderer":"grafana","templateDashboardUid":%q,"templatePanelId":%d,"language":"en"},
		"delivery":{"dataDir":%q},"channels":[{"name":"box","type":"inbox","dir":%q}],"routes":[{"receiver":"grafana","channels":["box"]}]}`,
		fakegrafana.SampleDashboardUID, fakegrafana.SamplePanelID, queuetest.DataDir(t), t.TempDir())
	s, err := settings.Parse([]byte(js), nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(context.Background(), s, pipeline.Env{Grafana: grafana.Credentials{URL: f.URL, Token: token,
		Source: grafana.SourceManagedServiceAccount, OrgID: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	before, _ := f.DashboardRaw(fakegrafana.SampleDashboardUID)

	a := template.Alert{Status: "firing", StartsAt: time.Now().Add(-3 * time.Minute), Fingerprint: "db2",
		Labels:       template.KV{"alertname": "DBLoadHigh", "grafana_folder": "Infrastructure", "host": "db-2"},
		Annotations:  template.KV{intake.AnnotationGrafanaRuleUID: "db-load"},
		GeneratorURL: f.URL + "/alerting/grafana/db-load/view?orgId=1"}
	res, err := p.Charter().MakeChart(context.Background(), a)
	if err != nil {
		t.Fatalf("%v (%+v)", err, res.Info)
	}
	if res.Info.Renderer != "grafana" || res.Chart == nil || len(res.Chart.Image) == 0 || res.Chart.Query != "" {
		t.Fatalf("chart %+v info %+v", res.Chart, res.Info)
	}
	var rec *fakegrafana.RenderRecord
	for _, r := range f.Renders() {
		if r.DashboardUID != fakegrafana.SampleDashboardUID {
			r := r
			rec = &r
		}
	}
	if rec == nil {
		t.Fatal("no temporary dashboard was rendered")
	}
	tg := rec.Panel["targets"].([]any)
	t0 := tg[0].(map[string]any)
	if len(tg) != 1 || t0["rawSql"] != sql.Model["rawSql"] || t0["datasource"].(map[string]any)["uid"] != "pg-main" || t0["refId"] != "A" {
		t.Fatalf("targets %v", tg)
	}
	if !strings.Contains(fmt.Sprint(rec.Panel["transformations"]), "db-2") || len(rec.Thresholds) != 1 || rec.Thresholds[0] != 4 {
		t.Fatalf("panel transformations %v thresholds %v", rec.Panel["transformations"], rec.Thresholds)
	}
	after, _ := f.DashboardRaw(fakegrafana.SampleDashboardUID)
	if string(before) != string(after) {
		t.Fatal("the template dashboard was written")
	}
}
