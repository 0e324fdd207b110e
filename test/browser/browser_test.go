// Package browser is the real-browser smoke test of the config pages: the
// BUILT frontend (dist/module.js) in headless Debian Chromium, driven by
// playwright-core (smoke.mjs), inside a harness page (harness/) with the real
// @grafana/runtime and a documented request service; behind it a server that
// plays Grafana's HTTP API and passes the plugin's resource routes to the
// BUILT plugin binary under test/pluginhost (go-plugin handshake, gRPC), with
// an Admin caller (a Viewer for the restricted views); a contract fake WeCom
// robot as the channel and a fake Prometheus for charts.
//
// Run: npm run build && go test ./test/browser -run Browser -v
// (scripts/test-all.sh does). ALERTCHART_DIST=<dir> tests another build of
// the pages than dist/ (ALERTCHART_PLUGIN_BINARY another plugin binary).
// ALERTCHART_SCREENSHOTS=<dir> saves a
// screenshot of every page in both languages there; on failure screenshots
// go to ALERTCHART_ARTIFACTS, else a temporary directory that is kept.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"

	fakeprom "github.com/alertchart/alertchart/test/fakes/prometheus"
	fakewecom "github.com/alertchart/alertchart/test/fakes/wecom"
	"github.com/alertchart/alertchart/test/pluginhost"
	"github.com/alertchart/alertchart/test/services"
)

const pluginID = pluginhost.PluginID

// Tokens of the harness: the plugin's managed service account; the session
// of the signed-in admin (the browser's cookie, which this server turns into
// the admin's identity as Grafana does); Alertmanager's service account; the
// webhook token in secureJsonData.
const (
	serviceAccountToken = "glsa_harness_plugin_token"
	adminSession        = "harness-admin-session"
	viewerSession       = "harness-viewer-session"
	alertmanagerToken   = "glsa_harness_alertmanager"
	webhookToken        = "harness-webhook-token"
)

