// Package pluginhost runs the BUILT AlertChart plugin binary the way Grafana
// does — hashicorp/go-plugin with the SDK's handshake (protocol version 2,
// magic cookie grafana_plugin_type=datasource, gRPC) — and bridges an HTTP
// listener at /api/plugins/alertchart-webhook-app/resources/* to
// CallResource, so that a real Alertmanager can post to the plugin. It is
// test-only code: no Grafana server can run here.
package pluginhost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// PluginID is the id Grafana routes by.
const PluginID = "alertchart-webhook-app"

// ResourcePrefix is Grafana's resource route for the plugin.
const ResourcePrefix = "/api/plugins/" + PluginID + "/resources/"

// Settings are what Grafana keeps for the app in one organisation and
// hands over in every PluginContext of that organisation.
type Settings struct {
	JSONData      []byte
	Secure        map[string]string
	GrafanaConfig map[string]string
}

// Callers as Grafana puts them in PluginContext.User. A service-account
// token resolves to the account's login, "sa-<org id>-<name>" since Grafana
// 10.4 (GenerateLogin in pkg/services/serviceaccounts), and its org role.
var (
	// AlertmanagerUser is the service account the README tells admins to
	// create for Alertmanager (role Viewer).
	AlertmanagerUser = &pluginv2.User{Login: "sa-1-alertmanager", Name: "alertmanager", Role: "Viewer"}
	AdminUser        = &pluginv2.User{Login: "admin", Name: "admin", Email: "admin@localhost", Role: "Admin"}
	EditorUser       = &pluginv2.User{Login: "editor", Name: "Editor", Email: "editor@example.com", Role: "Editor"}
	ViewerUser       = &pluginv2.User{Login: "viewer", Name: "Viewer", Email: "viewer@example.com", Role: "Viewer"}
)

// Options configure a host.
type Options struct {
	// Binary is the plugin executable (see Binary()).
	Binary string
	// Env is added to the plugin process environment (Grafana passes the
	// [plugin.<id>] ini section as GF_PLUGIN_* variables).
	Env []string
	// Users maps the bearer tokens the HTTP bridge accepts to the identity
	// Grafana would resolve each to; any other request gets 401, as Grafana
	// requires a signed-in identity on /api routes.
	Users map[string]*pluginv2.User
	// BearerToken, when set, is one more accepted token: Alertmanager's
	// service account (AlertmanagerUser).
	BearerToken string
	// User is the caller of Call and CheckHealth (nil: AdminUser, the
	// config page's user).
	User *pluginv2.User
	// TokenOrgs maps bearer tokens to the organisation Grafana resolves
	// them in (a service-account token belongs to one organisation); a
	// token not listed is in organisation 1 unless the request names
	// another in X-Grafana-Org-Id, as Grafana lets a user who belongs to
	// several organisations do.
	TokenOrgs map[string]int64
	// ManagedToken, when set, plays plugin.json's managed service account:
	// the plugin process gets GF_APP_URL (the bridge, which then listens
	// from the start) and GF_PLUGIN_APP_CLIENT_SECRET (this token, which
	// the bridge resolves to ManagedUser in organisation 1).
	ManagedToken string
	ManagedUser  *pluginv2.User
	// Log receives the plugin's stderr (hclog JSON lines); nil discards.
	Log io.Writer
}

// Host is one running plugin process plus its Grafana-like HTTP bridge.
type Host struct {
	opts     Options
	client   *goplugin.Client
	resource pluginv2.ResourceClient
	diag     pluginv2.DiagnosticsClient

	mu       sync.Mutex
	settings map[int64]Settings
	updated  map[int64]time.Time
	health   []HealthCall

	srv      *http.Server
	listener net.Listener
}

// HealthCall is one call of the bridge's GET /api/plugins/<id>/health.
type HealthCall struct {
	Org    int64
	Login  string
	Status int
}

