// Package services starts the real servers the end-to-end tests use —
// Prometheus and Alertmanager from Debian's packages — on free loopback
// ports, stops them when the test ends and prints their logs when it fails.
// A missing binary fails the test with the install command (under CI=true it
// is never skipped).
package services

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Lookup finds a server binary by its candidate names, failing (or, outside
// CI, skipping) the test with the install hint when none is present.
func Lookup(t testing.TB, pkg string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		for _, dir := range []string{"/usr/bin", "/usr/sbin", "/usr/local/bin"} {
			p := filepath.Join(dir, n)
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	msg := fmt.Sprintf("%v not found: install it with `apt-get install -y %s` (.ci/run does)", names, pkg)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// FreePort returns a free loopback TCP port.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer is a goroutine-safe log buffer.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Process is a running server.
type Process struct {
	Name string
	URL  string
	Port int
	Dir  string
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
}

// Log returns what the server printed so far.
func (p *Process) Log() string { return p.log.String() }

// Start runs a server, registers its stop and its log dump on failure, and
// waits until url answers 200.
func Start(t testing.TB, name, bin string, args []string, dir string, port int, readyPath string) *Process {
	t.Helper()
	p := &Process{Name: name, Port: port, Dir: dir, URL: "http://127.0.0.1:" + strconv.Itoa(port), log: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("---- %s log ----\n%s", name, p.Log())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("%s exited during start-up:\n%s", name, p.Log())
		default:
		}
		res, err := http.Get(p.URL + readyPath)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s after 60s:\n%s", name, p.URL+readyPath, p.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Prometheus starts a real Prometheus with the given config (prometheus.yml
// content) and rule files (file name → content), written into a temp dir.
func Prometheus(t testing.TB, config string, rules map[string]string) *Process {
	t.Helper()
	return PrometheusOnPort(t, FreePort(t), config, rules)
}

// PrometheusOnPort is Prometheus on a port chosen beforehand (when another
// server must know Prometheus's URL before it starts).
func PrometheusOnPort(t testing.TB, port int, config string, rules map[string]string) *Process {
	t.Helper()
	bin := Lookup(t, "prometheus", "prometheus")
	dir := t.TempDir()
	write(t, dir, "prometheus.yml", config)
	for name, content := range rules {
		write(t, dir, name, content)
	}
	args := []string{
		"--config.file=" + filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
		"--web.external-url=http://127.0.0.1:" + strconv.Itoa(port) + "/",
		"--web.enable-lifecycle",
	}
	return Start(t, "prometheus", bin, args, dir, port, "/-/ready")
}

// Alertmanager starts a real Alertmanager with the given config.
func Alertmanager(t testing.TB, config string) *Process {
	t.Helper()
	bin := Lookup(t, "prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
	dir := t.TempDir()
	write(t, dir, "alertmanager.yml", config)
	port := FreePort(t)
	args := []string{
		"--config.file=" + filepath.Join(dir, "alertmanager.yml"),
		"--storage.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
		"--web.external-url=http://127.0.0.1:" + strconv.Itoa(port) + "/",
		// A single instance: no gossip port to collide with other tests.
		"--cluster.listen-address=",
	}
	return Start(t, "alertmanager", bin, args, dir, port, "/-/ready")
}

func write(t testing.TB, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// WaitFor polls cond every 100 ms until it is true or the timeout passes.
func WaitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
	return cond()
}

// PrometheusConfig is a prometheus.yml for tests: 1 s scrape and rule
// evaluation, rules.yml, alerts to the Alertmanager on amPort, and one job
// scraping the given host:port targets.
func PrometheusConfig(amPort int, job string, targets ...string) string {
	quoted := make([]string, len(targets))
	for i, t := range targets {
		quoted[i] = "'" + t + "'"
	}
	return fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
alerting:
  alertmanagers:
  - static_configs:
    - targets: ['127.0.0.1:%d']
rule_files: [rules.yml]
scrape_configs:
- job_name: %s
  static_configs:
  - targets: [%s]
`, amPort, job, strings.Join(quoted, ", "))
}

// AlertmanagerConfig is an alertmanager.yml for tests: every alert goes at
// once (group_wait 1s) to one webhook receiver posting to webhookURL with a
// bearer token, grouped by groupBy (default alertname).
func AlertmanagerConfig(webhookURL, bearer string, groupBy ...string) string {
	if len(groupBy) == 0 {
		groupBy = []string{"alertname"}
	}
	return fmt.Sprintf(`route:
  receiver: alertchart
  group_by: [%s]
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
receivers:
- name: alertchart
  webhook_configs:
  - url: %s
    send_resolved: true
    http_config:
      authorization:
        type: Bearer
        credentials: %s
`, strings.Join(groupBy, ", "), webhookURL, bearer)
}
