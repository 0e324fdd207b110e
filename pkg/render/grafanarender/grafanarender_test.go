package grafanarender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/series"
	fakegrafana "github.com/alertchart/alertchart/test/fakes/grafana"
)

const (
	token  = "glsa_render_test"
	folder = "alertchart-tmp"
)

func newFake(t testing.TB) *fakegrafana.Fake {
	t.Helper()
	f := fakegrafana.New(t)
	f.AddToken(token, fakegrafana.AllPermissions...)
	f.AddFolder("shared", "Shared dashboards")
	if err := f.AddDashboard(fakegrafana.SampleDashboard, "shared"); err != nil {
		t.Fatal(err)
	}
	if err := f.AddV2Dashboard(fakegrafana.SampleV2UID, fakegrafana.SampleV2Spec, "shared", "v2beta1"); err != nil {
		t.Fatal(err)
	}
	return f
}

func newRenderer(t testing.TB, url, tok string, mod func(*Config)) *Renderer {
	t.Helper()
	c, err := grafana.NewClient(grafana.Credentials{URL: url, Token: tok, Source: grafana.SourceStoredToken}, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := Config{TemplateDashboardUID: fakegrafana.SampleDashboardUID, TemplatePanelID: fakegrafana.SamplePanelID,
		FolderUID: folder, MaxRenders: 2, Width: 800, Height: 400, Theme: "dark", Timezone: "UTC"}
	if mod != nil {
		mod(&opts)
	}
	return New(c, opts)
}

func request(i int) Request {
	to := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	return Request{
		Query:         fmt.Sprintf(`node_load1{instance="host-%02d:9100"}`, i),
		DatasourceUID: fakegrafana.SampleDatasource,
		Title:         fmt.Sprintf("High load on host-%02d", i),
		Thresholds:    []series.Threshold{{Op: ">", Value: float64(i) + 0.5}},
		From:          to.Add(-30 * time.Minute), To: to,
		Legend: "{{instance}}",
	}
}

func checkPNG(t *testing.T, b []byte, w, h int) {
	t.Helper()
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if cfg.Width != w || cfg.Height != h {
		t.Fatalf("PNG is %d×%d, want %d×%d", cfg.Width, cfg.Height, w, h)
	}
}

// Twenty alerts arrive together: each chart carries its own query and title,
// the shared template is never written (byte-for-byte unchanged), at most
// MaxRenders render at once, and no temporary dashboard is left.
func TestConcurrentRendersNeverTouchTemplate(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	t.Parallel()
	f := newFake(t)
	f.SetRenderDelay(20 * time.Millisecond)
	before, _ := f.DashboardRaw(fakegrafana.SampleDashboardUID)
	r := newRenderer(t, f.URL, token, nil)

	const n = 20
	pngs := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			pngs[i], errs[i] = r.Render(ctx, request(i))
		}(i)
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("render %d: %v", i, errs[i])
		}
		checkPNG(t, pngs[i], 800, 400)
	}

	after, _ := f.DashboardRaw(fakegrafana.SampleDashboardUID)
	if !bytes.Equal(before, after) {
		t.Fatal("the template dashboard changed")
	}
	for _, w := range f.Writes() {
		if w.UID == fakegrafana.SampleDashboardUID {
			t.Fatalf("the template was written: %+v", w)
		}
	}
	renders := f.Renders()
	if len(renders) != n {
		t.Fatalf("%d renders recorded, want %d", len(renders), n)
	}
	seen := map[string]bool{}
	for _, rec := range renders {
		if rec.DashboardUID == fakegrafana.SampleDashboardUID || !strings.HasPrefix(rec.DashboardUID, uidPrefix) {
			t.Fatalf("rendered %q, not a temporary copy", rec.DashboardUID)
		}
		var i int
		if _, err := fmt.Sscanf(rec.Title, "High load on host-%02d", &i); err != nil {
			t.Fatalf("title %q", rec.Title)
		}
		want := request(i)
		if rec.Query != want.Query {
			t.Fatalf("render titled %q drew %q, want %q", rec.Title, rec.Query, want.Query)
		}
		if len(rec.Thresholds) != 1 || rec.Thresholds[0] != want.Thresholds[0].Value {
			t.Fatalf("render %d thresholds %v", i, rec.Thresholds)
		}
		if rec.Params.Get("from") != fmt.Sprint(want.From.UnixMilli()) || rec.Params.Get("to") != fmt.Sprint(want.To.UnixMilli()) {
			t.Fatalf("render %d time range %v", i, rec.Params)
		}
		if seen[rec.Title] || seen[rec.DashboardUID] {
			t.Fatalf("render %q seen twice", rec.Title)
		}
		seen[rec.Title], seen[rec.DashboardUID] = true, true
	}
	if got := f.MaxConcurrentRenders(); got > 2 {
		t.Fatalf("%d renders ran at once, cap is 2", got)
	}
	if left := f.DashboardsIn(folder); len(left) != 0 {
		t.Fatalf("temporary dashboards left behind: %v", left)
	}
	if !f.HasFolder(folder) {
		t.Fatal("the temporary folder was not created")
	}
}

