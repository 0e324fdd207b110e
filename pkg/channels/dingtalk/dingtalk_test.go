package dingtalk_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/dingtalk"
	"github.com/alertchart/alertchart/pkg/imagestore"
	"github.com/alertchart/alertchart/pkg/settings"
	fake "github.com/alertchart/alertchart/test/fakes/dingtalk"
	"github.com/alertchart/alertchart/test/fakes/fixture"
	"github.com/alertchart/alertchart/test/fakes/golden"
)

func setup(t *testing.T, ch settings.Channel, lang string, store imagestore.Store) (*dingtalk.Notifier, *fake.Server) {
	t.Helper()
	s := fake.New()
	t.Cleanup(s.Close)
	ch.Name, ch.Type = "dt", "dingtalk"
	n, err := dingtalk.New(channels.Options{Channel: ch, Lang: lang, Images: store}, s.WebhookURL(), s.Secret)
	if err != nil {
		t.Fatal(err)
	}
	n.Fmt.Now = func() time.Time { return fixture.Now }
	return n, s
}

type body struct {
	MsgType  string
	Markdown struct{ Title, Text string }
	At       struct {
		AtMobiles, AtUserIds []string
		IsAtAll              bool
	}
}

func decode(t *testing.T, m fake.Message) body {
	var b body
	if err := json.Unmarshal(m.Body, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSignedMarkdownWithHostedChart(t *testing.T) {
	store, s3 := fixture.ImageStore(t)
	n, s := setup(t, settings.Channel{MentionMobiles: []string{"13800000000"}, MentionLabel: "owner"}, "zh", store)
	s.FetchImages = true
	res, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), fixture.Chart()))
	if err != nil {
		t.Fatalf("%v %+v", err, res)
	}
	acc := s.Accepted()
	if len(acc) != 1 || len(acc[0].ImageURLs) != 1 || s3.Gets() != 1 {
		t.Fatalf("accepted %+v, s3 gets %d", acc, s3.Gets())
	}
	b := decode(t, acc[0])
	if !strings.Contains(b.Markdown.Text, "@13800000000") || len(b.At.AtUserIds) != 2 {
		t.Errorf("mentions: %+v", b)
	}
	// Golden without the presigned URL, which changes every run.
	raw := strings.Replace(string(acc[0].Body), acc[0].ImageURLs[0], "<presigned chart URL>", 1)
	golden.JSON(t, "single_zh", golden.Decode(t, []byte(raw)))
}

func TestNoImageStoreSendsTextWithNote(t *testing.T) {
	n, s := setup(t, settings.Channel{}, "en", nil)
	res, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, false, false), fixture.Chart()))
	if err != nil {
		t.Fatal(err)
	}
	b := decode(t, s.Accepted()[0])
	if !strings.Contains(b.Markdown.Text, "chart unavailable: no image store configured") || !strings.Contains(res.Note, "no image store") {
		t.Fatalf("text %s note %q", b.Markdown.Text, res.Note)
	}
	golden.JSON(t, "no_store_en", golden.Decode(t, s.Accepted()[0].Body))
}

func TestWrongSecretIsBadCredentials(t *testing.T) {
	s := fake.New()
	defer s.Close()
	n, _ := dingtalk.New(channels.Options{Channel: settings.Channel{Name: "dt"}}, s.WebhookURL(), "SECwrong")
	_, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), nil))
	var e *channels.Error
	if !errors.As(err, &e) || e.Kind != channels.BadCredentials || e.Code != 310000 {
		t.Fatalf("got %v", err)
	}
	// A stale clock is refused too.
	n, _ = dingtalk.New(channels.Options{Channel: settings.Channel{Name: "dt"}}, s.WebhookURL(), s.Secret)
	n.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), nil)); channels.KindOf(err) != channels.BadCredentials {
		t.Fatalf("stale timestamp: %v", err)
	}
}

func TestKeyword(t *testing.T) {
	n, s := setup(t, settings.Channel{}, "zh", nil)
	s.Keywords = []string{"监控"}
	_, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), nil))
	if channels.KindOf(err) != channels.Permanent || !strings.Contains(err.Error(), "keyword") {
		t.Fatalf("without keyword: %v", err)
	}
	n2, s2 := setup(t, settings.Channel{Keyword: "监控"}, "zh", nil)
	s2.Keywords = []string{"监控"}
	if _, err := n2.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), nil)); err != nil {
		t.Fatalf("with keyword: %v", err)
	}
}

