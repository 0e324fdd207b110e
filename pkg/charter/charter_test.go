package charter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/chartplan"
	"github.com/alertchart/alertchart/pkg/nochart"
	"github.com/alertchart/alertchart/pkg/promapi"
	"github.com/alertchart/alertchart/pkg/settings"
	fakeprom "github.com/alertchart/alertchart/test/fakes/prometheus"
)

const cpuQuery = `cpu_percent{instance="node-2:9100",job="node"}`

// newCharter builds a Charter from settings JSON (%s is the Prometheus URL)
// over prom, without Grafana.
func newCharter(t *testing.T, promURL, js string, secrets map[string]string) *Charter {
	t.Helper()
	s, err := settings.Parse([]byte(fmt.Sprintf(js, promURL)), secrets)
	if err != nil {
		t.Fatal(err)
	}
	var src *promapi.Client
	if pcfg, err := promapi.FromSettings(s, "", ""); err == nil {
		if src, err = promapi.New(pcfg); err != nil {
			t.Fatal(err)
		}
	}
	c := New(Config{Settings: s, Planner: chartplan.NewPlanner(chartplan.ConfigFrom(s), src)})
	t.Cleanup(c.Close)
	return c
}

// cpuProm is a fake Prometheus with the HighCPU rule and node-2's series.
func cpuProm(t *testing.T) *fakeprom.Server {
	prom := fakeprom.New(t)
	prom.Lock()
	prom.Rules = []fakeprom.Rule{{Group: "node", Name: "HighCPU", Query: `cpu_percent > 80`, For: 5 * time.Minute,
		Labels: map[string]string{"severity": "critical"}}}
	prom.Matrix[cpuQuery] = []fakeprom.Series{{Labels: map[string]string{"__name__": "cpu_percent", "instance": "node-2:9100", "job": "node"},
		Value: func(time.Time) float64 { return 91 }}}
	prom.Unlock()
	return prom
}

func cpuAlert() template.Alert {
	return template.Alert{Status: "firing", Fingerprint: "f-node-2",
		Labels:       template.KV{"alertname": "HighCPU", "instance": "node-2:9100", "job": "node", "severity": "critical"},
		StartsAt:     time.Now().Add(-3 * time.Minute),
		GeneratorURL: "http://prom/graph?g0.expr=cpu_percent+%3E+80&g0.tab=1"}
}

const zhSettings = `{"prometheus":{"url":%q},"chart":{"language":"zh"}}`

// An alert is charted in each language its channels use: its own title and
// the image's words in that language, from one plan and one query, each
// language drawn once however many channels ask at once.
func TestChartPerLanguage(t *testing.T) {
	t.Parallel()
	prom := cpuProm(t)
	c := newCharter(t, prom.URL, zhSettings, nil)
	a := cpuAlert()

	const callers = 6
	type answer struct {
		lang  string
		title string
		img   []byte
		plan  string
		err   error
	}
	answers := make(chan answer, 2*callers)
	var wg sync.WaitGroup
	for i := range 2 * callers {
		lang := []string{"zh", "en"}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, info, err := c.ChartIn(context.Background(), "ops", lang, a)
			ans := answer{lang: lang, err: err, plan: string(info.Plan)}
			if ch != nil {
				ans.title, ans.img = ch.Title, ch.Image
			}
			answers <- ans
		}()
	}
	wg.Wait()
	close(answers)
	first := map[string]answer{}
	for ans := range answers {
		if ans.err != nil {
			t.Fatalf("%s: %v", ans.lang, ans.err)
		}
		f, ok := first[ans.lang]
		if !ok {
			first[ans.lang] = ans
			continue
		}
		// One drawing per language: every caller gets the same image.
		if &f.img[0] != &ans.img[0] {
			t.Errorf("%s drawn more than once", ans.lang)
		}
	}
	zh, en := first["zh"], first["en"]
	if zh.title != "HighCPU (最近10分钟)" || en.title != "HighCPU (last 10m)" {
		t.Errorf("titles %q / %q", zh.title, en.title)
	}
	if bytes.Equal(zh.img, en.img) {
		t.Error("the zh and en images are the same: the image's words did not follow the language")
	}
	if !strings.Contains(zh.plan, `"language":"zh"`) || !strings.Contains(en.plan, `"title":"HighCPU (last 10m)"`) {
		t.Errorf("recorded plans: %s / %s", zh.plan, en.plan)
	}
	// One plan and one query for both languages.
	if n := prom.RangeRequests(); n != 1 {
		t.Errorf("%d range queries for one alert in two languages", n)
	}
	if n := prom.RulesRequests(); n != 1 {
		t.Errorf("%d rules requests", n)
	}

	// Chart is chart.language's, and the cached one.
	ch, _, err := c.Chart(context.Background(), "ops", a)
	if err != nil || ch.Title != zh.title || &ch.Image[0] != &zh.img[0] {
		t.Errorf("Chart: %v %q", err, ch.Title)
	}
	// Callers get their own copy of the chart.
	ch.Title = "changed"
	if again, _, _ := c.ChartIn(context.Background(), "ops", "zh", a); again.Title != zh.title {
		t.Error("a caller's change reached the cache")
	}

	// The same alert resolved is a new chart.
	r := a
	r.Status, r.EndsAt = "resolved", time.Now()
	if _, _, err := c.ChartIn(context.Background(), "ops", "en", r); err != nil || prom.RangeRequests() != 2 {
		t.Errorf("resolved: %v, %d range queries", err, prom.RangeRequests())
	}
}