// Start launches the plugin binary and completes the go-plugin handshake;
// s are organisation 1's settings (SetOrgSettings adds others).
func Start(opts Options, s Settings) (*Host, error) {
	logOut := opts.Log
	if logOut == nil {
		logOut = io.Discard
	}
	h := &Host{opts: opts, settings: map[int64]Settings{1: s}, updated: map[int64]time.Time{1: time.Now()}}
	cmd := exec.Command(opts.Binary)
	cmd.Env = append(os.Environ(), opts.Env...)
	if opts.ManagedToken != "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		h.listener = l
		cmd.Env = append(cmd.Env, "GF_APP_URL=http://"+l.Addr().String()+"/", "GF_PLUGIN_APP_CLIENT_SECRET="+opts.ManagedToken)
	}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  grpcplugin.ProtocolVersion,
			MagicCookieKey:   grpcplugin.MagicCookieKey,
			MagicCookieValue: grpcplugin.MagicCookieValue,
		},
		VersionedPlugins: map[int]goplugin.PluginSet{
			grpcplugin.ProtocolVersion: {
				"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
				"resource":    &grpcplugin.ResourceGRPCPlugin{},
			},
		},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: "plugin." + PluginID, Output: logOut, Level: hclog.Debug,
		}),
		Stderr:       logOut,
		SyncStderr:   logOut,
		StartTimeout: time.Minute,
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		h.closeListener()
		return nil, fmt.Errorf("go-plugin handshake with %s: %w", opts.Binary, err)
	}
	r, err := rpc.Dispense("resource")
	if err != nil {
		client.Kill()
		h.closeListener()
		return nil, fmt.Errorf("dispense resource: %w", err)
	}
	d, err := rpc.Dispense("diagnostics")
	if err != nil {
		client.Kill()
		h.closeListener()
		return nil, fmt.Errorf("dispense diagnostics: %w", err)
	}
	h.client, h.resource, h.diag = client, r.(pluginv2.ResourceClient), d.(pluginv2.DiagnosticsClient)
	if h.listener != nil {
		h.serve()
	}
	return h, nil
}

// UpdateSettings changes organisation 1's app settings as a save on the
// config page does; the SDK notices the new LastUpdatedMS and rebuilds the
// instance.
func (h *Host) UpdateSettings(s Settings) { h.SetOrgSettings(1, s) }

// SetOrgSettings gives an organisation its app settings, or changes them
// as a save on that organisation's config page does (a new LastUpdatedMS).
// The SDK rebuilds an app instance only when LastUpdatedMS differs, so two
// saves within one millisecond still get two different ones.
func (h *Host) SetOrgSettings(org int64, s Settings) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.settings[org] = s
	now := time.Now()
	if prev, ok := h.updated[org]; ok && now.UnixMilli() <= prev.UnixMilli() {
		now = time.UnixMilli(prev.UnixMilli() + 1)
	}
	h.updated[org] = now
}

// PluginContext is what Grafana attaches to every call in organisation 1,
// made by user (nil: no user at all).
func (h *Host) PluginContext(user *pluginv2.User) *pluginv2.PluginContext {
	return h.PluginContextIn(1, user)
}

// PluginContextIn is PluginContext in another organisation: its OrgID and
// that organisation's app settings. The SDK keys app instances by plugin id
// and organisation ("<plugin id>#<org id>#<namespace>").
func (h *Host) PluginContextIn(org int64, user *pluginv2.User) *pluginv2.PluginContext {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.settings[org]
	js := s.JSONData
	if js == nil {
		js = []byte("{}")
	}
	ns := "default"
	if org != 1 {
		ns = "org-" + strconv.FormatInt(org, 10)
	}
	return &pluginv2.PluginContext{
		OrgId:         org,
		PluginId:      PluginID,
		PluginVersion: "test",
		Namespace:     ns,
		AppInstanceSettings: &pluginv2.AppInstanceSettings{
			JsonData:                js,
			DecryptedSecureJsonData: s.Secure,
			LastUpdatedMS:           h.updated[org].UnixMilli(),
		},
		GrafanaConfig: s.GrafanaConfig,
		User:          user,
	}
}

func (h *Host) defaultUser() *pluginv2.User {
	if h.opts.User != nil {
		return h.opts.User
	}
	return AdminUser
}

// CheckHealth calls the plugin's CheckHealth as Grafana's
// /api/plugins/<id>/health does for the host's user.
func (h *Host) CheckHealth(ctx context.Context) (*pluginv2.CheckHealthResponse, error) {
	return h.CheckHealthAs(ctx, h.defaultUser())
}

// CheckHealthAs is CheckHealth for another caller (any signed-in user may
// call Grafana's health route).
func (h *Host) CheckHealthAs(ctx context.Context, user *pluginv2.User) (*pluginv2.CheckHealthResponse, error) {
	return h.CheckHealthIn(ctx, 1, user)
}

// CheckHealthIn is CheckHealthAs in another organisation.
func (h *Host) CheckHealthIn(ctx context.Context, org int64, user *pluginv2.User) (*pluginv2.CheckHealthResponse, error) {
	return h.diag.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: h.PluginContextIn(org, user)})
}

