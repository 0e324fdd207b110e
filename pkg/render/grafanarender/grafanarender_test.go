package grafanarender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"math"
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