func TestFiftyAlertsStayUnderTheBodyLimit(t *testing.T) {
	n, s := setup(t, settings.Channel{}, "zh", nil)
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(50, true, true), nil)); err != nil {
		t.Fatal(err)
	}
	acc := s.Accepted()
	if len(acc[0].Body) > dingtalk.MaxBodyBytes {
		t.Fatalf("body %d bytes", len(acc[0].Body))
	}
	if b := decode(t, acc[0]); strings.Contains(b.Markdown.Text, "<b>") || strings.Contains(b.Markdown.Text, "](http://evil") {
		t.Fatalf("markup leaked: %s", b.Markdown.Text)
	}
}

func TestRateLimitThenThrottle(t *testing.T) {
	n, _ := setup(t, settings.Channel{}, "zh", nil)
	m := fixture.Message(fixture.Data(1, true, false), nil)
	for i := 0; i < fake.PerMinute; i++ {
		if _, err := n.Send(context.Background(), m); err != nil {
			t.Fatal(i, err)
		}
	}
	_, err := n.Send(context.Background(), m)
	if channels.KindOf(err) != channels.Retryable || channels.RetryAfterOf(err) != 10*time.Minute {
		t.Fatalf("got %v", err)
	}
}

func TestSignatureIsURLEncoded(t *testing.T) {
	// A secret whose signature contains '+' or '/' must survive the query.
	for i := int64(0); i < 50; i++ {
		s := dingtalk.Sign(1700000000000+i, "SECabc")
		if strings.ContainsAny(s, "+/=") {
			t.Fatalf("unencoded signature %s", s)
		}
	}
}

func TestFailingImageStoreStillSendsTheAlert(t *testing.T) {
	store, s3 := fixture.ImageStore(t)
	s3.MaxObjectBytes = 10 // every upload is refused
	n, s := setup(t, settings.Channel{}, "zh", store)
	res, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), fixture.Chart()))
	if err != nil {
		t.Fatal(err)
	}
	if b := decode(t, s.Accepted()[0]); !strings.Contains(b.Markdown.Text, "图表不可用：图片上传失败") || strings.Contains(b.Markdown.Text, "![") || res.Note == "" {
		t.Fatalf("%s", b.Markdown.Text)
	}
}

func TestChartPartWithoutStoreSendsOnlyTheNote(t *testing.T) {
	n, s := setup(t, settings.Channel{}, "en", nil)
	m := fixture.Message(fixture.Data(1, false, false), fixture.Chart())
	m.Part = channels.PartChart
	if _, err := n.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	b := decode(t, s.Accepted()[0])
	if strings.Contains(b.Markdown.Text, "Summary:") || !strings.Contains(b.Markdown.Text, "📈 CPU usage (last 10m)") || !strings.Contains(b.Markdown.Text, "chart unavailable") {
		t.Fatalf("%s", b.Markdown.Text)
	}
}

func TestAtAllOnlyWhileFiring(t *testing.T) {
	n, s := setup(t, settings.Channel{MentionAll: true}, "zh", nil)
	d := fixture.Data(1, true, false)
	if _, err := n.Send(context.Background(), fixture.Message(d, nil)); err != nil {
		t.Fatal(err)
	}
	d.Status, d.Alerts[0].Status, d.Alerts[0].EndsAt = "resolved", "resolved", fixture.Now
	if _, err := n.Send(context.Background(), fixture.Message(d, nil)); err != nil {
		t.Fatal(err)
	}
	acc := s.Accepted()
	if !decode(t, acc[0]).At.IsAtAll || decode(t, acc[1]).At.IsAtAll {
		t.Fatalf("isAtAll firing=%v resolved=%v", decode(t, acc[0]).At.IsAtAll, decode(t, acc[1]).At.IsAtAll)
	}
	if !strings.Contains(decode(t, acc[1]).Markdown.Text, "✅ **[已恢复] HighCPUUsage**") {
		t.Fatalf("%s", decode(t, acc[1]).Markdown.Text)
	}
}
