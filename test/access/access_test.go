// Package access tests who may call what, against the BUILT plugin binary
// launched the way Grafana launches it (go-plugin, SDK handshake, gRPC),
// with the caller in PluginContext.User as Grafana puts it there: every
// route for callers none / Viewer / Editor / Admin / Alertmanager's service
// account, and a real Alertmanager set up exactly as the README says.
package access

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"gopkg.in/yaml.v3"

	"github.com/alertchart/alertchart/pkg/resources"
	fakeprom "github.com/alertchart/alertchart/test/fakes/prometheus"
	fakewecom "github.com/alertchart/alertchart/test/fakes/wecom"
	"github.com/alertchart/alertchart/test/pluginhost"
	"github.com/alertchart/alertchart/test/services"
)

// Tokens of the Grafana-like bridge and the users Grafana resolves them to.
const (
	amToken     = "glsa_alertmanager_access_test"
	adminToken  = "glsa_admin_access_test"
	editorToken = "glsa_editor_access_test"
	viewerToken = "glsa_viewer_access_test"
)

var users = map[string]*pluginv2.User{
	amToken: pluginhost.AlertmanagerUser, adminToken: pluginhost.AdminUser,
	editorToken: pluginhost.EditorUser, viewerToken: pluginhost.ViewerUser,
}

// readme is the README's "Point Alertmanager at it" set-up: the AlertChart
// jsonData of step 2 and the Alertmanager receivers of step 3.
type readme struct {
	jsonData  map[string]any
	receivers []any
	saLogin   string
}

func readREADME(t *testing.T) readme {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "### Point Alertmanager at it")
	if i < 0 {
		t.Fatal(`README has no "Point Alertmanager at it"`)
	}
	text = text[i:]
	text = text[:strings.Index(text[4:], "\n### ")+4]
	var r readme
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(text, -1) {
		block := dedent(m[1])
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(block), &doc); err != nil {
			continue // fragments (the optional token's lines)
		}
		if js, ok := doc["jsonData"].(map[string]any); ok && r.jsonData == nil {
			r.jsonData = js
		}
		if rcv, ok := doc["receivers"].([]any); ok && r.receivers == nil {
			r.receivers = rcv
		}
	}
	if r.jsonData == nil || r.receivers == nil {
		t.Fatalf("README's set-up not found (jsonData %v, receivers %v)", r.jsonData, r.receivers)
	}
	if m := regexp.MustCompile(`\*\*\x60(sa-[^\x60]+)\x60\*\*`).FindStringSubmatch(text); m != nil {
		r.saLogin = m[1]
	}
	return r
}

// dedent removes the indentation of a code block inside a list item.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	indent := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " "))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	for i, l := range lines {
		if len(l) >= indent {
			lines[i] = l[indent:]
		}
	}
	return strings.Join(lines, "\n")
}

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

// world is a running plugin with a fake Prometheus (one rule, one series)
// and a WeCom robot fake as its channel.
type world struct {
	host  *pluginhost.Host
	base  string // the bridge's resource URL prefix
	prom  *fakeprom.Server
	robot *fakewecom.Server
}

const expr = `cpu_percent > 80`

