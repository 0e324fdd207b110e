package wecom_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/wecom"
	"github.com/alertchart/alertchart/pkg/settings"
	"github.com/alertchart/alertchart/test/fakes/fixture"
	"github.com/alertchart/alertchart/test/fakes/golden"
	fake "github.com/alertchart/alertchart/test/fakes/wecom"
)

func newNotifier(t *testing.T, url string, ch settings.Channel, lang string) *wecom.Notifier {
	t.Helper()
	ch.Name, ch.Type = "wc", "wecom"
	n, err := wecom.New(channels.Options{Channel: ch, Lang: lang}, url)
	if err != nil {
		t.Fatal(err)
	}
	n.Fmt.Now = func() time.Time { return fixture.Now }
	return n
}

func start(t *testing.T) *fake.Server {
	s := fake.New()
	t.Cleanup(s.Close)
	return s
}

func contents(t *testing.T, msgs []fake.Message) []any {
	var out []any
	for _, m := range msgs {
		v := golden.Decode(t, m.Body).(map[string]any)
		if img, ok := v["image"].(map[string]any); ok {
			img["base64"] = "<base64 of the chart, elided>"
		}
		out = append(out, v)
	}
	return out
}

func TestGoldenSingleAlertWithChart(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		s := start(t)
		n := newNotifier(t, s.WebhookURL(), settings.Channel{}, lang)
		res, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, lang == "zh", false), fixture.Chart()))
		if err != nil {
			t.Fatal(err)
		}
		if res.Requests != 2 || res.StatusCode != 200 {
			t.Fatalf("result %+v", res)
		}
		acc := s.Accepted()
		if len(acc) != 2 || acc[0].MsgType != "markdown" || acc[1].MsgType != "image" {
			t.Fatalf("accepted %+v", acc)
		}
		if string(acc[1].Image) != string(fixture.Chart().Image) {
			t.Fatal("image bytes differ")
		}
		golden.JSON(t, "single_"+lang, contents(t, acc))
	}
}

func TestMarkupInLabelsIsEscaped(t *testing.T) {
	s := start(t)
	n := newNotifier(t, s.WebhookURL(), settings.Channel{}, "en")
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(2, false, true), nil)); err != nil {
		t.Fatal(err)
	}
	var body struct{ Markdown struct{ Content string } }
	_ = json.Unmarshal(s.Accepted()[0].Body, &body)
	c := body.Markdown.Content
	// WeCom bolds only **x**: a single * stays as typed.
	for _, bad := range []string{"<@U123>", "<b>", "[link](", "<at id=all>", "`code`", "**bold"} {
		if strings.Contains(c, bad) {
			t.Errorf("label markup %q reached the markdown:\n%s", bad, c)
		}
	}
	golden.JSON(t, "nasty_en", contents(t, s.Accepted()))
}

func TestFiftyAlertsFitAndSayHowManyAreLeftOut(t *testing.T) {
	s := start(t)
	n := newNotifier(t, s.WebhookURL(), settings.Channel{}, "zh")
	res, err := n.Send(context.Background(), fixture.Message(fixture.Data(50, true, true), nil))
	if err != nil {
		t.Fatalf("%v %+v", err, res)
	}
	var body struct{ Markdown struct{ Content string } }
	_ = json.Unmarshal(s.Accepted()[0].Body, &body)
	if len(body.Markdown.Content) > wecom.MarkdownMaxBytes {
		t.Fatalf("markdown is %d bytes", len(body.Markdown.Content))
	}
	if !strings.Contains(body.Markdown.Content, "条告警") || !strings.Contains(body.Markdown.Content, "… 另有") {
		t.Errorf("no left-out count:\n%s", body.Markdown.Content)
	}
}

func TestRateLimitIsRetryableWithWait(t *testing.T) {
	s := start(t)
	n := newNotifier(t, s.WebhookURL(), settings.Channel{}, "zh")
	m := fixture.Message(fixture.Data(1, true, false), nil)
	for i := 0; i < fake.PerMinute; i++ {
		if _, err := n.Send(context.Background(), m); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	_, err := n.Send(context.Background(), m)
	var e *channels.Error
	if !errors.As(err, &e) || e.Kind != channels.Retryable || e.Code != 45009 || e.RetryAfter != time.Minute {
		t.Fatalf("21st message: %v", err)
	}
	if n.Limits().PerMinute != 20 || n.Limits().MessagesPerSend != 2 || n.Limits().CombinesTextAndImage {
		t.Fatalf("limits %+v", n.Limits())
	}
}

func TestBadKeyIsBadCredentials(t *testing.T) {
	s := start(t)
	n := newNotifier(t, s.URL+"/cgi-bin/webhook/send?key=wrong", settings.Channel{}, "zh")
	_, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), nil))
	if channels.KindOf(err) != channels.BadCredentials || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("got %v", err)
	}
}

