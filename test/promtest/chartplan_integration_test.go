package promtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/chartplan"
	"github.com/alertchart/alertchart/pkg/promapi"
	"github.com/alertchart/alertchart/pkg/series"
	"github.com/alertchart/alertchart/test/promtest"
)

const rules = `
groups:
  - name: synthetic
    interval: 1s
    rules:
      - alert: HighLoad
        expr: synthetic_load > 50
        for: 5s
        labels: {severity: warning}
      - alert: HighLoad
        expr: synthetic_load > 90
        for: 1m
        labels: {severity: critical}
      - alert: HighErrorRatio
        expr: sum by (instance) (rate(synthetic_requests_total{code="500"}[5s])) / sum by (instance) (rate(synthetic_requests_total[5s])) > 0.1
        for: 5s
        labels: {severity: page, team: sre}
      - alert: EdgeDown
        expr: up{job="edge"} == 0
        for: 5s
      - alert: SyntheticMissing
        expr: absent(synthetic_missing{job="synthetic"})
        for: 5s
`

// receivedAlert is Prometheus' POST /api/v2/alerts body element.
type receivedAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// alertSink records the alerts Prometheus sends to its "Alertmanager".
type alertSink struct {
	mu     sync.Mutex
	alerts map[string]receivedAlert // by the whole label set
}

func (s *alertSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v2/alerts" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	var in []receivedAlert
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	for _, a := range in {
		// By every label: two alerts of one rule may share alertname,
		// severity and instance and differ in another label (AppLoadHigh's
		// series with and without app), and the order Prometheus sends
		// them in varies.
		s.alerts[labelSet(a.Labels)] = a
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func key(l map[string]string) string {
	return l["alertname"] + "/" + l["severity"] + "/" + l["instance"]
}

// labelSet is the whole label set as one string.
func labelSet(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, l[k])
	}
	return b.String()
}

// get returns an alert whose alertname/severity/instance is k.
func (s *alertSink) get(k string) (receivedAlert, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.alerts {
		if key(a.Labels) == k {
			return a, true
		}
	}
	return receivedAlert{}, false
}

