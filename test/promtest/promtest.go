// Package promtest runs a real Prometheus server (the Debian package's
// /usr/bin/prometheus) for integration tests, with
// synthetic scrape targets served from the test process.
//
// It adds Prometheus configuration building (jobs, targets, external
// labels, an Alertmanager) on top of test/services, which runs the server.
package promtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/test/services"
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

// Start runs Prometheus (through test/services, which also finds the
// binary and fails or skips when it is missing) and waits until it is ready.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.ScrapeInterval == 0 {
		opts.ScrapeInterval = time.Second
	}
	if opts.EvalInterval == 0 {
		opts.EvalInterval = time.Second
	}
	p := services.Prometheus(t, config(opts), map[string]string{"rules.yml": opts.Rules})
	return &Server{URL: p.URL, Dir: p.Dir}
}

// FreePort returns a free loopback port.
func FreePort(t testing.TB) int { return services.FreePort(t) }

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
