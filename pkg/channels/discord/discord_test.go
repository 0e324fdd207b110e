package discord_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/discord"
	"github.com/alertchart/alertchart/pkg/settings"
	fake "github.com/alertchart/alertchart/test/fakes/discord"
	"github.com/alertchart/alertchart/test/fakes/fixture"
	"github.com/alertchart/alertchart/test/fakes/golden"
)

func setup(t *testing.T, lang string, ch settings.Channel) (*discord.Notifier, *fake.Server) {
	t.Helper()
	s := fake.New()
	t.Cleanup(s.Close)
	ch.Name = "dc"
	n, err := discord.New(channels.Options{Channel: ch, Lang: lang}, s.WebhookURL())
	if err != nil {
		t.Fatal(err)
	}
	n.Fmt.Now = func() time.Time { return fixture.Now }
	return n, s
}

func TestEmbedWithAttachment(t *testing.T) {
	n, s := setup(t, "en", settings.Channel{MentionUsers: []string{"80351110224678912"}})
	res, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, false, true), fixture.Chart()))
	if err != nil {
		t.Fatalf("%v %+v", err, res)
	}
	acc := s.Accepted()
	if len(acc) != 1 || string(acc[0].Files["chart.png"]) != string(fixture.Chart().Image) {
		t.Fatalf("%+v", acc)
	}
	p := string(acc[0].Payload)
	if strings.Contains(p, " @everyone") || !strings.Contains(p, `\\@everyone`) {
		t.Error("@everyone not escaped")
	}
	golden.JSON(t, "embed_en", golden.Decode(t, acc[0].Payload))
}

func TestFiftyAlertsRespectEmbedLimits(t *testing.T) {
	n, s := setup(t, "zh", settings.Channel{})
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(50, true, true), nil)); err != nil {
		t.Fatal(err)
	}
	p := s.Accepted()[0].Payload
	if !strings.Contains(string(p), "另有") || utf8.RuneCount(p) > 10000 {
		t.Fatalf("%d", len(p))
	}
}

func TestRateLimitAndBadToken(t *testing.T) {
	n, s := setup(t, "zh", settings.Channel{})
	m := fixture.Message(fixture.Data(1, true, false), nil)
	var err error
	for i := 0; i <= fake.Bucket && err == nil; i++ {
		_, err = n.Send(context.Background(), m)
	}
	if channels.KindOf(err) != channels.Retryable || channels.RetryAfterOf(err) <= 0 || channels.RetryAfterOf(err) > 2*time.Second {
		t.Fatalf("got %v (%v)", err, channels.RetryAfterOf(err))
	}
	bad, _ := discord.New(channels.Options{Channel: settings.Channel{Name: "dc"}}, s.URL+"/api/webhooks/"+s.ID+"/wrong")
	if _, err := bad.Send(context.Background(), m); channels.KindOf(err) != channels.BadCredentials {
		t.Fatalf("bad token: %v", err)
	}
}

// Discord announces its bucket on every answer: the send that empties it
// returns a pause until the bucket resets, and a 429 says how long to wait.
func TestBucketHeadersBecomeAPause(t *testing.T) {
	n, s := setup(t, "en", settings.Channel{})
	now := time.Now()
	s.Now = func() time.Time { return now }
	m := fixture.Message(fixture.Data(1, false, false), nil)
	for i := 1; i <= fake.Bucket; i++ {
		res, err := n.Send(context.Background(), m)
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if last := i == fake.Bucket; last != (res.Pause > 0) || res.Pause > fake.Window {
			t.Fatalf("send %d: pause %v", i, res.Pause)
		}
	}
	_, err := n.Send(context.Background(), m)
	if ra := channels.RetryAfterOf(err); channels.KindOf(err) != channels.Retryable || ra <= 0 || ra > fake.Window+time.Second {
		t.Fatalf("over the bucket: %v (%v)", err, ra)
	}
	if l := n.Limits(); l.Burst != (channels.Rate{Messages: 5, Per: 2 * time.Second}) || l.PerMinute != 30 || len(l.Rates()) != 2 {
		t.Fatalf("limits %+v", l)
	}
}