// TestBrowserSmoke walks the config page, Getting started and Deliveries as
// an admin would, and Getting started and Deliveries as a Viewer, in
// English and Chinese (smoke.mjs says what it checks).
func TestBrowserSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("browser smoke test: not in -short")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	chromium := services.Lookup(t, "chromium", "chromium", "chromium-browser")
	node := services.Lookup(t, "nodejs", "node")
	dist := filepath.Join(root, "dist")
	if d := os.Getenv("ALERTCHART_DIST"); d != "" {
		dist = d // another build of the pages, e.g. an older commit's, to compare
	}
	if _, err := os.Stat(filepath.Join(dist, "module.js")); err != nil {
		msg := dist + "/module.js is missing: run `npm run build` first (scripts/test-all.sh does)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "playwright-core")); err != nil {
		t.Fatal("node_modules/playwright-core is missing: run `npm ci` (scripts/setup.sh does)")
	}

	// The harness bundle: React, react-router and the real @grafana/* packages.
	harnessDir := t.TempDir()
	if out, err := exec.Command(node, filepath.Join(root, "test/browser/build.mjs"), harnessDir).CombinedOutput(); err != nil {
		t.Fatalf("bundling the harness: %v\n%s", err, out)
	} else {
		t.Logf("%s", bytes.TrimSpace(out))
	}

	robot := fakewecom.New()
	t.Cleanup(robot.Close)
	prom := fakeprom.New(t)
	prom.Lock()
	prom.Rules = []fakeprom.Rule{{
		Group: "demo", File: "demo.yml", Name: "CPUSaturation", Query: "demo_cpu_usage_percent > 80", For: time.Minute,
		Labels:      map[string]string{"severity": "critical"},
		Annotations: map[string]string{"summary": "CPU usage above 80%"},
		Alerts:      []map[string]string{{"alertname": "CPUSaturation", "instance": "db-01:9100", "severity": "critical"}},
	}}
	cpu := func(base, spike float64) func(time.Time) float64 {
		return func(tm time.Time) float64 {
			v := base + float64(tm.Unix()%60)/6
			if time.Since(tm) < 3*time.Minute {
				v += spike
			}
			return v
		}
	}
	db01 := fakeprom.Series{Labels: map[string]string{"__name__": "demo_cpu_usage_percent", "instance": "db-01:9100", "job": "node"}, Value: cpu(55, 38)}
	db02 := fakeprom.Series{Labels: map[string]string{"__name__": "demo_cpu_usage_percent", "instance": "db-02:9100", "job": "node"}, Value: cpu(40, 0)}
	prom.Matrix[`demo_cpu_usage_percent{instance="db-01:9100"}`] = []fakeprom.Series{db01}
	prom.Matrix[`demo_cpu_usage_percent`] = []fakeprom.Series{db01, db02}
	prom.Unlock()

	bin, err := pluginhost.Binary()
	if err != nil {
		t.Fatal(err)
	}
	var plog syncBuffer
	// Callers as Grafana resolves them: the signed-in admin using the pages
	// (the settings page and channel tests need an Admin), and Alertmanager's
	// service account, which posts webhooks with the webhook token.
	host, err := pluginhost.Start(pluginhost.Options{Binary: bin, Log: &plog,
		Env:         []string{"GF_PLUGIN_DATA_DIR=" + t.TempDir()},
		Users:       map[string]*pluginv2.User{adminSession: pluginhost.AdminUser, viewerSession: pluginhost.ViewerUser},
		BearerToken: alertmanagerToken},
		pluginhost.Settings{JSONData: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(host.Kill)

	// Provisioned before the admin opens the page: the token Alertmanager
	// sends (X-AlertChart-Token), so that the plugin knows Alertmanager.
	g := &grafana{host: host, dist: dist, harness: harnessDir, fonts: filepath.Join(root, "pkg/render/fonts"),
		icons: filepath.Join(root, "node_modules/@grafana/ui/dist/public/img"),
		robot: robot, enabled: true, pinned: true, jsonData: json.RawMessage("{}"),
		secure: map[string]string{"webhookToken": webhookToken}, language: "en-US", role: "Admin"}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	// Grafana tells the plugin its root_url and, with managed service
	// accounts, the plugin's token; the plugin's health checks then call
	// this server's /api/search and /api/frontend/settings.
	g.mu.Lock()
	g.grafanaConfig = map[string]string{"GF_APP_URL": srv.URL + "/", "GF_PLUGIN_APP_CLIENT_SECRET": serviceAccountToken}
	g.mu.Unlock()
	g.pushSettings()

	artifacts := os.Getenv("ALERTCHART_ARTIFACTS")
	if artifacts == "" {
		artifacts, err = os.MkdirTemp("", "alertchart-browser-")
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(root, "test/browser/smoke.mjs"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"HARNESS_URL="+srv.URL,
		"CHROMIUM="+chromium,
		"PROMETHEUS_URL="+prom.URL,
		"WECOM_API_URL="+robot.URL,
		"ALERTMANAGER_TOKEN="+alertmanagerToken,
		"WEBHOOK_TOKEN="+webhookToken,
		"ARTIFACT_DIR="+artifacts,
	)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&out, testWriter{t}), &out
	start := time.Now()
	err = cmd.Run()
	t.Logf("browser walk took %s", time.Since(start).Round(100*time.Millisecond))
	if err != nil {
		t.Logf("plugin log:\n%s", plog.String())
		t.Fatalf("smoke.mjs: %v\n%s\nscreenshots: %s", err, out.String(), artifacts)
	}
	if os.Getenv("ALERTCHART_ARTIFACTS") == "" {
		_ = os.RemoveAll(artifacts)
	}

	// The far end: the robot accepted the test message, the alert's text and
	// chart, and the resent copy — counted in what the fake accepted.
	var tests, texts int
	for _, m := range robot.Accepted() {
		body := string(m.Body)
		switch {
		case m.MsgType == "image":
		case strings.Contains(body, "CPUSaturation") && strings.Contains(body, "db-01:9100"):
			texts++
		case strings.Contains(body, "HighCPUUsage"): // channels.SampleMessage, the test notification
			tests++
		}
	}
	if tests < 1 || texts < 2 {
		t.Fatalf("the WeCom robot accepted %d test message(s) and %d alert text(s); want ≥1 and ≥2 (alert + resend):\n%s",
			tests, texts, dumpRobot(robot))
	}
}

// grafana plays the parts of Grafana's HTTP API the pages use, for one org
// and one signed-in Admin. What it models:
//   - GET /api/plugins/<id>/settings: the plugin meta Grafana's
//     PluginSetting DTO carries (id, type, name, enabled, pinned, info,
//     includes, module, baseUrl, jsonData) and secureJsonFields, which names
//     the secure keys holding a non-empty value and never a value.
//   - POST /api/plugins/<id>/settings {enabled, pinned, jsonData,
//     secureJsonData}: jsonData is replaced; secureJsonData keys are set
//     (an empty string clears one), keys not sent are kept; the answer is
//     {"message":"Plugin settings updated"}. The plugin then sees the new
//     settings with a newer LastUpdatedMS, as after a save in Grafana.
//   - GET /api/search and /api/frontend/settings, for the plugin's own
//     health checks with its service account token: no dashboards, no image
//     renderer (so the health report has ok, warning and skipped checks).
//   - GET/PUT /api/user/preferences: the user's language; the next page load
//     carries it in grafanaBootData (settings.language, user.language).
//   - /api/plugins/<id>/resources/*: passed to CallResource (pluginhost) as
//     the caller the request authenticates: a bearer token's user, else the
//     signed-in user of the browser's session (the admin, or a Viewer after
//     /__test/role switched it; grafanaBootData's orgRole follows).
//   - Any other /api path: 404 {"message":"Not found"}.
//   - Other paths: the index page with window.grafanaBootData, as Grafana's
//     index.html; public/plugins/<id>/ serves dist/.
//
// Test-only paths under /__test/ let smoke.mjs read what the fake robot
// accepted, make the next resource call fail the way a reverse proxy
// would (plain text), and sign the browser in as another role.
type grafana struct {
	host                 *pluginhost.Host
	dist, harness, fonts string
	icons                string
	robot                *fakewecom.Server

	mu            sync.Mutex
	enabled       bool
	pinned        bool
	jsonData      json.RawMessage
	secure        map[string]string
	grafanaConfig map[string]string
	language      string
	// role is the org role of the browser's signed-in user: "Admin"
	// (adminSession) or "Viewer" (viewerSession).
	role  string
	fault *fault
}

// pushSettings hands the current settings to the plugin, as Grafana does
// with every call after a save (a newer LastUpdatedMS).
func (g *grafana) pushSettings() {
	g.mu.Lock()
	s := pluginhost.Settings{JSONData: append([]byte(nil), g.jsonData...), Secure: map[string]string{}, GrafanaConfig: g.grafanaConfig}
	for k, v := range g.secure {
		s.Secure[k] = v
	}
	g.mu.Unlock()
	g.host.UpdateSettings(s)
}

// fault is the answer the next resource request to exactly Path (no query)
// gets instead of the plugin's.
type fault struct {
	Path        string `json:"path"`
	Status      int    `json:"status"`
	ContentType string `json:"contentType"`
	Body        string `json:"body"`
}

func (g *grafana) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/public/harness/"):
		http.StripPrefix("/public/harness/", http.FileServer(http.Dir(g.harness))).ServeHTTP(w, r)
	case strings.HasPrefix(p, "/public/fonts/"):
		g.font(w, r)
	case p == "/public/build/img/icons/unicons/spinner.svg":
		// Grafana's own spinner icon is not in the @grafana/ui package; an arc stands in.
		w.Header().Set("Content-Type", "image/svg+xml")
		_, _ = io.WriteString(w, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="none" stroke="currentColor" stroke-width="2.5" d="M12 3a9 9 0 1 0 9 9"/></svg>`)
	case strings.HasPrefix(p, "/public/build/img/"):
		// @grafana/ui's icons, which Grafana serves from its build.
		http.StripPrefix("/public/build/img/", http.FileServer(http.Dir(g.icons))).ServeHTTP(w, r)
	case strings.HasPrefix(p, "/public/plugins/"+pluginID+"/"):
		http.StripPrefix("/public/plugins/"+pluginID+"/", http.FileServer(http.Dir(g.dist))).ServeHTTP(w, r)
	case p == "/api/plugins/"+pluginID+"/settings":
		g.settings(w, r)
	case strings.HasPrefix(p, pluginhost.ResourcePrefix):
		if f := g.takeFault(strings.TrimPrefix(p, pluginhost.ResourcePrefix)); f != nil {
			w.Header().Set("Content-Type", f.ContentType)
			w.WriteHeader(f.Status)
			_, _ = io.WriteString(w, f.Body)
			return
		}
		if r.Header.Get("Authorization") == "" {
			// A browser request: Grafana knows the signed-in user by the session cookie.
			r.Header.Set("Authorization", "Bearer "+g.session())
		}
		g.host.ServeHTTP(w, r)
	case p == "/api/user/preferences":
		g.preferences(w, r)
	case p == "/api/search" || p == "/api/frontend/settings":
		// Called by the plugin with its service account token.
		if r.Header.Get("Authorization") != "Bearer "+serviceAccountToken {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
			return
		}
		if p == "/api/search" {
			writeJSON(w, http.StatusOK, []any{})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"rendererAvailable": false, "rendererVersion": "",
			"buildInfo": map[string]any{"version": "13.0.0"}})
	case strings.HasPrefix(p, "/api/"):
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not found"})
	case p == "/__test/wecom":
		g.robotMessages(w)
	case p == "/__test/role" && r.Method == http.MethodPost:
		role := r.URL.Query().Get("role")
		if role != "Admin" && role != "Viewer" {
			http.Error(w, "role must be Admin or Viewer", http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		g.role = role
		g.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case p == "/__test/fault" && r.Method == http.MethodPost:
		var f fault
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		g.fault = &f
		g.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		g.index(w)
	}
}

// font serves the fonts Grafana's GlobalStyles ask for that this repository
// has (Inter, embedded for the native renderer, and its CJK fallback); the
// OpenType bytes are served under Grafana's .woff2 names (browsers sniff the
// format). Roboto Mono is not here: code falls back to the system monospace.
func (g *grafana) font(w http.ResponseWriter, r *http.Request) {
	name := ""
	switch p := r.URL.Path; {
	case p == "/public/fonts/cjk.otf":
		name = "NotoSansSC-GB2312.otf"
	case strings.HasPrefix(p, "/public/fonts/inter/Inter-Medium"), strings.HasPrefix(p, "/public/fonts/inter/Inter-SemiBold"),
		strings.HasPrefix(p, "/public/fonts/inter/Inter-Bold"):
		name = "Inter-Medium.otf"
	case strings.HasPrefix(p, "/public/fonts/inter/"):
		name = "Inter-Regular.otf"
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "font/otf")
	http.ServeFile(w, r, filepath.Join(g.fonts, name))
}

// session is the token standing for the browser's session cookie.
func (g *grafana) session() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.role == "Viewer" {
		return viewerSession
	}
	return adminSession
}

func (g *grafana) takeFault(path string) *fault {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fault != nil && path == g.fault.Path {
		f := g.fault
		g.fault = nil
		return f
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (g *grafana) settings(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		raw, err := os.ReadFile(filepath.Join(g.dist, "plugin.json"))
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"message": err.Error()})
			return
		}
		var pj struct {
			Name     string          `json:"name"`
			Type     string          `json:"type"`
			Info     json.RawMessage `json:"info"`
			Includes json.RawMessage `json:"includes"`
		}
		if err := json.Unmarshal(raw, &pj); err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"message": err.Error()})
			return
		}
		g.mu.Lock()
		fields := map[string]bool{}
		for k, v := range g.secure {
			if v != "" {
				fields[k] = true
			}
		}
		dto := map[string]any{
			"id": pluginID, "name": pj.Name, "type": pj.Type, "info": pj.Info, "includes": pj.Includes,
			"enabled": g.enabled, "pinned": g.pinned, "jsonData": g.jsonData, "secureJsonFields": fields,
			"module": "public/plugins/" + pluginID + "/module.js", "baseUrl": "public/plugins/" + pluginID,
			"defaultNavUrl": "/a/" + pluginID + "/start", "state": "", "signature": "unsigned",
		}
		g.mu.Unlock()
		writeJSON(w, http.StatusOK, dto)
	case http.MethodPost:
		var cmd struct {
			Enabled        bool              `json:"enabled"`
			Pinned         bool              `json:"pinned"`
			JSONData       json.RawMessage   `json:"jsonData"`
			SecureJSONData map[string]string `json:"secureJsonData"`
		}
		if err := json.NewDecoder(r.Body).Decode(&cmd); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "bad request data"})
			return
		}
		g.mu.Lock()
		g.enabled, g.pinned = cmd.Enabled, cmd.Pinned
		if cmd.JSONData != nil {
			g.jsonData = cmd.JSONData
		}
		for k, v := range cmd.SecureJSONData {
			g.secure[k] = v
		}
		g.mu.Unlock()
		g.pushSettings()
		writeJSON(w, http.StatusOK, map[string]string{"message": "Plugin settings updated"})
	default:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": "Method not allowed"})
	}
}

func (g *grafana) preferences(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		g.mu.Lock()
		lang := g.language
		g.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"theme": "dark", "language": lang, "timezone": "browser"})
	case http.MethodPut, http.MethodPatch:
		var p struct {
			Language *string `json:"language"`
		}
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "bad request data"})
			return
		}
		if p.Language != nil {
			g.mu.Lock()
			g.language = *p.Language
			g.mu.Unlock()
		}
		writeJSON(w, http.StatusOK, map[string]string{"message": "Preferences updated"})
	default:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": "Method not allowed"})
	}
}

var indexPage = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<base href="/">
<title>AlertChart - Grafana</title>
<style>
body { margin: 0; } /* Grafana's own stylesheet does this */
/* Chinese text falls back to a CJK font: Noto Sans SC here, PingFang or YaHei on a user's machine. */
@font-face { font-family: Inter; font-weight: 400 600; src: url(public/fonts/cjk.otf); unicode-range: U+3000-303F, U+4E00-9FFF, U+FF00-FFEF; }
</style>
<link rel="stylesheet" href="public/harness/harness.css">
<script>window.grafanaBootData = {{.Boot}};</script>
</head>
<body class="theme-dark app-grafana">
<div id="reactRoot"></div>
<script src="public/harness/harness.js"></script>
</body>
</html>
`))

