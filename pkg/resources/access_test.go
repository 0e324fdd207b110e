package resources_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/delivery/queuetest"
	"github.com/alertchart/alertchart/pkg/pipeline"
	"github.com/alertchart/alertchart/pkg/resources"
	"github.com/alertchart/alertchart/pkg/settings"
	fakeprom "github.com/alertchart/alertchart/test/fakes/prometheus"
)

var (
	nobody       = resources.Caller{}
	viewer       = resources.Caller{Login: "viewer", Role: resources.RoleViewer}
	editor       = resources.Caller{Login: "editor", Role: resources.RoleEditor}
	admin        = resources.Caller{Login: "admin", Role: resources.RoleAdmin}
	alertmanager = resources.Caller{Login: "sa-1-alertmanager", Role: resources.RoleViewer}
)

// newGuardedAPI is the plugin's view: webhook callers are told apart by
// webhook.allowedUsers (and secureJsonData.webhookToken when token is set).
func newGuardedAPI(t *testing.T, token string) http.Handler {
	t.Helper()
	prom := fakeprom.New(t)
	js := `{"prometheus":{"url":"` + prom.URL + `"},"chart":{"language":"en"},
		"delivery":{"dataDir":"` + queuetest.DataDir(t) + `"},
		"webhook":{"allowedUsers":["sa-1-alertmanager"]},
		"channels":[{"name":"box","type":"inbox","dir":"` + t.TempDir() + `"}],
		"routes":[{"receiver":"ops","channels":["box"]}]}`
	secrets := map[string]string{}
	if token != "" {
		secrets[settings.SecretWebhookToken] = token
	}
	_, p := newPipeline(t, js, secrets)
	return mount(p, resources.Options{})
}

// routeCall is one request per route of the API, as a client would make it.
func routeCall(rt resources.Route) (method, path string, body []byte) {
	path = strings.NewReplacer("{receiver}", "ops", "{id}", "01NOSUCHDELIVERY", "{name}", "box").Replace(rt.Path)
	if rt.Body != "" {
		body = payload("node-2:9100")
	}
	return rt.Method, path, body
}

// TestEveryRouteChecksItsCaller: every route answers 403 to a caller below
// its role, with a JSON body that names the role and carries none of the
// route's data, and lets the right callers through.
func TestEveryRouteChecksItsCaller(t *testing.T) {
	t.Parallel()
	h := newGuardedAPI(t, "")
	callers := map[string]resources.Caller{"none": nobody, "Viewer": viewer, "Editor": editor, "Admin": admin, "Alertmanager": alertmanager}
	want := map[resources.Access]map[string]bool{ // caller → allowed
		resources.AccessAlertmanager: {"Alertmanager": true},
		resources.AccessViewer:       {"Viewer": true, "Editor": true, "Admin": true, "Alertmanager": true},
		resources.AccessEditor:       {"Editor": true, "Admin": true},
		resources.AccessAdmin:        {"Admin": true},
	}
	for _, rt := range resources.Routes() {
		for name, c := range callers {
			t.Run(rt.Method+" "+rt.Path+" as "+name, func(t *testing.T) {
				method, path, body := routeCall(rt)
				rec, m := doAs(h, c, method, path, body)
				if !want[rt.Access][name] {
					if rec.Code != http.StatusForbidden {
						t.Fatalf("status %d, want 403: %s", rec.Code, rec.Body)
					}
					if len(m) != 2 || m["requiredRole"] != rt.Access.String() || !strings.Contains(m["error"].(string), rt.Access.String()) {
						t.Fatalf("403 body must name the role and nothing else: %s", rec.Body)
					}
					return
				}
				if rec.Code == http.StatusForbidden || rec.Code == http.StatusUnauthorized {
					t.Fatalf("status %d for an allowed caller: %s", rec.Code, rec.Body)
				}
			})
		}
	}
}