func start(t *testing.T, r readme) *world {
	t.Helper()
	prom := fakeprom.New(t)
	prom.Lock()
	prom.Rules = []fakeprom.Rule{{Group: "node", Name: "HighCPU", Query: expr, For: time.Minute,
		Labels: map[string]string{"severity": "critical"}}}
	prom.Matrix[`cpu_percent{instance="node-2:9100",job="node"}`] = []fakeprom.Series{{
		Labels: map[string]string{"__name__": "cpu_percent", "instance": "node-2:9100", "job": "node"},
		Value:  func(t time.Time) float64 { return 90 + float64(t.Unix()%5) },
	}}
	prom.Unlock()
	robot := fakewecom.New()
	t.Cleanup(robot.Close)

	js := map[string]any{}
	for k, v := range r.jsonData { // the README's part
		js[k] = v
	}
	js["prometheus"] = map[string]any{"url": prom.URL}
	js["chart"] = map[string]any{"language": "en", "renderer": "native"}
	js["channels"] = []any{map[string]any{"name": "ops-wecom", "type": "wecom", "apiUrl": robot.URL}}
	js["routes"] = []any{map[string]any{"receiver": "ops", "channels": []string{"ops-wecom"}}}
	jsonData, err := json.Marshal(js)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := pluginhost.Binary()
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedLog{}
	h, err := pluginhost.Start(pluginhost.Options{Binary: bin, Users: users, Log: logs,
		Env: []string{"GF_PLUGIN_DATA_DIR=" + filepath.Join(t.TempDir(), "alertchart")}},
		pluginhost.Settings{JSONData: jsonData,
			Secure: map[string]string{"channels.ops-wecom.url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + robot.Key}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Kill()
		if t.Failed() {
			t.Logf("---- plugin log ----\n%s", logs.String())
		}
	})
	base, err := h.ListenAndServe()
	if err != nil {
		t.Fatal(err)
	}
	return &world{host: h, base: base + pluginhost.ResourcePrefix, prom: prom, robot: robot}
}

func payload(alertname string) []byte {
	return []byte(fmt.Sprintf(`{"version":"4","status":"firing","receiver":"ops","groupKey":"{}:{alertname=\"%[1]s\"}",
	"externalURL":"http://alertmanager:9093","alerts":[{"status":"firing",
	"labels":{"alertname":%[1]q,"instance":"node-2:9100","job":"node","severity":"critical"},
	"annotations":{"summary":"CPU high"},"startsAt":%[2]q,
	"generatorURL":"http://prom/graph?g0.expr=cpu_percent+%%3E+80&g0.tab=1"}]}`,
		alertname, time.Now().Add(-3*time.Minute).UTC().Format(time.RFC3339)))
}

// wecomTexts are the texts the robot accepted.
func wecomTexts(r *fakewecom.Server) string {
	var b strings.Builder
	for _, m := range r.Accepted() {
		b.Write(m.Body)
		b.WriteByte('\n')
	}
	return b.String()
}

// httpCall goes through the Grafana-like bridge with a token.
func httpCall(t *testing.T, method, url, token string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	return res.StatusCode, buf.Bytes()
}

// firstDelivery waits for a delivery of alertname that was sent with its chart.
func firstDelivery(t *testing.T, w *world, alertname string) (id, fingerprint string) {
	t.Helper()
	var last []byte
	ok := services.WaitFor(context.Background(), 60*time.Second, func() bool {
		st, body := httpCall(t, http.MethodGet, w.base+"deliveries", adminToken, nil)
		last = body
		if st != 200 {
			return false
		}
		var ans struct {
			Deliveries []struct {
				ID       string `json:"id"`
				Status   string `json:"status"`
				HasChart bool   `json:"hasChart"`
				Alerts   []struct {
					Alertname   string `json:"alertname"`
					Fingerprint string `json:"fingerprint"`
				} `json:"alerts"`
			} `json:"deliveries"`
		}
		_ = json.Unmarshal(body, &ans)
		for _, d := range ans.Deliveries {
			if len(d.Alerts) > 0 && d.Alerts[0].Alertname == alertname && d.Status == "sent" && d.HasChart {
				id, fingerprint = d.ID, d.Alerts[0].Fingerprint
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("no sent delivery with a chart for %s: %s\nrobot got:\n%s", alertname, last, wecomTexts(w.robot))
	}
	return id, fingerprint
}

// TestEveryRouteForEveryCaller calls every route of the API as each caller
// — through gRPC exactly as Grafana's CallResource does, with the caller in
// PluginContext.User — and checks each answer: 200 for the callers the
// route allows, 403 for the others with a body that names the role needed
// and carries none of the route's data.
func TestEveryRouteForEveryCaller(t *testing.T) {
	r := readREADME(t)
	w := start(t, r)
	ctx := context.Background()
	// Data to be denied: a delivery with its chart.
	if st, body := httpCall(t, http.MethodPost, w.base+"webhook/ops", amToken, payload("HighCPU")); st != 200 {
		t.Fatalf("webhook as Alertmanager: %d %s", st, body)
	}
	id, fp := firstDelivery(t, w, "HighCPU")
	secrets := []string{id, fp, "node-2", "HighCPU", "cpu_percent", w.prom.URL, "test-key", "ops-wecom"}

	callers := []struct {
		name string
		user *pluginv2.User
	}{{"none", nil}, {"Viewer", pluginhost.ViewerUser}, {"Editor", pluginhost.EditorUser},
		{"Admin", pluginhost.AdminUser}, {"Alertmanager", pluginhost.AlertmanagerUser}}
	allowed := func(a resources.Access, caller string) bool {
		switch a {
		case resources.AccessAlertmanager:
			return caller == "Alertmanager"
		case resources.AccessViewer:
			return caller != "none"
		case resources.AccessEditor:
			return caller == "Editor" || caller == "Admin"
		}
		return caller == "Admin"
	}
	for _, rt := range resources.Routes() {
		for _, c := range callers {
			t.Run(rt.Method+" "+rt.Path+" as "+c.name, func(t *testing.T) {
				path := strings.NewReplacer("{receiver}", "ops", "{id}", id, "{name}", "ops-wecom").Replace(rt.Path)
				path = strings.TrimPrefix(path, "/")
				if strings.HasSuffix(path, "/chart") {
					path += "?fingerprint=" + fp
				}
				var body []byte
				if rt.Body != "" {
					body = payload("HighCPU")
				}
				hdr := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json, text/plain, */*"},
					"X-Grafana-Org-Id": {"1"}}
				res, err := w.host.CallAs(ctx, c.user, rt.Method, path, hdr, body)
				if err != nil {
					t.Fatal(err)
				}
				if allowed(rt.Access, c.name) {
					if res.Status != http.StatusOK {
						t.Fatalf("status %d, want 200: %.300s", res.Status, res.Body)
					}
					return
				}
				if res.Status != http.StatusForbidden {
					t.Fatalf("status %d, want 403: %.300s", res.Status, res.Body)
				}
				var m map[string]string
				if err := json.Unmarshal(res.Body, &m); err != nil || len(m) != 2 || m["requiredRole"] != rt.Access.String() ||
					!strings.Contains(m["error"], "needs the "+rt.Access.String()) && rt.Access != resources.AccessAlertmanager {
					t.Fatalf("403 body: %s", res.Body)
				}
				for _, s := range secrets {
					if strings.Contains(string(res.Body), s) {
						t.Fatalf("403 carries %q: %s", s, res.Body)
					}
				}
			})
		}
	}
	// Health: everyone with a role gets 200, only the Admin the checks.
	for _, c := range callers[1:] {
		res, err := w.host.CallAs(ctx, c.user, http.MethodGet, "health", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var h struct {
			Detailed bool              `json:"detailed"`
			Checks   []json.RawMessage `json:"checks"`
		}
		_ = json.Unmarshal(res.Body, &h)
		if admin := c.name == "Admin"; h.Detailed != admin || (len(h.Checks) > 0) != admin {
			t.Errorf("health for %s: %s", c.name, res.Body)
		}
		if c.name != "Admin" && strings.Contains(string(res.Body), w.prom.URL) {
			t.Errorf("health for %s names the Prometheus URL: %s", c.name, res.Body)
		}
	}
}

// TestViewerCannotActAndAlertmanagerDelivers: a Viewer, through Grafana's
// resource route with their own token, cannot send, resend, read records or
// charts, or run a query — while a real Alertmanager configured with the
// README's snippets, posting with its service account's token from a
// credentials file, still delivers to the chat.
func TestViewerCannotActAndAlertmanagerDelivers(t *testing.T) {
	r := readREADME(t)
	if r.saLogin != pluginhost.AlertmanagerUser.Login {
		t.Fatalf("README names the service account %q; Grafana resolves the token of %q to %q",
			r.saLogin, "alertmanager", pluginhost.AlertmanagerUser.Login)
	}
	w := start(t, r)

	// Alertmanager, configured as the README says: its receivers, with
	// Grafana's address and the token file put where this test has them.
	tokenFile := filepath.Join(t.TempDir(), "grafana-sa-token")
	if err := os.WriteFile(tokenFile, []byte(amToken), 0o600); err != nil {
		t.Fatal(err)
	}
	rcv, err := yaml.Marshal(map[string]any{"receivers": r.receivers})
	if err != nil {
		t.Fatal(err)
	}
	grafanaURL := strings.TrimSuffix(w.base, pluginhost.ResourcePrefix)
	receivers := strings.NewReplacer("http://grafana:3000", grafanaURL, "/etc/alertmanager/grafana-sa-token", tokenFile).Replace(string(rcv))
	if !strings.Contains(receivers, tokenFile) || !strings.Contains(receivers, grafanaURL) {
		t.Fatalf("README's receivers changed shape:\n%s", receivers)
	}
	var name string
	for _, x := range r.receivers {
		name, _ = x.(map[string]any)["name"].(string)
	}
	am := services.Alertmanager(t, fmt.Sprintf("route:\n  receiver: %s\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 5s\n  repeat_interval: 1h\n%s", name, receivers))

	// A firing alert, as Prometheus would send it.
	alerts := fmt.Sprintf(`[{"labels":{"alertname":"HighCPU","instance":"node-2:9100","job":"node","severity":"critical"},
		"annotations":{"summary":"CPU high"},"startsAt":%q,"generatorURL":"http://prom/graph?g0.expr=cpu_percent+%%3E+80&g0.tab=1"}]`,
		time.Now().Add(-2*time.Minute).UTC().Format(time.RFC3339))
	res, err := http.Post(am.URL+"/api/v2/alerts", "application/json", strings.NewReader(alerts))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("alertmanager took the alert with %d", res.StatusCode)
	}
	id, fp := firstDelivery(t, w, "HighCPU")
	if texts := wecomTexts(w.robot); !strings.Contains(texts, "HighCPU") || !strings.Contains(texts, "node-2:9100") {
		t.Fatalf("the chat did not get the alert:\n%s\nalertmanager log:\n%s", texts, am.Log())
	}

	// Now the Viewer.
	sent := len(w.robot.Accepted())
	rules, ranges := w.prom.RulesRequests(), w.prom.RangeRequests()
	for _, c := range []struct{ method, path string }{
		{"POST", "channels/ops-wecom/test"},
		{"POST", "deliveries/" + id + "/resend"},
		{"GET", "deliveries"},
		{"GET", "deliveries/" + id},
		{"GET", "deliveries/" + id + "/chart?fingerprint=" + fp},
		{"GET", "recent"},
		{"POST", "preview"},
		{"POST", "explain"},
		{"POST", "webhook/ops"},
	} {
		var body []byte
		if c.method == "POST" && !strings.Contains(c.path, "/") {
			body = payload("ForgedByViewer")
		}
		if c.path == "webhook/ops" {
			body = payload("ForgedByViewer")
		}
		st, ans := httpCall(t, c.method, w.base+c.path, viewerToken, body)
		if st != http.StatusForbidden {
			t.Errorf("%s %s as Viewer: %d %s", c.method, c.path, st, ans)
		}
		if bytes.Contains(ans, []byte(id)) || bytes.Contains(ans, []byte("node-2")) {
			t.Errorf("%s %s: the 403 carries data: %s", c.method, c.path, ans)
		}
	}
	time.Sleep(2 * time.Second) // anything wrongly queued would be sent by now
	if n := len(w.robot.Accepted()); n != sent {
		t.Errorf("the Viewer's requests made the robot send %d more message(s):\n%s", n-sent, wecomTexts(w.robot))
	}
	if strings.Contains(wecomTexts(w.robot), "ForgedByViewer") {
		t.Error("the Viewer's forged alert reached the chat")
	}
	if w.prom.RulesRequests() != rules || w.prom.RangeRequests() != ranges {
		t.Errorf("the Viewer's requests queried Prometheus (rules %d→%d, ranges %d→%d)",
			rules, w.prom.RulesRequests(), ranges, w.prom.RangeRequests())
	}
	// Alertmanager saw only successes.
	mres, err := http.Get(am.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var metrics bytes.Buffer
	_, _ = metrics.ReadFrom(mres.Body)
	mres.Body.Close()
	for _, line := range strings.Split(metrics.String(), "\n") {
		if strings.HasPrefix(line, `alertmanager_notifications_failed_total{integration="webhook"`) && !strings.HasSuffix(line, " 0") {
			t.Errorf("alertmanager reports failed webhooks: %s\n%s", line, am.Log())
		}
	}
}
