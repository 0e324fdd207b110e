// Package fakegrafana is an in-memory Grafana HTTP API for tests: the
// endpoints AlertChart calls (dashboards, folders, search, the renderer,
// alert rules, data sources and /api/ds/query — see alerting.go), with Grafana's response shapes and its failure
// modes. It enforces what the real server enforces — bearer tokens (401),
// RBAC permissions (403), unknown dashboards and folders (404), 406 from the
// legacy API for dashboards stored in schema v2, refusal to overwrite an
// existing UID, UID syntax, the renderer's theme and size limits, its
// concurrent render limit (429) and timeouts — so a client that is wrong
// fails here too.
//
// Every write attempt is recorded (even refused ones) and every render keeps
// a snapshot of the dashboard it rendered, so tests can prove that a shared
// template was never written and that each render drew its own query.
//
// Contract notes (Grafana 12/13, as grafana/grafana's source and HTTP API
// documentation have them):
//   - POST /api/dashboards/db with an existing UID and overwrite=false answers
//     412 {"status":"version-mismatch"} (legacy store); SetClashStatus(409)
//     switches to the 409 Conflict a unified-storage Grafana gives.
//   - GET /api/dashboards/uid/<uid> of a v2 dashboard answers 406 naming the
//     /apis path; the /apis resource serves it in v2 versions, and reports a
//     failed conversion (status.conversion.failed) in v0/v1 versions.
//   - Grafana's own render limit answers 429 without Retry-After; the
//     renderer service's rate limiter sends Retry-After (use Inject).
package fakegrafana

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Permissions (RBAC actions) the fake checks.
const (
	PermDashboardsRead   = "dashboards:read"
	PermDashboardsCreate = "dashboards:create"
	PermDashboardsWrite  = "dashboards:write"
	PermDashboardsDelete = "dashboards:delete"
	PermFoldersRead      = "folders:read"
	PermFoldersCreate    = "folders:create"
	PermDatasourcesQuery = "datasources:query"
)

// AllPermissions are the permissions AlertChart's plugin.json asks for.
var AllPermissions = []string{PermDashboardsRead, PermDashboardsCreate, PermDashboardsWrite, PermDashboardsDelete,
	PermFoldersRead, PermFoldersCreate, PermDatasourcesRead, PermDatasourcesQuery, PermAlertRulesRead}

// Versions the fake announces under /apis/dashboard.grafana.app.
var apiVersions = []string{"v0alpha1", "v1beta1", "v2beta1"}

const (
	grafanaVersion  = "13.1.0"
	rendererVersion = "5.12.0"
	maxRenderSide   = 3000 // renderer --browser.max-width/height
)

// Write is one write attempt (POST/PUT/DELETE), successful or not.
type Write struct {
	Method string
	Path   string
	// UID is the dashboard or folder UID the write was about.
	UID    string
	Status int
}

// RenderRecord is one answered render request.
type RenderRecord struct {
	DashboardUID string
	PanelID      int64
	Params       url.Values
	// Dashboard is the stored dashboard at render time; Panel the rendered panel.
	Dashboard map[string]any
	Panel     map[string]any
	// Query is the expr of the panel's first target; Title the panel title.
	Query string
	Title string
	// Thresholds are the panel's threshold step values (fieldConfig.defaults).
	Thresholds []float64
	Status     int
}

// Fault makes the next Times requests matching Method and a Path prefix
// answer Status with Body and Header (after authentication).
type Fault struct {
	Method string
	Path   string
	Status int
	Body   string
	Header map[string]string
	Times  int
}

type dashboard struct {
	uid, title, folderUID string
	raw                   []byte // the model exactly as stored
	v2                    bool
	storedVersion         string
	id, version           int64
	tags                  []string
	created               time.Time
}

type folder struct {
	uid, title string
	id         int64
}

// Fake is a running fake Grafana.
type Fake struct {
	// URL is the server's base URL (no trailing slash).
	URL string
	srv *httptest.Server

	mu                sync.Mutex
	tokens            map[string]map[string]bool
	dashboards        map[string]*dashboard
	folders           map[string]*folder
	nextID            int64
	writes            []Write
	renders           []RenderRecord
	faults            []*Fault
	renderDelay       time.Duration
	rendererAvailable bool
	renderLimit       int
	activeRenders     int
	maxActive         int
	clashStatus       int
	onRender          func(uid string)
	alerting          alertingState
}

