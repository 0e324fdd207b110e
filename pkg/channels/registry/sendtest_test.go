package registry_test

import (
	"context"
	"strings"
	"testing"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/registry"
	"github.com/alertchart/alertchart/test/fakes/fixture"
)

// The config page's "send test" button, against every platform's fake,
// with the sample chart and an image store.
func TestSendTestReachesEveryPlatform(t *testing.T) {
	t.Parallel()
	f, s := newPlatformFakes(t)
	fs, tm, sl, tg, dc, wh, dt := f.fs, f.tm, f.sl, f.tg, f.dc, f.wh, f.dt
	store, _ := fixture.ImageStore(t)
	for _, ch := range s.Channels {
		n, err := registry.New(ch, s, registry.Deps{Images: store})
		if err != nil {
			t.Fatal(err)
		}
		res, err := channels.SendTest(context.Background(), n, nil)
		if err != nil {
			t.Fatalf("%s: %v", ch.Name, err)
		}
		if res.Note != "" {
			t.Errorf("%s: degraded: %s", ch.Name, res.Note)
		}
	}
	if len(fs.Accepted()) != 1 || fs.Image("img_v3_fake_1") == nil {
		t.Error("feishu: no card with uploaded chart")
	}
	if r := tm.Runs(); len(r) != 1 || r[0].Status != "Succeeded" || !strings.Contains(string(r[0].Body), "X-Amz-Signature") {
		t.Errorf("teams: %+v", r)
	}
	if p := sl.Posts(); len(p) != 1 || p[0].Kind != "upload" || !strings.Contains(p[0].Comment, "HighCPUUsage") {
		t.Errorf("slack: %+v", p)
	}
	if a := tg.Accepted(); len(a) != 1 || a[0].Method != "sendPhoto" || !strings.Contains(a[0].Text, "CPU usage on web-01") {
		t.Errorf("telegram: %+v", a)
	}
	if a := dc.Accepted(); len(a) != 1 || len(a[0].Files["chart.png"]) == 0 {
		t.Errorf("discord: %+v", a)
	}
	if a := wh.Accepted(); len(a) != 1 || !strings.Contains(string(a[0]), `"url":"http://`) {
		t.Errorf("webhook: %s", a)
	}
	if a := dt.Accepted(); len(a) != 1 {
		t.Errorf("dingtalk: %d messages", len(a))
	}
}
