package grafana_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/config"

	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/settings"
	fakegrafana "github.com/alertchart/alertchart/test/fakes/grafana"
)

const token = "glsa_test_token"

func newFake(t *testing.T) *fakegrafana.Fake {
	t.Helper()
	f := fakegrafana.New(t)
	f.AddToken(token, fakegrafana.AllPermissions...)
	f.AddFolder("general-dash", "Dashboards")
	if err := f.AddDashboard(fakegrafana.SampleDashboard, "general-dash"); err != nil {
		t.Fatal(err)
	}
	if err := f.AddV2Dashboard(fakegrafana.SampleV2UID, fakegrafana.SampleV2Spec, "general-dash", "v2beta1"); err != nil {
		t.Fatal(err)
	}
	return f
}

func newClient(t *testing.T, f *fakegrafana.Fake, tok string) *grafana.Client {
	t.Helper()
	c, err := grafana.NewClient(grafana.Credentials{URL: f.URL + "/", Token: tok, Source: grafana.SourceStoredToken}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustSettings(t *testing.T, jsonData string, secrets map[string]string) *settings.Settings {
	t.Helper()
	s, err := settings.Parse([]byte(jsonData), secrets)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestResolveCredentials(t *testing.T) {
	t.Setenv("GF_APP_URL", "")
	t.Setenv("GF_PLUGIN_APP_CLIENT_SECRET", "")
	managed := config.WithGrafanaConfig(context.Background(), config.NewGrafanaCfg(map[string]string{
		"GF_APP_URL": "http://grafana.internal:3000/", "GF_PLUGIN_APP_CLIENT_SECRET": "glsa_managed"}))

	t.Run("managed service account wins over the stored token", func(t *testing.T) {
		s := mustSettings(t, `{}`, map[string]string{"grafanaToken": "glsa_stored"})
		c, err := grafana.ResolveCredentials(managed, s)
		if err != nil {
			t.Fatal(err)
		}
		if c.Token != "glsa_managed" || c.Source != grafana.SourceManagedServiceAccount || c.URL != "http://grafana.internal:3000/" {
			t.Fatalf("got %+v", c)
		}
		if c.Namespace != "default" || c.OrgID != 1 {
			t.Fatalf("namespace/org: %+v", c)
		}
	})
	t.Run("stored token and URL override", func(t *testing.T) {
		ctx := config.WithGrafanaConfig(context.Background(), config.NewGrafanaCfg(map[string]string{"GF_APP_URL": "https://grafana.example.com/"}))
		s := mustSettings(t, `{"grafana":{"url":"http://127.0.0.1:3000/grafana/","orgId":3}}`, map[string]string{"grafanaToken": "glsa_stored"})
		c, err := grafana.ResolveCredentials(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if c.Token != "glsa_stored" || c.Source != grafana.SourceStoredToken || c.URL != "http://127.0.0.1:3000/grafana/" {
			t.Fatalf("got %+v", c)
		}
		if c.Namespace != "org-3" || c.OrgID != 3 {
			t.Fatalf("namespace/org: %+v", c)
		}
	})
	t.Run("no token", func(t *testing.T) {
		ctx := config.WithGrafanaConfig(context.Background(), config.NewGrafanaCfg(map[string]string{"GF_APP_URL": "http://g:3000/"}))
		_, err := grafana.ResolveCredentials(ctx, mustSettings(t, `{}`, nil))
		if err == nil || !strings.Contains(err.Error(), "grafanaToken") || !strings.Contains(err.Error(), "managed_service_accounts_enabled") {
			t.Fatalf("want a plain explanation, got %v", err)
		}
	})
	t.Run("no URL", func(t *testing.T) {
		_, err := grafana.ResolveCredentials(context.Background(), mustSettings(t, `{}`, map[string]string{"grafanaToken": "x"}))
		if err == nil || !strings.Contains(err.Error(), "grafana.url") {
			t.Fatalf("want a hint at grafana.url, got %v", err)
		}
	})
	t.Run("bad URL", func(t *testing.T) {
		_, err := grafana.ResolveCredentials(context.Background(), mustSettings(t, `{"grafana":{"url":"grafana:3000"}}`, map[string]string{"grafanaToken": "x"}))
		if err == nil || !strings.Contains(err.Error(), "http://") {
			t.Fatalf("got %v", err)
		}
	})
}

// The openapi client's constructors overwrite http.DefaultTransport's TLS
// config; ours must leave the process-wide transport alone.
func TestNewClientLeavesDefaultTransportAlone(t *testing.T) {
	dt := http.DefaultTransport.(*http.Transport)
	before := dt.TLSClientConfig
	sentinel := &tls.Config{ServerName: "sentinel"}
	dt.TLSClientConfig = sentinel
	t.Cleanup(func() { dt.TLSClientConfig = before })

	f := newFake(t)
	c := newClient(t, f, token)
	if _, err := c.GetPanel(context.Background(), fakegrafana.SampleDashboardUID, fakegrafana.SamplePanelID); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureFolder(context.Background(), "x-folder", "X"); err != nil {
		t.Fatal(err)
	}
	if http.DefaultTransport.(*http.Transport) != dt || dt.TLSClientConfig != sentinel {
		t.Fatalf("http.DefaultTransport was modified: TLSClientConfig = %#v", dt.TLSClientConfig)
	}
}

func TestGetPanelV1(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f, token)
	ctx := context.Background()
	p, err := c.GetPanel(ctx, fakegrafana.SampleDashboardUID, fakegrafana.SamplePanelID)
	if err != nil {
		t.Fatal(err)
	}
	if p["type"] != "timeseries" || p["title"] != "CPU usage" {
		t.Fatalf("wrong panel: %v", p)
	}
	fc := p["fieldConfig"].(map[string]any)["defaults"].(map[string]any)
	if fc["unit"] != "percent" {
		t.Fatalf("fieldConfig not kept: %v", fc)
	}
	// Panels in collapsed rows are found too.
	p, err = c.GetPanel(ctx, fakegrafana.SampleDashboardUID, fakegrafana.SampleRowPanelID)
	if err != nil || p["title"] != "Memory" {
		t.Fatalf("row panel: %v %v", p, err)
	}
	// The row itself is not a panel.
	if _, err := c.GetPanel(ctx, fakegrafana.SampleDashboardUID, 4); err == nil || !strings.Contains(err.Error(), "no panel with id 4") {
		t.Fatalf("row id: %v", err)
	}
	// Each call returns an independent copy.
	p["title"] = "changed"
	p2, _ := c.GetPanel(ctx, fakegrafana.SampleDashboardUID, fakegrafana.SamplePanelID)
	if p2["title"] != "CPU usage" {
		t.Fatal("GetPanel returned shared state")
	}
}

func TestGetPanelV2Through406(t *testing.T) {
	f := newFake(t)
	c := newClient(t, f, token)
	p, err := c.GetPanel(context.Background(), fakegrafana.SampleV2UID, fakegrafana.SampleV2PanelID)
	if err != nil {
		t.Fatal(err)
	}
	if p["type"] != "timeseries" || p["title"] != "Disk IO" || p["pluginVersion"] != "13.1.0" {
		t.Fatalf("converted panel: %v", p)
	}
	targets := p["targets"].([]any)
	t0 := targets[0].(map[string]any)
	if t0["expr"] != "rate(node_disk_io_time_seconds_total[5m])" || t0["refId"] != "A" || t0["legendFormat"] != "{{device}}" {
		t.Fatalf("target: %v", t0)
	}
	ds := t0["datasource"].(map[string]any)
	if ds["type"] != "prometheus" || ds["uid"] != "prom-main" {
		t.Fatalf("datasource: %v", ds)
	}
	if u := p["fieldConfig"].(map[string]any)["defaults"].(map[string]any)["unit"]; u != "percentunit" {
		t.Fatalf("fieldConfig: %v", p["fieldConfig"])
	}
	if p["interval"] != "1m" || p["maxDataPoints"] != float64(500) {
		t.Fatalf("query options: %v", p)
	}
	// The legacy API was asked first and answered 406; the v2 resource was read.
	_, err = c.GetPanel(context.Background(), fakegrafana.SampleV2UID, 8)
	if err == nil || !strings.Contains(err.Error(), "library panel") {
		t.Fatalf("library panel: %v", err)
	}
}

// When the 406 message does not name the resource path, the versions are
// discovered; classic versions report a failed conversion, so the v2 version
// must be chosen.
func TestGetPanelV2Discovery(t *testing.T) {
	f := newFake(t)
	f.Inject(fakegrafana.Fault{Method: "GET", Path: "/api/dashboards/uid/" + fakegrafana.SampleV2UID, Status: 406,
		Body: `{"message":"dashboard api version not supported"}`})
	c := newClient(t, f, token)
	d, err := c.GetDashboard(context.Background(), fakegrafana.SampleV2UID)
	if err != nil {
		t.Fatal(err)
	}
	if d.APIVersion != "dashboard.grafana.app/v2beta1" || d.Title != "Node overview (v2)" {
		t.Fatalf("got %s %q", d.APIVersion, d.Title)
	}
}

func TestAuthErrorsInPlainWords(t *testing.T) {
	f := newFake(t)
	f.AddToken("glsa_viewer_without_dashboards", fakegrafana.PermFoldersRead)
	ctx := context.Background()

	_, err := newClient(t, f, "glsa_wrong").GetPanel(ctx, fakegrafana.SampleDashboardUID, 2)
	if grafana.StatusOf(err) != 401 || !strings.Contains(err.Error(), "rejected the plugin's credentials") ||
		!strings.Contains(err.Error(), "Invalid API key") {
		t.Fatalf("401: %v", err)
	}
	if strings.Contains(err.Error(), "glsa_wrong") {
		t.Fatal("the token leaked into the error")
	}
	_, err = newClient(t, f, "glsa_viewer_without_dashboards").GetPanel(ctx, fakegrafana.SampleDashboardUID, 2)
	if grafana.StatusOf(err) != 403 || !strings.Contains(err.Error(), "dashboards:read") || !strings.Contains(err.Error(), "iam") {
		t.Fatalf("403: %v", err)
	}
	_, err = newClient(t, f, token).GetPanel(ctx, "nope", 2)
	if !grafana.IsNotFound(err) || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("404: %v", err)
	}
	// 401 on the /apis path (plain HTTP) reads the same.
	f.Inject(fakegrafana.Fault{Path: "/api/dashboards/uid/", Status: 406,
		Body: `{"message":"dashboard api version not supported, use /apis/dashboard.grafana.app/v2beta1/namespaces/default/dashboards/x instead"}`})
	f.AddToken("glsa_no_read", fakegrafana.PermFoldersRead)
	_, err = newClient(t, f, "glsa_no_read").GetDashboard(ctx, "x")
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("403 on /apis: %v", err)
	}
}

func TestCreateDashboardUIDClash(t *testing.T) {
	for _, status := range []int{412, 409} {
		f := newFake(t)
		f.SetClashStatus(status)
		c := newClient(t, f, token)
		ctx := context.Background()
		model := map[string]any{"uid": "dup-1", "title": "one", "panels": []any{}}
		if _, err := c.CreateDashboard(ctx, model, "general-dash", "first"); err != nil {
			t.Fatal(err)
		}
		model2 := map[string]any{"uid": "dup-1", "title": "two", "panels": []any{}}
		_, err := c.CreateDashboard(ctx, model2, "general-dash", "second")
		if !errors.Is(err, grafana.ErrUIDClash) || grafana.StatusOf(err) != status {
			t.Fatalf("status %d: want ErrUIDClash, got %v", status, err)
		}
		raw, _ := f.DashboardRaw("dup-1")
		if !strings.Contains(string(raw), `"one"`) {
			t.Fatalf("the existing dashboard was overwritten: %s", raw)
		}
	}
}

func TestRender429CarriesRetryAfter(t *testing.T) {
	f := newFake(t)
	f.Inject(fakegrafana.Fault{Path: "/render/", Status: 429, Header: map[string]string{"Retry-After": "7"},
		Body: `{"message":"Too many rendering requests"}`})
	c := newClient(t, f, token)
	now := time.Now()
	req := grafana.RenderRequest{DashboardUID: fakegrafana.SampleDashboardUID, PanelID: 2, From: now.Add(-time.Hour), To: now,
		Width: 600, Height: 300, Theme: "light", Timezone: "UTC", Timeout: 10 * time.Second}
	_, err := c.Render(context.Background(), req)
	var ae *grafana.APIError
	if !errors.As(err, &ae) || ae.Status != 429 || ae.RetryAfter != 7*time.Second {
		t.Fatalf("got %v", err)
	}
	png, err := c.Render(context.Background(), req)
	if err != nil || len(png) < 100 {
		t.Fatalf("second render: %v", err)
	}
	r := f.Renders()[0]
	if r.Params.Get("theme") != "light" || r.Params.Get("width") != "600" || r.Params.Get("tz") != "UTC" ||
		r.Params.Get("timeout") != "10" || r.Params.Get("orgId") != "1" || r.Params.Get("panelId") != "2" ||
		r.Params.Get("from") != strconv.FormatInt(req.From.UnixMilli(), 10) || r.Params.Get("to") != strconv.FormatInt(req.To.UnixMilli(), 10) {
		t.Fatalf("render params: %v", r.Params)
	}
}

func TestHealth(t *testing.T) {
	f := newFake(t)
	s := mustSettings(t, `{"chart":{"templateDashboardUid":"tmpl-node","templatePanelId":2}}`, nil)
	checks := newClient(t, f, token).Health(context.Background(), s)
	if len(checks) != 4 || checks[3].Name != "Alert rules" {
		t.Fatalf("checks: %+v", checks)
	}
	for _, c := range checks {
		if c.Status != grafana.CheckOK {
			t.Fatalf("%s: %s %s", c.Name, c.Status, c.Message)
		}
	}
	if !strings.Contains(checks[1].Message, "CPU usage") || !strings.Contains(checks[2].Message, "5.12.0") {
		t.Fatalf("messages: %+v", checks)
	}

	f.SetRendererAvailable(false)
	checks = newClient(t, f, token).Health(context.Background(), s)
	if checks[2].Status != grafana.CheckWarning || !strings.Contains(checks[2].Message, "server_url") {
		t.Fatalf("renderer missing: %+v", checks[2])
	}

	checks = newClient(t, f, "glsa_wrong").Health(context.Background(), s)
	if checks[0].Status != grafana.CheckWarning || !strings.Contains(checks[0].Message, "401") ||
		checks[1].Status != grafana.CheckSkipped || checks[2].Status != grafana.CheckSkipped {
		t.Fatalf("401: %+v", checks)
	}

	s2 := mustSettings(t, `{"chart":{"renderer":"grafana","templateDashboardUid":"tmpl-node","templatePanelId":99}}`, nil)
	f.SetRendererAvailable(true)
	checks = newClient(t, f, token).Health(context.Background(), s2)
	if checks[1].Status != grafana.CheckError || !strings.Contains(checks[1].Message, "no panel with id 99") {
		t.Fatalf("missing panel: %+v", checks[1])
	}
}

// Grafana served under a sub-path (root_url = https://host/grafana/): every
// call, openapi and plain HTTP, must keep the prefix.
func TestSubPathBaseURL(t *testing.T) {
	f := newFake(t)
	target, _ := url.Parse(f.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.StripPrefix("/grafana", proxy))
	t.Cleanup(front.Close)

	c, err := grafana.NewClient(grafana.Credentials{URL: front.URL + "/grafana/", Token: token}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.GetPanel(ctx, fakegrafana.SampleDashboardUID, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetPanel(ctx, fakegrafana.SampleV2UID, fakegrafana.SampleV2PanelID); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := c.Render(ctx, grafana.RenderRequest{DashboardUID: fakegrafana.SampleDashboardUID, PanelID: 2,
		From: now.Add(-time.Hour), To: now, Width: 300, Height: 200, Theme: "dark"}); err != nil {
		t.Fatal(err)
	}
	if c.BaseURL() != front.URL+"/grafana" {
		t.Fatalf("base URL %s", c.BaseURL())
	}
}

func TestUnreachableGrafana(t *testing.T) {
	c, err := grafana.NewClient(grafana.Credentials{URL: "http://127.0.0.1:1/", Token: token}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetPanel(context.Background(), "x", 1)
	if err == nil || !strings.Contains(err.Error(), "cannot reach Grafana") {
		t.Fatalf("got %v", err)
	}
}

func BenchmarkGetPanel(b *testing.B) {
	for _, bc := range []struct {
		name string
		uid  string
		id   int64
	}{{"v1", fakegrafana.SampleDashboardUID, fakegrafana.SamplePanelID}, {"v2-via-406", fakegrafana.SampleV2UID, fakegrafana.SampleV2PanelID}} {
		b.Run(bc.name, func(b *testing.B) {
			f := fakegrafana.New(b)
			f.AddToken(token, fakegrafana.AllPermissions...)
			_ = f.AddDashboard(fakegrafana.SampleDashboard, "")
			_ = f.AddV2Dashboard(fakegrafana.SampleV2UID, fakegrafana.SampleV2Spec, "", "v2beta1")
			c, err := grafana.NewClient(grafana.Credentials{URL: f.URL, Token: token}, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := c.GetPanel(context.Background(), bc.uid, bc.id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
