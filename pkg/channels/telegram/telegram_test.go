package telegram_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/telegram"
	"github.com/alertchart/alertchart/pkg/settings"
	"github.com/alertchart/alertchart/test/fakes/fixture"
	"github.com/alertchart/alertchart/test/fakes/golden"
	fake "github.com/alertchart/alertchart/test/fakes/telegram"
)

func setup(t *testing.T, lang, token string) (*telegram.Notifier, *fake.Server) {
	t.Helper()
	s := fake.New()
	t.Cleanup(s.Close)
	n, err := telegram.New(channels.Options{Channel: settings.Channel{Name: "tg", ChatID: s.ChatID, APIURL: s.URL}, Lang: lang}, token)
	if err != nil {
		t.Fatal(err)
	}
	n.Fmt.Now = func() time.Time { return fixture.Now }
	return n, s
}

func view(acc []fake.Message) []map[string]any {
	var out []map[string]any
	for _, a := range acc {
		out = append(out, map[string]any{"method": a.Method, "text": a.Text, "photoBytes": len(a.Photo), "parse_mode": a.Params["parse_mode"]})
	}
	return out
}

func TestPhotoWithCaption(t *testing.T) {
	n, s := setup(t, "zh", "123456:fake-token")
	msg := fixture.Message(fixture.Data(1, true, true), fixture.Chart())
	res, err := n.Send(context.Background(), msg)
	if err != nil {
		t.Fatalf("%v %+v", err, res)
	}
	acc := s.Accepted()
	if len(acc) != 1 || acc[0].Method != "sendPhoto" || string(acc[0].Photo) != string(fixture.Chart().Image) {
		t.Fatalf("%+v", view(acc))
	}
	if c := channels.CostOf(n, msg); c != 1 {
		t.Errorf("Cost %d for one photo message", c)
	}
	golden.JSON(t, "photo_caption_zh", view(acc))
}

func TestLongGroupGoesAsTextThenPhoto(t *testing.T) {
	n, s := setup(t, "en", "123456:fake-token")
	msg := fixture.Message(fixture.Data(50, false, true), fixture.Chart())
	if _, err := n.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	acc := s.Accepted()
	if len(acc) != 2 || acc[0].Method != "sendMessage" || acc[1].Method != "sendPhoto" {
		t.Fatalf("%+v", view(acc))
	}
	// The delivery stage reserves two of the chat's slots for this send.
	if c := channels.CostOf(n, msg); c != 2 {
		t.Errorf("Cost %d for text plus photo", c)
	}
	if n := (channels.Limit{Unit: channels.UTF16Text}).Len(acc[0].Text); n > telegram.TextMax || !strings.Contains(acc[0].Text, "more alerts") {
		t.Fatalf("text of %d units", n)
	}
}

func TestSingleHugeAlertIsTruncatedWithBalancedHTML(t *testing.T) {
	n, s := setup(t, "zh", "123456:fake-token")
	d := fixture.Data(1, true, true)
	d.Alerts[0].Annotations["description"] = strings.Repeat("很长的描述 <b>&", 2000)
	if _, err := n.Send(context.Background(), fixture.Message(d, nil)); err != nil {
		t.Fatal(err) // the fake rejects unbalanced HTML and texts over 4096
	}
	// The description is cut (never inside an entity); the links stay.
	if txt := s.Accepted()[0].Text; !strings.Contains(txt, "很长的描述 &lt;b&gt;&amp;很长的描述") || !strings.Contains(txt, "…\n开始：") ||
		!strings.HasSuffix(txt, "静默此告警</a>") {
		t.Fatalf("not cut in the description: …%s", txt[len(txt)-300:])
	}
}

func TestErrors(t *testing.T) {
	n, _ := setup(t, "zh", "123456:wrong")
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), nil)); channels.KindOf(err) != channels.BadCredentials {
		t.Fatalf("bad token: %v", err)
	}
	n, s := setup(t, "zh", "123456:fake-token")
	// One message a second, as the limits say: the 21st in a minute is
	// refused for the group.
	now := time.Now()
	s.Now = func() time.Time { now = now.Add(time.Second); return now }
	m := fixture.Message(fixture.Data(1, true, false), nil)
	for i := 0; i < fake.PerMinute; i++ {
		if _, err := n.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	_, err := n.Send(context.Background(), m)
	if channels.KindOf(err) != channels.Retryable || channels.RetryAfterOf(err) < time.Second {
		t.Fatalf("rate limit: %v", err)
	}
	if _, err := telegram.New(channels.Options{Channel: settings.Channel{ChatID: "1"}}, "nocolon"); err == nil {
		t.Fatal("malformed token accepted")
	}
}

func TestRefusedPhotoFallsBackToText(t *testing.T) {
	n, s := setup(t, "en", "123456:fake-token")
	c := fixture.Chart()
	c.Image = []byte("not an image at all")
	res, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, false, false), c))
	if err != nil {
		t.Fatal(err)
	}
	acc := s.Accepted()
	if len(acc) != 1 || acc[0].Method != "sendMessage" || !strings.Contains(acc[0].Text, "chart unavailable") || !strings.Contains(res.Note, "photo refused") {
		t.Fatalf("%+v %q", view(acc), res.Note)
	}
}

func TestChartPartSendsPhotoWithChartCaption(t *testing.T) {
	n, s := setup(t, "en", "123456:fake-token")
	m := fixture.Message(fixture.Data(1, false, false), fixture.Chart())
	m.Part = channels.PartChart
	if _, err := n.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if acc := s.Accepted(); len(acc) != 1 || acc[0].Method != "sendPhoto" || acc[0].Text != "📈 CPU usage (last 10m)" {
		t.Fatalf("%+v", view(acc))
	}
}
