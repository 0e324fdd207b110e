package feishu_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/feishu"
	"github.com/alertchart/alertchart/pkg/imagestore"
	"github.com/alertchart/alertchart/pkg/settings"
	fake "github.com/alertchart/alertchart/test/fakes/feishu"
	"github.com/alertchart/alertchart/test/fakes/fixture"
	"github.com/alertchart/alertchart/test/fakes/golden"
)

func setup(t *testing.T, ch settings.Channel, lang string, store imagestore.Store, withApp bool) (*feishu.Notifier, *fake.Server) {
	t.Helper()
	s := fake.New()
	t.Cleanup(s.Close)
	ch.Name, ch.Type, ch.APIURL = "fs", "feishu", s.URL
	appSecret := ""
	if withApp {
		ch.FeishuAppID, appSecret = s.AppID, s.AppSecret
	}
	n, err := feishu.New(channels.Options{Channel: ch, Lang: lang, Images: store}, "https://open.feishu.cn/open-apis/bot/v2/hook/"+s.Token, s.Secret, appSecret)
	if err != nil {
		t.Fatal(err)
	}
	n.Fmt.Now = func() time.Time { return fixture.Now }
	return n, s
}

// normalized drops the signature fields, which change every second.
func normalized(t *testing.T, raw []byte) any {
	v := golden.Decode(t, raw).(map[string]any)
	if v["sign"] == nil || v["timestamp"] == nil {
		t.Fatalf("unsigned message: %s", raw)
	}
	delete(v, "sign")
	delete(v, "timestamp")
	return v
}

func markdownOf(t *testing.T, raw []byte) string {
	var p struct {
		Card struct {
			Body struct {
				Elements []map[string]any
			}
		}
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	s, _ := p.Card.Body.Elements[0]["content"].(string)
	return s
}

func TestCardWithUploadedImage(t *testing.T) {
	n, s := setup(t, settings.Channel{MentionUsers: []string{"ou_abc"}}, "zh", nil, true)
	res, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), fixture.Chart()))
	if err != nil {
		t.Fatalf("%v %+v", err, res)
	}
	if res.Requests != 3 { // token, upload, message
		t.Fatalf("requests %d", res.Requests)
	}
	acc := s.Accepted()
	if len(acc) != 1 || string(s.Image("img_v3_fake_1")) != string(fixture.Chart().Image) {
		t.Fatal("image not uploaded or message not accepted")
	}
	golden.JSON(t, "card_zh", normalized(t, acc[0].Body))
	// The token is cached for the next send.
	res, err = n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), fixture.Chart()))
	if err != nil || res.Requests != 2 {
		t.Fatalf("second send: %v %+v", err, res)
	}
}

func TestLinkFromImageStoreWithoutApp(t *testing.T) {
	store, _ := fixture.ImageStore(t)
	n, s := setup(t, settings.Channel{}, "en", store, false)
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, false, false), fixture.Chart())); err != nil {
		t.Fatal(err)
	}
	md := markdownOf(t, s.Accepted()[0].Body)
	if !strings.Contains(md, "[📈 chart](http://") || !strings.Contains(md, "X-Amz-Signature") {
		t.Fatalf("no chart link: %s", md)
	}
}

func TestNoAppNoStoreSaysWhy(t *testing.T) {
	n, s := setup(t, settings.Channel{}, "en", nil, false)
	res, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, false, false), fixture.Chart()))
	if err != nil {
		t.Fatal(err)
	}
	if md := markdownOf(t, s.Accepted()[0].Body); !strings.Contains(md, "chart unavailable") || res.Note == "" {
		t.Fatalf("%s / %q", md, res.Note)
	}
}

func TestWrongSecretIsBadCredentials(t *testing.T) {
	s := fake.New()
	defer s.Close()
	n, _ := feishu.New(channels.Options{Channel: settings.Channel{Name: "fs"}}, s.WebhookURL(), "wrong", "")
	_, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), nil))
	if channels.KindOf(err) != channels.BadCredentials || !strings.Contains(err.Error(), "19021") {
		t.Fatalf("got %v", err)
	}
}