func TestTooBigAnswerShrinksOnce(t *testing.T) {
	s := start(t)
	s.Inject(`{"errcode":45002,"errmsg":"content exceed max length"}`)
	n := newNotifier(t, s.WebhookURL(), settings.Channel{}, "zh")
	res, err := n.Send(context.Background(), fixture.Message(fixture.Data(10, true, false), nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 2 || !strings.Contains(res.Note, "shrunk") || len(s.Accepted()) != 1 {
		t.Fatalf("res %+v accepted %d", res, len(s.Accepted()))
	}
}

func TestHugeImageIsDroppedWithNote(t *testing.T) {
	s := start(t)
	n := newNotifier(t, s.WebhookURL(), settings.Channel{}, "en")
	c := fixture.Chart()
	c.Image = append(c.Image, make([]byte, wecom.ImageMaxBytes)...)
	res, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, false, false), c))
	if err != nil {
		t.Fatal(err)
	}
	acc := s.Accepted()
	if len(acc) != 1 || !strings.Contains(string(acc[0].Body), "chart unavailable: image too big") || !strings.Contains(res.Note, "image dropped") {
		t.Fatalf("accepted %d, note %q", len(acc), res.Note)
	}
}

func TestChartPartSendsOnlyTheImage(t *testing.T) {
	s := start(t)
	n := newNotifier(t, s.WebhookURL(), settings.Channel{}, "zh")
	m := fixture.Message(fixture.Data(1, true, false), fixture.Chart())
	m.Part = channels.PartChart
	if _, err := n.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if acc := s.Accepted(); len(acc) != 1 || acc[0].MsgType != "image" {
		t.Fatalf("accepted %+v", acc)
	}
}

func TestImageFailureAfterTextReportsWhatWasSent(t *testing.T) {
	s := start(t)
	s.Inject(`{"errcode":0,"errmsg":"ok"}`, `{"errcode":-1,"errmsg":"system busy"}`)
	n := newNotifier(t, s.WebhookURL(), settings.Channel{}, "zh")
	_, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), fixture.Chart()))
	var e *channels.Error
	if !errors.As(err, &e) || e.Kind != channels.Retryable || e.Sent != channels.PartText {
		t.Fatalf("got %#v", err)
	}
}

func TestMentions(t *testing.T) {
	s := start(t)
	ch := settings.Channel{MentionUsers: []string{"wangwu"}, MentionLabel: "owner", MentionMobiles: []string{"13800000000"}}
	n := newNotifier(t, s.WebhookURL(), ch, "zh")
	msg := fixture.Message(fixture.Data(1, true, false), nil)
	res, err := n.Send(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	acc := s.Accepted()
	if len(acc) != 2 || res.Requests != 2 {
		t.Fatalf("accepted %d", len(acc))
	}
	// The delivery stage reserves the robot's slots from Cost.
	if c := channels.CostOf(n, msg); c != len(acc) {
		t.Errorf("Cost %d, but %d messages were sent", c, len(acc))
	}
	if !strings.Contains(string(acc[0].Body), "<@wangwu><@zhangsan><@lisi>") {
		t.Errorf("markdown mentions missing: %s", acc[0].Body)
	}
	golden.JSON(t, "mentions", contents(t, acc))
}

func TestConnectionRefusedIsRetryable(t *testing.T) {
	s := fake.New()
	url := s.WebhookURL()
	s.Close()
	n := newNotifier(t, url, settings.Channel{}, "zh")
	_, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), nil))
	if channels.KindOf(err) != channels.Retryable || strings.Contains(err.Error(), "test-key") {
		t.Fatalf("got %v", err)
	}
}

func TestAPIURLRebases(t *testing.T) {
	s := start(t)
	n := newNotifier(t, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=test-key", settings.Channel{APIURL: s.URL}, "zh")
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), nil)); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkSendFiftyAlertsWithChart measures one full send (render, fit,
// JSON, base64+md5 of a 50 KB chart, two HTTP round trips to the fake).
func BenchmarkSendFiftyAlertsWithChart(b *testing.B) {
	s := fake.New()
	defer s.Close()
	var tick time.Time
	s.Now = func() time.Time { tick = tick.Add(time.Minute); return tick } // no rate limit
	n, err := wecom.New(channels.Options{Channel: settings.Channel{Name: "wc"}, Lang: "zh"}, s.WebhookURL())
	if err != nil {
		b.Fatal(err)
	}
	c := fixture.Chart()
	c.Image = fixture.NoisePNG(110, 110) // ~50 KB
	m := fixture.Message(fixture.Data(50, true, false), c)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := n.Send(context.Background(), m); err != nil {
			b.Fatal(err)
		}
	}
}

// The delivery stage's "no chart after all" message: PartChart, no chart,
// a note.
func TestChartNoteWithoutChart(t *testing.T) {
	s := start(t)
	n := newNotifier(t, s.WebhookURL(), settings.Channel{}, "en")
	m := fixture.Message(fixture.Data(1, false, false), nil)
	m.Part, m.ChartNote = channels.PartChart, "chart unavailable: query timed out"
	if _, err := n.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	acc := s.Accepted()
	if len(acc) != 1 || acc[0].MsgType != "markdown" {
		t.Fatalf("%+v", acc)
	}
	body := string(acc[0].Body)
	if !strings.Contains(body, "[FIRING · critical] HighCPUUsage") || !strings.Contains(body, "⚠️ chart unavailable: query timed out") || strings.Contains(body, "Summary:") {
		t.Fatalf("%s", body)
	}
}
