package promtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/chartplan"
	"github.com/alertchart/alertchart/pkg/promapi"
	"github.com/alertchart/alertchart/pkg/series"
	"github.com/alertchart/alertchart/test/promtest"
)

// classRules are one rule per class of issue 14, in the shapes real rule
// sets use, over targets where a healthy and an abnormal instance coexist.
const classRules = `
groups:
  - name: slo-recordings
    interval: 1s
    rules:
      - record: slo:sli_error:ratio_rate5s
        expr: sum by (service) (rate(synthetic_requests_total{code="500"}[5s])) / sum by (service) (rate(synthetic_requests_total[5s]))
        labels: {sloth_window: 5s}
      - record: slo:sli_error:ratio_rate10s
        expr: sum by (service) (rate(synthetic_requests_total{code="500"}[10s])) / sum by (service) (rate(synthetic_requests_total[10s]))
        labels: {sloth_window: 10s}
      - record: slo:sli_error:ratio_rate15s
        expr: sum by (service) (rate(synthetic_requests_total{code="500"}[15s])) / sum by (service) (rate(synthetic_requests_total[15s]))
        labels: {sloth_window: 15s}
      - record: slo:sli_error:ratio_rate20s
        expr: sum by (service) (rate(synthetic_requests_total{code="500"}[20s])) / sum by (service) (rate(synthetic_requests_total[20s]))
        labels: {sloth_window: 20s}
  - name: classes
    interval: 1s
    rules:
      # 1. Comparisons inside aggregations: Sloth's multi-window tiers and a
      #    monotone max by.
      - alert: ServiceHighErrorRate
        expr: |
          (
              max(slo:sli_error:ratio_rate5s > (14.4 * 0.01)) without (sloth_window)
              and
              max(slo:sli_error:ratio_rate10s > (14.4 * 0.01)) without (sloth_window)
          )
          or
          (
              max(slo:sli_error:ratio_rate15s > (6 * 0.01)) without (sloth_window)
              and
              max(slo:sli_error:ratio_rate20s > (6 * 0.01)) without (sloth_window)
          )
        for: 2s
        labels: {severity: page, sloth_severity: page}
      - alert: LoadHighMax
        expr: max by (instance) (synthetic_load > 50)
        for: 2s
      # 2. Moving thresholds.
      - alert: LoadAboveAverage
        expr: synthetic_load > scalar(avg(synthetic_load)) * 1.5
        for: 2s
      - alert: LoadAboveP90
        expr: synthetic_load > on() group_left quantile(0.9, synthetic_load)
        for: 2s
      # 3. A constant fallback.
      - alert: ErrorsWithFallback
        expr: (sum by (instance) (rate(synthetic_requests_total{code="500"}[5s])) or vector(0)) > 1
        for: 2s
      # 4. Strict identity: a series without app is not the app's series.
      - alert: AppLoadHigh
        expr: topk(5, synthetic_app_load) > 50
        for: 2s
      # 5. Never fires: its alert is not in the rules API, so only the data
      #    can tell that a label was added by the evaluator.
      - alert: LoadExtreme
        expr: synthetic_load > 1000
        for: 2s
`

