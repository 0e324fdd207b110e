// End-to-end tests of the standalone server binary (cmd/alertchart): a real
// Prometheus and Alertmanager deliver a charted notification to the inbox,
// bad configs fail with the field path before anything starts, and the
// bearer token guards the API.
package standalone

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alertchart/alertchart/test/services"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/alertchart once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "alertchart-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "alertchart")
		cmd := exec.Command("go", "build", "-o", binPath, "../../cmd/alertchart")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type server struct {
	url string
	log *bytes.Buffer
	mu  *sync.Mutex
}

func (s server) Log() string { s.mu.Lock(); defer s.mu.Unlock(); return s.log.String() }

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// start runs the server with a config (the listen address is filled in).
func start(t *testing.T, config string, env ...string) server {
	t.Helper()
	port := services.FreePort(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "alertchart.yaml")
	config = fmt.Sprintf("server:\n  listen: 127.0.0.1:%d\n", port) + config
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	s := server{url: fmt.Sprintf("http://127.0.0.1:%d", port), log: &bytes.Buffer{}, mu: &sync.Mutex{}}
	cmd := exec.Command(binary(t), "-config", path)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = lockedWriter{s.mu, s.log}, lockedWriter{s.mu, s.log}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("the server did not stop within 30 s of SIGINT")
		}
		if t.Failed() {
			t.Logf("---- alertchart log ----\n%s", s.Log())
		}
	})
	ok := services.WaitFor(context.Background(), 30*time.Second, func() bool {
		res, err := http.Get(s.url + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	if !ok {
		t.Fatalf("server not up:\n%s", s.Log())
	}
	return s
}

func TestStandaloneDeliversChartedNotificationToInbox(t *testing.T) {
	t0 := time.Now()
	target := func(bad bool) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v := 30 + 5*math.Sin(time.Since(t0).Seconds())
			if bad {
				v = 92 + 3*math.Sin(time.Since(t0).Seconds())
			}
			fmt.Fprintf(w, "# TYPE app_cpu_percent gauge\napp_cpu_percent %g\n", v)
		}))
	}
	good, bad := target(false), target(true)
	defer good.Close()
	defer bad.Close()
	host := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }

	// The server must be up before Alertmanager posts, and Prometheus must
	// be known to the server: reserve Prometheus's port first.
	promPort := services.FreePort(t)
	inbox := filepath.Join(t.TempDir(), "inbox")
	srv := start(t, fmt.Sprintf(`
prometheus:
  url: http://127.0.0.1:%d
  scrapeInterval: 1s
chart:
  minWindow: 1m
  language: en
delivery:
  dataDir: %s
channels:
  - name: inbox
    type: inbox
    dir: %s
routes:
  - receiver: team
    channels: [inbox]
secureJsonData:
  webhookToken: ${AC_TOKEN}
`, promPort, t.TempDir(), inbox), "AC_TOKEN=s3cret-token")

	am := services.Alertmanager(t, services.AlertmanagerConfig(srv.url+"/webhook/team", "s3cret-token", "alertname", "instance"))
	services.PrometheusOnPort(t, promPort, services.PrometheusConfig(am.Port, "app", host(good), host(bad)), map[string]string{"rules.yml": `
groups:
- name: app
  rules:
  - alert: AppCPUHigh
    expr: app_cpu_percent > 80
    for: 3s
    annotations:
      summary: CPU above 80%
      chart_unit: percent
`})

	var md, img string
	ok := services.WaitFor(context.Background(), 120*time.Second, func() bool {
		pngs, _ := filepath.Glob(filepath.Join(inbox, "*.png"))
		if len(pngs) == 0 {
			return false
		}
		img = pngs[0]
		mds, _ := filepath.Glob(filepath.Join(inbox, "*.md"))
		for _, m := range mds {
			b, _ := os.ReadFile(m)
			if strings.Contains(string(b), filepath.Base(img)) {
				md = m
			}
		}
		return md != ""
	})
	if !ok {
		t.Fatalf("no charted notification in the inbox\nalertmanager log:\n%s", am.Log())
	}
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != 1000 || cfg.Height != 500 {
		t.Fatalf("chart %s: %v %+v", img, err, cfg)
	}
	texts, _ := filepath.Glob(filepath.Join(inbox, "*.md"))
	all := ""
	for _, m := range texts {
		b, _ := os.ReadFile(m)
		all += string(b)
	}
	if !strings.Contains(all, "AppCPUHigh") || !strings.Contains(all, host(bad)) || strings.Contains(all, host(good)) {
		t.Fatalf("inbox text does not name exactly the abnormal instance:\n%s", all)
	}

	// The records say how the chart was made.
	get := func(path string, auth bool) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.url+path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer s3cret-token")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := get("/deliveries", true)
	var ds struct {
		Deliveries []struct {
			Status   string `json:"status"`
			HasChart bool   `json:"hasChart"`
			Channels []struct {
				Renderer string `json:"renderer"`
			} `json:"channels"`
		} `json:"deliveries"`
	}
	if err := json.NewDecoder(res.Body).Decode(&ds); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	found := false
	for _, d := range ds.Deliveries {
		if d.HasChart && len(d.Channels) > 0 && d.Channels[0].Renderer == "native" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no delivery record with a native chart: %+v", ds)
	}
	// The inbox page lists it; the API needs the token, /healthz and /metrics do not.
	res = get("/inbox", false)
	var page bytes.Buffer
	_, _ = page.ReadFrom(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(page.String(), filepath.Base(img)) {
		t.Fatalf("inbox page %d does not show %s", res.StatusCode, filepath.Base(img))
	}
	if res := get("/deliveries", false); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API without token: %d", res.StatusCode)
	}
	res = get("/metrics", false)
	var metrics bytes.Buffer
	_, _ = metrics.ReadFrom(res.Body)
	res.Body.Close()
	if !strings.Contains(metrics.String(), "alertchart_") {
		t.Fatalf("no alertchart metrics:\n%.2000s", metrics.String())
	}
}