// TestViewerCannotSendReadOrQuery: the findings of the review, one by one —
// a Viewer sent channel tests, resent alerts, read records and charts, and
// ran queries with the plugin's credentials through /preview and /explain.
func TestViewerCannotSendReadOrQuery(t *testing.T) {
	t.Parallel()
	h := newGuardedAPI(t, "")
	// Something to read first.
	if rec, m := doAs(h, alertmanager, http.MethodPost, "/webhook/ops", payload("node-2:9100")); rec.Code != 200 {
		t.Fatalf("alertmanager: %d %v", rec.Code, m)
	}
	rec, m := doAs(h, admin, http.MethodGet, "/deliveries", nil)
	ds, _ := m["deliveries"].([]any)
	if rec.Code != 200 || len(ds) != 1 {
		t.Fatalf("deliveries as admin: %d %v", rec.Code, m)
	}
	id := ds[0].(map[string]any)["id"].(string)
	for _, c := range []struct{ method, path string }{
		{"POST", "/channels/box/test"},
		{"POST", "/deliveries/" + id + "/resend"},
		{"GET", "/deliveries"},
		{"GET", "/deliveries/" + id},
		{"GET", "/deliveries/" + id + "/chart"},
		{"GET", "/recent"},
		{"POST", "/preview"},
		{"POST", "/explain"},
		{"POST", "/webhook/ops"},
	} {
		var body []byte
		if strings.HasPrefix(c.path, "/preview") || strings.HasPrefix(c.path, "/explain") || strings.HasPrefix(c.path, "/webhook") {
			body = payload("node-1:9100")
		}
		rec, _ := doAs(h, viewer, c.method, c.path, body)
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s %s as Viewer: %d", c.method, c.path, rec.Code)
		}
		for _, leak := range []string{id, "node-2", "HighCPU", "cpu_percent"} {
			if strings.Contains(rec.Body.String(), leak) {
				t.Errorf("%s %s: the 403 carries %q: %s", c.method, c.path, leak, rec.Body)
			}
		}
	}
	// Still exactly one delivery: nothing was resent or injected.
	_, m = doAs(h, admin, http.MethodGet, "/deliveries", nil)
	if ds, _ := m["deliveries"].([]any); len(ds) != 1 {
		t.Fatalf("deliveries after the Viewer's attempts: %v", m)
	}
}

// TestWebhookIdentity: the webhook takes Alertmanager's login from
// webhook.allowedUsers and, when set, the webhook token too; with neither
// configured it answers 503 so that Alertmanager retries until an admin
// says who Alertmanager is.
func TestWebhookIdentity(t *testing.T) {
	t.Parallel()
	post := func(h http.Handler, c resources.Caller, path string, hdr map[string]string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(payload("node-2:9100")))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		h.ServeHTTP(rec, withCaller(req, c))
		return rec.Code
	}
	h := newGuardedAPI(t, "s3cret-webhook-token")
	cases := []struct {
		name   string
		caller resources.Caller
		path   string
		hdr    map[string]string
		want   int
	}{
		{"service account with token header", alertmanager, "/webhook/ops", map[string]string{"X-AlertChart-Token": "s3cret-webhook-token"}, 200},
		{"service account with token in the URL", alertmanager, "/webhook/ops?token=s3cret-webhook-token", nil, 200},
		{"service account, login in another case", resources.Caller{Login: "SA-1-Alertmanager", Role: resources.RoleViewer}, "/webhook/ops?token=s3cret-webhook-token", nil, 200},
		{"service account without token", alertmanager, "/webhook/ops", nil, 403},
		{"service account with a wrong token", alertmanager, "/webhook/ops", map[string]string{"X-AlertChart-Token": "guess"}, 403},
		{"viewer with the token", viewer, "/webhook/ops", map[string]string{"X-AlertChart-Token": "s3cret-webhook-token"}, 403},
		{"admin with the token", admin, "/webhook/ops", map[string]string{"X-AlertChart-Token": "s3cret-webhook-token"}, 403},
		{"no user with the token", nobody, "/webhook?token=s3cret-webhook-token", nil, 403},
	}
	for _, c := range cases {
		if got := post(h, c.caller, c.path, c.hdr); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}

	// Nothing configured: nobody may post, and Alertmanager is told to retry.
	prom := fakeprom.New(t)
	s, p := newPipeline(t, `{"prometheus":{"url":"`+prom.URL+`"},"delivery":{"dataDir":"`+queuetest.DataDir(t)+`"}}`, nil)
	mux := mount(p, resources.Options{})
	for _, c := range []resources.Caller{alertmanager, admin, viewer} {
		if got := post(mux, c, "/webhook/ops", nil); got != http.StatusServiceUnavailable {
			t.Errorf("unconfigured, %s: %d, want 503", c.Login, got)
		}
	}
	if ch := pipeline.WebhookIdentity(s); ch.Status != pipeline.StatusError || ch.Code != pipeline.CodeWebhookUnconfigured {
		t.Errorf("health of an unconfigured webhook: %+v", ch)
	}
}