// The clone keeps the template's styling and drops what would change the
// chart: repeats, relative time overrides, the template's own query.
func TestCloneKeepsStyleAndDropsOverrides(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	r := newRenderer(t, f.URL, token, nil)
	if _, err := r.Render(context.Background(), request(3)); err != nil {
		t.Fatal(err)
	}
	rec := f.Renders()[0]
	p := rec.Panel
	for _, k := range []string{"repeat", "timeFrom"} {
		if _, ok := p[k]; ok {
			t.Fatalf("panel still has %s: %v", k, p[k])
		}
	}
	def := p["fieldConfig"].(map[string]any)["defaults"].(map[string]any)
	if def["unit"] != "percent" || def["custom"].(map[string]any)["lineInterpolation"] != "smooth" {
		t.Fatalf("template style lost: %v", def)
	}
	if def["custom"].(map[string]any)["thresholdsStyle"].(map[string]any)["mode"] != "dashed" {
		t.Fatalf("threshold lines not shown: %v", def["custom"])
	}
	if p["options"].(map[string]any)["legend"].(map[string]any)["displayMode"] != "table" {
		t.Fatalf("options lost: %v", p["options"])
	}
	targets := p["targets"].([]any)
	if len(targets) != 1 {
		t.Fatalf("targets: %v", targets)
	}
	t0 := targets[0].(map[string]any)
	if t0["interval"] != "30s" || t0["legendFormat"] != "{{instance}}" ||
		t0["datasource"].(map[string]any)["uid"] != fakegrafana.SampleDatasource {
		t.Fatalf("target: %v", t0)
	}
	if tags := rec.Dashboard["tags"].([]any); len(tags) != 1 || tags[0] != Tag {
		t.Fatalf("tags: %v", tags)
	}
	tm := rec.Dashboard["time"].(map[string]any)
	if tm["from"] != "2026-11-25T02:30:00Z" || tm["to"] != "2026-11-25T03:00:00Z" {
		t.Fatalf("time: %v", tm)
	}
}

