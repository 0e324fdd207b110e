package grafanarender

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	fakegrafana "github.com/alertchart/alertchart/test/fakes/grafana"
)

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
