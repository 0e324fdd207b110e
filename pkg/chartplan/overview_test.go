package chartplan

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/series"
	fakeprom "github.com/alertchart/alertchart/test/fakes/prometheus"
)

func TestRewriteExprAny(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		expr       string
		ids        map[string][]string
		query      string
		injected   L
		any        map[string][]string
		unnarrowed []string
	}{
		{
			name:     "one varying label, one shared",
			expr:     `node_cpu_usage > 80`,
			ids:      map[string][]string{"instance": {"b:9100", "a:9100", "b:9100"}, "job": {"node", "node"}},
			query:    `node_cpu_usage{instance=~"a:9100|b:9100",job="node"}`,
			injected: L{"job": "node"},
			any:      map[string][]string{"instance": {"a:9100", "b:9100"}},
		},
		{
			name:  "values are escaped",
			expr:  `probe_success == 0`,
			ids:   map[string][]string{"instance": {"https://x.example/a?b=1", "10.0.0.1:9100"}},
			query: `probe_success{instance=~"10\\.0\\.0\\.1:9100|https://x\\.example/a\\?b=1"}`,
			any:   map[string][]string{"instance": {"10.0.0.1:9100", "https://x.example/a?b=1"}},
		},
		{
			name:  "aggregated label is not injected",
			expr:  `avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) < 0.1`,
			ids:   map[string][]string{"instance": {"a", "b"}, "cpu": {"0", "1"}},
			query: `avg by (instance) (rate(node_cpu_seconds_total{instance=~"a|b",mode="idle"}[5m]))`,
			any:   map[string][]string{"instance": {"a", "b"}},
		},
		{
			name:  "both sides of a ratio",
			expr:  `node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < 0.1`,
			ids:   map[string][]string{"instance": {"a", "b"}},
			query: `node_memory_MemAvailable_bytes{instance=~"a|b"} / node_memory_MemTotal_bytes{instance=~"a|b"}`,
			any:   map[string][]string{"instance": {"a", "b"}},
		},
		{
			name:       "label rewritten by label_replace stays open",
			expr:       `label_replace(node_up, "instance", "$1", "host", "(.*)") == 0`,
			ids:        map[string][]string{"instance": {"a", "b"}},
			query:      `label_replace(node_up, "instance", "$1", "host", "(.*)")`,
			unnarrowed: []string{"instance"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rw, err := RewriteExprAny(tc.expr, tc.ids)
			if err != nil {
				t.Fatal(err)
			}
			if rw.Query != tc.query {
				t.Errorf("query\n got %s\nwant %s", rw.Query, tc.query)
			}
			if !reflect.DeepEqual(nilIfEmpty(rw.Injected), nilIfEmpty(tc.injected)) {
				t.Errorf("injected = %v, want %v", rw.Injected, tc.injected)
			}
			if !reflect.DeepEqual(rw.InjectedAny, tc.any) {
				t.Errorf("injectedAny = %v, want %v", rw.InjectedAny, tc.any)
			}
			if !reflect.DeepEqual(rw.Unnarrowed, tc.unnarrowed) {
				t.Errorf("unnarrowed = %v, want %v", rw.Unnarrowed, tc.unnarrowed)
			}
			if rw.PostFilter != nil {
				t.Errorf("post filter %v: a union is never post-filtered", rw.PostFilter)
			}
			if _, err := ParseExpr(rw.Query); err != nil {
				t.Errorf("query does not parse: %v", err)
			}
		})
	}
}

func stormAlert(name, inst, expr string, startsAt time.Time, extra ...string) template.Alert {
	l := map[string]string{"alertname": name, "instance": inst, "job": "node", "severity": "critical"}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			delete(l, extra[i])
			continue
		}
		l[extra[i]] = extra[i+1]
	}
	a := alert(l, expr, startsAt)
	a.Fingerprint = name + "/" + inst
	return a
}

