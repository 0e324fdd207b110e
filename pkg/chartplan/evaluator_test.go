package chartplan

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/series"
	fakeprom "github.com/alertchart/alertchart/test/fakes/prometheus"
)

func TestEvaluatorFromURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"http://vmalert:8880/vmalert/alert?group_id=5012873470431476498&alert_id=1267433231834342453":        EvaluatorVMAlert,
		"http://vmalert:8880/vmalert/api/v1/alert?group_id=5012873470431476498&alert_id=1267433231834342453": EvaluatorVMAlert,
		"http://vmalert-host:8880/api/v1/5012873470431476498/1267433231834342453/status":                     EvaluatorVMAlert,
		"https://grafana.example.com/alerting/grafana/fe2m1sa3v2tc0c/view?orgId=1":                           EvaluatorGrafana,
		"http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1":                                          "",
		"http://thanos-query:10902/graph?g0.expr=up+%3D%3D+0&g0.tab=1":                                       "",
		"http://mimir-ruler/prometheus/graph?g0.expr=up+%3D%3D+0&g0.tab=1":                                   "",
		"": "",
	} {
		if got := EvaluatorFromURL(raw); got != want {
			t.Errorf("EvaluatorFromURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

// evaluatorCase is one alert as an evaluator sends it: its real generatorURL
// form and the labels it adds, against a rules API of its flavour.
type evaluatorCase struct {
	name      string
	flavour   string            // the fake rules API's flavour
	group     map[string]string // vmalert group labels
	active    map[string]string // the rules API's copy of the active alert (nil: none)
	genURL    string
	labels    map[string]string // the webhook alert's labels
	evaluator string
	added     []string
	query     string
}

func TestPlanEvaluatorLabelsAreNeverInjected(t *testing.T) {
	t.Parallel()
	expr := `node_cpu_usage > 90`
	base := map[string]string{"alertname": "HighCPU", "instance": "a:9100", "job": "node", "severity": "critical"}
	with := func(extra map[string]string) map[string]string {
		out := copyMap(base)
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	want := `node_cpu_usage{instance="a:9100",job="node"}`
	for _, tc := range []evaluatorCase{
		{name: "vmalert default", flavour: "vmalert", group: map[string]string{"team": "infra"},
			genURL: "http://vmalert:8880/vmalert/alert?group_id=1000&alert_id=42",
			labels: with(map[string]string{"alertgroup": "node", "team": "infra"}), evaluator: EvaluatorVMAlert,
			added: []string{"alertgroup", "team"}, query: want},
		{name: "vmalert old status link", flavour: "vmalert",
			genURL: "http://vmalert:8880/api/v1/1000/42/status",
			labels: with(map[string]string{"alertgroup": "node"}), evaluator: EvaluatorVMAlert,
			added: []string{"alertgroup"}, query: want},
		{name: "vmalert custom source, flavour from the rules API", flavour: "vmalert",
			genURL: "http://vmalert:8880/graph?g0.expr=" + strings.ReplaceAll(expr, " ", "+"),
			labels: with(map[string]string{"alertgroup": "node"}), evaluator: EvaluatorVMAlert,
			added: []string{"alertgroup"}, query: want},
		{name: "thanos ruler external labels", flavour: "thanos", active: base,
			genURL: genURL(expr),
			labels: with(map[string]string{"replica": "thanos-ruler-0", "ruler_cluster": "eu1"}), evaluator: EvaluatorThanos,
			added: []string{"replica", "ruler_cluster"}, query: want},
		{name: "mimir tenant external label", flavour: "mimir", active: base,
			genURL: "http://mimir:8080/prometheus/graph?g0.expr=node_cpu_usage+%3E+90&g0.tab=1",
			labels: with(map[string]string{"cluster": "prod-eu"}), evaluator: EvaluatorMimir,
			added: []string{"cluster"}, query: want},
		{name: "prometheus external label not configured", flavour: "", active: base,
			genURL: genURL(expr),
			labels: with(map[string]string{"dc": "sh"}), evaluator: EvaluatorPrometheus,
			added: []string{"dc"}, query: want},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakeprom.New(t)
			fake.Lock()
			fake.Flavour, fake.GroupLabels = tc.flavour, tc.group
			rule := fakeprom.Rule{Group: "node", Name: "HighCPU", Query: expr, For: 5 * time.Minute,
				Labels: map[string]string{"severity": "critical"}}
			for k, v := range tc.group {
				rule.Labels[k] = v // vmalert reports group labels on the rule too
			}
			if tc.active != nil {
				rule.Alerts = []map[string]string{tc.active}
			}
			fake.Rules = []fakeprom.Rule{rule}
			fake.Unlock()
			p := newPlanner(t, fake, Config{Language: "en"})
			a := alert(tc.labels, "", t0)
			a.GeneratorURL = tc.genURL
			pl := p.Plan(context.Background(), a, t0)
			if pl.Evaluator != tc.evaluator || !slices.Equal(pl.EvaluatorLabels, tc.added) || pl.Query != tc.query {
				t.Fatalf("evaluator %q labels %q query %s; want %q %q %s\nfallbacks %q", pl.Evaluator, pl.EvaluatorLabels, pl.Query,
					tc.evaluator, tc.added, tc.query, pl.Fallbacks)
			}
			if len(pl.Thresholds) != 1 || pl.Thresholds[0] != (series.Threshold{Op: ">", Value: 90}) {
				t.Errorf("thresholds %v", pl.Thresholds)
			}
		})
	}

	// Grafana-managed: grafana_folder is recognised even without a rule.
	p := newPlanner(t, fakeprom.New(t), Config{})
	g := alert(map[string]string{"alertname": "GrafanaRule", "grafana_folder": "ops", "instance": "a"}, "", t0)
	g.GeneratorURL = "https://grafana/alerting/grafana/abc/view?orgId=1"
	g.Annotations = template.KV{AnnotationQuery: `up{instance="a"}`}
	pl := p.Plan(context.Background(), g, t0)
	if pl.Evaluator != EvaluatorGrafana || !slices.Equal(pl.EvaluatorLabels, []string{"grafana_folder"}) || pl.Query != `up{instance="a"}` {
		t.Errorf("grafana plan: evaluator %q labels %q query %s", pl.Evaluator, pl.EvaluatorLabels, pl.Query)
	}
}

// TestFetchDropsAMatcherTheDataDoesNotBearOut: an evaluator label the
// planner could not recognise (no active alert in the rules API, not a
// configured external label) empties the chart; Fetch finds the series
// without it, checks it on the returned series instead and says so.
func TestFetchDropsAMatcherTheDataDoesNotBearOut(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	fake.Lock()
	fake.Rules = []fakeprom.Rule{{Group: "node", Name: "HighCPU", Query: `node_cpu_usage > 90`, For: time.Minute}}
	val := func(v float64) func(time.Time) float64 { return func(time.Time) float64 { return v } }
	a9100 := fakeprom.Series{Labels: map[string]string{"__name__": "node_cpu_usage", "instance": "a:9100", "job": "node"}, Value: val(95)}
	b9100 := fakeprom.Series{Labels: map[string]string{"__name__": "node_cpu_usage", "instance": "b:9100", "job": "node"}, Value: val(5)}
	// The fake answers by query text: the chart query, and the probes of
	// the data check (no injection, one label at a time).
	fake.Matrix[`node_cpu_usage{instance="a:9100",job="node"}`] = []fakeprom.Series{a9100}
	fake.Matrix[`node_cpu_usage`] = []fakeprom.Series{a9100, b9100}
	fake.Matrix[`node_cpu_usage{instance="a:9100"}`] = []fakeprom.Series{a9100}
	fake.Matrix[`node_cpu_usage{job="node"}`] = []fakeprom.Series{a9100, b9100}
	fake.Unlock()
	p := newPlanner(t, fake, Config{Language: "en"})
	a := alert(map[string]string{"alertname": "HighCPU", "instance": "a:9100", "job": "node", "replica": "b"}, `node_cpu_usage > 90`, t0)
	pl := p.Plan(context.Background(), a, t0)
	if pl.Query != `node_cpu_usage{instance="a:9100",job="node",replica="b"}` {
		t.Fatalf("query = %s", pl.Query)
	}
	res, err := p.Fetch(context.Background(), pl)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Series) != 1 || res.Series[0].Name != "instance=a:9100, job=node" {
		t.Fatalf("series = %+v", res.Series)
	}
	if pl.Query != `node_cpu_usage{instance="a:9100",job="node"}` || pl.InjectedLabels["replica"] != "" ||
		pl.PostFilter["replica"] != "b" || !slices.Contains(pl.PostFilterOptional, "replica") {
		t.Errorf("plan not amended: query %s injected %v post %v optional %v", pl.Query, pl.InjectedLabels, pl.PostFilter, pl.PostFilterOptional)
	}
	if !strings.Contains(strings.Join(pl.Fallbacks, "\n"), `replica="b" injected: no series carries it`) {
		t.Errorf("fallbacks = %q", pl.Fallbacks)
	}

	// An alert whose series really has no data stays empty and the plan
	// is left as it was.
	b := alert(map[string]string{"alertname": "HighCPU", "instance": "gone:9100", "job": "node"}, `node_cpu_usage > 90`, t0)
	pl = p.Plan(context.Background(), b, t0)
	res, err = p.Fetch(context.Background(), pl)
	if err != nil || len(res.Series) != 0 || pl.InjectedLabels["instance"] != "gone:9100" {
		t.Errorf("gone series: %+v %v, injected %v", res, err, pl.InjectedLabels)
	}
}

// TestFetchNamesSeriesShortly: the default legend is the labels that differ
// between the charted series, else the alert's identifying labels; parts
// are named by their window (issue 14 point 6, issue 17 point 7).
func TestFetchNamesSeriesShortly(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	val := func(v float64) func(time.Time) float64 { return func(time.Time) float64 { return v } }
	fake.Lock()
	fake.Matrix[`node_load1`] = []fakeprom.Series{
		{Labels: map[string]string{"__name__": "node_load1", "instance": "a", "job": "node"}, Value: val(1)},
		{Labels: map[string]string{"__name__": "node_load1", "instance": "b", "job": "node"}, Value: val(2)}}
	for _, w := range []string{"5m", "1h"} {
		fake.Matrix[`max without (sloth_window) (slo:sli_error:ratio_rate`+w+`{sloth_id="api"})`] = []fakeprom.Series{
			{Labels: map[string]string{"sloth_id": "api", "sloth_service": "api"}, Value: val(0.02)}}
	}
	fake.Unlock()
	p := newPlanner(t, fake, Config{})
	pl := &Plan{Query: `node_load1`, Start: t0.Add(-10 * time.Minute), End: t0, Step: Duration(time.Minute),
		Alert: AlertRef{Labels: map[string]string{"alertname": "X", "instance": "b", "job": "node"}}}
	res, err := p.Fetch(context.Background(), pl)
	if err != nil || len(res.Series) != 2 || res.Series[0].Name != "a" || res.Series[1].Name != "b" {
		t.Fatalf("names: %+v %v", res, err)
	}
	rw, err := RewriteExpr(`max(slo:sli_error:ratio_rate5m{sloth_id="api"} > 0.0144) without (sloth_window) and max(slo:sli_error:ratio_rate1h{sloth_id="api"} > 0.0144) without (sloth_window)`, L{"sloth_id": "api"})
	if err != nil {
		t.Fatal(err)
	}
	pl = &Plan{Query: rw.Query, Parts: rw.Parts, Start: t0.Add(-10 * time.Minute), End: t0, Step: Duration(time.Minute),
		Alert: AlertRef{Labels: map[string]string{"alertname": "Burn", "sloth_id": "api"}}}
	res, err = p.Fetch(context.Background(), pl)
	if err != nil || len(res.Series) != 2 || res.Series[0].Name != "5m" || res.Series[1].Name != "1h" {
		t.Fatalf("parts: %+v %v", res, err)
	}
}