// TestChartPlanClassesAgainstRealPrometheus: for each class of issue 14 an
// alert where healthy and abnormal series coexist is charted with exactly
// the abnormal series, over the whole window (a range query), with the
// right threshold or reference line.
func TestChartPlanClassesAgainstRealPrometheus(t *testing.T) {
	start := time.Now()
	target := func(service string, load, errPerSec float64) func() string {
		return func() string {
			el := time.Since(start).Seconds()
			return fmt.Sprintf("# TYPE synthetic_load gauge\nsynthetic_load %g\n"+
				"# TYPE synthetic_app_load gauge\nsynthetic_app_load{app=\"api\"} %g\nsynthetic_app_load %g\n"+
				"# TYPE synthetic_requests_total counter\n"+
				"synthetic_requests_total{code=\"200\",service=%q} %g\nsynthetic_requests_total{code=\"500\",service=%q} %g\n",
				load, load, load, service, 10*el, service, errPerSec*el)
		}
	}
	good := promtest.MetricsTarget(t, target("checkout", 10, 0))
	bad := promtest.MetricsTarget(t, target("payments", 95, 5))
	sink := &alertSink{alerts: map[string]receivedAlert{}}
	am := httptest.NewServer(sink)
	defer am.Close()
	prom := promtest.Start(t, promtest.Options{
		Jobs: map[string][]promtest.Target{"synthetic": {
			{Addr: good, Labels: map[string]string{"instance": "good"}},
			{Addr: bad, Labels: map[string]string{"instance": "bad"}},
		}},
		Rules:          classRules,
		ExternalLabels: map[string]string{"cluster": "itest"},
		Alertmanager:   strings.TrimPrefix(am.URL, "http://"),
	})
	byName := func(name string, match func(map[string]string) bool) (receivedAlert, bool) {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		for _, a := range sink.alerts {
			if a.Labels["alertname"] == name && match(a.Labels) {
				return a, true
			}
		}
		return receivedAlert{}, false
	}
	appAlert := func(l map[string]string) bool { return l["app"] == "api" && l["instance"] == "bad" }
	any := func(map[string]string) bool { return true }
	promtest.WaitFor(t, 3*time.Minute, "Prometheus to fire every class's alert", func() bool {
		for _, n := range []string{"ServiceHighErrorRate", "LoadHighMax", "LoadAboveAverage", "LoadAboveP90", "ErrorsWithFallback"} {
			if _, ok := byName(n, any); !ok {
				return false
			}
		}
		_, ok := byName("AppLoadHigh", appAlert)
		return ok
	})
	// Let the data cover the widest window (20s rules × 2) before charting.
	for time.Since(start) < 45*time.Second {
		time.Sleep(250 * time.Millisecond)
	}

	src, err := promapi.New(promapi.Config{BaseURL: prom.URL, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// cluster is NOT configured as an external label: the planner must
	// tell from the rules API that Prometheus added it.
	planner := chartplan.NewPlanner(chartplan.Config{
		WindowMultiplier: 2, MinWindow: 20 * time.Second, MaxWindow: time.Hour,
		Language: "en", MaxSeries: 10, RulesCacheTTL: 30 * time.Second,
	}, src)
	ctx := context.Background()

	// Without narrowing both instances have data: the rewrite matters.
	all, err := src.QueryRange(ctx, `synthetic_load`, time.Now().Add(-10*time.Second), time.Now(), time.Second)
	if err != nil || len(all.Series) != 2 {
		t.Fatalf("synthetic_load has %d series (%v), want 2", len(all.Series), err)
	}

	type check struct {
		name       string
		alert      func() (template.Alert, bool)
		query      string
		names      []string // the charted series' names, in order of Parts or by value
		label      string   // every charted series carries label=value
		value      string
		thresholds []series.Threshold
		refOp      string  // a reference line is fetched with this op…
		refValue   float64 // …and about this value
	}
	fromSink := func(name string, match func(map[string]string) bool) func() (template.Alert, bool) {
		return func() (template.Alert, bool) {
			ra, ok := byName(name, match)
			return template.Alert{Status: "firing", Labels: ra.Labels, Annotations: ra.Annotations,
				StartsAt: ra.StartsAt, GeneratorURL: ra.GeneratorURL}, ok
		}
	}
	isBad := func(l map[string]string) bool { return l["instance"] == "bad" || l["service"] == "payments" }
	for _, c := range []check{
		{name: "tiers", alert: fromSink("ServiceHighErrorRate", isBad),
			query: `max without (sloth_window) (slo:sli_error:ratio_rate5s{service="payments"}) or max without (sloth_window) (slo:sli_error:ratio_rate10s{service="payments"}) or max without (sloth_window) (slo:sli_error:ratio_rate15s{service="payments"}) or max without (sloth_window) (slo:sli_error:ratio_rate20s{service="payments"})`,
			names: []string{"5s", "10s", "15s", "20s"}, label: "service", value: "payments",
			thresholds: []series.Threshold{{Op: ">", Value: 0.144, Series: "5s, 10s"}, {Op: ">", Value: 0.06, Series: "15s, 20s"}}},
		{name: "monotone max", alert: fromSink("LoadHighMax", isBad),
			query: `max by (instance) (synthetic_load{instance="bad"})`, names: []string{"bad"}, label: "instance", value: "bad",
			thresholds: []series.Threshold{{Op: ">", Value: 50}}},
		{name: "scalar threshold", alert: fromSink("LoadAboveAverage", isBad),
			query: `synthetic_load{instance="bad",job="synthetic"}`, names: []string{"instance=bad, job=synthetic"}, label: "instance", value: "bad",
			refOp: ">", refValue: (10 + 95) / 2.0 * 1.5},
		{name: "on() group_left quantile", alert: fromSink("LoadAboveP90", isBad),
			query: `synthetic_load{instance="bad",job="synthetic"}`, names: []string{"instance=bad, job=synthetic"}, label: "instance", value: "bad",
			refOp: ">", refValue: 10 + 0.9*85},
		{name: "constant fallback", alert: fromSink("ErrorsWithFallback", isBad),
			query: `sum by (instance) (rate(synthetic_requests_total{code="500",instance="bad"}[5s]))`, names: []string{"bad"}, label: "instance", value: "bad",
			thresholds: []series.Threshold{{Op: ">", Value: 1}}},
		{name: "strict post-filter", alert: fromSink("AppLoadHigh", appAlert),
			query: `topk(5, synthetic_app_load)`, names: []string{"app=api, instance=bad, job=synthetic"}, label: "app", value: "api",
			thresholds: []series.Threshold{{Op: ">", Value: 50}}},
		{name: "evaluator label only the data disproves", alert: func() (template.Alert, bool) {
			// As a Thanos ruler replica would send it: a replica label no
			// series carries, for a rule with no active alert to compare with.
			return template.Alert{Status: "firing", StartsAt: time.Now().Add(-5 * time.Second),
				Labels:       map[string]string{"alertname": "LoadExtreme", "instance": "bad", "job": "synthetic", "replica": "B", "cluster": "itest"},
				GeneratorURL: prom.URL + "/graph?g0.expr=" + url.QueryEscape("synthetic_load > 1000") + "&g0.tab=1"}, true
		},
			query: `synthetic_load{cluster="itest",instance="bad",job="synthetic"}`, names: []string{"instance=bad, job=synthetic"}, label: "instance", value: "bad",
			thresholds: []series.Threshold{{Op: ">", Value: 1000}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, ok := c.alert()
			if !ok {
				t.Fatal("no alert")
			}
			pl := planner.Plan(ctx, a, time.Now())
			res, err := planner.Fetch(ctx, pl)
			b, _ := json.MarshalIndent(pl, "", "  ")
			if err != nil {
				t.Fatalf("fetch: %v\nplan:\n%s", err, b)
			}
			if c.name == "evaluator label only the data disproves" {
				// The data check removed both labels nobody scrapes.
				if !strings.Contains(strings.Join(pl.Fallbacks, "\n"), "no series carries") {
					t.Errorf("the plan does not say a matcher was dropped:\n%s", b)
				}
				c.query = `synthetic_load{instance="bad",job="synthetic"}`
			}
			if pl.Source != chartplan.SourceRulesAPI || pl.Query != c.query {
				t.Fatalf("query %s, want %s\nplan:\n%s", pl.Query, c.query, b)
			}
			for _, l := range []string{"cluster", "replica"} {
				if _, ok := pl.InjectedLabels[l]; ok {
					t.Errorf("%s injected:\n%s", l, b)
				}
			}
			if len(res.Series) != len(c.names) {
				t.Fatalf("%d series, want %d (%q)\nplan:\n%s", len(res.Series), len(c.names), c.names, b)
			}
			window := pl.End.Sub(pl.Start)
			for i, s := range res.Series {
				if s.Labels[c.label] != c.value || s.Name != c.names[i] {
					t.Errorf("series %d: %s %v, want %s with %s=%s", i, s.Name, s.Labels, c.names[i], c.label, c.value)
				}
				// A range query over the whole window, not one instant.
				if n := len(s.Points); n < 2 || time.Duration(s.Points[n-1].T-s.Points[0].T)*time.Millisecond < window*3/4 {
					t.Errorf("series %s covers %d points, not the %s window", s.Name, n, window)
				}
			}
			if len(pl.Thresholds) != len(c.thresholds) {
				t.Fatalf("thresholds %v, want %v", pl.Thresholds, c.thresholds)
			}
			for i, th := range pl.Thresholds {
				w := c.thresholds[i]
				if th.Op != w.Op || th.Series != w.Series || math.Abs(th.Value-w.Value) > 1e-9 {
					t.Errorf("threshold %d = %+v, want %+v", i, th, w)
				}
			}
			if c.refOp != "" {
				if len(res.References) != 1 || !strings.HasPrefix(res.References[0].Name, c.refOp+" ") ||
					math.Abs(res.References[0].Stats().Last-c.refValue) > 1 {
					t.Errorf("references = %+v, want one %s ≈ %g", res.References, c.refOp, c.refValue)
				}
			}
		})
	}
}
