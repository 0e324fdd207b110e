package plugin

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/alertchart/alertchart/pkg/delivery/queuetest"
	"github.com/alertchart/alertchart/pkg/pipeline"
	"github.com/alertchart/alertchart/pkg/settings"
)

// collect is a CallResourceResponseSender that keeps the answer.
type collect struct {
	status  int
	headers map[string][]string
	body    []byte
}

func (c *collect) Send(r *backend.CallResourceResponse) error {
	if c.status == 0 {
		c.status = r.Status
		c.headers = r.Headers
	}
	c.body = append(c.body, r.Body...)
	return nil
}

func newTestApp(t *testing.T, jsonData string, secure map[string]string) *App {
	t.Helper()
	inst, err := NewApp(context.Background(), backend.AppInstanceSettings{JSONData: []byte(jsonData),
		DecryptedSecureJSONData: secure, Updated: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	app := inst.(*App)
	t.Cleanup(app.Dispose)
	return app
}

func pluginContext(user *backend.User) backend.PluginContext {
	return backend.PluginContext{OrgID: 1, PluginID: PluginID, User: user}
}

var (
	adminUser  = &backend.User{Login: "admin", Name: "admin", Email: "admin@localhost", Role: "Admin"}
	viewerUser = &backend.User{Login: "viewer", Name: "Viewer", Role: "Viewer"}
	amUser     = &backend.User{Login: "sa-1-alertmanager", Name: "alertmanager", Role: "Viewer"}
)

// TestConfigPageSendTestReachesTheChannel drives the exact request the
// config page's "Send test notification" button makes, as Grafana forwards
// it to the plugin: getBackendSrv().post(url) with no data sends
// content-type application/json and accept, and no body (content-length
// 0); Grafana's CallResource copies the headers (minus Authorization,
// Cookie, Origin and Referer, plus X-Grafana-Referer and X-Forwarded-For),
// reads the empty body into an empty byte slice and puts the signed-in user
// in PluginContext. The answer was 400 "empty body" and nothing was sent.
func TestConfigPageSendTestReachesTheChannel(t *testing.T) {
	inbox := t.TempDir()
	app := newTestApp(t, `{"delivery":{"dataDir":"`+queuetest.DataDir(t)+`"},"chart":{"language":"en"},
		"channels":[{"name":"box","type":"inbox","dir":"`+inbox+`"}]}`, nil)
	req := &backend.CallResourceRequest{
		PluginContext: pluginContext(adminUser),
		Path:          "channels/box/test",
		Method:        http.MethodPost,
		URL:           "/api/plugins/" + PluginID + "/resources/channels/box/test",
		Headers: map[string][]string{
			"Accept":            {"application/json, text/plain, */*"},
			"Content-Type":      {"application/json"},
			"Content-Length":    {"0"},
			"X-Grafana-Org-Id":  {"1"},
			"X-Grafana-Referer": {"http://localhost:3000/plugins/" + PluginID},
			"X-Forwarded-For":   {"127.0.0.1"},
			"Accept-Encoding":   {"gzip, deflate, br"},
			"User-Agent":        {"Mozilla/5.0"},
		},
		Body: []byte{},
	}
	var res collect
	if err := app.CallResource(context.Background(), req, &res); err != nil {
		t.Fatal(err)
	}
	var ans struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(res.body, &ans); err != nil || res.status != 200 || !ans.OK {
		t.Fatalf("send test: %d %s (%v)", res.status, res.body, err)
	}
	if files, _ := filepath.Glob(filepath.Join(inbox, "*.md")); len(files) == 0 {
		t.Fatal("the test message did not reach the channel")
	}
	// The same request from a Viewer is refused without sending.
	before, _ := filepath.Glob(filepath.Join(inbox, "*"))
	req.PluginContext = pluginContext(viewerUser)
	res = collect{}
	if err := app.CallResource(context.Background(), req, &res); err != nil {
		t.Fatal(err)
	}
	after, _ := filepath.Glob(filepath.Join(inbox, "*"))
	if res.status != http.StatusForbidden || !strings.Contains(string(res.body), `"requiredRole":"Admin"`) || len(after) != len(before) {
		t.Fatalf("viewer: %d %s (%d → %d files)", res.status, res.body, len(before), len(after))
	}
}

// TestCheckHealthDetailsOnlyForAdmin: Grafana's GET /api/plugins/<id>/health
// is open to every signed-in user; the checks name internal URLs.
func TestCheckHealthDetailsOnlyForAdmin(t *testing.T) {
	app := newTestApp(t, `{"delivery":{"dataDir":"`+queuetest.DataDir(t)+`"},"prometheus":{"url":"http://prometheus.internal.example:9090"},
		"webhook":{"allowedUsers":["sa-1-alertmanager"]}}`, map[string]string{"postgresDsn": "postgres://u:pw-secret@db.internal/q"})
	for _, c := range []struct {
		user     *backend.User
		detailed bool
	}{{adminUser, true}, {viewerUser, false}, {amUser, false}, {nil, false}} {
		res, err := app.CheckHealth(context.Background(), &backend.CheckHealthRequest{PluginContext: pluginContext(c.user)})
		if err != nil {
			t.Fatal(err)
		}
		var h pipeline.Health
		if err := json.Unmarshal(res.JSONDetails, &h); err != nil {
			t.Fatal(err)
		}
		text := res.Message + string(res.JSONDetails)
		if h.Detailed != c.detailed || (len(h.Checks) > 0) != c.detailed {
			t.Errorf("user %v: detailed %v, %d checks", c.user, h.Detailed, len(h.Checks))
		}
		if !c.detailed && (strings.Contains(text, "internal") || strings.Contains(text, "http")) {
			t.Errorf("user %v sees internal addresses: %s", c.user, text)
		}
		if strings.Contains(text, "pw-secret") {
			t.Errorf("health leaks a secret: %s", text)
		}
	}
}

// TestUnsafeDataDirIsAHealthError: a data directory every user may write
// (here the /tmp fallback another user created) is refused: the webhook
// answers 503 and health says why.
func TestUnsafeDataDirIsAHealthError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "q")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	app := newTestApp(t, `{"delivery":{"dataDir":"`+dir+`"},"webhook":{"allowedUsers":["sa-1-alertmanager"]}}`, nil)
	h := app.Health(context.Background())
	found := false
	for _, c := range h.Checks {
		if c.Code == pipeline.CodeQueueDataDirUnsafe && c.Status == pipeline.StatusError && c.Args["dir"] == dir {
			found = true
		}
	}
	if h.Status != pipeline.StatusError || !found {
		t.Fatalf("health: %+v", h)
	}
	if _, err := os.Stat(filepath.Join(dir, "delivery.db")); !os.IsNotExist(err) {
		t.Fatalf("a queue was opened in the refused directory: %v", err)
	}
	var res collect
	err := app.CallResource(context.Background(), &backend.CallResourceRequest{PluginContext: pluginContext(amUser),
		Path: "webhook/ops", Method: http.MethodPost, URL: "/webhook/ops",
		Headers: map[string][]string{"Content-Type": {"application/json"}},
		Body:    []byte(`{"alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-11-25T01:00:00Z"}]}`)}, &res)
	if err != nil || res.status != http.StatusServiceUnavailable {
		t.Fatalf("webhook: %v %d %s", err, res.status, res.body)
	}
	if strings.Contains(string(res.body), dir) {
		t.Fatalf("a non-admin learns the data directory: %s", res.body)
	}
}