// The cache forgets after cacheTTL and holds at most cacheAlerts alerts.
func TestChartCacheIsBounded(t *testing.T) {
	t.Parallel()
	prom := cpuProm(t)
	c := newCharter(t, prom.URL, zhSettings, nil)
	now := time.Now()
	c.now = func() time.Time { return now }
	a := cpuAlert()
	if _, _, err := c.ChartIn(context.Background(), "ops", "en", a); err != nil {
		t.Fatal(err)
	}
	_, _, _ = c.ChartIn(context.Background(), "ops", "en", a)
	if prom.RangeRequests() != 1 {
		t.Fatalf("%d range queries", prom.RangeRequests())
	}
	now = now.Add(cacheTTL + time.Second)
	_, _, _ = c.ChartIn(context.Background(), "ops", "en", a)
	if prom.RangeRequests() != 2 {
		t.Errorf("after the TTL: %d range queries, want a new one", prom.RangeRequests())
	}
	// Bounded in alerts (charts without a data source are quick to fail,
	// and failures are kept like charts).
	c = newCharter(t, "", `{}`, nil)
	for i := range 2 * cacheAlerts {
		b := a
		b.Fingerprint = fmt.Sprint("f", i)
		if _, _, err := c.ChartIn(context.Background(), "ops", "en", b); nochart.ReasonOf(err) != nochart.NoDataSource {
			t.Fatal(err)
		}
		if n := c.cache.len(); n > cacheAlerts || n != min(i+1, cacheAlerts) {
			t.Fatalf("%d alerts cached after %d, at most %d", n, i+1, cacheAlerts)
		}
	}
}

// A caller that gives up does not leave its failure to the others.
func TestChartCallerGivingUpIsNotTheAnswer(t *testing.T) {
	t.Parallel()
	prom := cpuProm(t)
	prom.Lock()
	prom.Delay = 300 * time.Millisecond
	prom.Unlock()
	c := newCharter(t, prom.URL, zhSettings, nil)
	a := cpuAlert()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := c.ChartIn(ctx, "ops", "en", a); err == nil {
		t.Fatal("a chart within 50ms of a 300ms Prometheus")
	}
	ch, _, err := c.ChartIn(context.Background(), "ops", "en", a)
	if err != nil || ch == nil || len(ch.Series) != 1 {
		t.Fatalf("after a caller gave up: %v", err)
	}
}

