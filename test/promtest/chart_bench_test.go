package promtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertchart/alertchart/pkg/intake"
	"github.com/alertchart/alertchart/pkg/pipeline"
	"github.com/alertchart/alertchart/pkg/promapi"
	"github.com/alertchart/alertchart/pkg/settings"
	fakewecom "github.com/alertchart/alertchart/test/fakes/wecom"
	"github.com/alertchart/alertchart/test/promtest"
)

// Shape of BenchmarkChartFollowUpRealPrometheus.
const (
	// benchQueues series of bench_queue_depth are above the rule's
	// threshold (firing); benchHealthy more are below it, so the chart
	// query must really be narrowed to the alert's series.
	benchQueues  = 16
	benchHealthy = 4
	// benchRobots WeCom robots, one per Alertmanager receiver, take the
	// alerts in turn. A WeCom robot allows 20 messages a minute (the fake
	// answers 45009 beyond that, as WeCom does) and each alert costs two:
	// the markdown text, then the chart as an image message. At
	// benchInterval (5 webhooks a second) each robot gets one alert every
	// 8 s, 15 messages a minute: like many teams' robots each seeing a
	// few alerts, never throttled, so neither the fake's limit nor
	// AlertChart's rate limiter (which would hold or skip the follow-up
	// chart) shapes the figure. Raising rateLimitPerMinute instead would
	// only provoke 45009 from the contract-enforcing fake; the generic
	// webhook and Slack fakes combine text and chart in one message, which
	// is not the follow-up being measured.
	benchRobots   = 40
	benchInterval = 200 * time.Millisecond
	// benchFor is the rule's `for`; × windowMultiplier 6 gives a one-minute
	// chart window (60 points at the 1 s scrape interval).
	benchFor = 10 * time.Second
	// benchHistory is how much data Prometheus holds before the first
	// webhook: half the chart window, filling up as the run goes on.
	benchHistory = 30 * time.Second
)

// benchRules is the alerting rule the benchmark's alerts come from.
var benchRules = fmt.Sprintf(`
groups:
  - name: bench
    interval: 1s
    rules:
      - alert: QueueBacklog
        expr: bench_queue_depth > 100
        for: %ds
        labels: {severity: warning}
        annotations:
          summary: 'Queue {{ $labels.queue }} has {{ $value }} messages waiting'
`, int(benchFor.Seconds()))

// benchExposition serves bench_queue_depth for every queue: a slow wave
// around 150 (firing) or 40 (healthy), each queue with its own phase.
func benchExposition(start time.Time) func() string {
	return func() string {
		el := time.Since(start).Seconds()
		var b strings.Builder
		b.WriteString("# TYPE bench_queue_depth gauge\n")
		for q := range benchQueues + benchHealthy {
			base := 150.0
			if q >= benchQueues {
				base = 40
			}
			fmt.Fprintf(&b, "bench_queue_depth{queue=%q} %.2f\n", queueName(q), base+30*math.Sin(el/7+float64(q)))
		}
		return b.String()
	}
}

func queueName(q int) string { return fmt.Sprintf("q%02d", q) }

// amWebhook is Alertmanager's webhook body (version 4).
type amWebhook struct {
	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts int    `json:"truncatedAlerts"`
	*template.Data
}

// sentAlert is one posted webhook.
type sentAlert struct {
	robot    int
	queue    string
	id       string
	accepted time.Time
	alert    template.Alert
}

