package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"

	fakegrafana "github.com/alertchart/alertchart/test/fakes/grafana"
	fakeprom "github.com/alertchart/alertchart/test/fakes/prometheus"
	fakewecom "github.com/alertchart/alertchart/test/fakes/wecom"
	"github.com/alertchart/alertchart/test/pluginhost"
)

// TestPluginGrafanaRendererWithFallback: with chart.renderer "grafana" the
// built plugin, holding the managed service-account token Grafana hands it
// (GF_PLUGIN_APP_CLIENT_SECRET), draws the chart by cloning the template
// panel into a temporary dashboard carrying the plan's query, rendering it
// and deleting it — never writing the template. When Grafana's renderer is
// saturated past the chart's deadline, the native renderer draws the chart
// and the delivery record says why; the text never waits for either.
func TestPluginGrafanaRendererWithFallback(t *testing.T) {
	const grafanaToken = "glsa_managed_alertchart_e2e"
	graf := fakegrafana.New(t)
	graf.AddToken(grafanaToken, fakegrafana.AllPermissions...)
	graf.AddFolder("infra", "Infrastructure")
	if err := graf.AddDashboard(fakegrafana.SampleDashboard, "infra"); err != nil {
		t.Fatal(err)
	}
	robot := fakewecom.New()
	t.Cleanup(robot.Close)

	const expr = `100 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100 > 90`
	prom := fakeprom.New(t)
	prom.Lock()
	prom.Rules = []fakeprom.Rule{{Group: "node", File: "/etc/prometheus/rules/node.yml", Name: "NodeCPUHigh", Query: expr,
		For: 30 * time.Second, Labels: map[string]string{"severity": "critical"},
		Annotations: map[string]string{"summary": "CPU above 90%"}}}
	prom.Unlock()

	jsonData := fmt.Sprintf(`{
		"prometheus": {"url": %q, "datasourceUid": %q, "scrapeInterval": "15s"},
		"chart": {"renderer": "grafana", "templateDashboardUid": %q, "templatePanelId": %d, "minWindow": "1m", "language": "en"},
		"channels": [{"name": "ops-wecom", "type": "wecom", "apiUrl": %q}],
		"routes": [{"receiver": "ops", "channels": ["ops-wecom"]}]
	}`, prom.URL, fakegrafana.SampleDatasource, fakegrafana.SampleDashboardUID, fakegrafana.SamplePanelID, robot.URL)
	h, base := launch(t, "plugin", t.TempDir(), pluginhost.Settings{
		JSONData: []byte(jsonData),
		Secure:   map[string]string{"channels.ops-wecom.url": wecomRobotURL},
		GrafanaConfig: map[string]string{
			"GF_APP_URL":                  graf.URL + "/",
			"GF_PLUGIN_APP_CLIENT_SECRET": grafanaToken,
		},
	})

	// Save & test: Grafana reachable with the managed token, template found,
	// renderer present.
	hr, err := h.CheckHealth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var details struct {
		Checks []struct{ Name, Status, Message string } `json:"checks"`
	}
	if err := json.Unmarshal(hr.JsonDetails, &details); err != nil {
		t.Fatalf("health details: %v: %s", err, hr.JsonDetails)
	}
	if hr.Status != pluginv2.CheckHealthResponse_OK {
		t.Fatalf("health %v: %s\n%s", hr.Status, hr.Message, hr.JsonDetails)
	}
	want := map[string]string{"Grafana API": "managed service account", "Template panel": "CPU usage", "Image renderer": "rendered"}
	for _, c := range details.Checks {
		if frag, ok := want[c.Name]; ok {
			if c.Status != "ok" || !strings.Contains(c.Message, frag) {
				t.Fatalf("health check %s: %s %s", c.Name, c.Status, c.Message)
			}
			delete(want, c.Name)
		}
	}
	if len(want) > 0 {
		t.Fatalf("health lacks checks %v: %s", want, hr.JsonDetails)
	}

	gen := "http://prometheus.example:9090/graph?g0.expr=" + url.QueryEscape(expr) + "&g0.tab=1"
	payload := func(instance string) []byte {
		return []byte(fmt.Sprintf(`{"version":"4","status":"firing","receiver":"ops","groupKey":"{}:{alertname=\"NodeCPUHigh\",instance=\"%[1]s\"}",
			"groupLabels":{"alertname":"NodeCPUHigh","instance":%[1]q},"commonLabels":{"alertname":"NodeCPUHigh","instance":%[1]q},
			"externalURL":"http://alertmanager.example:9093","alerts":[{"status":"firing",
			"labels":{"alertname":"NodeCPUHigh","instance":%[1]q,"job":"node","severity":"critical"},
			"annotations":{"summary":"CPU above 90%%"},"startsAt":%[2]q,"endsAt":"0001-01-01T00:00:00Z","generatorURL":%[3]q}]}`,
			instance, time.Now().Add(-45*time.Second).UTC().Format(time.RFC3339), gen))
	}
	// The plan narrows the rule to the alert's instance; the fake Prometheus
	// answers that query (for the native fallback).
	planQuery := func(instance string) string {
		var explained struct {
			Plans []struct {
				Query string `json:"query"`
			} `json:"plans"`
		}
		if st, err := call(http.MethodPost, base+"explain", payload(instance), &explained); err != nil || st != 200 || len(explained.Plans) != 1 {
			t.Fatalf("explain: %d %v %+v", st, err, explained)
		}
		q := explained.Plans[0].Query
		if !strings.Contains(q, `instance="`+instance+`"`) {
			t.Fatalf("plan query not narrowed to %s: %q", instance, q)
		}
		prom.Lock()
		prom.Matrix[q] = []fakeprom.Series{{Labels: map[string]string{"instance": instance},
			Value: func(ts time.Time) float64 { return 92 + 4*float64(ts.Unix()%7)/7 }}}
		prom.Unlock()
		return q
	}

	// 1. Grafana renders.
	q1 := planQuery("web-01:9100")
	if st, err := call(http.MethodPost, base+"webhook/ops", payload("web-01:9100"), nil); err != nil || st != 200 {
		t.Fatalf("webhook: %d %v", st, err)
	}
	d1 := waitDelivery(t, base, "NodeCPUHigh", 60*time.Second, func(d Delivery) bool {
		return d.Alerts[0].Instance == "web-01:9100" && d.Status != "pending" && len(d.Channels) == 1 && d.Channels[0].ChartSentAt != nil
	})
	if c := d1.Channels[0]; d1.Status != "sent" || c.Renderer != "grafana" || c.FallbackReason != "" {
		t.Fatalf("delivery 1: %+v", d1)
	}
	var rendered *fakegrafana.RenderRecord
	for _, r := range graf.Renders() {
		if r.DashboardUID != fakegrafana.SampleDashboardUID && r.Query == q1 {
			r := r
			rendered = &r
		}
	}
	if rendered == nil {
		t.Fatalf("Grafana rendered no temporary dashboard with the plan's query %q; renders: %+v", q1, renderSummary(graf.Renders()))
	}
	if rendered.Dashboard == nil || rendered.Panel == nil || rendered.Panel["type"] != "timeseries" {
		t.Fatalf("rendered panel is not the template's clone: %+v", rendered.Panel)
	}
	if got := rendered.Params.Get("theme"); got != "dark" {
		t.Fatalf("render theme %q", got)
	}
	assertTemplateUntouched(t, graf, rendered.DashboardUID)

	msgs := wecomMessages(robot)
	text1, img1 := indexOf(msgs, "markdown", "web-01:9100"), indexOf(msgs, "image", "")
	if text1 < 0 || img1 < 0 || text1 > img1 {
		t.Fatalf("want text then Grafana's chart:\n%s", dumpMessages(msgs))
	}
	if _, err := png.Decode(bytes.NewReader(msgs[img1].Image)); err != nil {
		t.Fatalf("Grafana chart is not a PNG: %v", err)
	}
	saveArtifact(t, "grafana-chart.png", msgs[img1].Image)

	// 2. Grafana's renderer is saturated: every render answers 429 with a
	// Retry-After beyond the chart's deadline. The native renderer steps in.
	graf.Inject(fakegrafana.Fault{Method: http.MethodGet, Path: "/render/", Status: http.StatusTooManyRequests,
		Header: map[string]string{"Retry-After": "600"}, Body: `{"message":"Too many rendering requests"}`, Times: 1000})
	q2 := planQuery("web-02:9100")
	rendersBefore := len(graf.Renders())
	if st, err := call(http.MethodPost, base+"webhook/ops", payload("web-02:9100"), nil); err != nil || st != 200 {
		t.Fatalf("webhook: %d %v", st, err)
	}
	d2 := waitDelivery(t, base, "NodeCPUHigh", 60*time.Second, func(d Delivery) bool {
		return d.Alerts[0].Instance == "web-02:9100" && d.Status != "pending" && len(d.Channels) == 1 && d.Channels[0].ChartSentAt != nil
	})
	c2 := d2.Channels[0]
	if d2.Status != "sent" || c2.Renderer != "native" || !strings.Contains(c2.FallbackReason, "grafana") ||
		!strings.Contains(c2.FallbackReason, "429") {
		t.Fatalf("delivery 2 should be drawn natively with the reason: %+v", d2)
	}
	if len(graf.Renders()) != rendersBefore {
		t.Fatalf("a render succeeded despite the fault")
	}
	if got := prom.LastQuery(); got != q2 {
		t.Fatalf("native renderer queried %q, want %q", got, q2)
	}
	msgs = wecomMessages(robot)
	text2 := indexOf(msgs[img1+1:], "markdown", "web-02:9100")
	img2 := indexOf(msgs[img1+1:], "image", "")
	if text2 < 0 || img2 < 0 || text2 > img2 {
		t.Fatalf("want text then the native chart after the first pair:\n%s", dumpMessages(msgs))
	}
	if _, err := png.Decode(bytes.NewReader(msgs[img1+1+img2].Image)); err != nil {
		t.Fatalf("native chart is not a PNG: %v", err)
	}
	saveArtifact(t, "grafana-fallback-chart.png", msgs[img1+1+img2].Image)
	// The failed attempt's temporary dashboard was removed too, and the
	// template was still never written.
	assertTemplateUntouched(t, graf, "")
}