func TestStandaloneRejectsBadConfigBeforeStarting(t *testing.T) {
	cases := map[string]string{
		"chart:\n  renderer: gpu\n": "chart.renderer",
		"channels:\n  - name: ops\n    type: wecom\nroutes:\n  - receiver: ops\n    channels: [ops]\n": "channels ops",
		"routes:\n  - receiver: ops\n    channels: [nobody]\n":                                         "routes[0].channels[0]",
		"secureJsonData:\n  channels.ops.url: ${UNSET_VAR_FOR_TEST}\n":                                 "UNSET_VAR_FOR_TEST",
		"prometheus:\n  url: ftp://x\n":                                                                "prometheus.url",
	}
	for config, want := range cases {
		port := freePort(t)
		path := filepath.Join(t.TempDir(), "c.yaml")
		full := fmt.Sprintf("server:\n  listen: 127.0.0.1:%d\ndelivery:\n  dataDir: %s\n%s", port, t.TempDir(), config)
		if err := os.WriteFile(path, []byte(full), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(binary(t), "-config", path)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("%q: the server started", config)
			continue
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("%q: error does not name %q:\n%s", config, want, out)
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond); err == nil {
			c.Close()
			t.Errorf("%q: something listens on the port of a rejected config", config)
		}
	}
	// -check validates without starting.
	path := filepath.Join(t.TempDir(), "ok.yaml")
	_ = os.WriteFile(path, []byte("channels:\n  - name: box\n    type: inbox\n    dir: /tmp/x\n"), 0o644)
	out, err := exec.Command(binary(t), "-config", path, "-check").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("-check: %v %s", err, out)
	}
	// -check builds the channels too: a WeCom channel without its URL fails.
	_ = os.WriteFile(path, []byte("channels:\n  - name: ops\n    type: wecom\n"), 0o644)
	out, err = exec.Command(binary(t), "-config", path, "-check").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "channels ops") {
		t.Fatalf("-check accepted a channel that cannot be built: %v %s", err, out)
	}
}

func freePort(t *testing.T) int { return services.FreePort(t) }