// TestRefusedWebhookCallersShowInHealth: Alertmanager drops what it gets a
// 403 for, so a typo in webhook.allowedUsers must show on the config page.
func TestRefusedWebhookCallersShowInHealth(t *testing.T) {
	t.Parallel()
	prom := fakeprom.New(t)
	_, p := newPipeline(t, `{"prometheus":{"url":"`+prom.URL+`"},"delivery":{"dataDir":"`+queuetest.DataDir(t)+`"},
		"webhook":{"allowedUsers":["sa-1-alertmanger"]}}`, nil)
	refusals := &resources.WebhookRefusals{}
	mux := mount(p, resources.Options{Refusals: refusals})
	for range 3 {
		if rec, _ := doAs(mux, alertmanager, http.MethodPost, "/webhook/ops", payload("x")); rec.Code != 403 {
			t.Fatalf("status %d", rec.Code)
		}
	}
	checks := refusals.Checks()
	if len(checks) != 1 || checks[0].Status != pipeline.StatusWarning || checks[0].Args["count"] != "3" ||
		!strings.Contains(checks[0].Message, "sa-1-alertmanager") || !strings.Contains(checks[0].Message, "webhook.allowedUsers") {
		t.Fatalf("refusal checks: %+v", checks)
	}
}

// TestHealthDetailsOnlyForAdmin: a Viewer sees the status, not the checks
// that name internal URLs, hosts and users.
func TestHealthDetailsOnlyForAdmin(t *testing.T) {
	t.Parallel()
	h := newGuardedAPI(t, "")
	for _, c := range []resources.Caller{viewer, editor, alertmanager} {
		rec, m := doAs(h, c, http.MethodGet, "/health", nil)
		if rec.Code != 200 || m["detailed"] != false || len(m["checks"].([]any)) != 0 {
			t.Fatalf("health for %s: %d %s", c.Login, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "127.0.0.1") || strings.Contains(rec.Body.String(), "http") {
			t.Fatalf("health for %s names an address: %s", c.Login, rec.Body)
		}
	}
	rec, m := doAs(h, admin, http.MethodGet, "/health", nil)
	if rec.Code != 200 || m["detailed"] != true || len(m["checks"].([]any)) == 0 {
		t.Fatalf("health for admin: %d %s", rec.Code, rec.Body)
	}
}

// TestEmptyBodyPostsThatNeedNoBody: Grafana's request service posts no body
// for post(url); the channel test and the resend must accept that.
func TestEmptyBodyPostsThatNeedNoBody(t *testing.T) {
	t.Parallel()
	h := newGuardedAPI(t, "")
	for _, hdr := range []http.Header{
		{"Content-Type": {"application/json"}, "Accept": {"application/json, text/plain, */*"}}, // Grafana's page
		{}, // curl -X POST
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/channels/box/test", nil)
		req.Header = hdr
		h.ServeHTTP(rec, withCaller(req, admin))
		var m map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		if rec.Code != 200 || m["ok"] != true {
			t.Fatalf("empty-body test with %v: %d %s", hdr, rec.Code, rec.Body)
		}
	}
	// Routes that need a payload still say so.
	rec, m := doAs(h, editor, http.MethodPost, "/explain", nil)
	if rec.Code != 400 || !strings.Contains(fmt.Sprint(m["error"]), "empty body") {
		t.Fatalf("explain without body: %d %s", rec.Code, rec.Body)
	}
}

// TestPostsMustBeJSON: a form or text/plain body (what a page on another
// site can post without a preflight) is refused everywhere; with
// RequireJSON (standalone) even an empty POST must say application/json.
func TestPostsMustBeJSON(t *testing.T) {
	t.Parallel()
	h := newGuardedAPI(t, "")
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/explain", bytes.NewReader(payload("x")))
		req.Header.Set("Content-Type", ct)
		h.ServeHTTP(rec, withCaller(req, admin))
		if rec.Code != http.StatusUnsupportedMediaType {
			t.Errorf("%s: %d", ct, rec.Code)
		}
	}
}

