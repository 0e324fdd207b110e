package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	fakewecom "github.com/alertchart/alertchart/test/fakes/wecom"
	"github.com/alertchart/alertchart/test/pluginhost"
	"github.com/alertchart/alertchart/test/services"
)

// TestPluginDeliversTextThenChartToWeCom is the product's promise end to
// end: Prometheus scrapes two instances, one misbehaving; its rule (with a
// `for`) fires; Alertmanager posts the webhook through Grafana's resource
// route with a service-account token; the built plugin sends the WeCom
// robot the alert text naming only the misbehaving instance, then a chart of
// exactly that series drawn by the native renderer over a window that
// follows the rule's `for`.
func TestPluginDeliversTextThenChartToWeCom(t *testing.T) {
	robot := fakewecom.New()
	t.Cleanup(robot.Close)

	target := func(value float64) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "# TYPE demo_cpu_usage_percent gauge\ndemo_cpu_usage_percent %g\n", value)
		}))
		t.Cleanup(s.Close)
		return s
	}
	good, bad := target(20), target(95)
	goodInst, badInst := strings.TrimPrefix(good.URL, "http://"), strings.TrimPrefix(bad.URL, "http://")

	// Prometheus' port is chosen first: the plugin settings name it, and
	// Prometheus needs Alertmanager's address, which needs the plugin's.
	promPort := services.FreePort(t)
	promURL := fmt.Sprintf("http://127.0.0.1:%d", promPort)
	// for 5s × windowMultiplier 24 = 2m, above chart.minWindow 1m: the
	// window comes from the rule, not from the floor.
	jsonData := fmt.Sprintf(`{
		"prometheus": {"url": %q, "scrapeInterval": "1s", "rulesCacheTtl": "1s"},
		"chart": {"renderer": "native", "minWindow": "1m", "windowMultiplier": 24, "language": "en"},
		"channels": [{"name": "ops-wecom", "type": "wecom", "apiUrl": %q}],
		"routes": [{"receiver": "ops", "channels": ["ops-wecom"]}]
	}`, promURL, robot.URL)
	h, base := launch(t, "plugin", t.TempDir(), pluginhost.Settings{JSONData: []byte(jsonData),
		Secure: map[string]string{"channels.ops-wecom.url": wecomRobotURL}})
	_ = h

	am := services.Alertmanager(t, services.AlertmanagerConfig(base+"webhook/ops", saToken))
	services.PrometheusOnPort(t, promPort, services.PrometheusConfig(am.Port, "demo", goodInst, badInst), map[string]string{"rules.yml": `
groups:
- name: demo
  rules:
  - alert: HighCPU
    expr: demo_cpu_usage_percent > 80
    for: 5s
    labels:
      severity: critical
    annotations:
      summary: CPU usage above 80%
`})

	start := time.Now()
	// The text arrives first, then the chart as its own image message.
	var msgs []wecomMessage
	textAt, imageAt := -1, -1
	ok := waitUntil(90*time.Second, func() bool {
		msgs = wecomMessages(robot)
		textAt, imageAt = -1, -1
		for i, m := range msgs {
			if textAt < 0 && m.Type == "markdown" && strings.Contains(m.Text, "HighCPU") {
				textAt = i
			}
			if imageAt < 0 && m.Type == "image" {
				imageAt = i
			}
		}
		return textAt >= 0 && imageAt >= 0
	})
	if !ok {
		t.Fatalf("WeCom robot did not get text and chart within 90s:\n%s\nalertmanager log:\n%s", dumpMessages(msgs), am.Log())
	}
	t.Logf("text and chart reached WeCom %s after Prometheus started", time.Since(start).Round(time.Millisecond))
	text := msgs[textAt].Text
	if textAt > imageAt {
		t.Fatalf("chart (#%d) arrived before the text (#%d):\n%s", imageAt, textAt, dumpMessages(msgs))
	}
	if !strings.Contains(text, badInst) || strings.Contains(text, goodInst) {
		t.Fatalf("text must name %s and not %s:\n%s", badInst, goodInst, text)
	}
	if !strings.Contains(text, "CPU usage above 80%") {
		t.Fatalf("text lacks the summary:\n%s", text)
	}
	img, err := png.Decode(bytes.NewReader(msgs[imageAt].Image))
	if err != nil {
		t.Fatalf("chart is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 200 || b.Dy() < 150 {
		t.Fatalf("chart is %v", b)
	}
	saveArtifact(t, "wecom-chart.png", msgs[imageAt].Image)
	saveArtifact(t, "wecom-text.md", []byte(text))
	for _, m := range msgs {
		if m.Type != "image" && strings.Contains(m.Text, goodInst) {
			t.Fatalf("the healthy instance was reported:\n%s", dumpMessages(msgs))
		}
	}

	// The delivery record says the same.
	d := waitDelivery(t, base, "HighCPU", 30*time.Second, func(d Delivery) bool {
		return d.Status == "sent" && len(d.Channels) == 1 && d.Channels[0].ChartSentAt != nil
	})
	ch := d.Channels[0]
	if ch.Channel != "ops-wecom" || ch.Renderer != "native" || ch.FallbackReason != "" || ch.TextSentAt == nil || !d.HasChart {
		t.Fatalf("delivery record: %+v", d)
	}
	if len(d.Alerts) != 1 || d.Alerts[0].Instance != badInst {
		t.Fatalf("delivery alerts: %+v", d.Alerts)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"deliveries/"+d.ID+"/chart?fingerprint="+d.Alerts[0].Fingerprint, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("stored chart: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if _, err := png.Decode(bytes.NewReader(stored)); err != nil {
		t.Fatalf("stored chart is not a PNG: %v", err)
	}

	// Explain the alert Alertmanager really sent (its generatorURL and
	// labels): the plan narrows the rule's query to the bad instance and
	// spans for × multiplier.
	var recent struct {
		Alerts []struct {
			Alert json.RawMessage `json:"alert"`
		} `json:"alerts"`
	}
	if st, err := call(http.MethodGet, base+"recent", nil, &recent); err != nil || st != 200 || len(recent.Alerts) == 0 {
		t.Fatalf("GET recent: %d %v %+v", st, err, recent)
	}
	payload := []byte(`{"version":"4","status":"firing","receiver":"ops","groupKey":"{}:{alertname=\"HighCPU\"}","alerts":[` +
		string(recent.Alerts[0].Alert) + `]}`)
	var explained struct {
		Plans []struct {
			Source string `json:"source"`
			Query  string `json:"query"`
			Window string `json:"window"`
			Rule   *struct {
				Name string `json:"name"`
				For  string `json:"for"`
			} `json:"rule"`
			Start         time.Time `json:"start"`
			End           time.Time `json:"end"`
			NoChartReason string    `json:"noChartReason"`
		} `json:"plans"`
	}
	if st, err := call(http.MethodPost, base+"explain", payload, &explained); err != nil || st != 200 || len(explained.Plans) != 1 {
		t.Fatalf("POST explain: %d %v %+v", st, err, explained)
	}
	plan := explained.Plans[0]
	if plan.Rule == nil || plan.Rule.Name != "HighCPU" || mustDuration(t, plan.Rule.For) != 5*time.Second {
		t.Fatalf("plan did not find the rule: %+v", plan)
	}
	if !strings.Contains(plan.Query, `instance="`+badInst+`"`) || strings.Contains(plan.Query, goodInst) ||
		!strings.Contains(plan.Query, "demo_cpu_usage_percent") {
		t.Fatalf("query not narrowed to %s: %q", badInst, plan.Query)
	}
	if w := mustDuration(t, plan.Window); w != 2*time.Minute {
		t.Fatalf("window %s, want for 5s × 24 = 2m (minWindow 1m)", w)
	}
	if span := plan.End.Sub(plan.Start); span < 2*time.Minute || span > 3*time.Minute {
		t.Fatalf("plan spans %s (%s – %s)", span, plan.Start, plan.End)
	}
}

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("duration %q: %v", s, err)
	}
	return d
}