// New starts a fake Grafana; it is closed when the test ends.
func New(t testing.TB) *Fake {
	f := &Fake{
		tokens:            map[string]map[string]bool{},
		dashboards:        map[string]*dashboard{},
		folders:           map[string]*folder{},
		nextID:            100,
		rendererAvailable: true,
		renderLimit:       30, // Grafana's concurrent_render_request_limit default
		clashStatus:       http.StatusPreconditionFailed,
		alerting:          alertingState{rules: map[string]AlertRule{}, datasources: map[string]*Datasource{}},
	}
	f.srv = httptest.NewServer(f.handler())
	f.URL = f.srv.URL
	t.Cleanup(f.srv.Close)
	return f
}

// AddToken accepts a bearer token holding the given permissions.
func (f *Fake) AddToken(token string, perms ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	set := map[string]bool{}
	for _, p := range perms {
		set[p] = true
	}
	f.tokens[token] = set
}

// AddFolder creates a folder.
func (f *Fake) AddFolder(uid, title string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.folders[uid] = &folder{uid: uid, title: title, id: f.nextID}
}

// AddDashboard stores a classic dashboard exactly as given (raw bytes are
// kept, so byte-for-byte comparisons are meaningful).
func (f *Fake) AddDashboard(raw []byte, folderUID string) error {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	uid, _ := m["uid"].(string)
	if uid == "" {
		return fmt.Errorf("dashboard has no uid")
	}
	title, _ := m["title"].(string)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.dashboards[uid] = &dashboard{uid: uid, title: title, folderUID: folderUID, raw: append([]byte(nil), raw...),
		id: f.nextID, version: 1, tags: tagsOf(m), created: time.Now()}
	return nil
}

// AddV2Dashboard stores a dashboard in schema v2 (its spec), stored as version
// (e.g. "v2beta1").
func (f *Fake) AddV2Dashboard(uid string, spec []byte, folderUID, version string) error {
	var m map[string]any
	if err := json.Unmarshal(spec, &m); err != nil {
		return err
	}
	title, _ := m["title"].(string)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.dashboards[uid] = &dashboard{uid: uid, title: title, folderUID: folderUID, raw: append([]byte(nil), spec...),
		v2: true, storedVersion: version, id: f.nextID, version: 1, tags: tagsOf(m), created: time.Now()}
	return nil
}

// DashboardRaw returns a stored dashboard's bytes.
func (f *Fake) DashboardRaw(uid string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.dashboards[uid]
	if !ok {
		return nil, false
	}
	return append([]byte(nil), d.raw...), true
}

// DashboardsIn lists the UIDs of the dashboards in a folder, sorted.
func (f *Fake) DashboardsIn(folderUID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for uid, d := range f.dashboards {
		if d.folderUID == folderUID {
			out = append(out, uid)
		}
	}
	sort.Strings(out)
	return out
}

// RemoveFolder deletes a folder and the dashboards in it, as a user would
// in the UI.
func (f *Fake) RemoveFolder(uid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.folders, uid)
	for k, d := range f.dashboards {
		if d.folderUID == uid {
			delete(f.dashboards, k)
		}
	}
}

// HasFolder reports whether a folder exists.
func (f *Fake) HasFolder(uid string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.folders[uid] != nil
}

// Writes returns every write attempt so far.
func (f *Fake) Writes() []Write {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Write(nil), f.writes...)
}

// Renders returns every render request answered so far.
func (f *Fake) Renders() []RenderRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]RenderRecord(nil), f.renders...)
}

// MaxConcurrentRenders is the highest number of renders seen at once.
func (f *Fake) MaxConcurrentRenders() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxActive
}

// Inject adds a fault.
func (f *Fake) Inject(fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fault.Times <= 0 {
		fault.Times = 1
	}
	f.faults = append(f.faults, &fault)
}

// SetRenderDelay makes every render take d (a slow renderer).
func (f *Fake) SetRenderDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.renderDelay = d
}

// SetRendererAvailable says whether Grafana has an image renderer.
func (f *Fake) SetRendererAvailable(ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rendererAvailable = ok
}

// SetRenderLimit sets Grafana's concurrent render limit.
func (f *Fake) SetRenderLimit(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.renderLimit = n
}

// SetClashStatus sets the status of a create with a taken UID: 412 (legacy
// store, default) or 409 (unified storage).
func (f *Fake) SetClashStatus(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clashStatus = status
}