// TestPartsBecomeTargets: a burn-rate tier's windows are one target each,
// named in the legend, so Grafana draws every window as the native
// renderer does.
func TestPartsBecomeTargets(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	r := newRenderer(t, f.URL, token, nil)
	req := request(3)
	req.Parts = []Part{{Name: "5m", Query: `slo:sli_error:ratio_rate5m{sloth_id="a"}`}, {Name: "1h", Query: `slo:sli_error:ratio_rate1h{sloth_id="a"}`}}
	if _, err := r.Render(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	targets := f.Renders()[0].Panel["targets"].([]any)
	if len(targets) != 2 {
		t.Fatalf("targets: %v", targets)
	}
	for i, want := range []struct{ ref, expr, legend string }{
		{"A", `slo:sli_error:ratio_rate5m{sloth_id="a"}`, "5m {{instance}}"},
		{"B", `slo:sli_error:ratio_rate1h{sloth_id="a"}`, "1h {{instance}}"},
	} {
		tg := targets[i].(map[string]any)
		if tg["refId"] != want.ref || tg["expr"] != want.expr || tg["legendFormat"] != want.legend || tg["interval"] != "30s" {
			t.Errorf("target %d = %v", i, tg)
		}
	}
}

func TestV2TemplateRenders(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	r := newRenderer(t, f.URL, token, func(o *Config) {
		o.TemplateDashboardUID, o.TemplatePanelID = fakegrafana.SampleV2UID, fakegrafana.SampleV2PanelID
	})
	b, err := r.Render(context.Background(), request(1))
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, b, 800, 400)
	rec := f.Renders()[0]
	if rec.Panel["type"] != "timeseries" || rec.Query != request(1).Query {
		t.Fatalf("panel: %v", rec.Panel)
	}
	if u := rec.Panel["fieldConfig"].(map[string]any)["defaults"].(map[string]any)["unit"]; u != "percentunit" {
		t.Fatalf("v2 style lost: %v", rec.Panel["fieldConfig"])
	}
	if _, ok := f.DashboardRaw(fakegrafana.SampleV2UID); !ok {
		t.Fatal("template gone")
	}
}

// A UID that is already taken makes Grafana refuse the create; the renderer
// picks a new UID and never overwrites the existing dashboard.
func TestUIDClashRetriesWithNewUID(t *testing.T) {
	t.Parallel()
	for _, status := range []int{412, 409} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			f := newFake(t)
			f.SetClashStatus(status)
			f.AddFolder(folder, "tmp")
			taken := "act-taken-000000000000"
			if err := f.AddDashboard([]byte(`{"uid":"`+taken+`","title":"someone else's","tags":["alertchart-tmp"]}`), folder); err != nil {
				t.Fatal(err)
			}
			before, _ := f.DashboardRaw(taken)
			r := newRenderer(t, f.URL, token, nil)
			calls := 0
			r.newUID = func(now time.Time) string {
				calls++
				if calls == 1 {
					return taken
				}
				return randomUID(now)
			}
			if _, err := r.Render(context.Background(), request(2)); err != nil {
				t.Fatal(err)
			}
			after, _ := f.DashboardRaw(taken)
			if !bytes.Equal(before, after) {
				t.Fatal("the existing dashboard was overwritten")
			}
			var posts []fakegrafana.Write
			for _, w := range f.Writes() {
				if w.Path == "/api/dashboards/db" {
					posts = append(posts, w)
				}
			}
			if len(posts) != 2 || posts[0].UID != taken || posts[0].Status != status || posts[1].UID == taken || posts[1].Status != 200 {
				t.Fatalf("creates: %+v", posts)
			}
			if rec := f.Renders()[0]; rec.DashboardUID != posts[1].UID {
				t.Fatalf("rendered %s, created %s", rec.DashboardUID, posts[1].UID)
			}
			if left := f.DashboardsIn(folder); len(left) != 1 || left[0] != taken {
				t.Fatalf("left: %v", left)
			}
		})
	}
}

func Test429RetryAfterHonoured(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.Inject(fakegrafana.Fault{Path: "/render/", Status: 429, Header: map[string]string{"Retry-After": "3"},
		Body: `{"message":"Too many rendering requests"}`})
	r := newRenderer(t, f.URL, token, nil)
	var waits []time.Duration
	r.sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return ctx.Err() }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := r.Render(ctx, request(4))
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, b, 800, 400)
	if len(waits) != 1 || waits[0] != 3*time.Second {
		t.Fatalf("waits %v, want [3s]", waits)
	}
	if left := f.DashboardsIn(folder); len(left) != 0 {
		t.Fatalf("left: %v", left)
	}
}

