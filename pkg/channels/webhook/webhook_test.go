package webhook_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/webhook"
	"github.com/alertchart/alertchart/pkg/settings"
	"github.com/alertchart/alertchart/test/fakes/fixture"
	"github.com/alertchart/alertchart/test/fakes/golden"
	fake "github.com/alertchart/alertchart/test/fakes/webhook"
)

func setup(t *testing.T, ch settings.Channel, token, secret string) (*webhook.Notifier, *fake.Server) {
	t.Helper()
	s := fake.New()
	t.Cleanup(s.Close)
	ch.Name = "hook"
	n, err := webhook.New(channels.Options{Channel: ch, Lang: "en"}, s.URL+"/alerts", token, secret)
	if err != nil {
		t.Fatal(err)
	}
	n.Fmt.Now = func() time.Time { return fixture.Now }
	return n, s
}

func TestBase64ChartSignedAndAuthorized(t *testing.T) {
	n, s := setup(t, settings.Channel{ImageBase64: true}, "hook-token", "hook-secret")
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, false, false), fixture.Chart())); err != nil {
		t.Fatal(err)
	}
	var p webhook.Payload
	if err := json.Unmarshal(s.Accepted()[0], &p); err != nil {
		t.Fatal(err)
	}
	img, _ := base64.StdEncoding.DecodeString(p.Chart.Base64)
	if string(img) != string(fixture.Chart().Image) || len(p.Chart.Series) != 2 || *p.Chart.Series[0].Max != 0.97 {
		t.Fatalf("%+v", p.Chart)
	}
	golden.JSON(t, "base64_en", golden.Decode(t, s.Accepted()[0]))
}

func TestURLChartAndNote(t *testing.T) {
	store, _ := fixture.ImageStore(t)
	s := fake.New()
	defer s.Close()
	n, _ := webhook.New(channels.Options{Channel: settings.Channel{Name: "hook"}, Images: store}, s.URL, "hook-token", "hook-secret")
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(3, true, true), fixture.Chart())); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(s.Accepted()[0]), `"url":"http://`) {
		t.Fatal("no chart URL")
	}
	n2, s2 := setup(t, settings.Channel{}, "hook-token", "hook-secret")
	if _, err := n2.Send(context.Background(), fixture.Message(fixture.Data(1, false, false), fixture.Chart())); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(s2.Accepted()[0]), `"chartNote":"chart unavailable: no image store configured"`) {
		t.Fatal("no chart note")
	}
}

func TestErrors(t *testing.T) {
	n, _ := setup(t, settings.Channel{}, "wrong", "hook-secret")
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, false, false), nil)); channels.KindOf(err) != channels.BadCredentials {
		t.Fatalf("token: %v", err)
	}
	n, _ = setup(t, settings.Channel{}, "hook-token", "wrong")
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, false, false), nil)); channels.KindOf(err) != channels.BadCredentials {
		t.Fatalf("signature: %v", err)
	}
	n, s := setup(t, settings.Channel{ImageBase64: true}, "hook-token", "hook-secret")
	s.MaxBytes = 5000
	big := fixture.Chart()
	big.Image = fixture.NoisePNG(40, 40)
	res, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, false, false), big))
	if err != nil || res.Requests != 2 || !strings.Contains(res.Note, "base64 chart dropped") {
		t.Fatalf("too big: %v %+v", err, res)
	}
	s.MaxBytes = 1000
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, false, false), fixture.Chart())); channels.KindOf(err) != channels.TooBig {
		t.Fatalf("too big even without the chart: %v", err)
	}
	s.MaxBytes = 1 << 20
	s.Burst = 1
	m := fixture.Message(fixture.Data(1, false, false), nil)
	_, err = n.Send(context.Background(), m)
	if err == nil {
		_, err = n.Send(context.Background(), m)
	}
	if channels.KindOf(err) != channels.Retryable || channels.RetryAfterOf(err) != time.Second {
		t.Fatalf("429: %v", err)
	}
}