func TestGrafanaCaller(t *testing.T) {
	for _, c := range []struct {
		user  *backend.User
		login string
		role  string
	}{{adminUser, "admin", "Admin"}, {&backend.User{Login: "e", Role: "Editor"}, "e", "Editor"},
		{amUser, "sa-1-alertmanager", "Viewer"}, {&backend.User{Login: "x", Role: "None"}, "x", "None"}, {nil, "", "None"}} {
		r, _ := http.NewRequestWithContext(backend.WithUser(context.Background(), c.user), http.MethodGet, "/health", nil)
		got := GrafanaCaller(r)
		if got.Login != c.login || got.Role.String() != c.role || got.Alertmanager {
			t.Errorf("%v: %+v", c.user, got)
		}
	}
}

// TestGrafanaNamespaceFromPluginContext: the /apis namespace Grafana puts in
// the plugin context (Grafana Cloud's "stacks-<id>") wins over the
// on-premises one derived from grafana.orgId.
func TestGrafanaNamespaceFromPluginContext(t *testing.T) {
	s, err := settings.Parse([]byte(`{"grafana":{"url":"http://grafana:3000/","orgId":2}}`), map[string]string{"grafanaToken": "glsa_x"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := grafanaCredentials(context.Background(), s)
	if err != nil || c.Namespace != "org-2" {
		t.Fatalf("without a plugin context: %q (%v)", c.Namespace, err)
	}
	ctx := backend.WithPluginContext(context.Background(), backend.PluginContext{OrgID: 2, PluginID: PluginID, Namespace: "stacks-42"})
	c, err = grafanaCredentials(ctx, s)
	if err != nil || c.Namespace != "stacks-42" {
		t.Fatalf("with Grafana's namespace: %q (%v)", c.Namespace, err)
	}
}
