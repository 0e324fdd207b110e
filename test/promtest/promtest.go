// Package promtest runs a real Prometheus server (the Debian package's
// /usr/bin/prometheus, or $PROMETHEUS_BIN) for integration tests, with
// synthetic scrape targets served from the test process.
//
// Start picks free loopback ports, writes the configuration and rule files
// to a temporary directory, waits until the server is ready and stops it
// when the test ends. The server's log is printed when the test fails. A
// missing binary fails the test when CI=true and skips it otherwise.
package promtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Target is one scrape target of a job. Addr is host:port; Labels are
// static target labels (e.g. instance="bad" for readable assertions).
type Target struct {
	Addr   string
	Labels map[string]string
}

// Options configure the server.
type Options struct {
	// Jobs maps a job name to its targets.
	Jobs map[string][]Target
	// Rules is the content of one rule file (YAML), optional.
	Rules string
	// ScrapeInterval and EvalInterval default to 1s.
	ScrapeInterval time.Duration
	EvalInterval   time.Duration
	// ExternalLabels become global.external_labels.
	ExternalLabels map[string]string
	// Alertmanager is host:port of an Alertmanager (or a fake one) that
	// receives the alerts, optional.
	Alertmanager string
}

// Server is a running Prometheus.
type Server struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:39123.
	URL string
	Dir string
}

// Binary returns the Prometheus binary to use, or "" when there is none.
func Binary() string {
	if b := os.Getenv("PROMETHEUS_BIN"); b != "" {
		return b
	}
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/prometheus"); err == nil {
		return "/usr/bin/prometheus"
	}
	return ""
}

// FreePort returns a free loopback port.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("no free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// lockedBuffer collects the server's output from its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start runs Prometheus and waits until it is ready.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("prometheus binary not found: install the Debian package (apt-get install prometheus) or set PROMETHEUS_BIN")
		}
		t.Skip("prometheus binary not found (apt-get install prometheus, or set PROMETHEUS_BIN)")
	}
	if opts.ScrapeInterval == 0 {
		opts.ScrapeInterval = time.Second
	}
	if opts.EvalInterval == 0 {
		opts.EvalInterval = time.Second
	}
	dir := t.TempDir()
	cfg := config(opts)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(opts.Rules), 0o600); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--web.external-url="+url+"/",
		"--log.level=info",
	)
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cancel()
			<-done
		}
		cancel()
		if t.Failed() {
			t.Logf("prometheus configuration:\n%s\nprometheus log:\n%s", cfg, logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("prometheus exited during start-up:\n%s", logs.String())
		default:
		}
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 30s:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &Server{URL: url, Dir: dir}
}

func config(o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n",
		dur(o.ScrapeInterval), dur(o.ScrapeInterval), dur(o.EvalInterval))
	if len(o.ExternalLabels) > 0 {
		b.WriteString("  external_labels:\n")
		for _, k := range sortedKeys(o.ExternalLabels) {
			fmt.Fprintf(&b, "    %s: %q\n", k, o.ExternalLabels[k])
		}
	}
	b.WriteString("rule_files: [rules.yml]\n")
	if o.Alertmanager != "" {
		fmt.Fprintf(&b, "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [%q]\n", o.Alertmanager)
	}
	b.WriteString("scrape_configs:\n")
	jobs := make([]string, 0, len(o.Jobs))
	for j := range o.Jobs {
		jobs = append(jobs, j)
	}
	sort.Strings(jobs)
	for _, j := range jobs {
		fmt.Fprintf(&b, "  - job_name: %q\n    static_configs:\n", j)
		for _, tg := range o.Jobs[j] {
			fmt.Fprintf(&b, "      - targets: [%q]\n", tg.Addr)
			if len(tg.Labels) > 0 {
				b.WriteString("        labels:\n")
				for _, k := range sortedKeys(tg.Labels) {
					fmt.Fprintf(&b, "          %s: %q\n", k, tg.Labels[k])
				}
			}
		}
	}
	return b.String()
}

// dur writes a duration in Prometheus' format (whole milliseconds or more).
func dur(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// MetricsTarget serves a Prometheus text exposition produced by body on
// /metrics; it is closed when the test ends. It returns the host:port.
func MetricsTarget(t testing.TB, body func() string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write([]byte(body()))
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// WaitFor polls cond every 250ms until it holds or timeout passes.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