func Test429BeyondDeadlineFailsFast(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.Inject(fakegrafana.Fault{Path: "/render/", Status: 429, Header: map[string]string{"Retry-After": "120"}})
	r := newRenderer(t, f.URL, token, nil)
	var waits []time.Duration
	r.sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := r.Render(ctx, request(5))
	var re *Error
	if !errors.As(err, &re) || re.Stage != "render" || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("got %v", err)
	}
	if len(waits) != 0 {
		t.Fatalf("waited %v past the deadline", waits)
	}
	if left := f.DashboardsIn(folder); len(left) != 0 {
		t.Fatalf("left: %v", left)
	}
}

// Grafana's own render limit answers 429 without Retry-After: back off.
func Test429WithoutRetryAfterBacksOff(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.SetRenderLimit(0)
	r := newRenderer(t, f.URL, token, nil)
	var waits []time.Duration
	r.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		if len(waits) == 2 {
			f.SetRenderLimit(30)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := r.Render(ctx, request(6)); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 2 || waits[0] != time.Second || waits[1] != 2*time.Second {
		t.Fatalf("waits %v", waits)
	}
}

func TestAuthErrorsAreClear(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	_, err := newRenderer(t, f.URL, "glsa_revoked", nil).Render(context.Background(), request(1))
	var re *Error
	if !errors.As(err, &re) || re.Stage != "template" || grafana.StatusOf(err) != 401 ||
		!strings.Contains(err.Error(), "rejected the plugin's credentials") {
		t.Fatalf("401: %v", err)
	}
	f.AddToken("glsa_readonly", fakegrafana.PermDashboardsRead, fakegrafana.PermFoldersRead)
	f.AddFolder(folder, "tmp")
	_, err = newRenderer(t, f.URL, "glsa_readonly", nil).Render(context.Background(), request(1))
	if !errors.As(err, &re) || re.Stage != "create" || grafana.StatusOf(err) != 403 || !strings.Contains(err.Error(), "dashboards:create") {
		t.Fatalf("403: %v", err)
	}
}

// A slow renderer past the chart's deadline: the render fails with the
// deadline, and the copy is still deleted.
func TestSlowRenderCancelledStillCleansUp(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.SetRenderDelay(10 * time.Second)
	r := newRenderer(t, f.URL, token, nil)
	started := make(chan struct{}, 1)
	f.OnRender(func(string) { started <- struct{}{} })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := r.Render(ctx, request(7))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if left := f.DashboardsIn(folder); len(left) != 0 {
		t.Fatalf("left: %v", left)
	}
}

// When the delete fails, the copy stays until the janitor removes it; the
// janitor leaves young copies (renders in flight) alone.
func TestFailedDeleteLeftoverRemovedByJanitor(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.Inject(fakegrafana.Fault{Method: "DELETE", Path: "/api/dashboards/uid/", Status: 503, Body: `{"message":"database is locked"}`})
	r := newRenderer(t, f.URL, token, nil)
	if _, err := r.Render(context.Background(), request(8)); err != nil {
		t.Fatal(err)
	}
	left := f.DashboardsIn(folder)
	if len(left) != 1 {
		t.Fatalf("left: %v", left)
	}
	n, err := r.Janitor(context.Background(), DefaultJanitorAge)
	if err != nil || n != 0 {
		t.Fatalf("janitor deleted %d young copies (%v)", n, err)
	}
	r.now = func() time.Time { return time.Now().Add(DefaultJanitorAge + time.Minute) }
	n, err = r.Janitor(context.Background(), DefaultJanitorAge)
	if err != nil || n != 1 {
		t.Fatalf("janitor: %d %v", n, err)
	}
	if left := f.DashboardsIn(folder); len(left) != 0 {
		t.Fatalf("left after janitor: %v", left)
	}
	if _, ok := f.DashboardRaw(fakegrafana.SampleDashboardUID); !ok {
		t.Fatal("the janitor deleted the template")
	}
}

// The janitor never touches dashboards that are not AlertChart's copies,
// even when they sit in the folder with the tag.
func TestJanitorOnlyDeletesOwnCopies(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.AddFolder(folder, "tmp")
	for _, d := range []string{
		`{"uid":"users-own","title":"user","tags":["alertchart-tmp"]}`,
		`{"uid":"act-1-untagged000000","title":"untagged","tags":[]}`,
	} {
		if err := f.AddDashboard([]byte(d), folder); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.AddDashboard([]byte(`{"uid":"act-1-elsewhere00000","title":"elsewhere","tags":["alertchart-tmp"]}`), "shared"); err != nil {
		t.Fatal(err)
	}
	r := newRenderer(t, f.URL, token, nil)
	n, err := r.Janitor(context.Background(), 0)
	if err != nil || n != 0 {
		t.Fatalf("janitor deleted %d (%v)", n, err)
	}
}

// A real crash: a child process starts a render and is killed while Grafana
// renders. Its copy stays behind; the janitor of the next run removes it.
func TestCrashBetweenCreateAndDeleteJanitorCleans(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.SetRenderDelay(time.Minute)
	started := make(chan string, 1)
	f.OnRender(func(uid string) { started <- uid })

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GRAFANARENDER_CRASH_URL="+f.URL)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var uid string
	select {
	case uid = <-started:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the child never started rendering:\n%s", out.String())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	left := f.DashboardsIn(folder)
	if len(left) != 1 || left[0] != uid {
		t.Fatalf("after the crash: %v (rendering %s)\n%s", left, uid, out.String())
	}
	r := newRenderer(t, f.URL, token, nil)
	r.now = func() time.Time { return time.Now().Add(DefaultJanitorAge + time.Second) }
	n, err := r.Janitor(context.Background(), DefaultJanitorAge)
	if err != nil || n != 1 {
		t.Fatalf("janitor: %d %v", n, err)
	}
	if left := f.DashboardsIn(folder); len(left) != 0 {
		t.Fatalf("left after janitor: %v", left)
	}
	template, _ := f.DashboardRaw(fakegrafana.SampleDashboardUID)
	if !bytes.Equal(template, fakegrafana.SampleDashboard) {
		t.Fatal("template changed")
	}
}

// TestCrashHelperProcess is the child of the crash test: it renders and is
// killed mid-render. It does nothing in a normal test run.
func TestCrashHelperProcess(t *testing.T) {
	t.Parallel()
	url := os.Getenv("GRAFANARENDER_CRASH_URL")
	if url == "" {
		t.Skip("helper process for TestCrashBetweenCreateAndDeleteJanitorCleans")
	}
	r := newRenderer(t, url, token, nil)
	_, err := r.Render(context.Background(), request(9))
	t.Fatalf("the render should have been killed, returned %v", err)
}

// Someone deletes the temporary folder while the plugin runs: it is
// created again.
func TestFolderRecreated(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	r := newRenderer(t, f.URL, token, nil)
	if _, err := r.Render(context.Background(), request(1)); err != nil {
		t.Fatal(err)
	}
	f.RemoveFolder(folder)
	if _, err := r.Render(context.Background(), request(2)); err != nil {
		t.Fatal(err)
	}
	if !f.HasFolder(folder) || len(f.Renders()) != 2 {
		t.Fatalf("folder %v, renders %d", f.HasFolder(folder), len(f.Renders()))
	}
}

func TestRunJanitorLoop(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.AddFolder(folder, "tmp")
	old := uidPrefix + strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 36) + "-leftover0000"
	if err := f.AddDashboard([]byte(`{"uid":"`+old+`","title":"left","tags":["alertchart-tmp"]}`), folder); err != nil {
		t.Fatal(err)
	}
	r := newRenderer(t, f.URL, token, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.RunJanitor(ctx, 10*time.Millisecond, DefaultJanitorAge); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(f.DashboardsIn(folder)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("janitor loop never cleaned: %v", f.DashboardsIn(folder))
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}

func TestAvailable(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	now := time.Now()
	r := newRenderer(t, f.URL, token, nil)
	r.now = func() time.Time { return now }
	if err := r.Available(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.SetRendererAvailable(false)
	if err := r.Available(context.Background()); err != nil {
		t.Fatalf("the answer should be cached: %v", err)
	}
	now = now.Add(time.Minute)
	err := r.Available(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no image renderer") {
		t.Fatalf("got %v", err)
	}
	rNoTmpl := newRenderer(t, f.URL, token, func(o *Config) { o.TemplateDashboardUID = "" })
	if err := rNoTmpl.Available(context.Background()); err == nil || !strings.Contains(err.Error(), "templateDashboardUid") {
		t.Fatalf("no template: %v", err)
	}
	f.SetRendererAvailable(true)
	rBad := newRenderer(t, f.URL, token, func(o *Config) { o.TemplatePanelID = 42 })
	if err := rBad.Available(context.Background()); err == nil || !strings.Contains(err.Error(), "no panel with id 42") {
		t.Fatalf("bad panel: %v", err)
	}
}

func TestBadRequestsRejected(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	r := newRenderer(t, f.URL, token, nil)
	bad := []Request{
		{Query: "", From: time.Now().Add(-time.Hour), To: time.Now()},
		{Query: "up", From: time.Now(), To: time.Now().Add(-time.Hour)},
		{Query: "up", From: time.Now().Add(-time.Hour), To: time.Now(), Theme: "blue"},
		{Query: "up", From: time.Now().Add(-time.Hour), To: time.Now(), Timezone: "Mars/Base"},
		{Query: strings.Repeat("x", 70000), From: time.Now().Add(-time.Hour), To: time.Now()},
		{Query: "up", From: time.Now().Add(-time.Hour), To: time.Now(), Thresholds: []series.Threshold{{Op: ">", Value: math.NaN()}}},
	}
	for i, req := range bad {
		_, err := r.Render(context.Background(), req)
		var re *Error
		if !errors.As(err, &re) || re.Stage != "config" {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if len(f.Writes()) != 0 {
		t.Fatalf("bad requests reached Grafana: %v", f.Writes())
	}
}

func TestUIDTimeRoundTrip(t *testing.T) {
	t.Parallel()
	now := time.Unix(1795000000, 0)
	uid := randomUID(now)
	if len(uid) > 40 {
		t.Fatalf("uid %q longer than Grafana's 40", uid)
	}
	got, ok := uidTime(uid)
	if !ok || !got.Equal(now) {
		t.Fatalf("%q → %v %v", uid, got, ok)
	}
	for _, bad := range []string{"tmpl-node", "act-", "act-zz", "act--x"} {
		if _, ok := uidTime(bad); ok {
			t.Fatalf("%q parsed", bad)
		}
	}
}

func BenchmarkRenderThroughFake(b *testing.B) {
	f := newFake(b)
	r := newRenderer(b, f.URL, token, func(o *Config) { o.MaxRenders = 4 })
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Render(ctx, request(i%20)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildDashboard(b *testing.B) {
	f := newFake(b)
	r := newRenderer(b, f.URL, token, nil)
	tmpl, err := r.template(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	req := request(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = buildDashboard("act-x-0123456789ab", tmpl, req)
	}
}

// TestRuleQueryModelsBecomeTargets: a Grafana-managed rule's data queries
// are rendered as they are (query models with their data source UIDs, in
// a mixed-source panel when they differ), narrowed to the alert's series by
// Grafana's transformations when asked, and a range threshold is shaded
// over what fires.
func TestRuleQueryModelsBecomeTargets(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	r := newRenderer(t, f.URL, token, nil)
	lo, hi := 10.0, 20.0
	req := request(3)
	req.Query = "SELECT time, host, load FROM metrics"
	req.DatasourceUID = ""
	req.Legend = ""
	req.Targets = []map[string]any{
		{"refId": "A", "datasource": map[string]any{"type": "grafana-postgresql-datasource", "uid": "pg-1"},
			"rawSql": "SELECT time, host, load FROM metrics WHERE $__timeFilter(time)", "format": "table"},
		{"refId": "B", "datasource": map[string]any{"type": "prometheus", "uid": "prom-1"}, "expr": `up{job="db"}`, "range": true},
	}
	req.Match = map[string]string{"host": "db-2"}
	req.Thresholds = []series.Threshold{{Op: series.OpWithinRange, Value: lo, Upper: &hi}}
	if _, err := r.Render(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	p := f.Renders()[0].Panel
	if ds := p["datasource"].(map[string]any); ds["uid"] != "-- Mixed --" {
		t.Fatalf("panel datasource %v, want the mixed data source", ds)
	}
	targets := p["targets"].([]any)
	if len(targets) != 2 {
		t.Fatalf("targets %v", targets)
	}
	a := targets[0].(map[string]any)
	if a["rawSql"] != req.Targets[0]["rawSql"] || a["datasource"].(map[string]any)["uid"] != "pg-1" || a["refId"] != "A" {
		t.Fatalf("target A %v", a)
	}
	if _, ok := a["expr"]; ok {
		t.Fatalf("the template's PromQL leaked into the SQL target: %v", a)
	}
	tr := p["transformations"].([]any)
	ids := []string{}
	for _, x := range tr {
		ids = append(ids, x.(map[string]any)["id"].(string))
	}
	if strings.Join(ids, ",") != "labelsToFields,filterByValue,prepareTimeSeries" {
		t.Fatalf("transformations %v", ids)
	}
	filter := tr[1].(map[string]any)["options"].(map[string]any)["filters"].([]any)[0].(map[string]any)
	if filter["fieldName"] != "host" || filter["config"].(map[string]any)["options"].(map[string]any)["value"] != "db-2" {
		t.Fatalf("filter %v", filter)
	}
	def := p["fieldConfig"].(map[string]any)["defaults"].(map[string]any)
	steps := def["thresholds"].(map[string]any)["steps"].([]any)
	var got []string
	for _, s := range steps {
		m := s.(map[string]any)
		got = append(got, fmt.Sprintf("%v@%v", m["color"], m["value"]))
	}
	if strings.Join(got, " ") != "transparent@<nil> red@10 transparent@20" {
		t.Fatalf("band steps %v", got)
	}
	if def["custom"].(map[string]any)["thresholdsStyle"].(map[string]any)["mode"] != "dashed+area" {
		t.Fatalf("band style %v", def["custom"])
	}
	// outside_range: red below and above.
	req.Thresholds = []series.Threshold{{Op: series.OpOutsideRange, Value: hi, Upper: &lo}}
	req.Match = nil
	if _, err := r.Render(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	p = f.Renders()[1].Panel
	steps = p["fieldConfig"].(map[string]any)["defaults"].(map[string]any)["thresholds"].(map[string]any)["steps"].([]any)
	got = got[:0]
	for _, s := range steps {
		m := s.(map[string]any)
		got = append(got, fmt.Sprintf("%v@%v", m["color"], m["value"]))
	}
	if strings.Join(got, " ") != "red@<nil> transparent@10 red@20" {
		t.Fatalf("outside band steps %v", got)
	}
	if _, ok := p["transformations"]; ok {
		t.Fatalf("transformations without a match: %v", p["transformations"])
	}
}