// BenchmarkChartFollowUpRealPrometheus measures the product's chart
// follow-up latency with everything real but the chat platform: a real
// Prometheus on loopback scrapes bench_queue_depth (20 series, 16 above the
// threshold of an alerting rule with `for`), the real pipeline (settings →
// chart planner on Prometheus' rules and query APIs → native renderer →
// SQLite delivery queue → WeCom channel) behind the real webhook handler,
// and contract-enforcing WeCom robot fakes. b.N Alertmanager webhooks (one
// firing alert each, labels and generatorURL as Prometheus made them) are
// posted at 5 per second, round-robin over 40 receivers/robots, and it
// reports, from the webhook's 200 answer to the message reaching the robot:
//   - text-p50/p99-ms: the markdown text;
//   - chart-p50/p99-ms: the follow-up image message (plan, rules and range
//     queries, native render, PNG, send);
//   - renders: charts made by the pipeline during the run.
//
// Every chart is checked to be a PNG of the configured size, every delivery
// to be sent by the native renderer with no failed attempt, and the chart of
// every queue used to hold exactly that queue's series.
//
// The loop is b.Loop, so Prometheus starts (and gathers benchHistory of
// data) once per run; -benchtime Nx takes at most 640 alerts (40 robots ×
// 16 series), beyond which they would be duplicates.
//
// Run: go test ./test/promtest -run '^$' -bench ChartFollowUpRealPrometheus -benchtime 200x
func BenchmarkChartFollowUpRealPrometheus(b *testing.B) {
	ctx := context.Background()
	t0 := time.Now()
	target := promtest.MetricsTarget(b, benchExposition(t0))
	prom := promtest.Start(b, promtest.Options{ // skips (fails under CI=true) without prometheus
		Jobs:  map[string][]promtest.Target{"bench": {{Addr: target, Labels: map[string]string{"instance": "broker-1"}}}},
		Rules: benchRules,
	})

	// The alerts as Prometheus fires them, once `for` has passed and
	// Prometheus holds benchHistory of data.
	src, err := promapi.New(promapi.Config{BaseURL: prom.URL, Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	var rule promapi.Rule
	var firing []promapi.ActiveAlert
	promtest.WaitFor(b, 90*time.Second, "Prometheus to fire QueueBacklog for every queue", func() bool {
		groups, err := src.Rules(ctx, "QueueBacklog")
		if err != nil {
			return false
		}
		firing = firing[:0]
		for _, g := range groups {
			for _, r := range g.Rules {
				if r.Name != "QueueBacklog" {
					continue
				}
				rule = r
				for _, a := range r.Alerts {
					if a.State == "firing" {
						firing = append(firing, a)
					}
				}
			}
		}
		return len(firing) == benchQueues
	})
	time.Sleep(time.Until(t0.Add(benchHistory)))
	sort.Slice(firing, func(i, j int) bool { return firing[i].Labels["queue"] < firing[j].Labels["queue"] })
	generatorURL := prom.URL + "/graph?g0.expr=" + url.QueryEscape(rule.Query) + "&g0.tab=1"

	// The robots and the settings a user would write for them.
	robots := make([]*fakewecom.Server, benchRobots)
	var chans, routes []string
	secrets := map[string]string{}
	for r := range robots {
		robots[r] = fakewecom.New()
		b.Cleanup(robots[r].Close)
		name := fmt.Sprintf("robot-%02d", r)
		chans = append(chans, fmt.Sprintf(`{"name": %q, "type": "wecom", "apiUrl": %q}`, name, robots[r].URL))
		routes = append(routes, fmt.Sprintf(`{"receiver": "team-%02d", "channels": [%q]}`, r, name))
		secrets["channels."+name+".url"] = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=test-key"
	}
	s, err := settings.Parse([]byte(fmt.Sprintf(`{
		"prometheus": {"url": %q, "scrapeInterval": "1s"},
		"chart": {"renderer": "native", "minWindow": "1m", "windowMultiplier": 6, "language": "en"},
		"channels": [%s],
		"routes": [%s]
	}`, prom.URL, strings.Join(chans, ",\n"), strings.Join(routes, ",\n"))), secrets)
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	pipe, err := pipeline.New(ctx, s, pipeline.Env{DataDir: b.TempDir(), Registerer: reg})
	if err != nil {
		b.Fatal(err)
	}
	defer pipe.Close(ctx)
	if errs := pipe.ConfigErrors(); len(errs) > 0 {
		b.Fatal(errs)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhook/{receiver}", &intake.Handler{MaxBodyBytes: s.Webhook.MaxBodyBytes, Acceptor: pipe})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := &http.Client{Timeout: 30 * time.Second}

	// Alert i goes to robot i%benchRobots about queue (i/benchRobots)%benchQueues:
	// distinct (receiver, alert) pairs, so none is a duplicate.
	post := func(i int) sentAlert {
		r, fa := i%benchRobots, firing[(i/benchRobots)%benchQueues]
		labels := template.KV{}
		for k, v := range fa.Labels {
			labels[k] = v
		}
		a := template.Alert{Status: "firing", Labels: labels, Annotations: template.KV(fa.Annotations),
			StartsAt: fa.ActiveAt.Add(benchFor), GeneratorURL: generatorURL, Fingerprint: intake.Fingerprint(labels)}
		receiver := fmt.Sprintf("team-%02d", r)
		body, err := json.Marshal(amWebhook{Version: "4",
			GroupKey: fmt.Sprintf(`{}:{alertname="QueueBacklog", queue=%q}`, labels["queue"]),
			Data: &template.Data{Receiver: receiver, Status: "firing", Alerts: template.Alerts{a},
				GroupLabels:  template.KV{"alertname": "QueueBacklog", "queue": labels["queue"]},
				CommonLabels: labels, CommonAnnotations: a.Annotations, ExternalURL: "http://alertmanager.example:9093"}})
		if err != nil {
			b.Fatal(err)
		}
		res, err := client.Post(srv.URL+"/webhook/"+receiver, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		at := time.Now()
		var acc intake.Accepted
		if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &acc) != nil || acc.Alerts != 1 || acc.Duplicates != 0 {
			b.Fatalf("webhook %d: %d %s", i, res.StatusCode, raw)
		}
		return sentAlert{robot: r, queue: labels["queue"], id: acc.ID, accepted: at, alert: a}
	}

	var sent []sentAlert
	start := time.Now()
	for b.Loop() {
		i := len(sent)
		if i == benchRobots*benchQueues {
			b.Fatalf("at most %d distinct alerts: use -benchtime %dx or less", i, i)
		}
		if d := time.Until(start.Add(time.Duration(i) * benchInterval)); d > 0 {
			time.Sleep(d)
		}
		sent = append(sent, post(i))
	}

	// Wait for every text and chart (two messages per alert).
	want := make([]int, benchRobots)
	for _, a := range sent {
		want[a.robot] += 2
	}
	promtest.WaitFor(b, 2*time.Minute, "every text and chart to reach the robots", func() bool {
		for r, robot := range robots {
			if len(robot.Accepted()) < want[r] {
				return false
			}
		}
		return true
	})

	// Charts the delivery stage made (before the checks below make more).
	renders := 0.0
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "alertchart_chart_duration_seconds" {
			for _, m := range mf.GetMetric() {
				renders += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}

	// Match messages to alerts: each robot gets its alerts 8 s apart, in
	// order; a text names its queue, the k-th image is the k-th alert's chart.
	var textLat, chartLat []time.Duration
	byRobot := make([][]sentAlert, benchRobots)
	for _, a := range sent {
		byRobot[a.robot] = append(byRobot[a.robot], a)
	}
	w, h := int(float64(s.Chart.Width)*s.Chart.PixelRatio), int(float64(s.Chart.Height)*s.Chart.PixelRatio)
	for r, robot := range robots {
		var texts, images []fakewecom.Message
		for _, m := range robot.Accepted() {
			if m.MsgType == "image" {
				images = append(images, m)
			} else {
				texts = append(texts, m)
			}
		}
		if len(texts) != len(byRobot[r]) || len(images) != len(byRobot[r]) {
			b.Fatalf("robot %d: %d texts and %d images for %d alerts", r, len(texts), len(images), len(byRobot[r]))
		}
		for k, a := range byRobot[r] {
			if !strings.Contains(string(texts[k].Body), a.queue) || texts[k].MsgType != "markdown" {
				b.Fatalf("robot %d text %d does not name queue %s:\n%s", r, k, a.queue, texts[k].Body)
			}
			img, err := png.Decode(bytes.NewReader(images[k].Image))
			if err != nil {
				b.Fatalf("robot %d chart %d is not a PNG: %v", r, k, err)
			}
			if bd := img.Bounds(); bd.Dx() != w || bd.Dy() != h {
				b.Fatalf("robot %d chart %d is %v, want %dx%d", r, k, bd, w, h)
			}
			textLat = append(textLat, texts[k].At.Sub(a.accepted))
			chartLat = append(chartLat, images[k].At.Sub(a.accepted))
		}
	}

	// The delivery records: native renderer, no failed attempt (a 45009
	// from a robot would be one), chart sent.
	for _, a := range sent {
		d, err := pipe.Delivery().Delivery(ctx, a.id)
		if err != nil {
			b.Fatal(err)
		}
		if len(d.Channels) != 1 || d.Channels[0].Renderer != "native" || d.Channels[0].ChartSentAt == nil || d.Channels[0].ChartNote != "" {
			b.Fatalf("delivery %s: %+v", a.id, d.Channels)
		}
		for _, at := range d.Attempts {
			if !at.OK {
				b.Fatalf("delivery %s: failed attempt %+v", a.id, at)
			}
		}
	}

	// The chart of each queue used holds exactly that queue's series, with
	// the data Prometheus scraped (planned and rendered the same way).
	checked := map[string]bool{}
	for _, a := range sent {
		if checked[a.queue] {
			continue
		}
		checked[a.queue] = true
		res, err := pipe.Charter().MakeChart(ctx, a.alert)
		if err != nil {
			b.Fatalf("chart of %s: %v", a.queue, err)
		}
		if !strings.Contains(res.Plan.Query, `queue="`+a.queue+`"`) || res.Info.Renderer != "native" ||
			len(res.Chart.Series) != 1 || res.Chart.Series[0].Labels["queue"] != a.queue {
			b.Fatalf("chart of %s: query %q, renderer %q, %d series", a.queue, res.Plan.Query, res.Info.Renderer, len(res.Chart.Series))
		}
		st := res.Chart.Series[0].Stats()
		if st.Min <= 100 || st.Max > 180 || st.Count < 10 {
			b.Fatalf("chart of %s: series stats %+v, want ≥ 10 samples between 100 and 180", a.queue, st)
		}
	}

	b.ReportMetric(pctMs(textLat, 0.5), "text-p50-ms")
	b.ReportMetric(pctMs(textLat, 0.99), "text-p99-ms")
	b.ReportMetric(pctMs(chartLat, 0.5), "chart-p50-ms")
	b.ReportMetric(pctMs(chartLat, 0.99), "chart-p99-ms")
	b.ReportMetric(renders, "renders")
	b.ReportMetric(0, "ns/op")
}

func pctMs(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return float64(d[int(float64(len(d)-1)*p)].Microseconds()) / 1000
}
