package chartplan

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/promapi"
	"github.com/alertchart/alertchart/pkg/series"
	"github.com/alertchart/alertchart/pkg/settings"
	fakeprom "github.com/alertchart/alertchart/test/fakes/prometheus"
)

var t0 = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

func genURL(expr string) string {
	return "http://prometheus:9090/graph?g0.expr=" + url.QueryEscape(expr) + "&g0.tab=1"
}

func newPlanner(t *testing.T, fake *fakeprom.Server, cfg Config) *Planner {
	t.Helper()
	var src *promapi.Client
	if fake != nil {
		var err error
		src, err = promapi.New(promapi.Config{BaseURL: fake.URL, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
	}
	return NewPlanner(cfg, src)
}

func mustClient(tb testing.TB, base string) *promapi.Client {
	tb.Helper()
	c, err := promapi.New(promapi.Config{BaseURL: base, Timeout: 2 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func alert(labels map[string]string, expr string, startsAt time.Time) template.Alert {
	a := template.Alert{Status: "firing", Labels: labels, Annotations: template.KV{}, StartsAt: startsAt, Fingerprint: "f"}
	if expr != "" {
		a.GeneratorURL = genURL(expr)
	}
	return a
}

// Two rules share the alertname HighCPU with different thresholds and `for`:
// each alert must resolve to its own rule.
func twoSeverities(fake *fakeprom.Server) {
	fake.Lock()
	defer fake.Unlock()
	fake.Rules = []fakeprom.Rule{
		{Group: "node", File: "/etc/prometheus/node.yml", Name: "HighCPU", Query: `node_cpu_usage > 80`, For: 5 * time.Minute,
			Labels: map[string]string{"severity": "warning"}, Annotations: map[string]string{"summary": "CPU high"}},
		{Group: "node", File: "/etc/prometheus/node.yml", Name: "HighCPU", Query: `node_cpu_usage > 90`, For: 15 * time.Minute,
			Labels: map[string]string{"severity": "critical"}},
		{Group: "other", Name: "DiskFull", Query: `disk_used > 0.9`, For: time.Minute},
	}
}

func TestPlanMatchesNameAndExpression(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	twoSeverities(fake)
	p := newPlanner(t, fake, Config{Language: "zh"})
	ctx := context.Background()

	warn := p.Plan(ctx, alert(map[string]string{"alertname": "HighCPU", "instance": "a:9100", "job": "node", "severity": "warning"},
		`node_cpu_usage > 80`, t0.Add(-time.Minute)), t0)
	crit := p.Plan(ctx, alert(map[string]string{"alertname": "HighCPU", "instance": "a:9100", "job": "node", "severity": "critical"},
		`node_cpu_usage > 90`, t0.Add(-time.Minute)), t0)

	for _, tc := range []struct {
		pl     *Plan
		for_   time.Duration
		thr    float64
		window time.Duration
		title  string
	}{
		{warn, 5 * time.Minute, 80, 10 * time.Minute, "HighCPU (最近10分钟)"},
		{crit, 15 * time.Minute, 90, 30 * time.Minute, "HighCPU (最近30分钟)"},
	} {
		pl := tc.pl
		if pl.Source != SourceRulesAPI || pl.Rule == nil {
			t.Fatalf("source = %s, fallbacks %q", pl.Source, pl.Fallbacks)
		}
		if pl.Rule.For.D() != tc.for_ || pl.Rule.Group != "node" || pl.Rule.File != "/etc/prometheus/node.yml" {
			t.Errorf("rule = %+v", pl.Rule)
		}
		if len(pl.Thresholds) != 1 || pl.Thresholds[0] != (series.Threshold{Op: ">", Value: tc.thr}) {
			t.Errorf("thresholds = %v", pl.Thresholds)
		}
		if pl.Query != `node_cpu_usage{instance="a:9100",job="node"}` {
			t.Errorf("query = %s (severity must not be injected: it is a rule label)", pl.Query)
		}
		if pl.Window.D() != tc.window || !pl.End.Equal(t0) || !pl.Start.Equal(t0.Add(-tc.window)) {
			t.Errorf("window %s start %s end %s", pl.Window, pl.Start, pl.End)
		}
		if pl.Title != tc.title {
			t.Errorf("title = %q", pl.Title)
		}
		if pl.PendingAt == nil || !pl.PendingAt.Equal(t0.Add(-time.Minute-tc.for_)) {
			t.Errorf("pendingAt = %v", pl.PendingAt)
		}
		if n := (pl.End.Sub(pl.Start)) / pl.Step.D(); n < 300 || n > 1000 {
			t.Errorf("%d points (step %s)", n, pl.Step)
		}
		if pl.NoChartReason != "" || len(pl.Fallbacks) != 0 {
			t.Errorf("unexpected fallbacks %q / %q", pl.Fallbacks, pl.NoChartReason)
		}
	}
}

func TestPlanWithoutExpressionInGeneratorURL(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	twoSeverities(fake)
	p := newPlanner(t, fake, Config{Language: "en"})
	a := alert(map[string]string{"alertname": "HighCPU", "instance": "a", "severity": "critical"}, "", t0)
	a.GeneratorURL = "http://vmalert:8880/vmalert/alert?group_id=1&alert_id=2"
	pl := p.Plan(context.Background(), a, t0)
	if pl.Source != SourceRulesAPINameOnly || pl.Rule.For.D() != 15*time.Minute || pl.Thresholds[0].Value != 90 {
		t.Fatalf("plan = %+v", pl)
	}
	if !strings.Contains(strings.Join(pl.Fallbacks, "\n"), "carries no expression") {
		t.Errorf("fallbacks = %q", pl.Fallbacks)
	}
	if pl.Title != "HighCPU (last 30m)" {
		t.Errorf("title = %q", pl.Title)
	}

	// Grafana-managed rule: nothing in the rules API, nothing in the URL.
	g := alert(map[string]string{"alertname": "GrafanaRule", "grafana_folder": "ops"}, "", t0)
	g.GeneratorURL = "https://grafana/alerting/grafana/abc/view"
	pl = p.Plan(context.Background(), g, t0)
	if pl.HasChart() || pl.NoChartReason == "" || pl.Source != SourceNone {
		t.Errorf("grafana-managed plan = %+v", pl)
	}
}

func TestPlanActiveAlertDisambiguates(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	fake.Lock()
	fake.Rules = []fakeprom.Rule{
		{Group: "a", Name: "Down", Query: `up{job="a"} == 0`, For: time.Minute},
		{Group: "b", Name: "Down", Query: `up{job="b"} == 0`, For: 3 * time.Minute,
			Alerts: []map[string]string{{"alertname": "Down", "job": "b", "instance": "x"}}},
	}
	fake.Unlock()
	p := newPlanner(t, fake, Config{ExternalLabels: []string{"cluster"}})
	a := alert(map[string]string{"alertname": "Down", "job": "b", "instance": "x", "cluster": "eu"}, "", t0)
	pl := p.Plan(context.Background(), a, t0)
	if pl.Source != SourceRulesAPIActiveAlert || pl.Rule.Group != "b" {
		t.Fatalf("plan = %+v", pl)
	}
	if pl.Query != `up{instance="x",job="b"}` {
		t.Errorf("query = %s (cluster is an external label)", pl.Query)
	}
	// Neither expression nor active alerts tell them apart: honest failure.
	a = alert(map[string]string{"alertname": "Down", "job": "c", "instance": "y"}, "", t0)
	pl = p.Plan(context.Background(), a, t0)
	if pl.HasChart() || !strings.Contains(strings.Join(pl.Fallbacks, "\n"), "2 rules are named") {
		t.Errorf("ambiguous plan = %+v", pl)
	}
}

func TestPlanRulesAPIDownFallsBackToGeneratorURL(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	fake.Lock()
	fake.Fail = true
	fake.Unlock()
	p := newPlanner(t, fake, Config{MinWindow: 15 * time.Minute})
	a := alert(map[string]string{"alertname": "X", "instance": "a", "severity": "page"}, `rate(errors_total{job="api"}[5m]) > 1`, t0.Add(-time.Minute))
	pl := p.Plan(context.Background(), a, t0)
	if pl.Source != SourceGeneratorURL || pl.Rule != nil {
		t.Fatalf("plan = %+v", pl)
	}
	if pl.Window.D() != 15*time.Minute {
		t.Errorf("window = %s, want the minimum", pl.Window)
	}
	// The rule's labels are unknown, so instance and severity are checked
	// on the returned series rather than injected; job is named by the
	// expression and is safe to inject... but it is not an alert label here.
	if pl.Query != `rate(errors_total{job="api"}[5m])` || pl.PostFilter["instance"] != "a" || pl.PostFilter["severity"] != "page" {
		t.Errorf("query %s post %v", pl.Query, pl.PostFilter)
	}
	joined := strings.Join(pl.Fallbacks, "\n")
	if !strings.Contains(joined, "rules API unreachable") || !strings.Contains(joined, "503") {
		t.Errorf("fallbacks = %q", pl.Fallbacks)
	}
}

func TestRulesCacheStormMakesOneRequest(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	twoSeverities(fake)
	fake.Lock()
	fake.Delay = 200 * time.Millisecond
	fake.Unlock()
	p := newPlanner(t, fake, Config{RulesCacheTTL: 30 * time.Second})
	now := t0
	var mu sync.Mutex
	p.rules.clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }

	var wg sync.WaitGroup
	plans := make([]*Plan, 50)
	for i := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sev, expr := "warning", "node_cpu_usage > 80"
			if i%2 == 1 {
				sev, expr = "critical", "node_cpu_usage > 90"
			}
			plans[i] = p.Plan(context.Background(), alert(map[string]string{"alertname": "HighCPU", "instance": "a", "severity": sev}, expr, t0), t0)
		}()
	}
	wg.Wait()
	if n := fake.RulesRequests(); n != 1 {
		t.Fatalf("a storm of 50 alerts made %d rules API requests, want 1", n)
	}
	for i, pl := range plans {
		want := 5 * time.Minute
		if i%2 == 1 {
			want = 15 * time.Minute
		}
		if pl.Rule == nil || pl.Rule.For.D() != want {
			t.Fatalf("plan %d: %+v", i, pl)
		}
	}
	// Within the TTL the cache answers; after it the API is asked again.
	p.Plan(context.Background(), alert(map[string]string{"alertname": "HighCPU", "severity": "warning"}, "node_cpu_usage > 80", t0), t0)
	if n := fake.RulesRequests(); n != 1 {
		t.Errorf("requests within TTL = %d", n)
	}
	mu.Lock()
	now = now.Add(31 * time.Second)
	mu.Unlock()
	p.Plan(context.Background(), alert(map[string]string{"alertname": "HighCPU", "severity": "warning"}, "node_cpu_usage > 80", t0), t0)
	if n := fake.RulesRequests(); n != 2 {
		t.Errorf("requests after TTL = %d, want 2", n)
	}
	// Another alert name is another request.
	p.Plan(context.Background(), alert(map[string]string{"alertname": "DiskFull"}, "disk_used > 0.9", t0), t0)
	if n := fake.RulesRequests(); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
}

func TestRulesCacheRemembersFailuresBriefly(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	twoSeverities(fake)
	fake.Lock()
	fake.Fail = true
	fake.Unlock()
	p := newPlanner(t, fake, Config{RulesCacheTTL: time.Minute})
	now := t0
	p.rules.clock = func() time.Time { return now }
	a := alert(map[string]string{"alertname": "HighCPU", "severity": "warning"}, "node_cpu_usage > 80", t0)
	for i := 0; i < 20; i++ {
		p.Plan(context.Background(), a, t0)
	}
	if n := fake.RulesRequests(); n != 1 {
		t.Fatalf("requests while down = %d, want 1", n)
	}
	fake.Lock()
	fake.Fail = false
	fake.Unlock()
	now = now.Add(errorTTL + time.Second) // well before the 1m TTL
	if pl := p.Plan(context.Background(), a, t0); pl.Source != SourceRulesAPI {
		t.Errorf("after recovery source = %s, fallbacks %q", pl.Source, pl.Fallbacks)
	}
}

func TestRulesAPIWithoutNameFilter(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	twoSeverities(fake)
	fake.Lock()
	fake.IgnoreRuleNameFilter = true // Prometheus < 2.54 returns every rule
	fake.Unlock()
	p := newPlanner(t, fake, Config{})
	pl := p.Plan(context.Background(), alert(map[string]string{"alertname": "DiskFull", "instance": "a"}, "", t0), t0)
	if pl.Source != SourceRulesAPINameOnly || pl.Rule.Name != "DiskFull" {
		t.Errorf("plan = %+v", pl)
	}
}

func TestPlanWindow(t *testing.T) {
	t.Parallel()
	p := NewPlanner(Config{MinWindow: 10 * time.Minute, MaxWindow: 24 * time.Hour, WindowMultiplier: 2}, nil)
	for _, tc := range []struct {
		for_, want time.Duration
	}{
		{0, 10 * time.Minute},
		{time.Minute, 10 * time.Minute},
		{30 * time.Minute, time.Hour},
		{20 * time.Hour, 24 * time.Hour},
		{1 << 62, 24 * time.Hour},
	} {
		if got := p.window(tc.for_); got != tc.want {
			t.Errorf("window(for %s) = %s, want %s", tc.for_, got, tc.want)
		}
	}

	base := func(status string, startsAt, endsAt time.Time) *Plan {
		pl := &Plan{Alert: AlertRef{Status: status, StartsAt: startsAt, EndsAt: endsAt}}
		p.placeWindow(pl, 10*time.Minute, 5*time.Minute, true, t0)
		return pl
	}
	// Firing: ends now.
	pl := base("firing", t0.Add(-2*time.Minute), time.Time{})
	if !pl.End.Equal(t0) || !pl.Start.Equal(t0.Add(-10*time.Minute)) {
		t.Errorf("firing: %s – %s", pl.Start, pl.End)
	}
	// Resolved an hour ago: ends shortly after endsAt.
	pl = base("resolved", t0.Add(-70*time.Minute), t0.Add(-time.Hour))
	if !pl.End.Equal(t0.Add(-time.Hour+time.Minute)) || pl.Start.After(t0.Add(-70*time.Minute)) {
		t.Errorf("resolved: %s – %s", pl.Start, pl.End)
	}
	// Started long before the window: the range reaches back past startsAt.
	pl = base("firing", t0.Add(-3*time.Hour), time.Time{})
	if !pl.Start.Before(t0.Add(-3*time.Hour)) || !pl.End.Equal(t0) {
		t.Errorf("long-firing: %s – %s", pl.Start, pl.End)
	}
	if n := pl.End.Sub(pl.Start) / pl.Step.D(); n < 300 || n > 1000 {
		t.Errorf("long-firing: %d points", n)
	}
	// Absurd startsAt: capped with a note.
	pl = base("firing", t0.Add(-400*24*time.Hour), time.Time{})
	if pl.End.Sub(pl.Start) != maxSpan || len(pl.Fallbacks) != 1 {
		t.Errorf("capped: %s – %s %q", pl.Start, pl.End, pl.Fallbacks)
	}
}

func TestStepAndSpanLabels(t *testing.T) {
	t.Parallel()
	for _, span := range []time.Duration{5 * time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour} {
		st := stepFor(span)
		n := span / st
		if n > 1000 || n < 300 {
			t.Errorf("span %s: step %s gives %d points", span, st, n)
		}
	}
	for d, want := range map[time.Duration][2]string{
		10 * time.Minute:             {"最近10分钟", "last 10m"},
		time.Hour:                    {"最近1小时", "last 1h"},
		150 * time.Minute:            {"最近2小时30分钟", "last 2h30m"},
		26 * time.Hour:               {"最近1天2小时", "last 1d2h"},
		24*time.Hour + 5*time.Second: {"最近1天", "last 1d"},
		45 * time.Second:             {"最近45秒", "last 45s"},
	} {
		if got := spanLabel(d, "zh"); got != want[0] {
			t.Errorf("zh %s = %q", d, got)
		}
		if got := spanLabel(d, "en"); got != want[1] {
			t.Errorf("en %s = %q", d, got)
		}
	}
}

func TestPlanAnnotations(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	twoSeverities(fake)
	p := newPlanner(t, fake, Config{Language: "en"})
	a := alert(map[string]string{"alertname": "HighCPU", "instance": "a", "severity": "warning"}, "node_cpu_usage > 80", t0)
	a.Annotations = template.KV{
		AnnotationQuery:     `avg by (instance) (node_cpu_usage{instance="a"})`,
		AnnotationWindow:    "2h",
		AnnotationUnit:      "percent",
		AnnotationLegend:    "{{ instance }}",
		AnnotationThreshold: "> 75, < 5",
	}
	pl := p.Plan(context.Background(), a, t0)
	if pl.Query != `avg by (instance) (node_cpu_usage{instance="a"})` || pl.InjectedLabels != nil || pl.PostFilter != nil {
		t.Errorf("query = %s", pl.Query)
	}
	if pl.Window.D() != 2*time.Hour || pl.Title != "HighCPU (last 2h)" || pl.Unit != "percent" || pl.Legend != "{{ instance }}" {
		t.Errorf("plan = %+v", pl)
	}
	if len(pl.Thresholds) != 2 || pl.Thresholds[1] != (series.Threshold{Op: "<", Value: 5}) {
		t.Errorf("thresholds = %v", pl.Thresholds)
	}
	if pl.Source != SourceRulesAPI || len(pl.Overrides) != 5 {
		t.Errorf("source %s overrides %v", pl.Source, pl.Overrides)
	}

	// Bad annotations are reported and ignored.
	a.Annotations = template.KV{AnnotationQuery: "sum(", AnnotationWindow: "soon", AnnotationThreshold: "high"}
	pl = p.Plan(context.Background(), a, t0)
	if pl.Query != `node_cpu_usage{instance="a"}` || pl.Window.D() != 10*time.Minute || len(pl.Fallbacks) != 3 {
		t.Errorf("plan = %s %s %q", pl.Query, pl.Window, pl.Fallbacks)
	}

	// chart_query alone, with no rule and no generatorURL.
	b := alert(map[string]string{"alertname": "Custom"}, "", t0)
	b.Annotations = template.KV{AnnotationQuery: `rate(x[5m])`}
	pl = p.Plan(context.Background(), b, t0)
	if pl.Source != SourceAnnotation || !pl.HasChart() {
		t.Errorf("annotation-only plan = %+v", pl)
	}

	b.Annotations = template.KV{AnnotationDisable: "true", AnnotationQuery: `rate(x[5m])`}
	if pl = p.Plan(context.Background(), b, t0); pl.HasChart() {
		t.Errorf("chart_disable ignored: %+v", pl)
	}
}

func TestPlanAbsentAndUpRules(t *testing.T) {
	t.Parallel()
	p := NewPlanner(Config{Language: "en"}, nil)
	pl := p.Plan(context.Background(), alert(map[string]string{"alertname": "JobMissing", "job": "batch"}, `absent(up{job="batch"})`, t0), t0)
	if pl.Query != `up{job="batch"}` || pl.NoDataNote == "" {
		t.Errorf("absent plan = %+v", pl)
	}
	if pl.NoChartReason != "no Prometheus data source is configured" {
		t.Errorf("no-source reason = %q", pl.NoChartReason)
	}
	pl = p.Plan(context.Background(), alert(map[string]string{"alertname": "Down", "job": "node", "instance": "a"}, `up == 0`, t0), t0)
	if pl.Query != `up` || pl.PostFilter["instance"] != "a" || pl.Thresholds[0] != (series.Threshold{Op: "==", Value: 0}) {
		t.Errorf("up plan = %+v", pl)
	}
	// Unparseable expression: reason recorded, no chart, no panic.
	pl = p.Plan(context.Background(), alert(map[string]string{"alertname": "Bad"}, `sum(rate(x[5m]) >`, t0), t0)
	if pl.HasChart() || !strings.Contains(strings.Join(pl.Fallbacks, "\n"), "cannot be rewritten") {
		t.Errorf("bad plan = %+v", pl)
	}
}

func TestPlanJSON(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	twoSeverities(fake)
	p := newPlanner(t, fake, Config{})
	data := &template.Data{Alerts: template.Alerts{
		alert(map[string]string{"alertname": "HighCPU", "instance": "a", "severity": "warning"}, "node_cpu_usage > 80", t0),
		alert(map[string]string{"alertname": "Nope"}, "", t0),
	}}
	plans := Explain(context.Background(), p, data, t0)
	if len(plans) != 2 {
		t.Fatalf("%d plans", len(plans))
	}
	b, err := json.Marshal(plans)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"source":"rules_api"`, `"for":"5m0s"`, `"step":"1s"`, `"thresholds":[{"op":"\u003e","value":80}]`, `"noChartReason":"no expression`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s:\n%s", want, s)
		}
	}
	var back []*Plan
	if err := json.Unmarshal(b, &back); err != nil || back[0].Rule.For.D() != 5*time.Minute || back[0].Query != plans[0].Query {
		t.Errorf("round trip: %v %+v", err, back)
	}
}

