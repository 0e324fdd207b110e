package registry_test

import (
	"context"
	"strings"
	"testing"

	"github.com/alertchart/alertchart/pkg/channels/registry"
	"github.com/alertchart/alertchart/pkg/settings"
	"github.com/alertchart/alertchart/test/fakes/fixture"
	fakewc "github.com/alertchart/alertchart/test/fakes/wecom"
)

// A label (or mentionUsers) naming everyone — all, @all, here, channel,
// everyone, in any case — mentions nobody on any platform; only mentionAll
// mentions everyone, in each platform's own way.
func TestOnlyMentionAllMentionsEveryone(t *testing.T) {
	t.Parallel()
	hostile := "all,@all,ALL,here,@here,channel,!channel,everyone,@everyone,所有人,U02ABCDEF12,80351110224678912,zhangsan"
	for _, all := range []bool{false, true} {
		f, s := newPlatformFakes(t)
		wc := fakewc.New()
		t.Cleanup(wc.Close)
		s.Channels = append(s.Channels, settings.Channel{Name: "wc", Type: "wecom"})
		s.Secrets["channels.wc.url"] = wc.WebhookURL()
		for i := range s.Channels {
			s.Channels[i].MentionLabel = "oncall"
			s.Channels[i].MentionUsers = []string{"all", "@everyone"}
			s.Channels[i].MentionMobiles = []string{"@all"}
			s.Channels[i].MentionAll = all
		}
		d := fixture.Data(1, false, false)
		d.Alerts[0].Labels["oncall"] = hostile
		store, _ := fixture.ImageStore(t)
		for _, ch := range s.Channels {
			if ch.Type == "teams" || ch.Type == "telegram" || ch.Type == "webhook" {
				continue // no mentions
			}
			n, err := registry.New(ch, s, registry.Deps{Images: store})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := n.Send(context.Background(), fixture.Message(d, fixture.Chart())); err != nil {
				t.Fatalf("%s: %v", ch.Name, err)
			}
		}
		check := func(platform, payload string, everyone []string, never []string) {
			t.Helper()
			for _, e := range everyone {
				if strings.Contains(payload, e) != all {
					t.Errorf("%s (mentionAll %v): %q present: %v\n%s", platform, all, e, !all, payload)
				}
			}
			for _, bad := range never {
				if strings.Contains(payload, bad) {
					t.Errorf("%s (mentionAll %v): %q in\n%s", platform, all, bad, payload)
				}
			}
		}
		var wcBodies []string
		for _, m := range wc.Accepted() {
			wcBodies = append(wcBodies, string(m.Body))
		}
		check("wecom", strings.Join(wcBodies, "\n"), []string{`"mentioned_list":["@all"]`},
			[]string{"<@all>", "<@ALL>", "<@here>", "<@everyone>", `"mentioned_mobile_list":["@all"]`, "<@channel>"})
		check("dingtalk", string(f.dt.Accepted()[0].Body), []string{`"isAtAll":true`},
			[]string{`"all"`, `"@all"`, `"here"`, `"everyone"`, `"@everyone"`, `"channel"`, "@all "})
		check("feishu", string(f.fs.Accepted()[0].Body), []string{"<at id=all></at>"},
			[]string{"<at id=@all>", "<at id=ALL>", "<at id=here>", "<at id=everyone>", "<at id=channel>"})
		check("slack", f.sl.Posts()[0].Comment, []string{"<!channel>"},
			[]string{"<@all>", "<@here>", "<@channel>", "<@everyone>", "<!here>", "<!everyone>", "<@zhangsan>"})
		dc := string(f.dc.Accepted()[0].Payload)
		check("discord", dc, nil, []string{"<@all>", "<@everyone>", "<@here>", "<@zhangsan>", `"everyone"`, `"parse":["`})
		if !strings.Contains(dc, `"users":["80351110224678912"]`) {
			t.Errorf("discord: allowed_mentions should list only the user id:\n%s", dc)
		}
		if !strings.Contains(f.sl.Posts()[0].Comment, "<@U02ABCDEF12>") {
			t.Errorf("slack: the member id from the label is not mentioned")
		}
	}
}
