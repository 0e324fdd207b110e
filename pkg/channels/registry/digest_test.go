package registry_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/registry"
	"github.com/alertchart/alertchart/pkg/settings"
	"github.com/alertchart/alertchart/test/fakes/fixture"
	fakewc "github.com/alertchart/alertchart/test/fakes/wecom"
)

// stormDigest is a storm digest of n alerts with its overview chart.
func stormDigest(n int, part channels.Part) *channels.Message {
	m := channels.SampleMessage("en", nil)
	base := m.Data.Alerts[0]
	m.Data.Alerts = nil
	for i := range n {
		a := base
		a.Labels = template.KV{}
		for k, v := range base.Labels {
			a.Labels[k] = v
		}
		a.Labels["instance"] = fmt.Sprintf("web-%03d:9100", i)
		a.Fingerprint = fmt.Sprintf("%016x", i)
		m.Data.Alerts = append(m.Data.Alerts, a)
	}
	m.Digest, m.Part = true, part
	m.Chart.Title = fmt.Sprintf("HighCPUUsage — %d alerts (last 10m)", n)
	return m
}

// A digest with its overview (Digest, PartBoth) costs the delivery stage
// Limits().MessagesPerSend rate slots, so every combining platform must
// deliver it as that many chat messages — a long alert list must not turn
// it into a text message plus a photo — with the text cut to the
// platform's size limit rather than refused.
func TestDigestWithOverviewStaysWithinItsCost(t *testing.T) {
	t.Parallel()
	f, s := newPlatformFakes(t)
	fs, tm, sl, tg, dc, wh, dt := f.fs, f.tm, f.sl, f.tg, f.dc, f.wh, f.dt
	store, _ := fixture.ImageStore(t)
	for _, size := range []int{3, 400} {
		for _, ch := range s.Channels {
			n, err := registry.New(ch, s, registry.Deps{Images: store})
			if err != nil {
				t.Fatal(err)
			}
			if l := n.Limits(); !l.CombinesTextAndImage || l.MessagesPerSend != 1 {
				t.Fatalf("%s: limits %+v; the test assumes one message per combined send", ch.Name, l)
			}
			m := stormDigest(size, channels.PartBoth)
			if c := channels.CostOf(n, m); c != 1 {
				t.Errorf("%s, digest of %d: costs %d slots, want 1", ch.Name, size, c)
			}
			if _, err := n.Send(context.Background(), m); err != nil {
				t.Errorf("%s, digest of %d: %v", ch.Name, size, err)
			}
		}
	}
	counts := map[string]int{
		"feishu": len(fs.Accepted()), "teams": len(tm.Runs()), "slack": len(sl.Posts()), "telegram": len(tg.Accepted()),
		"discord": len(dc.Accepted()), "webhook": len(wh.Accepted()), "dingtalk": len(dt.Accepted()),
	}
	for name, c := range counts {
		if c != 2 {
			t.Errorf("%s: %d chat messages for 2 digests", name, c)
		}
	}
	// The short digest fits a photo caption; the long one keeps its text and gives up the photo.
	if a := tg.Accepted(); len(a) == 2 && (a[0].Method != "sendPhoto" || a[1].Method != "sendMessage" ||
		!strings.Contains(a[1].Text, "chart unavailable")) {
		t.Errorf("telegram: %s then %s: %q", a[0].Method, a[1].Method, a[1].Text)
	}
}

// On WeCom the overview follows the digest text as an image message alone.
func TestDigestOverviewImageOnWeCom(t *testing.T) {
	t.Parallel()
	wc := fakewc.New()
	defer wc.Close()
	s := &settings.Settings{Channels: []settings.Channel{{Name: "wc", Type: "wecom"}},
		Secrets: map[string]string{"channels.wc.url": wc.WebhookURL()}}
	s.ApplyDefaults()
	n, err := registry.New(s.Channels[0], s, registry.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := n.Send(context.Background(), stormDigest(400, channels.PartChart))
	if err != nil || res.Requests != 1 {
		t.Fatalf("%v, %+v", err, res)
	}
	if a := wc.Accepted(); len(a) != 1 || a[0].MsgType != "image" {
		t.Fatalf("wecom accepted %+v", a)
	}
}
