package grafanarender

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/alertchart/alertchart/pkg/series"
	fakegrafana "github.com/alertchart/alertchart/test/fakes/grafana"
)

// The clone keeps the template's styling and drops what would change the
// chart: repeats, relative time overrides, the template's own query.
func TestCloneKeepsStyleAndDropsOverrides(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	r := newRenderer(t, f.URL, token, nil)
	if _, err := r.Render(context.Background(), request(3)); err != nil {
		t.Fatal(err)
	}
	rec := f.Renders()[0]
	p := rec.Panel
	for _, k := range []string{"repeat", "timeFrom"} {
		if _, ok := p[k]; ok {
			t.Fatalf("panel still has %s: %v", k, p[k])
		}
	}
	def := p["fieldConfig"].(map[string]any)["defaults"].(map[string]any)
	if def["unit"] != "percent" || def["custom"].(map[string]any)["lineInterpolation"] != "smooth" {
		t.Fatalf("template style lost: %v", def)
	}
	if def["custom"].(map[string]any)["thresholdsStyle"].(map[string]any)["mode"] != "dashed" {
		t.Fatalf("threshold lines not shown: %v", def["custom"])
	}
	if p["options"].(map[string]any)["legend"].(map[string]any)["displayMode"] != "table" {
		t.Fatalf("options lost: %v", p["options"])
	}
	targets := p["targets"].([]any)
	if len(targets) != 1 {
		t.Fatalf("targets: %v", targets)
	}
	t0 := targets[0].(map[string]any)
	if t0["interval"] != "30s" || t0["legendFormat"] != "{{instance}}" ||
		t0["datasource"].(map[string]any)["uid"] != fakegrafana.SampleDatasource {
		t.Fatalf("target: %v", t0)
	}
	if tags := rec.Dashboard["tags"].([]any); len(tags) != 1 || tags[0] != Tag {
		t.Fatalf("tags: %v", tags)
	}
	tm := rec.Dashboard["time"].(map[string]any)
	if tm["from"] != "2026-11-25T02:30:00Z" || tm["to"] != "2026-11-25T03:00:00Z" {
		t.Fatalf("time: %v", tm)
	}
}

