package registry_test

import (
	"context"
	"strings"
	"testing"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/registry"
	"github.com/alertchart/alertchart/pkg/imagestore"
	"github.com/alertchart/alertchart/pkg/settings"
	fakedt "github.com/alertchart/alertchart/test/fakes/dingtalk"
	fakewc "github.com/alertchart/alertchart/test/fakes/wecom"
)

func TestBuildsEveryTypeAndSendsTests(t *testing.T) {
	t.Parallel()
	wc := fakewc.New()
	defer wc.Close()
	dt := fakedt.New()
	defer dt.Close()
	dir := t.TempDir()
	s, err := settings.Parse([]byte(`{"chart":{"language":"en"},"channels":[
		{"name":"wc","type":"wecom"},
		{"name":"dt","type":"dingtalk","language":"zh"},
		{"name":"fs","type":"feishu"},
		{"name":"tm","type":"teams"},
		{"name":"sl","type":"slack"},
		{"name":"tg","type":"telegram","chatId":"-100"},
		{"name":"dc","type":"discord"},
		{"name":"wh","type":"webhook"},
		{"name":"ib","type":"inbox","dir":`+quote(dir)+`}]}`), map[string]string{
		"channels.wc.url":    wc.WebhookURL(),
		"channels.dt.url":    dt.WebhookURL(),
		"channels.dt.secret": dt.Secret,
		"channels.fs.url":    "https://open.feishu.cn/open-apis/bot/v2/hook/x",
		"channels.tm.url":    "https://prod.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=y",
		"channels.sl.url":    "https://hooks.slack.com/services/T/B/X",
		"channels.tg.token":  "1:abc",
		"channels.dc.url":    "https://discord.com/api/webhooks/1/x",
		"channels.wh.url":    "https://example.com/hook",
	})
	if err != nil {
		t.Fatal(err)
	}
	store, err := imagestore.FromSettings(s, nil) // nil *S3: no store configured
	if err != nil || store != nil {
		t.Fatal(err)
	}
	all, errs := registry.All(s, registry.Deps{Images: store})
	if len(errs) != 0 || len(all) != len(settings.ChannelTypes) {
		t.Fatalf("errs %v, built %d", errs, len(all))
	}
	for name, n := range all {
		if n.Name() != name || n.Type() == "" {
			t.Errorf("%s: %s/%s", name, n.Name(), n.Type())
		}
	}
	for _, name := range []string{"wc", "dt", "ib"} {
		res, err := channels.SendTest(context.Background(), all[name], nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.StatusCode != 200 {
			t.Errorf("%s: %+v", name, res)
		}
	}
	// WeCom got text and the sample chart; DingTalk's test says why it has no chart.
	if acc := wc.Accepted(); len(acc) != 2 || acc[1].MsgType != "image" || !strings.Contains(string(acc[0].Body), "HighCPUUsage") {
		t.Fatalf("wecom test message: %d", len(acc))
	}
	if acc := dt.Accepted(); !strings.Contains(string(acc[0].Body), "图表不可用") || !strings.Contains(string(acc[0].Body), "告警中") {
		t.Fatalf("dingtalk test message: %s", acc[0].Body)
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `\`, `\\`) + `"` }

func TestConfigurationErrorsNameTheSettingNotTheSecret(t *testing.T) {
	t.Parallel()
	s := &settings.Settings{Secrets: map[string]string{"channels.tg.token": "1:supersecret"}}
	s.ApplyDefaults()
	cases := map[string]settings.Channel{
		"is not set":      {Name: "wc", Type: "wecom"},
		"chatId":          {Name: "tg", Type: "telegram"},
		"slackChannel":    {Name: "sl", Type: "slack"},
		"unknown type":    {Name: "x", Type: "pager"},
		"dir is required": {Name: "ib", Type: "inbox"},
		"must look like":  {Name: "tg2", Type: "telegram", ChatID: "1"},
		"appSecret":       {Name: "fs", Type: "feishu", FeishuAppID: "cli_1"},
	}
	s.Secrets["channels.sl.token"] = "xoxb-1"
	s.Secrets["channels.fs.url"] = "https://open.feishu.cn/open-apis/bot/v2/hook/x"
	for want, ch := range cases {
		_, err := registry.New(ch, s, registry.Deps{})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "1:supersecret") {
			t.Errorf("%s: %v", want, err)
		}
	}
}
