package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/chartplan"
	"github.com/alertchart/alertchart/pkg/delivery/queuetest"
	"github.com/alertchart/alertchart/pkg/pipeline"
	"github.com/alertchart/alertchart/pkg/settings"
	fakeprom "github.com/alertchart/alertchart/test/fakes/prometheus"
)

// newPipeline runs a real pipeline over a fake Prometheus with one rule.
func newPipeline(t *testing.T, maxSeries int) (*pipeline.Pipeline, *fakeprom.Server) {
	t.Helper()
	prom := fakeprom.New(t)
	prom.Lock()
	prom.Rules = []fakeprom.Rule{{Group: "node", Name: "HighCPU", Query: `cpu_percent > 80`, For: 5 * time.Minute,
		Labels: map[string]string{"severity": "critical"}}}
	prom.Unlock()
	js := fmt.Sprintf(`{"prometheus":{"url":%q},"chart":{"language":"en","maxSeries":%d},
		"delivery":{"dataDir":%q},
		"channels":[{"name":"box","type":"inbox","dir":%q}],
		"routes":[{"receiver":"ops","channels":["box"]}]}`, prom.URL, maxSeries, queuetest.DataDir(t), t.TempDir())
	return pipelineFrom(t, js), prom
}

// pipelineFrom builds a pipeline from settings JSON, closed when the test ends.
func pipelineFrom(t *testing.T, js string) *pipeline.Pipeline {
	t.Helper()
	s, err := settings.Parse([]byte(js), nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(context.Background(), s, pipeline.Env{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

func cpuAlert(inst string) template.Alert {
	return template.Alert{Status: "firing",
		Labels:       template.KV{"alertname": "HighCPU", "instance": inst, "job": "node", "severity": "critical"},
		Annotations:  template.KV{"summary": "CPU high"},
		StartsAt:     time.Now().Add(-3 * time.Minute),
		GeneratorURL: "http://prom/graph?g0.expr=cpu_percent+%3E+80&g0.tab=1", Fingerprint: "f-" + inst}
}

func TestOverviewRendersOneChartForTheGroup(t *testing.T) {
	p, prom := newPipeline(t, 2)
	insts := []string{"node-1:9100", "node-2:9100", "node-3:9100"}
	query := `cpu_percent{instance=~"node-1:9100|node-2:9100|node-3:9100",job="node"}`
	prom.Lock()
	for i, inst := range insts {
		v := float64(85 + i)
		prom.Matrix[query] = append(prom.Matrix[query], fakeprom.Series{
			Labels: map[string]string{"__name__": "cpu_percent", "instance": inst, "job": "node"},
			Value:  func(time.Time) float64 { return v },
		})
	}
	prom.Unlock()
	var alerts []template.Alert
	for _, inst := range insts {
		alerts = append(alerts, cpuAlert(inst))
	}
	chart, info, err := p.Charter().Overview(context.Background(), "ops", alerts)
	if err != nil {
		t.Fatal(err)
	}
	if prom.LastQuery() != query || chart.Query != query {
		t.Fatalf("queried %q, chart query %q, want %q", prom.LastQuery(), chart.Query, query)
	}
	if chart.Title != "HighCPU — 3 alerts (last 10m)" {
		t.Errorf("title %q", chart.Title)
	}
	// maxSeries 2: the highest two are drawn, the legend and the note say one more.
	var drawn []string
	for _, s := range chart.Series {
		drawn = append(drawn, s.Labels["instance"])
	}
	if strings.Join(drawn, ",") != "node-3:9100,node-2:9100" {
		t.Errorf("series drawn %v", drawn)
	}
	if info.Renderer != "native" || !strings.Contains(info.Note, "1 more series not shown") {
		t.Errorf("info %+v", info)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(chart.Image))
	if err != nil || cfg.Width != 1000 {
		t.Fatalf("image: %v %+v", err, cfg)
	}
	if !strings.Contains(string(info.Plan), `"overview":{"alerts":3,"group":3,"charted":3,"rules":1}`) {
		t.Errorf("plan record %s", info.Plan)
	}
	if chartplan.MaxOverviewValues < len(insts) {
		t.Fatal("the test assumes every alert is charted")
	}
}

func TestOverviewWithoutDataSourceFails(t *testing.T) {
	js := fmt.Sprintf(`{"delivery":{"dataDir":%q},"channels":[{"name":"box","type":"inbox","dir":%q}],
		"routes":[{"receiver":"ops","channels":["box"]}]}`, queuetest.DataDir(t), t.TempDir())
	p := pipelineFrom(t, js)
	chart, info, err := p.Charter().Overview(context.Background(), "ops", []template.Alert{cpuAlert("a"), cpuAlert("b")})
	if err == nil || chart != nil || !strings.Contains(info.Note, "no Prometheus data source") {
		t.Fatalf("chart %v, info %+v, err %v", chart, info, err)
	}
}