// assertTemplateUntouched checks the fake's write log: no write ever named
// the template dashboard, every temporary dashboard created was deleted
// (tempUID, when set, among them), and none is left in the folder.
func assertTemplateUntouched(t *testing.T, graf *fakegrafana.Fake, tempUID string) {
	t.Helper()
	created, deleted := map[string]bool{}, map[string]bool{}
	for _, w := range graf.Writes() {
		if w.UID == fakegrafana.SampleDashboardUID {
			t.Fatalf("the template dashboard was written: %+v", w)
		}
		switch {
		case w.Method == http.MethodPost && w.Path == "/api/dashboards/db" && w.Status == 200:
			created[w.UID] = true
		case w.Method == http.MethodDelete && w.Status == 200:
			deleted[w.UID] = true
		}
	}
	if tempUID != "" && (!created[tempUID] || !deleted[tempUID]) {
		t.Fatalf("temporary dashboard %s: created %v, deleted %v; writes %+v", tempUID, created[tempUID], deleted[tempUID], graf.Writes())
	}
	for uid := range created {
		if !deleted[uid] {
			t.Fatalf("temporary dashboard %s was not deleted; writes %+v", uid, graf.Writes())
		}
		if _, ok := graf.DashboardRaw(uid); ok {
			t.Fatalf("temporary dashboard %s still stored", uid)
		}
	}
	if len(created) == 0 {
		t.Fatalf("no temporary dashboard was ever created; writes %+v", graf.Writes())
	}
}

func renderSummary(rs []fakegrafana.RenderRecord) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s panel %d: %q", r.DashboardUID, r.PanelID, r.Query))
	}
	return out
}

// indexOf finds the first message of type typ containing text.
func indexOf(msgs []wecomMessage, typ, text string) int {
	for i, m := range msgs {
		if m.Type == typ && strings.Contains(m.Text, text) {
			return i
		}
	}
	return -1
}