// HealthCalls lists the calls the bridge's health route has served.
func (h *Host) HealthCalls() []HealthCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]HealthCall(nil), h.health...)
}

// Response is a collected CallResource answer.
type Response struct {
	Status  int
	Headers http.Header
	Body    []byte
}

// Call sends one resource request (path without the resources prefix, e.g.
// "webhook/ops?x=1") as the host's user and collects the streamed answer.
func (h *Host) Call(ctx context.Context, method, path string, headers http.Header, body []byte) (*Response, error) {
	return h.CallAs(ctx, h.defaultUser(), method, path, headers, body)
}

// CallAs is Call made by user (nil: a request without a user).
func (h *Host) CallAs(ctx context.Context, user *pluginv2.User, method, path string, headers http.Header, body []byte) (*Response, error) {
	return h.CallIn(ctx, 1, user, method, path, headers, body)
}

// CallIn is CallAs in another organisation.
func (h *Host) CallIn(ctx context.Context, org int64, user *pluginv2.User, method, path string, headers http.Header, body []byte) (*Response, error) {
	p, q, _ := strings.Cut(path, "?")
	hdr := map[string]*pluginv2.StringList{}
	for k, v := range headers {
		hdr[k] = &pluginv2.StringList{Values: v}
	}
	url := ResourcePrefix + p
	if q != "" {
		url += "?" + q
	}
	stream, err := h.resource.CallResource(ctx, &pluginv2.CallResourceRequest{
		PluginContext: h.PluginContextIn(org, user),
		Path:          p,
		Method:        method,
		Url:           url,
		Headers:       hdr,
		Body:          body,
	})
	if err != nil {
		return nil, err
	}
	res := &Response{Headers: http.Header{}}
	var buf bytes.Buffer
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if m.Code != 0 && res.Status == 0 {
			res.Status = int(m.Code)
		}
		for k, v := range m.Headers {
			for _, x := range v.Values {
				res.Headers.Add(k, x)
			}
		}
		buf.Write(m.Body)
	}
	res.Body = buf.Bytes()
	return res, nil
}

// ServeHTTP bridges Grafana's resource route to CallResource, like Grafana's
// apiRoute.Any("/plugins/:pluginId/resources/*"): the bearer token decides
// the user and the organisation in PluginContext; the request is prepared
// as Grafana's proxyutil.PrepareProxyRequest and ClearAuthHeadersMiddleware
// do (no Authorization, Cookie, Origin or Referer reaches the plugin; the
// referer moves to X-Grafana-Referer; X-Forwarded-For is added); the body
// is read whole (an empty body arrives as an empty one). It also serves
// Grafana's GET /api/plugins/<id>/health, which any signed-in identity may
// call: CheckHealth with the caller's organisation's PluginContext.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == HealthPath && r.Method == http.MethodGet {
		h.serveHealth(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, ResourcePrefix) {
		http.Error(w, `{"message":"Not found"}`, http.StatusNotFound)
		return
	}
	user, org := h.callerOf(r)
	if user == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"message":"Unauthorized","messageId":"auth.unauthorized","statusCode":401}`)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, ResourcePrefix)
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	hdr := r.Header.Clone()
	hdr.Set("X-Grafana-Referer", hdr.Get("Referer"))
	for _, k := range []string{"Authorization", "Cookie", "Origin", "Referer", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Proto"} {
		hdr.Del(k)
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		hdr.Set("X-Forwarded-For", host)
	}
	res, err := h.CallIn(r.Context(), org, user, r.Method, path, hdr, body)
	if err != nil {
		// Grafana answers 500 when the plugin is unavailable.
		http.Error(w, `{"message":"Failed to call resource"}`, http.StatusInternalServerError)
		return
	}
	for k, v := range res.Headers {
		if http.CanonicalHeaderKey(k) == "Set-Cookie" {
			continue // Grafana never forwards a plugin's cookies
		}
		for _, x := range v {
			w.Header().Add(k, x)
		}
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	if res.Status == 0 {
		res.Status = http.StatusOK
	}
	w.WriteHeader(res.Status)
	_, _ = w.Write(res.Body)
}

func (h *Host) closeListener() {
	if h.listener != nil {
		_ = h.listener.Close()
	}
}

// HealthPath is Grafana's health route for the plugin.
const HealthPath = "/api/plugins/" + PluginID + "/health"

// serveHealth answers like Grafana's CheckHealth handler: 200 with the
// status, message and details when OK, 400 when not, 500 when the plugin
// cannot be called.
func (h *Host) serveHealth(w http.ResponseWriter, r *http.Request) {
	user, org := h.callerOf(r)
	if user == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"message":"Unauthorized"}`)
		return
	}
	status := http.StatusInternalServerError
	defer func() {
		h.mu.Lock()
		h.health = append(h.health, HealthCall{Org: org, Login: user.Login, Status: status})
		h.mu.Unlock()
	}()
	res, err := h.CheckHealthIn(r.Context(), org, user)
	if err != nil {
		http.Error(w, `{"message":"Plugin health check failed"}`, status)
		return
	}
	payload := map[string]any{"status": res.Status.String(), "message": res.Message}
	if len(res.JsonDetails) > 0 {
		var details map[string]any
		if json.Unmarshal(res.JsonDetails, &details) == nil {
			payload["details"] = details
		}
	}
	status = http.StatusOK
	if res.Status != pluginv2.CheckHealthResponse_OK {
		status = http.StatusBadRequest
	}
	b, _ := json.Marshal(payload)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// callerOf resolves a request's bearer token as Grafana does: the user,