func TestFetchFiltersCapsAndNames(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	q := `node_load1`
	fake.Lock()
	for i, inst := range []string{"a", "b", "c", "d", "e"} {
		v := float64(i)
		fake.Matrix[q] = append(fake.Matrix[q], fakeprom.Series{
			Labels: map[string]string{"__name__": "node_load1", "instance": inst, "job": "node"},
			Value:  func(time.Time) float64 { return v },
		})
	}
	fake.Matrix[q] = append(fake.Matrix[q], fakeprom.Series{
		Labels: map[string]string{"__name__": "node_load1", "instance": "x", "job": "other"},
		Value:  func(time.Time) float64 { return 100 },
	}, fakeprom.Series{ // lacks job: not the alert's series (issue 14 point 4)
		Labels: map[string]string{"__name__": "node_load1", "instance": "y"},
		Value:  func(time.Time) float64 { return 100 },
	})
	fake.Unlock()
	p := newPlanner(t, fake, Config{MaxSeries: 3})
	// severity may be a rule label (optional): series lacking it pass.
	pl := &Plan{Query: q, Start: t0.Add(-10 * time.Minute), End: t0, Step: Duration(time.Second),
		PostFilter: map[string]string{"job": "node", "severity": "page"}, PostFilterOptional: []string{"severity"},
		Legend: "{{instance}} ({{ job }})"}
	res, err := p.Fetch(context.Background(), pl)
	if err != nil {
		t.Fatal(err)
	}
	if res.Returned != 7 || res.FilteredOut != 2 || res.Dropped != 2 || len(res.Series) != 3 {
		t.Fatalf("result = %+v", res)
	}
	if res.Series[0].Name != "e (node)" || res.Series[2].Name != "c (node)" || len(res.Series[0].Points) != 601 {
		t.Errorf("series = %s, %s, %d points", res.Series[0].Name, res.Series[2].Name, len(res.Series[0].Points))
	}

	// A slow Prometheus: the query times out and Fetch says so.
	fake.Lock()
	fake.Delay = 3 * time.Second
	fake.Unlock()
	src, _ := promapi.New(promapi.Config{BaseURL: fake.URL, Timeout: 200 * time.Millisecond})
	slow := NewPlanner(Config{}, src)
	if _, err := slow.Fetch(context.Background(), pl); err == nil || !strings.Contains(err.Error(), "no answer within") {
		t.Errorf("slow fetch error = %v", err)
	}
	if _, err := p.Fetch(context.Background(), &Plan{NoChartReason: "x"}); err != ErrNoChart {
		t.Errorf("no-chart fetch error = %v", err)
	}
}