// TestPartsBecomeTargets: a burn-rate tier's windows are one target each,
// named in the legend, so Grafana draws every window as the native
// renderer does.
func TestPartsBecomeTargets(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	r := newRenderer(t, f.URL, token, nil)
	req := request(3)
	req.Parts = []Part{{Name: "5m", Query: `slo:sli_error:ratio_rate5m{sloth_id="a"}`}, {Name: "1h", Query: `slo:sli_error:ratio_rate1h{sloth_id="a"}`}}
	if _, err := r.Render(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	targets := f.Renders()[0].Panel["targets"].([]any)
	if len(targets) != 2 {
		t.Fatalf("targets: %v", targets)
	}
	for i, want := range []struct{ ref, expr, legend string }{
		{"A", `slo:sli_error:ratio_rate5m{sloth_id="a"}`, "5m {{instance}}"},
		{"B", `slo:sli_error:ratio_rate1h{sloth_id="a"}`, "1h {{instance}}"},
	} {
		tg := targets[i].(map[string]any)
		if tg["refId"] != want.ref || tg["expr"] != want.expr || tg["legendFormat"] != want.legend || tg["interval"] != "30s" {
			t.Errorf("target %d = %v", i, tg)
		}
	}
}

func BenchmarkBuildDashboard(b *testing.B) {
	f := newFake(b)
	r := newRenderer(b, f.URL, token, nil)
	tmpl, err := r.template(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	req := request(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = buildDashboard("act-x-0123456789ab", tmpl, req)
	}
}

// TestRuleQueryModelsBecomeTargets: a Grafana-managed rule's data queries
// are rendered as they are (query models with their data source UIDs, in
// a mixed-source panel when they differ), narrowed to the alert's series by
// Grafana's transformations when asked, and a range threshold is shaded
// over what fires.
func TestRuleQueryModelsBecomeTargets(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	r := newRenderer(t, f.URL, token, nil)
	lo, hi := 10.0, 20.0
	req := request(3)
	req.Query = "SELECT time, host, load FROM metrics"
	req.DatasourceUID = ""
	req.Legend = ""
	req.Targets = []map[string]any{
		{"refId": "A", "datasource": map[string]any{"type": "grafana-postgresql-datasource", "uid": "pg-1"},
			"rawSql": "SELECT time, host, load FROM metrics WHERE $__timeFilter(time)", "format": "table"},
		{"refId": "B", "datasource": map[string]any{"type": "prometheus", "uid": "prom-1"}, "expr": `up{job="db"}`, "range": true},
	}
	req.Match = map[string]string{"host": "db-2"}
	req.Thresholds = []series.Threshold{{Op: series.OpWithinRange, Value: lo, Upper: &hi}}
	if _, err := r.Render(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	p := f.Renders()[0].Panel
	if ds := p["datasource"].(map[string]any); ds["uid"] != "-- Mixed --" {
		t.Fatalf("panel datasource %v, want the mixed data source", ds)
	}
	targets := p["targets"].([]any)
	if len(targets) != 2 {
		t.Fatalf("targets %v", targets)
	}
	a := targets[0].(map[string]any)
	if a["rawSql"] != req.Targets[0]["rawSql"] || a["datasource"].(map[string]any)["uid"] != "pg-1" || a["refId"] != "A" {
		t.Fatalf("target A %v", a)
	}
	if _, ok := a["expr"]; ok {
		t.Fatalf("the template's PromQL leaked into the SQL target: %v", a)
	}
	tr := p["transformations"].([]any)
	ids := []string{}
	for _, x := range tr {
		ids = append(ids, x.(map[string]any)["id"].(string))
	}
	if strings.Join(ids, ",") != "labelsToFields,filterByValue,prepareTimeSeries" {
		t.Fatalf("transformations %v", ids)
	}
	filter := tr[1].(map[string]any)["options"].(map[string]any)["filters"].([]any)[0].(map[string]any)
	if filter["fieldName"] != "host" || filter["config"].(map[string]any)["options"].(map[string]any)["value"] != "db-2" {
		t.Fatalf("filter %v", filter)
	}
	def := p["fieldConfig"].(map[string]any)["defaults"].(map[string]any)
	steps := def["thresholds"].(map[string]any)["steps"].([]any)
	var got []string
	for _, s := range steps {
		m := s.(map[string]any)
		got = append(got, fmt.Sprintf("%v@%v", m["color"], m["value"]))
	}
	if strings.Join(got, " ") != "transparent@<nil> red@10 transparent@20" {
		t.Fatalf("band steps %v", got)
	}
	if def["custom"].(map[string]any)["thresholdsStyle"].(map[string]any)["mode"] != "dashed+area" {
		t.Fatalf("band style %v", def["custom"])
	}
	// outside_range: red below and above.
	req.Thresholds = []series.Threshold{{Op: series.OpOutsideRange, Value: hi, Upper: &lo}}
	req.Match = nil
	if _, err := r.Render(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	p = f.Renders()[1].Panel
	steps = p["fieldConfig"].(map[string]any)["defaults"].(map[string]any)["thresholds"].(map[string]any)["steps"].([]any)
	got = got[:0]
	for _, s := range steps {
		m := s.(map[string]any)
		got = append(got, fmt.Sprintf("%v@%v", m["color"], m["value"]))
	}
	if strings.Join(got, " ") != "red@<nil> transparent@10 red@20" {
		t.Fatalf("outside band steps %v", got)
	}
	if _, ok := p["transformations"]; ok {
		t.Fatalf("transformations without a match: %v", p["transformations"])
	}
}