func TestPlanOverview(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	fake.Lock()
	fake.Rules = []fakeprom.Rule{
		{Group: "node", Name: "HighCPU", Query: `node_cpu_usage > 80`, For: 5 * time.Minute, Labels: map[string]string{"severity": "critical"}},
		{Group: "node", Name: "DiskFull", Query: `disk_used > 0.9`, For: time.Minute, Labels: map[string]string{"severity": "critical"}},
		{Group: "node", Name: "NodeDown", Query: `label_replace(node_up, "instance", "$1", "host", "(.*)") == 0`, For: time.Minute,
			Labels: map[string]string{"severity": "critical"}},
	}
	fake.Unlock()
	cpu := func(inst string, ago time.Duration, extra ...string) template.Alert {
		return stormAlert("HighCPU", inst, `node_cpu_usage > 80`, t0.Add(-ago), extra...)
	}
	many := func(n int) []template.Alert {
		var out []template.Alert
		for i := range n {
			// Later alerts started earlier, so the cap keeps the oldest.
			out = append(out, cpu(fmt.Sprintf("n%02d:9100", i), time.Duration(i+1)*time.Minute))
		}
		return out
	}
	var first20 []string
	for i := 5; i < 25; i++ {
		first20 = append(first20, fmt.Sprintf("n%02d:9100", i))
	}

	for _, tc := range []struct {
		name     string
		lang     string
		alerts   []template.Alert
		query    string
		title    string
		injected L
		any      map[string][]string
		ov       Overview
		note     string // substring of Overview.Note; "" means no note
		start    time.Time
	}{
		{
			name:     "largest group of one rule",
			lang:     "en",
			alerts:   []template.Alert{cpu("a:9100", 2*time.Minute), stormAlert("DiskFull", "a:9100", `disk_used > 0.9`, t0), cpu("c:9100", time.Minute), cpu("b:9100", 3*time.Minute)},
			query:    `node_cpu_usage{instance=~"a:9100|b:9100|c:9100",job="node"}`,
			title:    "HighCPU — 3 alerts (last 10m)",
			injected: L{"job": "node"},
			any:      map[string][]string{"instance": {"a:9100", "b:9100", "c:9100"}},
			ov:       Overview{Alerts: 4, Group: 3, Charted: 3, Rules: 2},
			note:     "1 alerts of 1 other rules are not charted",
			start:    t0.Add(-10 * time.Minute),
		},
		{
			name:   "zh title and window reaching back to the earliest startsAt",
			lang:   "zh",
			alerts: []template.Alert{cpu("a:9100", time.Minute), cpu("b:9100", 30*time.Minute)},
			query:  `node_cpu_usage{instance=~"a:9100|b:9100",job="node"}`,
			title:  "HighCPU — 2 条告警 (最近31分钟)",
			// job is shared, so it is an equality matcher.
			injected: L{"job": "node"},
			any:      map[string][]string{"instance": {"a:9100", "b:9100"}},
			ov:       Overview{Alerts: 2, Group: 2, Charted: 2, Rules: 1},
			start:    t0.Add(-30*time.Minute - time.Minute),
		},
		{
			name:   "a label one alert lacks is not injected",
			lang:   "en",
			alerts: []template.Alert{cpu("a:9100", time.Minute), cpu("b:9100", time.Minute, "job", "")},
			query:  `node_cpu_usage{instance=~"a:9100|b:9100"}`,
			title:  "HighCPU — 2 alerts (last 10m)",
			any:    map[string][]string{"instance": {"a:9100", "b:9100"}},
			ov:     Overview{Alerts: 2, Group: 2, Charted: 2, Rules: 1},
			start:  t0.Add(-10 * time.Minute),
		},
		{
			name:     "capped at MaxOverviewValues, oldest first",
			lang:     "en",
			alerts:   many(25),
			query:    `node_cpu_usage{instance=~"` + strings.Join(first20, "|") + `",job="node"}`,
			title:    "HighCPU — 25 alerts (last 26m)",
			injected: L{"job": "node"},
			any:      map[string][]string{"instance": first20},
			ov:       Overview{Alerts: 25, Group: 25, Charted: 20, Rules: 1},
			note:     "limited to the series of the first 20 of 25 alerts",
			start:    t0.Add(-25*time.Minute - time.Minute),
		},
		{
			name: "not narrowable: unrestricted with the top series",
			lang: "en",
			alerts: []template.Alert{
				stormAlert("NodeDown", "a", `label_replace(node_up, "instance", "$1", "host", "(.*)") == 0`, t0, "job", ""),
				stormAlert("NodeDown", "b", `label_replace(node_up, "instance", "$1", "host", "(.*)") == 0`, t0, "job", ""),
			},
			query: `label_replace(node_up, "instance", "$1", "host", "(.*)")`,
			title: "NodeDown — 2 alerts (last 10m)",
			ov:    Overview{Alerts: 2, Group: 2, Charted: 2, Rules: 1},
			note:  "cannot be narrowed to the digested alerts; showing the top 10 series",
			start: t0.Add(-10 * time.Minute),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPlanner(t, fake, Config{Language: tc.lang, MaxSeries: 10})
			pl := p.PlanOverview(context.Background(), tc.alerts, t0)
			if pl.Query != tc.query {
				t.Errorf("query\n got %s\nwant %s", pl.Query, tc.query)
			}
			if pl.Title != tc.title {
				t.Errorf("title = %q, want %q", pl.Title, tc.title)
			}
			if !reflect.DeepEqual(nilIfEmpty(pl.InjectedLabels), nilIfEmpty(tc.injected)) || !reflect.DeepEqual(pl.InjectedAny, tc.any) {
				t.Errorf("injected = %v / %v, want %v / %v", pl.InjectedLabels, pl.InjectedAny, tc.injected, tc.any)
			}
			if pl.Overview == nil {
				t.Fatal("no overview")
			}
			note := pl.Overview.Note
			got := *pl.Overview
			got.Note = ""
			if got != tc.ov {
				t.Errorf("overview = %+v, want %+v", got, tc.ov)
			}
			if (tc.note == "") != (note == "") || !strings.Contains(note, tc.note) {
				t.Errorf("note = %q, want it to say %q", note, tc.note)
			}
			if pl.Source != SourceRulesAPI || pl.PostFilter != nil || !pl.HasChart() {
				t.Errorf("source %s, post filter %v, no chart %q", pl.Source, pl.PostFilter, pl.NoChartReason)
			}
			if !pl.Start.Equal(tc.start) || !pl.End.Equal(t0) {
				t.Errorf("range %s – %s, want from %s", pl.Start, pl.End, tc.start)
			}
			if pl.Alert.Fingerprint != "" || pl.Alert.Labels["instance"] != "" || pl.Alert.Labels["alertname"] == "" {
				t.Errorf("alert ref %+v: must describe the group, not one alert", pl.Alert)
			}
		})
	}
}

func TestPlanOverviewThresholdsAndUnknownRule(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t) // no rules: the generatorURL's expression is charted
	p := newPlanner(t, fake, Config{Language: "en"})
	expr := `sum by (instance) (rate(http_errors_total{job="api"}[5m])) > 5`
	alerts := []template.Alert{
		stormAlert("Errors", "a", expr, t0.Add(-time.Minute), "team", "x"),
		stormAlert("Errors", "b", expr, t0.Add(-time.Minute), "team", "x"),
	}
	pl := p.PlanOverview(context.Background(), alerts, t0)
	// Without the rule only labels the expression names are injected;
	// job/team/severity might be rule labels.
	want := `sum by (instance) (rate(http_errors_total{instance=~"a|b",job="api"}[5m]))`
	if pl.Query != want || pl.Source != SourceGeneratorURL {
		t.Fatalf("query %s (%s), want %s", pl.Query, pl.Source, want)
	}
	if !reflect.DeepEqual(pl.Thresholds, []series.Threshold{{Op: ">", Value: 5}}) {
		t.Errorf("thresholds = %v", pl.Thresholds)
	}
	if p.PlanOverview(context.Background(), nil, t0) != nil {
		t.Error("a plan for no alerts")
	}
}