func TestFetchReferenceSeries(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	fake.Lock()
	fake.Rules = []fakeprom.Rule{{Group: "ksm", Name: "ReplicasMismatch", For: 15 * time.Minute,
		Query: `kube_deployment_spec_replicas != kube_deployment_status_replicas_available`}}
	spec := `kube_deployment_spec_replicas{deployment="api",namespace="prod"}`
	avail := `kube_deployment_status_replicas_available{deployment="api",namespace="prod"}`
	fake.Matrix[spec] = []fakeprom.Series{{Labels: map[string]string{"__name__": "kube_deployment_spec_replicas", "deployment": "api", "namespace": "prod"},
		Value: func(time.Time) float64 { return 3 }}}
	fake.Matrix[avail] = []fakeprom.Series{{Labels: map[string]string{"__name__": "kube_deployment_status_replicas_available", "deployment": "api", "namespace": "prod"},
		Value: func(time.Time) float64 { return 1 }}}
	fake.Unlock()
	p := newPlanner(t, fake, Config{})
	pl := p.Plan(context.Background(), alert(map[string]string{"alertname": "ReplicasMismatch", "deployment": "api", "namespace": "prod"},
		`kube_deployment_spec_replicas != kube_deployment_status_replicas_available`, t0), t0)
	if pl.Query != spec || len(pl.References) != 1 || pl.References[0].Query != avail || pl.References[0].Op != "!=" {
		t.Fatalf("plan = %+v", pl)
	}
	if pl.Window.D() != 30*time.Minute {
		t.Errorf("window = %s", pl.Window)
	}
	res, err := p.Fetch(context.Background(), pl)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Series) != 1 || len(res.References) != 1 || res.References[0].Stats().Last != 1 ||
		!strings.HasPrefix(res.References[0].Name, "!= kube_deployment_status_replicas_available{") {
		t.Errorf("result = %+v", res)
	}
}

