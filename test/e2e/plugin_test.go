// End-to-end tests of the built plugin binary, launched the way Grafana
// launches it (go-plugin, SDK handshake, gRPC), with a real Prometheus and a
// real Alertmanager posting to it through a Grafana-like resource route.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"

	"github.com/alertchart/alertchart/test/pluginhost"
	"github.com/alertchart/alertchart/test/services"
)

func startPlugin(t *testing.T, s pluginhost.Settings) (*pluginhost.Host, string) {
	t.Helper()
	bin, err := pluginhost.Binary()
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	s.JSONData = withAlertmanager(s.JSONData)
	h, err := pluginhost.Start(pluginhost.Options{Binary: bin, Users: hostUsers(), Log: &logBuf,
		Env: []string{"GF_PLUGIN_DATA_DIR=" + t.TempDir()}}, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Kill()
		if t.Failed() {
			t.Logf("---- plugin log ----\n%s", logBuf.String())
		}
	})
	base, err := h.ListenAndServe()
	if err != nil {
		t.Fatal(err)
	}
	return h, base
}

func post(t *testing.T, url string, body []byte) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+saToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res, m
}

func TestPluginHealthAndBadInput(t *testing.T) {
	settingsJSON := []byte(`{"channels":[{"name":"inbox","type":"inbox","dir":"` + t.TempDir() + `"}],
		"routes":[{"receiver":"ops","channels":["inbox"]}]}`)
	h, base := startPlugin(t, pluginhost.Settings{JSONData: settingsJSON,
		GrafanaConfig: map[string]string{"GF_APP_URL": "http://127.0.0.1:1/"}})
	ctx := context.Background()
	hr, err := h.CheckHealth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if hr.Status != pluginv2.CheckHealthResponse_OK {
		t.Fatalf("health %v: %s", hr.Status, hr.Message)
	}
	url := base + pluginhost.ResourcePrefix
	valid := []byte(`{"version":"4","status":"firing","receiver":"ops","alerts":[{"status":"firing","labels":{"alertname":"A","instance":"x"},"startsAt":"2026-11-25T01:00:00Z"}]}`)
	cases := []struct {
		name   string
		method string
		path   string
		body   []byte
		status int
	}{
		{"valid", "POST", "webhook/ops", valid, 200},
		{"malformed", "POST", "webhook/ops", []byte(`{"alerts":[`), 400},
		{"not alertmanager", "POST", "webhook/ops", []byte(`{"hello":"world"}`), 400},
		{"unknown receiver", "POST", "webhook/nobody", valid, 404},
		{"wrong method", "GET", "webhook/ops", nil, 405},
		{"too large", "POST", "webhook/ops", append([]byte(`{"alerts":[],"pad":"`), append(bytes.Repeat([]byte("x"), 5<<20), '"', '}')...), 413},
		{"unknown resource", "GET", "nothing-here", nil, 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, url+c.path, bytes.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tokenFor(url+c.path))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var m map[string]any
			if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
				t.Fatalf("answer is not JSON: %v", err)
			}
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %v", res.StatusCode, c.status, m)
			}
			if c.status >= 400 {
				if msg, _ := m["error"].(string); msg == "" {
					t.Fatalf("no readable error: %v", m)
				}
			}
		})
	}
	// Without the service-account token Grafana itself answers 401.
	res, err := http.Post(url+"webhook/ops", "application/json", bytes.NewReader(valid))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated call: %d", res.StatusCode)
	}
}

func TestInvalidSettingsAnswer503AndUnhealthy(t *testing.T) {
	h, base := startPlugin(t, pluginhost.Settings{JSONData: []byte(`{"chart":{"renderer":"gpu"}}`)})
	hr, err := h.CheckHealth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if hr.Status != pluginv2.CheckHealthResponse_ERROR || !strings.Contains(hr.Message, "chart.renderer") {
		t.Fatalf("health %v: %s", hr.Status, hr.Message)
	}
	res, m := post(t, base+pluginhost.ResourcePrefix+"webhook/ops",
		[]byte(`{"alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-11-25T01:00:00Z"}]}`))
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d: %v", res.StatusCode, m)
	}
	// Fixing the settings rebuilds the instance.
	h.UpdateSettings(pluginhost.Settings{JSONData: withAlertmanager([]byte(`{}`))})
	hr, err = h.CheckHealth(context.Background())
	if err != nil || hr.Status != pluginv2.CheckHealthResponse_OK {
		t.Fatalf("after fix: %v %v", hr, err)
	}
}

