package standalone

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/alertchart/alertchart/pkg/delivery"
	"github.com/alertchart/alertchart/pkg/delivery/queuetest"
)

// warnings records the server's Warn lines.
type warnings struct {
	log.Logger
	mu    sync.Mutex
	lines []string
}

func (w *warnings) Warn(msg string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines = append(w.lines, fmt.Sprint(append([]any{msg}, args...)...))
}

func (w *warnings) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

func newServer(t *testing.T, yaml string) (*Server, *warnings) {
	t.Helper()
	cfg, err := Parse([]byte(yaml), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	logs := &warnings{Logger: log.DefaultLogger}
	s, err := New(context.Background(), cfg, logs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.pipe.Close(context.Background()) })
	return s, logs
}

const webhook = `{"version":"4","status":"firing","receiver":"ops","alerts":[{"status":"firing",
	"labels":{"alertname":"A","instance":"x"},"startsAt":"2026-11-25T01:00:00Z"}]}`

// forged is a notification a page on another site tries to post.
const forged = `{"version":"4","status":"firing","receiver":"ops","alerts":[{"status":"firing",
	"labels":{"alertname":"ForgedCrossSite","instance":"x"},"startsAt":"2026-11-25T01:00:00Z"}]}`

func serve(h http.Handler, method, target string, hdr map[string]string, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Host = "127.0.0.1:8080"
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestTokenlessServerRefusesCrossSiteRequests: the inbox example has no
// webhookToken; a page on another site posted text/plain alerts to it.
func TestTokenlessServerRefusesCrossSiteRequests(t *testing.T) {
	inbox := t.TempDir()
	s, logs := newServer(t, fmt.Sprintf(`
delivery:
  dataDir: %s
channels:
  - name: box
    type: inbox
    dir: %s
`, queuetest.DataDir(t), inbox))
	if !strings.Contains(logs.String(), "SECURITY WARNING") || !strings.Contains(logs.String(), "webhookToken") {
		t.Fatalf("no loud warning without a token: %q", logs.String())
	}
	h := s.Handler()
	json := map[string]string{"Content-Type": "application/json"}
	cases := []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		body   string
		want   int
	}{
		{"text/plain from another site", "POST", "/webhook/ops", map[string]string{"Content-Type": "text/plain", "Origin": "https://evil.example"}, forged, 403},
		{"Sec-Fetch-Site cross-site", "POST", "/webhook/ops", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, forged, 403},
		{"Sec-Fetch-Site same-site (another port)", "POST", "/channels/box/test", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}, "", 403},
		{"Origin of another host", "POST", "/channels/box/test", map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:3000"}, "", 403},
		{"Origin null", "POST", "/channels/box/test", map[string]string{"Content-Type": "application/json", "Origin": "null"}, "", 403},
		{"text/plain without Origin", "POST", "/webhook/ops", map[string]string{"Content-Type": "text/plain"}, forged, 415},
		{"empty POST without JSON type", "POST", "/channels/box/test", nil, "", 415},
		{"form POST", "POST", "/deliveries/x/resend", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "", 415},
		{"Alertmanager", "POST", "/webhook/ops", json, webhook, 200},
		{"same-origin page", "POST", "/channels/box/test", map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:8080", "Sec-Fetch-Site": "same-origin"}, "", 200},
		{"link to the inbox from a chat", "GET", "/inbox", map[string]string{"Sec-Fetch-Site": "cross-site"}, "", 200},
	}
	for _, c := range cases {
		rec := serve(h, c.method, c.path, c.hdr, c.body)
		if rec.Code != c.want {
			t.Errorf("%s: %d, want %d: %s", c.name, rec.Code, c.want, rec.Body)
		}
	}
	// Alertmanager's notification and the same-origin test arrived; nothing
	// forged, and one channel test only.
	deadline := time.Now().Add(20 * time.Second)
	for {
		all, tests := "", 0
		files, _ := filepath.Glob(filepath.Join(inbox, "*.md"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			all += string(b)
			if strings.Contains(string(b), "HighCPUUsage") {
				tests++
			}
		}
		done := strings.Contains(all, "x") && tests > 0
		if done || time.Now().After(deadline) {
			if !done || strings.Contains(all, "ForgedCrossSite") || tests != 1 {
				t.Fatalf("%d test messages; inbox:\n%s", tests, all)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAllowedHosts(t *testing.T) {
	s, _ := newServer(t, fmt.Sprintf(`
server:
  allowedHosts: [alertchart.example.com, "127.0.0.1:8080", "[::1]"]
delivery:
  dataDir: %s
secureJsonData:
  webhookToken: tok
`, queuetest.DataDir(t)))
	h := s.Handler()
	for host, want := range map[string]int{
		"alertchart.example.com": 200, "ALERTCHART.example.com:443": 200, "127.0.0.1:8080": 200, "[::1]:8080": 200,
		"127.0.0.1:9999": 421, "rebind.evil.example:8080": 421, "": 421,
	} {
		rec := serve(h, "GET", "/health", map[string]string{"Host": host, "Authorization": "Bearer tok"}, "")
		if rec.Code != want {
			t.Errorf("Host %q: %d, want %d", host, rec.Code, want)
		}
	}
	if _, err := Parse([]byte("server:\n  allowedHosts: ['http://x/']\n"), env(nil)); err == nil || !strings.Contains(err.Error(), "server.allowedHosts[0]") {
		t.Fatalf("a URL in allowedHosts: %v", err)
	}
}

// TestServerTimeouts: a slow client cannot hold a connection open forever.
func TestServerTimeouts(t *testing.T) {
	s, logs := newServer(t, fmt.Sprintf("delivery:\n  dataDir: %s\nsecureJsonData:\n  webhookToken: tok\n", queuetest.DataDir(t)))
	if s.http.ReadHeaderTimeout <= 0 || s.http.ReadTimeout <= 0 || s.http.WriteTimeout <= 0 || s.http.IdleTimeout <= 0 {
		t.Fatalf("timeouts: %+v", s.http)
	}
	if strings.Contains(logs.String(), "SECURITY WARNING") {
		t.Fatalf("warning with a token: %s", logs.String())
	}
}

// TestDataDirAndDatabaseArePrivate: the queue's directory is 0700 and its
// database files 0600 — SQLite gives -wal and -shm the database's mode.
func TestDataDirAndDatabaseArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, _ := newServer(t, fmt.Sprintf("delivery:\n  dataDir: %s\nsecureJsonData:\n  webhookToken: tok\n", dir))
	rec := serve(s.Handler(), "POST", "/webhook/ops", map[string]string{"Content-Type": "application/json", "Authorization": "Bearer tok"}, webhook)
	if rec.Code != 200 {
		t.Fatalf("webhook: %d %s", rec.Code, rec.Body)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir: %v %v", fi.Mode(), err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "delivery.db*"))
	if len(files) < 2 {
		t.Fatalf("database files: %v", files)
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", f, fi.Mode().Perm())
		}
	}

	open := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse([]byte(fmt.Sprintf("delivery:\n  dataDir: %s\n", open)), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	var unsafe *delivery.UnsafeDataDirError
	if _, err := New(context.Background(), cfg, nil); !errors.As(err, &unsafe) {
		t.Fatalf("world-writable data dir: %v", err)
	}
	if b, _ := os.ReadDir(open); len(b) != 0 {
		t.Fatalf("files were created in the refused directory: %v", b)
	}
}