func TestConfigFromSettings(t *testing.T) {
	t.Parallel()
	s, err := settings.Parse([]byte(`{"chart":{"language":"en","minWindow":"5m","maxSeries":4,"timezone":"Asia/Shanghai"},
		"prometheus":{"externalLabels":["cluster","replica"],"rulesCacheTtl":"1m"}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := ConfigFrom(s)
	if c.Language != "en" || c.MinWindow != 5*time.Minute || c.MaxWindow != 24*time.Hour || c.WindowMultiplier != 2 ||
		c.MaxSeries != 4 || c.Timezone != "Asia/Shanghai" || c.RulesCacheTTL != time.Minute || len(c.ExternalLabels) != 2 {
		t.Errorf("config = %+v", c)
	}
}

// TestPlanOldAlertSaysWhyTheRangeIsWider: an alert that started two weeks
// ago is charted from just before its start; the plan carries the range
// drawn and a plain reason (issue 18 point 4).
func TestPlanOldAlertSaysWhyTheRangeIsWider(t *testing.T) {
	t.Parallel()
	p := newPlanner(t, nil, Config{Language: "en"})
	a := alert(map[string]string{"alertname": "X", "instance": "a"}, `up == 0`, t0.Add(-14*24*time.Hour))
	pl := p.Plan(context.Background(), a, t0)
	if pl.Window.D() != 10*time.Minute || pl.Step.D() != 30*time.Minute {
		t.Fatalf("window %s step %s", pl.Window, pl.Step)
	}
	if !pl.Start.Before(a.StartsAt) || !pl.End.Equal(t0) {
		t.Errorf("range %s – %s does not reach back to startsAt %s", pl.Start, pl.End, a.StartsAt)
	}
	for _, want := range []string{"widened from the 10m window to 14d 1m", "started 14d before", "one point every 30m"} {
		if !strings.Contains(pl.RangeReason, want) {
			t.Errorf("rangeReason %q lacks %q", pl.RangeReason, want)
		}
	}
	b, _ := json.Marshal(pl)
	if !strings.Contains(string(b), `"rangeReason":"widened`) {
		t.Errorf("JSON lacks rangeReason: %s", b)
	}
	// A fresh alert's range is its window: no reason.
	pl = p.Plan(context.Background(), alert(map[string]string{"alertname": "X", "instance": "a"}, `up == 0`, t0.Add(-time.Minute)), t0)
	if pl.RangeReason != "" {
		t.Errorf("rangeReason = %q for a range that is the window", pl.RangeReason)
	}
}