// TestRealAlertmanagerReachesPlugin: Prometheus scrapes two synthetic
// instances, one misbehaving; its rule fires; Alertmanager posts the real
// webhook to the plugin binary through the Grafana-like route with a
// service-account bearer token, and the plugin accepts it.
func TestRealAlertmanagerReachesPlugin(t *testing.T) {
	h, base := startPlugin(t, pluginhost.Settings{JSONData: []byte(`{}`)})
	_ = h

	var scrapes atomic.Int64
	target := func(value float64) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			scrapes.Add(1)
			fmt.Fprintf(w, "# TYPE demo_cpu_usage_percent gauge\ndemo_cpu_usage_percent %g\n", value)
		}))
	}
	good, bad := target(20), target(95)
	defer good.Close()
	defer bad.Close()

	am := services.Alertmanager(t, services.AlertmanagerConfig(base+pluginhost.ResourcePrefix+"webhook/ops", saToken))

	prom := services.Prometheus(t, services.PrometheusConfig(am.Port, "demo", strings.TrimPrefix(good.URL, "http://"), strings.TrimPrefix(bad.URL, "http://")),
		map[string]string{"rules.yml": `
groups:
- name: demo
  rules:
  - alert: HighCPU
    expr: demo_cpu_usage_percent > 80
    for: 2s
    labels:
      severity: critical
    annotations:
      summary: CPU usage above 80%
`})
	_ = prom

	ctx := context.Background()
	var got []map[string]any
	ok := services.WaitFor(ctx, 90*time.Second, func() bool {
		req, _ := http.NewRequest(http.MethodGet, base+pluginhost.ResourcePrefix+"recent", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer res.Body.Close()
		var body struct {
			Alerts []map[string]any `json:"alerts"`
		}
		if json.NewDecoder(res.Body).Decode(&body) != nil {
			return false
		}
		got = body.Alerts
		return len(got) > 0
	})
	if !ok {
		t.Fatalf("no webhook reached the plugin (targets scraped %d times)\nalertmanager log:\n%s", scrapes.Load(), am.Log())
	}
	a := got[0]
	alert := a["alert"].(map[string]any)
	labels := alert["labels"].(map[string]any)
	if a["receiver"] != "ops" || labels["alertname"] != "HighCPU" || labels["instance"] != strings.TrimPrefix(bad.URL, "http://") {
		t.Fatalf("unexpected alert: %v", a)
	}
	if gu, _ := alert["generatorURL"].(string); !strings.Contains(gu, "g0.expr=") {
		t.Fatalf("generatorURL without expression: %v", alert["generatorURL"])
	}
	if len(got) != 1 {
		t.Fatalf("the healthy instance alerted too: %v", got)
	}
	// Alertmanager recorded a successful delivery (the plugin answered 2xx).
	ok = services.WaitFor(ctx, 10*time.Second, func() bool {
		res, err := http.Get(am.URL + "/metrics")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(res.Body)
		return strings.Contains(buf.String(), `alertmanager_notifications_total{integration="webhook"`) &&
			!hasNonZero(buf.String(), `alertmanager_notifications_failed_total{integration="webhook"`)
	})
	if !ok {
		t.Fatalf("alertmanager reports failed webhook notifications:\n%s", am.Log())
	}
	if os.Getenv("ALERTCHART_E2E_VERBOSE") != "" {
		b, _ := json.MarshalIndent(got, "", "  ")
		t.Logf("plugin received:\n%s", b)
	}
}

func hasNonZero(metrics, prefix string) bool {
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, prefix) {
			f := strings.Fields(line)
			if len(f) > 0 && f[len(f)-1] != "0" {
				return true
			}
		}
	}
	return false
}
