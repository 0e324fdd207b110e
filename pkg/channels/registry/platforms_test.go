package registry_test

import (
	"testing"

	"github.com/alertchart/alertchart/pkg/settings"
	fakedt "github.com/alertchart/alertchart/test/fakes/dingtalk"
	fakedc "github.com/alertchart/alertchart/test/fakes/discord"
	fakefs "github.com/alertchart/alertchart/test/fakes/feishu"
	fakesl "github.com/alertchart/alertchart/test/fakes/slack"
	faketm "github.com/alertchart/alertchart/test/fakes/teams"
	faketg "github.com/alertchart/alertchart/test/fakes/telegram"
	fakewh "github.com/alertchart/alertchart/test/fakes/webhook"
)

// platformFakes are the fakes of every platform that can carry text and
// chart in one message, each configured as one channel of settings.
type platformFakes struct {
	fs *fakefs.Server
	tm *faketm.Server
	sl *fakesl.Server
	tg *faketg.Server
	dc *fakedc.Server
	wh *fakewh.Server
	dt *fakedt.Server
}

// newPlatformFakes starts the fakes (stopped when the test ends) and the
// settings with one channel per platform, named fs, tm, sl, tg, dc, wh, dt.
func newPlatformFakes(t *testing.T) (*platformFakes, *settings.Settings) {
	t.Helper()
	f := &platformFakes{fs: fakefs.New(), tm: faketm.New(), sl: fakesl.New(), tg: faketg.New(), dc: fakedc.New(), wh: fakewh.New(), dt: fakedt.New()}
	for _, c := range []interface{ Close() }{f.fs, f.tm, f.sl, f.tg, f.dc, f.wh, f.dt} {
		t.Cleanup(c.Close)
	}
	s := &settings.Settings{Channels: []settings.Channel{
		{Name: "fs", Type: "feishu", FeishuAppID: f.fs.AppID, APIURL: f.fs.URL},
		{Name: "tm", Type: "teams"},
		{Name: "sl", Type: "slack", SlackChannel: "C0123", APIURL: f.sl.URL + "/api"},
		{Name: "tg", Type: "telegram", ChatID: f.tg.ChatID, APIURL: f.tg.URL, Language: "en"},
		{Name: "dc", Type: "discord"},
		{Name: "wh", Type: "webhook"},
		{Name: "dt", Type: "dingtalk"},
	}, Secrets: map[string]string{
		"channels.fs.url": f.fs.WebhookURL(), "channels.fs.secret": f.fs.Secret, "channels.fs.appSecret": f.fs.AppSecret,
		"channels.tm.url":   f.tm.WebhookURL(),
		"channels.sl.token": f.sl.Token,
		"channels.tg.token": f.tg.Token,
		"channels.dc.url":   f.dc.WebhookURL(),
		"channels.wh.url":   f.wh.URL, "channels.wh.token": f.wh.Token, "channels.wh.secret": f.wh.Secret,
		"channels.dt.url": f.dt.WebhookURL(), "channels.dt.secret": f.dt.Secret,
	}}
	s.ApplyDefaults()
	return f, s
}
