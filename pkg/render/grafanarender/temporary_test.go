package grafanarender

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	fakegrafana "github.com/alertchart/alertchart/test/fakes/grafana"
)

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
