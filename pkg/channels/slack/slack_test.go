package slack_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/slack"
	"github.com/alertchart/alertchart/pkg/imagestore"
	"github.com/alertchart/alertchart/pkg/settings"
	"github.com/alertchart/alertchart/test/fakes/fixture"
	"github.com/alertchart/alertchart/test/fakes/golden"
	fake "github.com/alertchart/alertchart/test/fakes/slack"
)

func bot(t *testing.T, lang string, token string) (*slack.Notifier, *fake.Server) {
	t.Helper()
	s := fake.New()
	t.Cleanup(s.Close)
	n, err := slack.New(channels.Options{Channel: settings.Channel{Name: "sl", SlackChannel: "C0123", APIURL: s.URL + "/api", MentionUsers: []string{"U999"}}, Lang: lang}, "", token)
	if err != nil {
		t.Fatal(err)
	}
	n.Fmt.Now = func() time.Time { return fixture.Now }
	return n, s
}

func hook(t *testing.T, lang string, store imagestore.Store) (*slack.Notifier, *fake.Server) {
	t.Helper()
	s := fake.New()
	t.Cleanup(s.Close)
	n, err := slack.New(channels.Options{Channel: settings.Channel{Name: "sl"}, Lang: lang, Images: store}, s.WebhookURL(), "")
	if err != nil {
		t.Fatal(err)
	}
	n.Fmt.Now = func() time.Time { return fixture.Now }
	return n, s
}

func TestBotUploadCarriesTextAndChart(t *testing.T) {
	n, s := bot(t, "en", "xoxb-fake")
	res, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, false, true), fixture.Chart()))
	if err != nil {
		t.Fatalf("%v %+v", err, res)
	}
	posts := s.Posts()
	if len(posts) != 1 || posts[0].Kind != "upload" || string(posts[0].File) != string(fixture.Chart().Image) || res.Requests != 3 {
		t.Fatalf("posts %+v res %+v", posts, res)
	}
	for _, bad := range []string{"<b>", "<@U123>", "<at id"} {
		if strings.Contains(posts[0].Comment, bad) {
			t.Errorf("markup %q leaked into the comment", bad)
		}
	}
	if !strings.Contains(posts[0].Comment, "<@U999>") {
		t.Error("configured mention missing")
	}
	form, _ := url.ParseQuery(string(posts[0].Body))
	golden.JSON(t, "bot_upload_en", map[string]any{"channel_id": form.Get("channel_id"), "files": golden.Decode(t, []byte(form.Get("files"))), "initial_comment": form.Get("initial_comment")})
}

func TestBotTextOnlyAndBadToken(t *testing.T) {
	n, s := bot(t, "zh", "xoxb-fake")
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(50, true, true), nil)); err != nil {
		t.Fatal(err)
	}
	if p := s.Posts(); len(p) != 1 || p[0].Kind != "postMessage" {
		t.Fatalf("%+v", p)
	}
	n2, _ := bot(t, "zh", "xoxb-wrong")
	if _, err := n2.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), fixture.Chart())); channels.KindOf(err) != channels.BadCredentials {
		t.Fatalf("got %v", err)
	}
}

func TestBotRateLimitHonoursRetryAfter(t *testing.T) {
	n, _ := bot(t, "zh", "xoxb-fake")
	m := fixture.Message(fixture.Data(1, true, false), nil)
	var err error
	for i := 0; i <= fake.Burst && err == nil; i++ {
		_, err = n.Send(context.Background(), m)
	}
	// The fake lets a burst of fake.Burst through, then one a second.
	if ra := channels.RetryAfterOf(err); channels.KindOf(err) != channels.Retryable || ra < time.Second || ra > fake.Burst*time.Second {
		t.Fatalf("got %v", err)
	}
}

func TestWebhookWithHostedImage(t *testing.T) {
	store, _ := fixture.ImageStore(t)
	n, s := hook(t, "zh", store)
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), fixture.Chart())); err != nil {
		t.Fatal(err)
	}
	p := s.Posts()
	if len(p) != 1 || !strings.Contains(string(p[0].Body), `"type":"image"`) {
		t.Fatalf("%+v", p)
	}
	v := golden.Decode(t, p[0].Body).(map[string]any)
	blocks := v["blocks"].([]any)
	blocks[1].(map[string]any)["image_url"] = "<presigned chart URL>"
	golden.JSON(t, "webhook_zh", v)
}

func TestWebhookFiftyAlertsFitTheSectionLimit(t *testing.T) {
	n, s := hook(t, "en", nil)
	res, err := n.Send(context.Background(), fixture.Message(fixture.Data(50, false, true), fixture.Chart()))
	if err != nil {
		t.Fatal(err)
	}
	body := string(s.Posts()[0].Body)
	if !strings.Contains(body, "more alerts") || !strings.Contains(body, "chart unavailable: no image store configured") || res.Note == "" {
		t.Fatalf("%s", body)
	}
}

func TestWebhookErrors(t *testing.T) {
	s := fake.New()
	defer s.Close()
	n, _ := slack.New(channels.Options{Channel: settings.Channel{Name: "sl"}}, s.URL+"/services/T000/B000/WRONG", "")
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), nil)); channels.KindOf(err) != channels.BadCredentials {
		t.Fatalf("got %v", err)
	}
	if _, err := slack.New(channels.Options{Channel: settings.Channel{Name: "sl"}}, "", "xoxb-1"); err == nil {
		t.Fatal("bot token without channel accepted")
	}
}