func (g *grafana) index(w http.ResponseWriter) {
	g.mu.Lock()
	lang, role := g.language, g.role
	g.mu.Unlock()
	login, admin := "admin", true
	if role == "Viewer" {
		login, admin = "viewer", false
	}
	boot := map[string]any{
		"settings": map[string]any{
			"appUrl": "", "appSubUrl": "", "language": lang, "featureToggles": map[string]bool{},
			"buildInfo": map[string]any{"version": "13.0.0", "commit": "harness", "env": "production", "edition": "Open Source"},
		},
		"user": map[string]any{
			"id": 1, "login": login, "name": login, "isSignedIn": true, "isGrafanaAdmin": admin, "orgId": 1, "orgName": "Main Org.",
			"orgRole": role, "theme": "dark", "language": lang, "timezone": "browser", "weekStart": "browser",
		},
		"navTree": []any{},
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = indexPage.Execute(w, map[string]any{"Lang": lang, "Boot": boot})
}

func (g *grafana) robotMessages(w http.ResponseWriter) {
	type msg struct {
		Type  string `json:"type"`
		Body  string `json:"body"`
		Image int    `json:"imageBytes"`
	}
	out := []msg{}
	for _, m := range g.robot.Accepted() {
		out = append(out, msg{Type: m.MsgType, Body: string(m.Body), Image: len(m.Image)})
	}
	writeJSON(w, http.StatusOK, out)
}

func dumpRobot(r *fakewecom.Server) string {
	var b strings.Builder
	for i, m := range r.Accepted() {
		body := string(m.Body)
		if len(body) > 300 {
			body = body[:300] + "…"
		}
		fmt.Fprintf(&b, "#%d %s %s\n", i, m.MsgType, body)
	}
	return b.String()
}

// syncBuffer collects output written from several goroutines.
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

// testWriter streams the walk's progress lines into the test log (-v).
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Log(line)
	}
	return len(p), nil
}
