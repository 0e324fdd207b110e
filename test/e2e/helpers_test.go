package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"

	fakewecom "github.com/alertchart/alertchart/test/fakes/wecom"
	"github.com/alertchart/alertchart/test/pluginhost"
)

// wecomRobotURL is what a user pastes into the channel's secret URL field;
// the channel's apiUrl rebases it onto the fake.
const wecomRobotURL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=test-key"

// lockedLog collects the plugin's stderr, written from go-plugin goroutines.
type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Tokens the Grafana-like bridge accepts, and the identities they resolve
// to: Alertmanager's service account (role Viewer, as the README sets it
// up) and an org Admin's, for everything else the tests read.
const (
	saToken    = "glsa_e2e_test_token"
	adminToken = "glsa_e2e_admin_token"
)

func hostUsers() map[string]*pluginv2.User {
	return map[string]*pluginv2.User{saToken: pluginhost.AlertmanagerUser, adminToken: pluginhost.AdminUser}
}

// withAlertmanager names Alertmanager's service account in
// webhook.allowedUsers, as the README's set-up does, unless the test's
// settings say otherwise (or are not a JSON object).
func withAlertmanager(jsonData []byte) []byte {
	var m map[string]any
	if json.Unmarshal(jsonData, &m) != nil || m == nil {
		return jsonData
	}
	wh, _ := m["webhook"].(map[string]any)
	if wh == nil {
		wh = map[string]any{}
	}
	if _, ok := wh["allowedUsers"]; !ok {
		wh["allowedUsers"] = []string{pluginhost.AlertmanagerUser.Login}
	}
	m["webhook"] = wh
	b, err := json.Marshal(m)
	if err != nil {
		return jsonData
	}
	return b
}

// launch starts the built plugin on dataDir (GF_PLUGIN_DATA_DIR, as Grafana
// passes data_dir from the plugin's ini section) with its bridge; it is
// stopped when the test ends and its log printed if the test failed.
func launch(t *testing.T, name, dataDir string, s pluginhost.Settings) (*pluginhost.Host, string) {
	t.Helper()
	bin, err := pluginhost.Binary()
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedLog{}
	s.JSONData = withAlertmanager(s.JSONData)
	h, err := pluginhost.Start(pluginhost.Options{Binary: bin, Users: hostUsers(), Log: logs,
		Env: []string{"GF_PLUGIN_DATA_DIR=" + dataDir}}, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Kill()
		if t.Failed() {
			t.Logf("---- %s log ----\n%s", name, logs.String())
		}
	})
	base, err := h.ListenAndServe()
	if err != nil {
		t.Fatal(err)
	}
	return h, base + pluginhost.ResourcePrefix
}

// call sends one request through the bridge and decodes a JSON answer into
// v (when v is not nil): webhooks with Alertmanager's service-account
// token, everything else with an Admin's.
func call(method, url string, body []byte, v any) (int, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tokenFor(url))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, err
	}
	if v != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, v); err != nil {
			return res.StatusCode, fmt.Errorf("answer %d is not JSON: %v: %.300s", res.StatusCode, err, raw)
		}
	}
	return res.StatusCode, nil
}

// tokenFor is the token a request to url is made with.
func tokenFor(url string) string {
	if strings.Contains(url, pluginhost.ResourcePrefix+"webhook") {
		return saToken
	}
	return adminToken
}

// Delivery is the part of a GET deliveries record the tests look at.
type Delivery struct {
	ID       string `json:"id"`
	Receiver string `json:"receiver"`
	Status   string `json:"status"`
	Alerts   []struct {
		Fingerprint string `json:"fingerprint"`
		Alertname   string `json:"alertname"`
		Status      string `json:"status"`
		Instance    string `json:"instance"`
	} `json:"alerts"`
	Channels []struct {
		Channel        string  `json:"channel"`
		Type           string  `json:"type"`
		Status         string  `json:"status"`
		LastError      string  `json:"lastError"`
		TextSentAt     *string `json:"textSentAt"`
		ChartSentAt    *string `json:"chartSentAt"`
		Renderer       string  `json:"renderer"`
		FallbackReason string  `json:"fallbackReason"`
		ChartNote      string  `json:"chartNote"`
	} `json:"channels"`
	HasChart bool `json:"hasChart"`
}

func listDeliveries(base string) ([]Delivery, error) {
	var body struct {
		Deliveries []Delivery `json:"deliveries"`
	}
	status, err := call(http.MethodGet, base+"deliveries?limit=500", nil, &body)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("GET deliveries: %d", status)
	}
	return body.Deliveries, nil
}

// waitDelivery polls GET deliveries until one for alertname reaches a final
// state with its chart step done (sent, or failed/partial), and returns it.
func waitDelivery(t *testing.T, base, alertname string, timeout time.Duration, done func(Delivery) bool) Delivery {
	t.Helper()
	var last []Delivery
	var lastErr error
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		last, lastErr = listDeliveries(base)
		for _, d := range last {
			if len(d.Alerts) > 0 && d.Alerts[0].Alertname == alertname && done(d) {
				return d
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	b, _ := json.MarshalIndent(last, "", "  ")
	t.Fatalf("no finished delivery for %s within %s (last error %v):\n%s", alertname, timeout, lastErr, b)
	return Delivery{}
}

// wecomMessage is an accepted WeCom message, decoded.
type wecomMessage struct {
	Type  string
	Text  string // markdown or text content
	Image []byte
}

func wecomMessages(f *fakewecom.Server) []wecomMessage {
	var out []wecomMessage
	for _, m := range f.Accepted() {
		var body struct {
			Markdown struct{ Content string } `json:"markdown"`
			Text     struct{ Content string } `json:"text"`
		}
		_ = json.Unmarshal(m.Body, &body)
		out = append(out, wecomMessage{Type: m.MsgType, Text: body.Markdown.Content + body.Text.Content, Image: m.Image})
	}
	return out
}

func dumpMessages(msgs []wecomMessage) string {
	var b strings.Builder
	for i, m := range msgs {
		if m.Type == "image" {
			fmt.Fprintf(&b, "#%d image %d bytes\n", i, len(m.Image))
		} else {
			fmt.Fprintf(&b, "#%d %s:\n%s\n", i, m.Type, m.Text)
		}
	}
	return b.String()
}

// saveArtifact writes what a user would see (chart, message) into
// $ALERTCHART_E2E_ARTIFACTS when set, to look at by eye.
func saveArtifact(t *testing.T, name string, data []byte) {
	dir := os.Getenv("ALERTCHART_E2E_ARTIFACTS")
	if dir == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Logf("artifact %s: %v", name, err)
	}
}

// waitUntil polls cond until it holds or timeout passes.
func waitUntil(timeout time.Duration, cond func() bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		if cond() {
			return true
		}
		select {
		case <-ctx.Done():
			return cond()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