// TestExplainCapsAndStopsWhenTheClientLeaves: 3,000 distinct alert names
// made 3,000 sequential rules-API calls that went on after the client hung
// up. Now at most MaxDebugAlerts are planned, and a cancelled request stops.
func TestExplainCapsAndStopsWhenTheClientLeaves(t *testing.T) {
	t.Parallel()
	prom := fakeprom.New(t)
	js := `{"prometheus":{"url":"` + prom.URL + `"},"delivery":{"dataDir":"` + queuetest.DataDir(t) + `"}}`
	_, p := newPipeline(t, js, nil)
	mux := mount(p, resources.Options{})

	many := func(prefix string, n int) []byte {
		var alerts []string
		for i := range n {
			alerts = append(alerts, fmt.Sprintf(`{"status":"firing","labels":{"alertname":"%s%d"},"startsAt":"2026-11-25T01:00:00Z"}`, prefix, i))
		}
		return []byte(`{"version":"4","status":"firing","receiver":"ops","alerts":[` + strings.Join(alerts, ",") + `]}`)
	}
	rec, m := doAs(mux, editor, http.MethodPost, "/explain", many("Capped", 120))
	if rec.Code != 200 || len(m["plans"].([]any)) != resources.MaxDebugAlerts || m["omitted"] != float64(70) {
		t.Fatalf("explain of 120 alerts: %d plans, omitted %v", len(m["plans"].([]any)), m["omitted"])
	}
	if n := prom.RulesRequests(); n > resources.MaxDebugAlerts+1 {
		t.Fatalf("%d rules-API calls for a capped explain", n)
	}

	// A client that leaves after the first slow rules call.
	prom.Lock()
	prom.Delay = 300 * time.Millisecond
	prom.Unlock()
	before := prom.RulesRequests()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	req := httptest.NewRequest(http.MethodPost, "/explain", bytes.NewReader(many("Left", 40))).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, withCaller(req, editor))
	if n := prom.RulesRequests() - before; n > 3 {
		t.Fatalf("%d rules-API calls after the client left (of 40 alerts)", n)
	}
}

// TestPreviewIsCapped: a preview accepts at most MaxDebugAlerts alerts.
func TestPreviewIsCapped(t *testing.T) {
	t.Parallel()
	h := newGuardedAPI(t, "")
	var alerts []string
	for i := range resources.MaxDebugAlerts + 1 {
		alerts = append(alerts, fmt.Sprintf(`{"status":"firing","labels":{"alertname":"R%d"},"startsAt":"2026-11-25T01:00:00Z"}`, i))
	}
	rec, _ := doAs(h, editor, http.MethodPost, "/preview", []byte(`{"alerts":[`+strings.Join(alerts, ",")+`]}`))
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "at most") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

// TestDeliveryRoutes: the records are read through delivery.Service's
// methods; unknown ids are 404, bad filters 400.
func TestDeliveryRoutes(t *testing.T) {
	t.Parallel()
	h := newGuardedAPI(t, "")
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/deliveries/nope", 404},
		{"GET", "/deliveries/nope/chart", 404},
		{"POST", "/deliveries/nope/resend", 404},
		{"GET", "/deliveries?limit=0", 400},
		{"GET", "/deliveries?limit=x", 400},
		{"GET", "/deliveries?status=lost", 400},
		{"GET", "/deliveries?status=sent&limit=5&receiver=ops", 200},
		{"DELETE", "/deliveries/nope", 405},
	} {
		rec, m := doAs(h, admin, c.method, c.path, nil)
		if rec.Code != c.want {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, rec.Code, c.want, rec.Body)
		}
		if c.want >= 400 && m["error"] == nil {
			t.Errorf("%s %s: no JSON error: %s", c.method, c.path, rec.Body)
		}
	}
	if rec, m := doAs(h, alertmanager, http.MethodPost, "/webhook/ops", payload("node-2:9100")); rec.Code != 200 {
		t.Fatalf("webhook: %d %v", rec.Code, m)
	}
	_, m := doAs(h, editor, http.MethodGet, "/deliveries?receiver=ops", nil)
	ds, _ := m["deliveries"].([]any)
	if len(ds) != 1 {
		t.Fatalf("deliveries: %v", m)
	}
	id := ds[0].(map[string]any)["id"].(string)
	rec, m := doAs(h, editor, http.MethodGet, "/deliveries/"+id, nil)
	if rec.Code != 200 || m["id"] != id {
		t.Fatalf("one delivery: %d %s", rec.Code, rec.Body)
	}
	rec, m = doAs(h, editor, http.MethodPost, "/deliveries/"+id+"/resend", nil)
	if rec.Code != 200 || m["ok"] != true || m["id"] == "" || m["id"] == id {
		t.Fatalf("resend: %d %s", rec.Code, rec.Body)
	}
}
