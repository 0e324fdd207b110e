package registry_test

import (
	"context"
	"strings"
	"testing"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/registry"
	"github.com/alertchart/alertchart/pkg/settings"
	fakedc "github.com/alertchart/alertchart/test/fakes/discord"
	fakefs "github.com/alertchart/alertchart/test/fakes/feishu"
	"github.com/alertchart/alertchart/test/fakes/fixture"
	fakesl "github.com/alertchart/alertchart/test/fakes/slack"
	faketm "github.com/alertchart/alertchart/test/fakes/teams"
	faketg "github.com/alertchart/alertchart/test/fakes/telegram"
	fakewh "github.com/alertchart/alertchart/test/fakes/webhook"
)

// The config page's "send test" button, against every platform's fake,
// with the sample chart and an image store.
func TestSendTestReachesEveryPlatform(t *testing.T) {
	fs, tm, sl, tg, dc, wh := fakefs.New(), faketm.New(), fakesl.New(), faketg.New(), fakedc.New(), fakewh.New()
	for _, c := range []interface{ Close() }{fs, tm, sl, tg, dc, wh} {
		defer c.Close()
	}
	store, _ := fixture.ImageStore(t)
	s := &settings.Settings{Channels: []settings.Channel{
		{Name: "fs", Type: "feishu", FeishuAppID: fs.AppID, APIURL: fs.URL},
		{Name: "tm", Type: "teams"},
		{Name: "sl", Type: "slack", SlackChannel: "C0123", APIURL: sl.URL + "/api"},
		{Name: "tg", Type: "telegram", ChatID: tg.ChatID, APIURL: tg.URL, Language: "en"},
		{Name: "dc", Type: "discord"},
		{Name: "wh", Type: "webhook"},
	}, Secrets: map[string]string{
		"channels.fs.url": fs.WebhookURL(), "channels.fs.secret": fs.Secret, "channels.fs.appSecret": fs.AppSecret,
		"channels.tm.url":   tm.WebhookURL(),
		"channels.sl.token": sl.Token,
		"channels.tg.token": tg.Token,
		"channels.dc.url":   dc.WebhookURL(),
		"channels.wh.url":   wh.URL, "channels.wh.token": wh.Token, "channels.wh.secret": wh.Secret,
	}}
	s.ApplyDefaults()
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
}
