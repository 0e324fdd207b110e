package inbox_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/inbox"
	"github.com/alertchart/alertchart/pkg/settings"
	"github.com/alertchart/alertchart/test/fakes/fixture"
)

func TestWritesMarkdownAndChartWithSafeNames(t *testing.T) {
	dir := t.TempDir()
	n, err := inbox.New(channels.Options{Channel: settings.Channel{Name: "demo", Dir: dir}, Lang: "zh"})
	if err != nil {
		t.Fatal(err)
	}
	n.Fmt.Now = func() time.Time { return fixture.Now }
	d := fixture.Data(1, true, true)
	d.Alerts[0].Labels["alertname"] = "../../etc/passwd"
	if _, err := n.Send(context.Background(), fixture.Message(d, fixture.Chart())); err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 3 {
		t.Fatalf("files %v", files)
	}
	for _, f := range files {
		if !inbox.ValidName(f.Name()) {
			t.Errorf("unexpected file %s", f.Name())
		}
	}
	list, err := inbox.List(dir, 10)
	if err != nil || len(list) != 1 || list[0].Image == "" || list[0].Alerts != 1 {
		t.Fatalf("%v %+v", err, list)
	}
	rc, ct, err := inbox.Open(dir, list[0].Markdown)
	if err != nil || !strings.HasPrefix(ct, "text/markdown") {
		t.Fatal(err, ct)
	}
	md, _ := io.ReadAll(rc)
	rc.Close()
	if !strings.Contains(string(md), "![chart]("+list[0].Image+")") || strings.Contains(string(md), "<b>") {
		t.Fatalf("%s", md)
	}
	if img, _ := os.ReadFile(filepath.Join(dir, list[0].Image)); string(img) != string(fixture.Chart().Image) {
		t.Fatal("image differs")
	}
	for _, bad := range []string{"../x.md", "x.md", list[0].ID + ".sh", "/etc/passwd"} {
		if _, _, err := inbox.Open(dir, bad); err == nil {
			t.Errorf("opened %q", bad)
		}
	}
}

func TestPrunesOldEntries(t *testing.T) {
	dir := t.TempDir()
	n, _ := inbox.New(channels.Options{Channel: settings.Channel{Name: "demo", Dir: dir}})
	n.MaxEntries = 3
	for i := 0; i < 5; i++ {
		if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(1+i, false, false), nil)); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := inbox.List(dir, 0)
	if len(list) != 3 || list[0].Alerts != 5 {
		t.Fatalf("%+v", list)
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 6 {
		t.Fatalf("%d files", len(files))
	}
}