// OnRender registers a callback run when a render starts (before its delay).
func (f *Fake) OnRender(fn func(uid string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onRender = fn
}

// ---- HTTP ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, msg string, extra ...string) {
	body := map[string]any{"message": msg}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i]] = extra[i+1]
	}
	writeJSON(w, status, body)
}

// k8sStatus is the error shape of the /apis endpoints.
func k8sStatus(w http.ResponseWriter, status int, reason, msg string) {
	writeJSON(w, status, map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reason, "code": status})
}

type route struct {
	perm string // permission needed; "" = any valid token; "-" = no auth
	h    func(http.ResponseWriter, *http.Request)
}

func (f *Fake) handler() http.Handler {
	mux := http.NewServeMux()
	add := func(pattern, perm string, h func(http.ResponseWriter, *http.Request)) {
		mux.Handle(pattern, f.guard(route{perm: perm, h: h}))
	}
	add("GET /api/health", "-", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"database": "ok", "version": grafanaVersion, "commit": "fake"})
	})
	add("GET /api/frontend/settings", "", f.frontendSettings)
	add("GET /api/dashboards/uid/{uid}", PermDashboardsRead, f.getDashboard)
	add("POST /api/dashboards/db", PermDashboardsCreate, f.postDashboard)
	add("DELETE /api/dashboards/uid/{uid}", PermDashboardsDelete, f.deleteDashboard)
	add("GET /api/folders/{uid}", PermFoldersRead, f.getFolder)
	add("POST /api/folders", PermFoldersCreate, f.postFolder)
	add("GET /api/search", "", f.search)
	add("GET /apis/dashboard.grafana.app", "", f.apiGroup)
	add("GET /apis/dashboard.grafana.app/{version}/namespaces/{ns}/dashboards/{uid}", PermDashboardsRead, f.getResource)
	add("GET /render/d-solo/{uid}/{slug}", PermDashboardsRead, f.render)
	f.alertingRoutes(add)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "Not found")
	})
	return mux
}

// guard authenticates, authorises and applies injected faults.
func (f *Fake) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.perm != "-" {
			auth := r.Header.Get("Authorization")
			tok, ok := strings.CutPrefix(auth, "Bearer ")
			if auth == "" || !ok {
				apiError(w, http.StatusUnauthorized, "Unauthorized")
				return
			}
			f.mu.Lock()
			perms, known := f.tokens[tok]
			f.mu.Unlock()
			if !known {
				writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Invalid API key", "messageId": "api-key.invalid",
					"statusCode": 401, "traceID": ""})
				return
			}
			need := rt.perm
			if r.Method == http.MethodPost && r.URL.Path == "/api/dashboards/db" {
				need = "" // checked in the handler: create vs write depends on the body
			}
			if need != "" && !perms[need] {
				writeJSON(w, http.StatusForbidden, map[string]any{"accessErrorId": "ACE" + strconv.Itoa(rand.IntN(1e9)),
					"message": "You'll need additional permissions to perform this action. Permissions needed: " + need,
					"title":   "Access denied"})
				f.recordWrite(r, http.StatusForbidden)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), permsKey{}, perms))
		}
		if f.applyFault(w, r) {
			return
		}
		rt.h(w, r)
	})
}

type permsKey struct{}

func hasPerm(r *http.Request, p string) bool {
	perms, _ := r.Context().Value(permsKey{}).(map[string]bool)
	return perms[p]
}

func (f *Fake) applyFault(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	var hit *Fault
	for i, ft := range f.faults {
		if (ft.Method == "" || ft.Method == r.Method) && strings.HasPrefix(r.URL.Path, ft.Path) {
			hit = ft
			ft.Times--
			if ft.Times <= 0 {
				f.faults = append(f.faults[:i], f.faults[i+1:]...)
			}
			break
		}
	}
	f.mu.Unlock()
	if hit == nil {
		return false
	}
	f.recordWrite(r, hit.Status)
	for k, v := range hit.Header {
		w.Header().Set(k, v)
	}
	body := hit.Body
	if body == "" {
		b, _ := json.Marshal(map[string]any{"message": http.StatusText(hit.Status)})
		body = string(b)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(hit.Status)
	_, _ = w.Write([]byte(body))
	return true
}

func (f *Fake) recordWrite(r *http.Request, status int) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return
	}
	uid := r.PathValue("uid")
	if uid == "" {
		uid = writeUID(r)
	}
	f.mu.Lock()
	f.writes = append(f.writes, Write{Method: r.Method, Path: r.URL.Path, UID: uid, Status: status})
	f.mu.Unlock()
}