func TestRateLimitAndKeyword(t *testing.T) {
	n, s := setup(t, settings.Channel{}, "zh", nil, false)
	m := fixture.Message(fixture.Data(1, true, false), nil)
	var err error
	for i := 0; i < fake.PerSecond+1 && err == nil; i++ {
		_, err = n.Send(context.Background(), m)
	}
	if channels.KindOf(err) != channels.Retryable || !strings.Contains(err.Error(), "11232") {
		t.Fatalf("6th message in a second: %v", err)
	}
	s.Now = func() time.Time { return time.Now().Add(2 * time.Second) }
	s.Keywords = []string{"值班"}
	if _, err := n.Send(context.Background(), m); channels.KindOf(err) != channels.Permanent || !strings.Contains(err.Error(), "19024") {
		t.Fatalf("keyword: %v", err)
	}
	n2, s2 := setup(t, settings.Channel{Keyword: "值班"}, "zh", nil, false)
	s2.Keywords = []string{"值班"}
	if _, err := n2.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func TestFiftyNastyAlertsFitTwentyKB(t *testing.T) {
	n, s := setup(t, settings.Channel{}, "zh", nil, false)
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(50, true, true), nil)); err != nil {
		t.Fatal(err)
	}
	raw := s.Accepted()[0].Body
	md := markdownOf(t, raw)
	if len(raw) > fake.MaxBodyBytes || !strings.Contains(md, "另有") {
		t.Fatalf("%d bytes", len(raw))
	}
	for _, bad := range []string{"<at id=all>", "<b>", "[link](", "*bold*"} {
		if strings.Contains(md, bad) {
			t.Errorf("markup %q leaked", bad)
		}
	}
}

// Feishu's frequency limits are retryable however they come: a custom
// bot's HTTP 200 + 11232 (as observed), the message service's HTTP 400 +
// 11232, and the Open API gateway's HTTP 429 + 99991400 with
// x-ogw-ratelimit-reset (open.feishu.cn "Rate limits").
func TestFrequencyLimitIsRetryableWhateverTheStatus(t *testing.T) {
	m := fixture.Message(fixture.Data(1, true, false), nil)
	for _, status := range []int{200, 400} {
		n, s := setup(t, settings.Channel{}, "zh", nil, false)
		s.RateLimitStatus = status
		var err error
		for i := 0; i < fake.PerSecond+1 && err == nil; i++ {
			_, err = n.Send(context.Background(), m)
		}
		var e *channels.Error
		if !errors.As(err, &e) || e.Kind != channels.Retryable || e.Code != feishu.CodeBotFrequencyLimited || e.StatusCode != status || e.RetryAfter <= 0 {
			t.Fatalf("HTTP %d: %v", status, err)
		}
	}
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ogw-ratelimit-limit", "100")
		w.Header().Set("x-ogw-ratelimit-reset", "7")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"code":99991400,"msg":"request trigger frequency limit"}`)
	}))
	defer gw.Close()
	n, err := feishu.New(channels.Options{Channel: settings.Channel{Name: "fs", APIURL: gw.URL}}, "https://open.feishu.cn/open-apis/bot/v2/hook/x", "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Send(context.Background(), m)
	var e *channels.Error
	if !errors.As(err, &e) || e.Kind != channels.Retryable || e.Code != feishu.CodeFrequencyLimited || e.RetryAfter != 7*time.Second {
		t.Fatalf("gateway 429: %v", err)
	}
	if l := n.Limits(); l.PerMinute != 100 || l.Burst != (channels.Rate{Messages: 5, Per: time.Second}) || l.Burst.Interval() != 200*time.Millisecond {
		t.Fatalf("limits %+v", l)
	}
}