// TestChartPlanAgainstRealPrometheus: two instances of one job, one of them
// abnormal; every plan's query returns exactly the abnormal series and each
// window follows its rule's `for`.
func TestChartPlanAgainstRealPrometheus(t *testing.T) {
	start := time.Now()
	exposition := func(load float64, errPerSec float64) func() string {
		return func() string {
			el := time.Since(start).Seconds()
			return fmt.Sprintf("# TYPE synthetic_load gauge\nsynthetic_load %g\n"+
				"# TYPE synthetic_requests_total counter\n"+
				"synthetic_requests_total{code=\"200\"} %g\nsynthetic_requests_total{code=\"500\"} %g\n",
				load, 10*el, errPerSec*el)
		}
	}
	good := promtest.MetricsTarget(t, exposition(10, 0))
	bad := promtest.MetricsTarget(t, exposition(95, 5))
	edgeOK := promtest.MetricsTarget(t, exposition(1, 0))
	edgeDown := fmt.Sprintf("127.0.0.1:%d", promtest.FreePort(t)) // nothing listens

	sink := &alertSink{alerts: map[string]receivedAlert{}}
	am := httptest.NewServer(sink)
	defer am.Close()

	prom := promtest.Start(t, promtest.Options{
		Jobs: map[string][]promtest.Target{
			"synthetic": {
				{Addr: good, Labels: map[string]string{"instance": "good"}},
				{Addr: bad, Labels: map[string]string{"instance": "bad"}},
			},
			"edge": {
				{Addr: edgeOK, Labels: map[string]string{"instance": "edge-ok"}},
				{Addr: edgeDown, Labels: map[string]string{"instance": "edge-down"}},
			},
		},
		Rules:          rules,
		ExternalLabels: map[string]string{"cluster": "itest"},
		Alertmanager:   strings.TrimPrefix(am.URL, "http://"),
	})

	want := []string{"HighLoad/warning/bad", "HighErrorRatio/page/bad", "EdgeDown//edge-down", "SyntheticMissing//"}
	promtest.WaitFor(t, 60*time.Second, "Prometheus to send the firing alerts", func() bool {
		for _, k := range want {
			if _, ok := sink.get(k); !ok {
				return false
			}
		}
		return true
	})

	src, err := promapi.New(promapi.Config{BaseURL: prom.URL, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	planner := chartplan.NewPlanner(chartplan.Config{
		WindowMultiplier: 2, MinWindow: 5 * time.Second, MaxWindow: 24 * time.Hour,
		Language: "en", MaxSeries: 10, ExternalLabels: []string{"cluster"}, RulesCacheTTL: 30 * time.Second,
	}, src)
	ctx := context.Background()

	// Without narrowing, the data has both instances: the rewrite matters.
	all, err := src.QueryRange(ctx, `synthetic_load{job="synthetic"}`, time.Now().Add(-10*time.Second), time.Now(), time.Second)
	if err != nil || len(all.Series) != 2 {
		t.Fatalf("synthetic_load has %d series (%v), want 2", len(all.Series), err)
	}

	type expectation struct {
		key        string
		source     string
		query      string
		window     time.Duration
		thresholds []series.Threshold
		instance   string // "" = no series expected
		value      float64
	}
	for _, ex := range []expectation{
		{"HighLoad/warning/bad", chartplan.SourceRulesAPI, `synthetic_load{instance="bad",job="synthetic"}`, 10 * time.Second,
			[]series.Threshold{{Op: ">", Value: 50}}, "bad", 95},
		{"HighErrorRatio/page/bad", chartplan.SourceRulesAPI,
			`sum by (instance) (rate(synthetic_requests_total{code="500",instance="bad"}[5s])) / sum by (instance) (rate(synthetic_requests_total{instance="bad"}[5s]))`,
			10 * time.Second, []series.Threshold{{Op: ">", Value: 0.1}}, "bad", 5.0 / 15},
		{"EdgeDown//edge-down", chartplan.SourceRulesAPI, `up{instance="edge-down",job="edge"}`, 10 * time.Second,
			[]series.Threshold{{Op: "==", Value: 0}}, "edge-down", 0},
		{"SyntheticMissing//", chartplan.SourceRulesAPI, `synthetic_missing{job="synthetic"}`, 10 * time.Second, nil, "", 0},
	} {
		t.Run(ex.key, func(t *testing.T) {
			ra, _ := sink.get(ex.key)
			if ra.Labels["cluster"] != "itest" {
				t.Errorf("alert lacks the external label: %v", ra.Labels)
			}
			a := template.Alert{Status: "firing", Labels: ra.Labels, Annotations: ra.Annotations,
				StartsAt: ra.StartsAt, EndsAt: ra.EndsAt, GeneratorURL: ra.GeneratorURL}
			now := time.Now()
			pl := planner.Plan(ctx, a, now)
			b, _ := json.MarshalIndent(pl, "", "  ")
			if pl.Source != ex.source || pl.Query != ex.query || pl.Window.D() != ex.window {
				t.Fatalf("plan:\n%s", b)
			}
			if len(pl.Thresholds) != len(ex.thresholds) || (len(ex.thresholds) > 0 && pl.Thresholds[0] != ex.thresholds[0]) {
				t.Errorf("thresholds = %v, want %v", pl.Thresholds, ex.thresholds)
			}
			if !pl.Start.Before(ra.StartsAt) || pl.End.Before(ra.StartsAt) {
				t.Errorf("window %s – %s does not contain startsAt %s", pl.Start, pl.End, ra.StartsAt)
			}
			res, err := planner.Fetch(ctx, pl)
			if err != nil {
				t.Fatalf("fetch: %v\nplan:\n%s", err, b)
			}
			if ex.instance == "" {
				if len(res.Series) != 0 || pl.NoDataNote == "" {
					t.Errorf("absent rule: %d series, note %q", len(res.Series), pl.NoDataNote)
				}
				return
			}
			if len(res.Series) != 1 || res.Series[0].Labels["instance"] != ex.instance || res.FilteredOut != 0 {
				t.Fatalf("fetched %+v, want exactly the %s series", res, ex.instance)
			}
			last := res.Series[0].Stats().Last
			if math.Abs(last-ex.value) > 0.05*math.Max(1, ex.value) {
				t.Errorf("last value %g, want ≈ %g", last, ex.value)
			}
		})
	}

	// The critical HighLoad (for: 1m) is still pending: build the alert
	// Prometheus will send from the rules API and check that it resolves to
	// its own rule, threshold and window (for 1m × 2).
	groups, err := src.Rules(ctx, "HighLoad")
	if err != nil {
		t.Fatal(err)
	}
	var pending *promapi.ActiveAlert
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Labels["severity"] == "critical" {
				for i := range r.Alerts {
					pending = &r.Alerts[i]
				}
			}
		}
	}
	if pending == nil || pending.State != "pending" || pending.Labels["instance"] != "bad" {
		t.Fatalf("critical HighLoad alert = %+v, want pending on instance bad", pending)
	}
	labels := map[string]string{"cluster": "itest"}
	for k, v := range pending.Labels {
		labels[k] = v
	}
	a := template.Alert{Status: "firing", Labels: labels, StartsAt: *pending.ActiveAt,
		GeneratorURL: prom.URL + "/graph?g0.expr=" + url.QueryEscape("synthetic_load > 90") + "&g0.tab=1"}
	pl := planner.Plan(ctx, a, time.Now())
	if pl.Source != chartplan.SourceRulesAPI || pl.Rule.For.D() != time.Minute || pl.Window.D() != 2*time.Minute ||
		len(pl.Thresholds) != 1 || pl.Thresholds[0].Value != 90 || pl.Title != "HighLoad (last 2m)" {
		b, _ := json.MarshalIndent(pl, "", "  ")
		t.Fatalf("critical plan:\n%s", b)
	}
	res, err := planner.Fetch(ctx, pl)
	if err != nil || len(res.Series) != 1 || res.Series[0].Labels["instance"] != "bad" {
		t.Fatalf("critical fetch: %+v %v", res, err)
	}
	// Prometheus 2.42 ignores rule_name[]; one request per alert name, cached.
	if n := planner.RulesRequests(); n != 4 {
		t.Errorf("rules API requests = %d, want one per alert name (4)", n)
	}
}