// and the organisation it acts in (the token's, else X-Grafana-Org-Id,
// else 1). A nil user is a request Grafana would answer 401.
func (h *Host) callerOf(r *http.Request) (*pluginv2.User, int64) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return nil, 0
	}
	org := int64(1)
	if o, ok := h.opts.TokenOrgs[token]; ok {
		org = o
	} else if v := r.Header.Get("X-Grafana-Org-Id"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			org = n
		}
	}
	if u, ok := h.opts.Users[token]; ok {
		return u, org
	}
	if h.opts.BearerToken != "" && token == h.opts.BearerToken {
		return AlertmanagerUser, org
	}
	if h.opts.ManagedToken != "" && token == h.opts.ManagedToken {
		u := h.opts.ManagedUser
		if u == nil {
			u = &pluginv2.User{Login: "sa-1-extsvc-" + PluginID, Name: "extsvc-" + PluginID, Role: "Viewer"}
		}
		return u, 1
	}
	return nil, 0
}

// ListenAndServe serves the Grafana-like HTTP bridge on a free loopback port
// (the one it listens on already with Options.ManagedToken) and returns its
// base URL (http://127.0.0.1:port).
func (h *Host) ListenAndServe() (string, error) {
	if h.listener == nil {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		h.listener = l
	}
	h.serve()
	return "http://" + h.listener.Addr().String(), nil
}

func (h *Host) serve() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.srv != nil {
		return
	}
	h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = h.srv.Serve(h.listener) }()
}

// Pid is the plugin process id.
func (h *Host) Pid() int {
	if rc := h.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// Kill stops the plugin (as Grafana does on shutdown) and the bridge.
func (h *Host) Kill() {
	h.mu.Lock()
	srv := h.srv
	h.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	} else if h.listener != nil {
		_ = h.listener.Close()
	}
	h.client.Kill()
}

// HardKill ends the plugin process with SIGKILL (os.Process.Kill), as a
// crash or the OOM killer would: no Dispose, no graceful shutdown, in-flight
// work cut wherever it is. It waits until the process is gone; the bridge
// keeps answering (500, as Grafana does while a plugin is down) until Kill.
func (h *Host) HardKill() error {
	pid := h.Pid()
	if pid == 0 {
		return errors.New("plugin process id unknown")
	}
	proc, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	if err := proc.Kill(); err != nil {
		return fmt.Errorf("SIGKILL %d: %w", pid, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !h.client.Exited() {
		if time.Now().After(deadline) {
			return fmt.Errorf("plugin process %d still running 30s after SIGKILL", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Exited reports whether the plugin process has exited.
func (h *Host) Exited() bool { return h.client.Exited() }

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary returns the plugin executable to test: $ALERTCHART_PLUGIN_BINARY
// (e.g. the mage-built dist/gpx_alertchart_linux_amd64, as CI sets it), else
// a fresh `go build ./pkg` into a temporary directory, once per test process,
// with CGO disabled like the release build.
func Binary() (string, error) {
	if p := os.Getenv("ALERTCHART_PLUGIN_BINARY"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("ALERTCHART_PLUGIN_BINARY: %w", err)
		}
		return p, nil
	}
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "alertchart-plugin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, fmt.Sprintf("gpx_alertchart_%s_%s", runtime.GOOS, runtime.GOARCH))
		cmd := exec.Command("go", "build", "-o", buildPath, "./pkg")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./pkg: %v\n%s", err, out)
		}
	})
	return buildPath, buildErr
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