// Why there is no chart: a kind a chat's note is worded from, in the
// channel's language and without URLs or queries, and the full reason
// (secrets removed) for the record.
func TestNoChartReasons(t *testing.T) {
	t.Parallel()
	const secret = "prom-secret-token-value"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A proxy that echoes the credentials in its error.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"token %s is not valid for tenant 7"}`,
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	defer echo.Close()
	slow := fakeprom.New(t)
	slow.Lock()
	slow.Delay = 2 * time.Second
	slow.Unlock()

	disabled := cpuAlert()
	disabled.Annotations = template.KV{"chart_disable": "true"}
	for _, tc := range []struct {
		name    string
		url     string
		alert   template.Alert
		want    nochart.Reason
		zhNote  string // "" for a quiet reason
		enNote  string
		details []string
	}{
		{name: "no data source", alert: cpuAlert(), want: nochart.NoDataSource,
			details: []string{"no Prometheus data source is configured"}},
		{name: "chart_disable", url: cpuProm(t).URL, alert: disabled, want: nochart.Disabled,
			details: []string{"chart_disable"}},
		{name: "query refused", url: echo.URL, alert: cpuAlert(), want: nochart.QueryFailed,
			zhNote: "图表不可用：Prometheus 查询失败", enNote: "chart unavailable: the Prometheus query failed",
			details: []string{"chart query failed", "HTTP 400", "is not valid for tenant 7"}},
		{name: "query timeout", url: slow.URL, alert: cpuAlert(), want: nochart.QueryTimeout,
			zhNote: "图表不可用：Prometheus 查询超时", enNote: "chart unavailable: the Prometheus query timed out",
			details: []string{"no answer within 200ms"}},
		{name: "no expression", url: cpuProm(t).URL, alert: template.Alert{Status: "firing", Fingerprint: "x",
			Labels: template.KV{"alertname": "Unknown"}, StartsAt: time.Now()}, want: nochart.NoQuery,
			zhNote: "图表不可用：没有可绘制的查询", enNote: "chart unavailable: no query to chart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := `{"chart":{"language":"en"}}`
			if tc.url != "" {
				// 200ms only where the timeout is the point: under load the
				// other cases' answers may take longer than that.
				timeout := "10s"
				if tc.want == nochart.QueryTimeout {
					timeout = "200ms"
				}
				js = `{"prometheus":{"url":%q,"timeout":"` + timeout + `"},"chart":{"language":"en"}}`
			}
			c := newCharter(t, tc.url, js, map[string]string{"prometheusToken": secret})
			chart, info, err := c.ChartIn(context.Background(), "ops", "zh", tc.alert)
			if chart != nil || err == nil {
				t.Fatalf("chart %v, err %v", chart, err)
			}
			if nochart.ReasonOf(err) != tc.want {
				t.Errorf("reason %q, want %q (%v)", nochart.ReasonOf(err), tc.want, err)
			}
			// What delivery sees, without importing nochart.
			var r interface {
				ChartReason() string
				ChartNote(lang string) string
			}
			if !errors.As(err, &r) || r.ChartReason() != string(tc.want) || r.ChartNote("zh") != tc.zhNote || r.ChartNote("en") != tc.enNote {
				t.Errorf("notes %q / %q, want %q / %q", r.ChartNote("zh"), r.ChartNote("en"), tc.zhNote, tc.enNote)
			}
			for _, d := range tc.details {
				if !strings.Contains(err.Error(), d) {
					t.Errorf("full reason %q lacks %q", err, d)
				}
			}
			for _, text := range []string{err.Error(), info.Note, string(info.Plan), r.ChartNote("zh"), r.ChartNote("en")} {
				if strings.Contains(text, secret) {
					t.Errorf("secret in %q", text)
				}
			}
			for _, note := range []string{r.ChartNote("zh"), r.ChartNote("en")} {
				if strings.Contains(note, "http") || strings.Contains(note, "cpu_percent") {
					t.Errorf("note with a URL or query: %q", note)
				}
			}
		})
	}
}

// The overview of a digest follows its channel's language too.
func TestOverviewIn(t *testing.T) {
	t.Parallel()
	prom := cpuProm(t)
	// The overview's query has data (an overview without any is no chart, see TestNoDataIsANote).
	prom.Lock()
	prom.Matrix[`cpu_percent{instance=~"node-2:9100|node-3:9100",job="node"}`] = prom.Matrix[cpuQuery]
	prom.Unlock()
	c := newCharter(t, prom.URL, zhSettings, nil)
	b := cpuAlert()
	b.Fingerprint, b.Labels = "f-node-3", template.KV{"alertname": "HighCPU", "instance": "node-3:9100", "job": "node", "severity": "critical"}
	for lang, want := range map[string]string{"en": "HighCPU — 2 alerts (last 10m)", "zh": "HighCPU — 2 条告警 (最近10分钟)", "": "HighCPU — 2 条告警 (最近10分钟)"} {
		ch, info, err := c.OverviewIn(context.Background(), "ops", lang, []template.Alert{cpuAlert(), b})
		if err != nil || ch.Title != want || info.Renderer != "native" {
			t.Errorf("%q: %v %q %+v", lang, err, ch.Title, info)
		}
	}
	if _, _, err := c.Overview(context.Background(), "ops", nil); nochart.ReasonOf(err) != nochart.NoQuery {
		t.Errorf("no alerts: %v", err)
	}
}

// The channel test's chart is drawn in the channel's language.
func TestSample(t *testing.T) {
	t.Parallel()
	c := newCharter(t, "", `{"chart":{"language":"zh","width":600,"height":300}}`, nil)
	zh, err := c.Sample("")
	if err != nil {
		t.Fatal(err)
	}
	en, err := c.Sample("en")
	if err != nil {
		t.Fatal(err)
	}
	if zh.Title != "CPU 使用率（最近20分钟）" || en.Title != "CPU usage (last 20m)" {
		t.Errorf("titles %q / %q", zh.Title, en.Title)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(en.Image))
	if err != nil || cfg.Width != 600 || len(en.Series) != 2 || bytes.Equal(zh.Image, en.Image) {
		t.Errorf("sample image: %v %+v", err, cfg)
	}
}

// Without a channel named (delivery.Charter), the chart is in the language
// the alert's channels share.
func TestLangFor(t *testing.T) {
	t.Parallel()
	prom := cpuProm(t)
	c := newCharter(t, prom.URL, `{"prometheus":{"url":%q},"chart":{"language":"zh"},
		"channels":[{"name":"en-1","type":"inbox","dir":"x","language":"en"},{"name":"en-2","type":"inbox","dir":"x","language":"en"},
			{"name":"zh-text","type":"inbox","dir":"x","disableChart":true},{"name":"zh","type":"inbox","dir":"x"}],
		"routes":[{"receiver":"en","channels":["en-1","en-2","zh-text"]},{"receiver":"mixed","channels":["en-1","zh"]},
			{"receiver":"db","match":{"team":"db"},"channels":["en-1"]},{"receiver":"db","channels":["zh"]}]}`, nil)
	db := cpuAlert()
	db.Labels = template.KV{"alertname": "HighCPU", "team": "db"}
	for _, tc := range []struct {
		receiver string
		alerts   []template.Alert
		want     string
	}{
		{"en", []template.Alert{cpuAlert()}, "en"},
		{"mixed", []template.Alert{cpuAlert()}, "zh"},
		{"db", []template.Alert{cpuAlert()}, "zh"},
		{"db", []template.Alert{db}, "zh"}, // en-1 by label, zh by the catch-all route
		{"nobody", []template.Alert{cpuAlert()}, "zh"},
	} {
		if got := c.LangFor(tc.receiver, tc.alerts...); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.receiver, got, tc.want)
		}
	}
	ch, _, err := c.Chart(context.Background(), "en", cpuAlert())
	if err != nil || ch.Title != "HighCPU (last 10m)" {
		t.Errorf("Chart for English channels: %v %q", err, ch.Title)
	}
	ov, _, err := c.Overview(context.Background(), "en", []template.Alert{cpuAlert()})
	if err != nil || ov.Title != "HighCPU — 1 alert (last 10m)" {
		t.Errorf("Overview for English channels: %v %q", err, ov.Title)
	}
}

// Issue 17.6: an alert whose query returns no data gets no empty image
// from ChartIn but a NoData error (a one-line note in the channel's
// language), and NoDataExpected when the rule fires on absent data;
// /preview (MakeChartIn) still draws the "no data" image.
func TestNoDataIsANote(t *testing.T) {
	t.Parallel()
	prom := cpuProm(t)
	prom.Lock()
	prom.Rules = append(prom.Rules, fakeprom.Rule{Group: "batch", Name: "BatchDown", Query: `absent(up{job="batch"})`, For: time.Minute})
	prom.Unlock()
	c := newCharter(t, prom.URL, zhSettings, nil)
	quiet := cpuAlert()
	quiet.Fingerprint, quiet.Labels["instance"] = "f-node-9", "node-9:9100"
	absent := template.Alert{Status: "firing", Fingerprint: "f-batch", Labels: template.KV{"alertname": "BatchDown", "job": "batch"},
		StartsAt: time.Now().Add(-2 * time.Minute), GeneratorURL: "http://prom/graph?g0.expr=absent%28up%7Bjob%3D%22batch%22%7D%29&g0.tab=1"}
	for _, tc := range []struct {
		alert          template.Alert
		want           nochart.Reason
		zhNote, enNote string
		detail         string
	}{
		{quiet, nochart.NoData, "图表不可用：查询无数据", "chart unavailable: the query returned no data", "node-9:9100"},
		{absent, nochart.NoDataExpected, "图表不可用：无数据——该告警正是在数据缺失时触发", "chart unavailable: no data, which is what this alert fires on", "expected: This alert fires when"},
	} {
		chart, _, err := c.ChartIn(context.Background(), "ops", "en", tc.alert)
		if chart != nil || nochart.ReasonOf(err) != tc.want {
			t.Fatalf("%s: chart %v, err %v; want %s", tc.alert.Labels["alertname"], chart, err, tc.want)
		}
		if zh, en := nochart.Note("zh", err), nochart.Note("en", err); zh != tc.zhNote || en != tc.enNote {
			t.Errorf("notes %q / %q", zh, en)
		}
		t.Logf("record: %s", err)
		if !strings.Contains(err.Error(), tc.detail) {
			t.Errorf("full reason %q lacks %q", err, tc.detail)
		}
		if r, err := c.MakeChartIn(context.Background(), "en", tc.alert); err != nil || r.Chart == nil || len(r.Chart.Image) == 0 {
			t.Errorf("preview of no data: %v", err)
		}
	}
}