// writeUID peeks at a POST body for the UID it is about; the body is restored.
func writeUID(r *http.Request) string {
	if r.Body == nil {
		return ""
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(http.MaxBytesReader(nil, r.Body, 32<<20))
	r.Body.Close()
	raw := buf.Bytes()
	r.Body = readCloser{bytes.NewReader(raw)}
	var body struct {
		UID       string `json:"uid"`
		Dashboard struct {
			UID string `json:"uid"`
		} `json:"dashboard"`
	}
	_ = json.Unmarshal(raw, &body)
	if body.Dashboard.UID != "" {
		return body.Dashboard.UID
	}
	return body.UID
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func (f *Fake) frontendSettings(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	avail := f.rendererAvailable
	f.mu.Unlock()
	ver := ""
	if avail {
		ver = rendererVersion
	}
	writeJSON(w, 200, map[string]any{
		"appUrl": f.URL + "/", "rendererAvailable": avail, "rendererVersion": ver,
		"rendererDefaultImageWidth": 1000, "rendererDefaultImageHeight": 500,
		"buildInfo": map[string]any{"version": grafanaVersion, "edition": "Open Source", "env": "production"},
	})
}

func slugify(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func (f *Fake) getDashboard(w http.ResponseWriter, r *http.Request) {
	uid := r.PathValue("uid")
	f.mu.Lock()
	d, ok := f.dashboards[uid]
	var fold *folder
	if ok {
		fold = f.folders[d.folderUID]
	}
	f.mu.Unlock()
	if !ok {
		writeJSON(w, 404, map[string]any{"message": "Dashboard not found", "messageId": "dashboards.notFound", "statusCode": 404, "traceID": ""})
		return
	}
	if d.v2 {
		apiError(w, http.StatusNotAcceptable, fmt.Sprintf(
			"dashboard api version not supported, use /apis/dashboard.grafana.app/%s/namespaces/default/dashboards/%s instead",
			d.storedVersion, uid))
		return
	}
	meta := map[string]any{"type": "db", "canSave": true, "canEdit": true, "canAdmin": false, "canStar": true,
		"canDelete": true, "slug": slugify(d.title), "url": "/d/" + uid + "/" + slugify(d.title),
		"expires": "0001-01-01T00:00:00Z", "created": d.created.UTC().Format(time.RFC3339),
		"updated": d.created.UTC().Format(time.RFC3339), "updatedBy": "admin", "createdBy": "admin",
		"version": d.version, "hasAcl": false, "isFolder": false, "folderId": 0, "folderUid": d.folderUID,
		"folderTitle": "Dashboards", "folderUrl": "", "provisioned": false, "provisionedExternalId": ""}
	if fold != nil {
		meta["folderId"], meta["folderTitle"], meta["folderUrl"] = fold.id, fold.title, "/dashboards/f/"+fold.uid+"/"
	}
	metaJSON, _ := json.Marshal(meta)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(200)
	// The stored bytes are sent as they are, like Grafana sends its stored JSON.
	fmt.Fprintf(w, `{"dashboard":%s,"meta":%s}`, d.raw, metaJSON)
}

var uidRE = regexp.MustCompile(`^[a-zA-Z0-9\-_]*$`)

func (f *Fake) postDashboard(w http.ResponseWriter, r *http.Request) {
	var cmd struct {
		Dashboard map[string]any `json:"dashboard"`
		FolderUID string         `json:"folderUid"`
		Overwrite bool           `json:"overwrite"`
		Message   string         `json:"message"`
	}
	uid := writeUID(r)
	status := 200
	defer func() {
		f.mu.Lock()
		f.writes = append(f.writes, Write{Method: r.Method, Path: r.URL.Path, UID: uid, Status: status})
		f.mu.Unlock()
	}()
	fail := func(s int, msg string, extra ...string) {
		status = s
		apiError(w, s, msg, extra...)
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 32<<20)).Decode(&cmd); err != nil {
		fail(400, "bad request data")
		return
	}
	if cmd.Dashboard == nil {
		fail(400, "bad request data: dashboard is missing")
		return
	}
	if _, v2 := cmd.Dashboard["elements"]; v2 {
		fail(400, "dashboard appears to be in v2 format; use the /apis/dashboard.grafana.app API to save it")
		return
	}
	need := PermDashboardsCreate
	if cmd.Overwrite {
		need = PermDashboardsWrite
	}
	if !hasPerm(r, need) {
		status = 403
		writeJSON(w, 403, map[string]any{"accessErrorId": "ACE1", "title": "Access denied",
			"message": "You'll need additional permissions to perform this action. Permissions needed: " + need})
		return
	}
	title, _ := cmd.Dashboard["title"].(string)
	if strings.TrimSpace(title) == "" {
		fail(400, "Dashboard title cannot be empty")
		return
	}
	if len(uid) > 40 {
		fail(400, "uid too long, max 40 characters")
		return
	}
	if !uidRE.MatchString(uid) {
		fail(400, "uid contains illegal characters")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if cmd.FolderUID != "" && f.folders[cmd.FolderUID] == nil {
		fail(400, "folder not found")
		return
	}
	existing := f.dashboards[uid]
	if id, ok := cmd.Dashboard["id"].(float64); ok && id != 0 && (existing == nil || float64(existing.id) != id) {
		fail(404, "Dashboard not found", "status", "not-found")
		return
	}
	if existing != nil && !cmd.Overwrite {
		if f.clashStatus == http.StatusConflict {
			fail(409, fmt.Sprintf("dashboards.dashboard.grafana.app %q already exists", uid))
		} else {
			fail(412, "The dashboard has been changed by someone else", "status", "version-mismatch")
		}
		return
	}
	if uid == "" {
		uid = fmt.Sprintf("gen%d", rand.IntN(1e9))
	}
	f.nextID++
	d := &dashboard{uid: uid, title: title, folderUID: cmd.FolderUID, id: f.nextID, version: 1,
		tags: tagsOf(cmd.Dashboard), created: time.Now()}
	if existing != nil {
		d.id, d.version, d.created = existing.id, existing.version+1, existing.created
	}
	cmd.Dashboard["uid"], cmd.Dashboard["id"], cmd.Dashboard["version"] = uid, d.id, d.version
	d.raw, _ = json.Marshal(cmd.Dashboard)
	f.dashboards[uid] = d
	slug := slugify(title)
	writeJSON(w, 200, map[string]any{"id": d.id, "uid": uid, "url": "/d/" + uid + "/" + slug, "status": "success",
		"version": d.version, "slug": slug, "folderUid": cmd.FolderUID})
}

func (f *Fake) deleteDashboard(w http.ResponseWriter, r *http.Request) {
	uid := r.PathValue("uid")
	f.mu.Lock()
	d, ok := f.dashboards[uid]
	if ok {
		delete(f.dashboards, uid)
	}
	status := 200
	if !ok {
		status = 404
	}
	f.writes = append(f.writes, Write{Method: r.Method, Path: r.URL.Path, UID: uid, Status: status})
	f.mu.Unlock()
	if !ok {
		writeJSON(w, 404, map[string]any{"message": "Dashboard not found", "messageId": "dashboards.notFound", "statusCode": 404, "traceID": ""})
		return
	}
	writeJSON(w, 200, map[string]any{"title": d.title, "message": fmt.Sprintf("Dashboard %s deleted", d.title), "uid": uid})
}

func (f *Fake) getFolder(w http.ResponseWriter, r *http.Request) {
	uid := r.PathValue("uid")
	f.mu.Lock()
	fo := f.folders[uid]
	f.mu.Unlock()
	if fo == nil {
		writeJSON(w, 404, map[string]any{"message": "folder not found", "messageId": "folder.notFound", "statusCode": 404, "traceID": ""})
		return
	}
	writeJSON(w, 200, folderJSON(fo))
}

func folderJSON(fo *folder) map[string]any {
	return map[string]any{"id": fo.id, "uid": fo.uid, "title": fo.title, "url": "/dashboards/f/" + fo.uid + "/",
		"hasAcl": false, "canSave": true, "canEdit": true, "canAdmin": true, "canDelete": true, "version": 1,
		"created": time.Now().UTC().Format(time.RFC3339), "updated": time.Now().UTC().Format(time.RFC3339)}
}

func (f *Fake) postFolder(w http.ResponseWriter, r *http.Request) {
	var cmd struct {
		UID   string `json:"uid"`
		Title string `json:"title"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&cmd); err != nil {
		f.recordWrite(r, 400)
		apiError(w, 400, "bad request data")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	status := 200
	defer func() {
		f.writes = append(f.writes, Write{Method: r.Method, Path: r.URL.Path, UID: cmd.UID, Status: status})
	}()
	switch {
	case strings.TrimSpace(cmd.Title) == "":
		status = 400
		apiError(w, 400, "folder title cannot be empty")
		return
	case len(cmd.UID) > 40 || !uidRE.MatchString(cmd.UID):
		status = 400
		apiError(w, 400, "uid contains illegal characters")
		return
	case f.folders[cmd.UID] != nil:
		status = 409
		apiError(w, 409, "a folder with the same uid already exists")
		return
	}
	if cmd.UID == "" {
		cmd.UID = fmt.Sprintf("f%d", rand.IntN(1e9))
	}
	f.nextID++
	fo := &folder{uid: cmd.UID, title: cmd.Title, id: f.nextID}
	f.folders[cmd.UID] = fo
	writeJSON(w, 200, folderJSON(fo))
}

func (f *Fake) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if t := q.Get("type"); t != "" && t != "dash-db" && t != "dash-folder" {
		apiError(w, 422, "invalid type")
		return
	}
	limit, page := 1000, 1
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			apiError(w, 422, "invalid limit")
			return
		}
		if n > 0 && n <= 5000 {
			limit = n
		}
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			apiError(w, 422, "invalid page")
			return
		}
		page = n
	}
	tags, folders := q["tag"], q["folderUIDs"]
	query := strings.ToLower(q.Get("query"))
	f.mu.Lock()
	var hits []map[string]any
	uids := make([]string, 0, len(f.dashboards))
	for uid := range f.dashboards {
		uids = append(uids, uid)
	}
	sort.Strings(uids)
	for _, uid := range uids {
		d := f.dashboards[uid]
		if q.Get("type") == "dash-folder" {
			break
		}
		if !containsAll(d.tags, tags) || (len(folders) > 0 && !contains(folders, d.folderUID)) ||
			(query != "" && !strings.Contains(strings.ToLower(d.title), query)) {
			continue
		}
		fo := f.folders[d.folderUID]
		h := map[string]any{"id": d.id, "uid": uid, "title": d.title, "uri": "db/" + slugify(d.title),
			"url": "/d/" + uid + "/" + slugify(d.title), "slug": "", "type": "dash-db", "tags": nonNil(d.tags),
			"isStarred": false, "sortMeta": 0, "isDeleted": false}
		if fo != nil {
			h["folderId"], h["folderUid"], h["folderTitle"], h["folderUrl"] = fo.id, fo.uid, fo.title, "/dashboards/f/"+fo.uid+"/"
		}
		hits = append(hits, h)
	}
	f.mu.Unlock()
	start := (page - 1) * limit
	if start > len(hits) {
		start = len(hits)
	}
	end := min(start+limit, len(hits))
	writeJSON(w, 200, nonNilHits(hits[start:end]))
}

func (f *Fake) apiGroup(w http.ResponseWriter, r *http.Request) {
	var vs []map[string]any
	for _, v := range apiVersions {
		vs = append(vs, map[string]any{"groupVersion": "dashboard.grafana.app/" + v, "version": v})
	}
	writeJSON(w, 200, map[string]any{"kind": "APIGroup", "apiVersion": "v1", "name": "dashboard.grafana.app",
		"versions": vs, "preferredVersion": map[string]any{"groupVersion": "dashboard.grafana.app/v1beta1", "version": "v1beta1"}})
}

func (f *Fake) getResource(w http.ResponseWriter, r *http.Request) {
	version, ns, uid := r.PathValue("version"), r.PathValue("ns"), r.PathValue("uid")
	if !contains(apiVersions, version) {
		k8sStatus(w, 404, "NotFound", "the server could not find the requested resource")
		return
	}
	if ns != "default" { // every token of the fake belongs to org 1
		k8sStatus(w, 403, "Forbidden", fmt.Sprintf("dashboards.dashboard.grafana.app %q is forbidden: namespace %s does not match the identity's", uid, ns))
		return
	}
	f.mu.Lock()
	d, ok := f.dashboards[uid]
	f.mu.Unlock()
	if !ok {
		k8sStatus(w, 404, "NotFound", fmt.Sprintf("dashboards.dashboard.grafana.app %q not found", uid))
		return
	}
	stored := "v1beta1"
	if d.v2 {
		stored = d.storedVersion
	}
	res := map[string]any{"kind": "Dashboard", "apiVersion": "dashboard.grafana.app/" + version,
		"metadata": map[string]any{"name": uid, "namespace": ns, "uid": fmt.Sprintf("k8s-%d", d.id),
			"resourceVersion": strconv.FormatInt(d.created.UnixMilli(), 10), "generation": d.version,
			"creationTimestamp": d.created.UTC().Format(time.RFC3339),
			"annotations":       map[string]any{"grafana.app/folder": d.folderUID}},
		"status": map[string]any{}}
	if strings.HasPrefix(version, "v2") == d.v2 {
		res["spec"] = json.RawMessage(d.raw)
	} else {
		res["spec"] = map[string]any{"title": d.title}
		res["status"] = map[string]any{"conversion": map[string]any{"failed": true, "storedVersion": stored,
			"error": fmt.Sprintf("converting from %s to %s lost information; the stored version was kept", stored, version)}}
	}
	writeJSON(w, 200, res)
}

func (f *Fake) render(w http.ResponseWriter, r *http.Request) {
	uid := r.PathValue("uid")
	q := r.URL.Query()
	width, err1 := strconv.Atoi(q.Get("width"))
	height, err2 := strconv.Atoi(q.Get("height"))
	if q.Get("width") == "" {
		width, err1 = 1000, nil
	}
	if q.Get("height") == "" {
		height, err2 = 500, nil
	}
	if err1 != nil || err2 != nil || width <= 0 || height <= 0 {
		apiError(w, 400, "Render parameters error: width and height must be positive integers")
		return
	}
	if width > maxRenderSide || height > maxRenderSide {
		apiError(w, 400, fmt.Sprintf("Rendering failed: requested size %dx%d exceeds the renderer's maximum %d", width, height, maxRenderSide))
		return
	}
	theme := q.Get("theme")
	if theme == "" {
		theme = "dark"
	}
	if theme != "light" && theme != "dark" {
		apiError(w, 400, "Render parameters error: theme must be light or dark")
		return
	}
	timeout := 60 * time.Second
	if v := q.Get("timeout"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			apiError(w, 400, "Render parameters error: timeout must be a positive number of seconds")
			return
		}
		timeout = time.Duration(n) * time.Second
	}
	if q.Get("orgId") != "" && q.Get("orgId") != "1" {
		apiError(w, 500, "Rendering failed: org not found")
		return
	}
	panelID, err := strconv.ParseInt(q.Get("panelId"), 10, 64)
	if err != nil {
		apiError(w, 500, "Rendering failed: panelId is missing")
		return
	}
	if tz := q.Get("tz"); tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			apiError(w, 400, "Render parameters error: invalid timezone")
			return
		}
	}

	f.mu.Lock()
	if !f.rendererAvailable {
		f.mu.Unlock()
		apiError(w, 500, "Rendering failed: no image renderer available/installed")
		return
	}
	if f.activeRenders >= f.renderLimit {
		f.mu.Unlock()
		apiError(w, http.StatusTooManyRequests, "Too many rendering requests")
		return
	}
	f.activeRenders++
	f.maxActive = max(f.maxActive, f.activeRenders)
	delay, hook := f.renderDelay, f.onRender
	d := f.dashboards[uid]
	var snapshot map[string]any
	if d != nil && !d.v2 {
		_ = json.Unmarshal(d.raw, &snapshot)
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.activeRenders--
		f.mu.Unlock()
	}()
	if hook != nil {
		hook(uid)
	}
	if delay > 0 {
		t := time.NewTimer(min(delay, timeout))
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
		if delay > timeout {
			apiError(w, 500, "Rendering failed: timeout after "+timeout.String())
			return
		}
	}
	if d == nil {
		// The headless browser loads a page saying the dashboard is missing;
		// Grafana reports the failed render.
		apiError(w, 500, "Rendering failed: dashboard not found")
		return
	}
	rec := RenderRecord{DashboardUID: uid, PanelID: panelID, Params: q, Dashboard: snapshot, Status: 200}
	if snapshot != nil {
		rec.Panel = findPanel(snapshot["panels"], panelID)
	}
	if rec.Panel == nil {
		apiError(w, 500, fmt.Sprintf("Rendering failed: panel with id %d not found", panelID))
		return
	}
	rec.Title, _ = rec.Panel["title"].(string)
	if ts, _ := rec.Panel["targets"].([]any); len(ts) > 0 {
		t0, _ := ts[0].(map[string]any)
		rec.Query, _ = t0["expr"].(string)
	}
	rec.Thresholds = thresholdValues(rec.Panel)
	img := drawPanel(width, height, theme, rec)
	var buf bytes.Buffer
	// BestSpeed: a flat stand-in picture compresses well anyway, and the
	// default level's effort dominates the tests' CPU under -race.
	_ = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img)
	f.mu.Lock()
	f.renders = append(f.renders, rec)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private")
	w.WriteHeader(200)
	_, _ = w.Write(buf.Bytes())
}

func findPanel(v any, id int64) map[string]any {
	list, _ := v.([]any)
	for _, x := range list {
		p, _ := x.(map[string]any)
		if n, ok := p["id"].(float64); ok && int64(n) == id && p["type"] != "row" {
			return p
		}
		if nested := findPanel(p["panels"], id); nested != nil {
			return nested
		}
	}
	return nil
}

func thresholdValues(panel map[string]any) []float64 {
	fc, _ := panel["fieldConfig"].(map[string]any)
	def, _ := fc["defaults"].(map[string]any)
	th, _ := def["thresholds"].(map[string]any)
	steps, _ := th["steps"].([]any)
	var out []float64
	for _, s := range steps {
		sm, _ := s.(map[string]any)
		if v, ok := sm["value"].(float64); ok {
			out = append(out, v)
		}
	}
	return out
}

// drawPanel draws a recognisable stand-in for a rendered panel: themed
// background, panel title, the query, the time range and threshold lines.
func drawPanel(w, h int, theme string, rec RenderRecord) image.Image {
	bg, fg, grid := color.RGBA{0x18, 0x1b, 0x1f, 0xff}, color.RGBA{0xcc, 0xcc, 0xdc, 0xff}, color.RGBA{0x2c, 0x32, 0x35, 0xff}
	if theme == "light" {
		bg, fg, grid = color.RGBA{0xff, 0xff, 0xff, 0xff}, color.RGBA{0x24, 0x29, 0x2e, 0xff}, color.RGBA{0xe0, 0xe0, 0xe0, 0xff}
	}
	line, red := color.RGBA{0x73, 0xbf, 0x69, 0xff}, color.RGBA{0xf2, 0x49, 0x5c, 0xff}
	// Five colours, so a paletted picture (index 0, the background, fills
	// it from the start): its PNG compresses 4 bits a pixel instead of 24
	// and needs no row filters. Encoded as RGB it was two thirds of the
	// Grafana-rendering tests' CPU under -race.
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{bg, fg, grid, line, red})
	top, bottom, left, right := 40, h-20, 50, w-10
	for y := top; y <= bottom && bottom > top; y += max(1, (bottom-top)/5) {
		for x := left; x < right; x++ {
			img.Set(x, y, grid)
		}
	}
	// A deterministic wave standing in for the series.
	for x := left; x < right && bottom > top; x++ {
		t := float64(x-left) / float64(max(1, right-left))
		y := top + int(float64(bottom-top)*(0.5+0.35*sinApprox(t*12.56)))
		img.Set(x, y, line)
		img.Set(x, y+1, line)
	}
	for i := range rec.Thresholds {
		y := top + (bottom-top)*(i+1)/(len(rec.Thresholds)+2)
		for x := left; x < right; x += 2 {
			img.Set(x, y, red)
		}
	}
	d := &font.Drawer{Dst: img, Src: &image.Uniform{fg}, Face: basicfont.Face7x13}
	d.Dot = fixed.P(8, 16)
	d.DrawString(rec.Title)
	d.Dot = fixed.P(8, 32)
	d.DrawString(rec.Query)
	return img
}

// sinApprox is a cheap sine (Bhaskara) good enough for a stand-in line.
func sinApprox(x float64) float64 {
	const pi = 3.141592653589793
	for x > pi {
		x -= 2 * pi
	}
	for x < -pi {
		x += 2 * pi
	}
	sign := 1.0
	if x < 0 {
		x, sign = -x, -1
	}
	return sign * 16 * x * (pi - x) / (5*pi*pi - 4*x*(pi-x))
}

func tagsOf(m map[string]any) []string {
	list, _ := m["tags"].([]any)
	var out []string
	for _, t := range list {
		if s, ok := t.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !contains(have, w) {
			return false
		}
	}
	return true
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilHits(h []map[string]any) []map[string]any {
	if h == nil {
		return []map[string]any{}
	}
	return h
}
