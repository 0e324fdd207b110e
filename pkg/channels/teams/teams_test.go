package teams_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/teams"
	"github.com/alertchart/alertchart/pkg/imagestore"
	"github.com/alertchart/alertchart/pkg/settings"
	"github.com/alertchart/alertchart/test/fakes/fixture"
	"github.com/alertchart/alertchart/test/fakes/golden"
	fake "github.com/alertchart/alertchart/test/fakes/teams"
)

func setup(t *testing.T, lang string, store imagestore.Store) (*teams.Notifier, *fake.Server) {
	t.Helper()
	s := fake.New()
	t.Cleanup(s.Close)
	n, err := teams.New(channels.Options{Channel: settings.Channel{Name: "tm", Type: "teams"}, Lang: lang, Images: store}, s.WebhookURL())
	if err != nil {
		t.Fatal(err)
	}
	n.Fmt.Now = func() time.Time { return fixture.Now }
	return n, s
}

func succeeded(t *testing.T, s *fake.Server) fake.Run {
	t.Helper()
	runs := s.Runs()
	if len(runs) == 0 {
		t.Fatal("no flow run")
	}
	r := runs[len(runs)-1]
	if r.Status != "Succeeded" {
		t.Fatalf("flow run failed: %s", r.Error)
	}
	return r
}

func TestCardWithDataURIWhenSmall(t *testing.T) {
	n, s := setup(t, "en", nil)
	res, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, false, false), fixture.Chart()))
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("%v %+v", err, res)
	}
	r := succeeded(t, s)
	if !strings.Contains(string(r.Body), `"url":"data:image/png;base64,`) {
		t.Fatal("no data URI")
	}
	golden.JSON(t, "card_en", golden.Decode(t, r.Body))
}

func TestCardWithHostedChart(t *testing.T) {
	store, _ := fixture.ImageStore(t)
	n, s := setup(t, "zh", store)
	c := fixture.Chart()
	c.Image = fixture.NoisePNG(200, 100) // too big for a data URI
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), c)); err != nil {
		t.Fatal(err)
	}
	if r := succeeded(t, s); !strings.Contains(string(r.Body), "X-Amz-Signature") {
		t.Fatal("no presigned URL in the card")
	}
}

func TestBigChartWithoutStoreIsDroppedWithNote(t *testing.T) {
	n, s := setup(t, "en", nil)
	c := fixture.Chart()
	c.Image = fixture.NoisePNG(200, 100)
	res, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, false, false), c))
	if err != nil {
		t.Fatal(err)
	}
	if r := succeeded(t, s); !strings.Contains(string(r.Body), "chart unavailable") || res.Note == "" {
		t.Fatal("no note")
	}
}

func TestFiftyAlertsStayUnder28KB(t *testing.T) {
	n, s := setup(t, "zh", nil)
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(50, true, true), fixture.Chart())); err != nil {
		t.Fatal(err)
	}
	if r := succeeded(t, s); len(r.Body) > fake.MaxMessageBytes {
		t.Fatalf("%d bytes", len(r.Body))
	}
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(300, true, true), fixture.Chart())); err != nil {
		t.Fatal(err)
	}
	if r := succeeded(t, s); !strings.Contains(string(r.Body), "另有") {
		t.Fatal("no left-out count")
	}
}

func TestBadSigAndRetiredConnector(t *testing.T) {
	s := fake.New()
	defer s.Close()
	n, _ := teams.New(channels.Options{Channel: settings.Channel{Name: "tm"}}, strings.Replace(s.WebhookURL(), "fake-sig", "nope", 1))
	if _, err := n.Send(context.Background(), fixture.Message(fixture.Data(1, true, false), nil)); channels.KindOf(err) != channels.BadCredentials {
		t.Fatalf("got %v", err)
	}
	if _, err := teams.New(channels.Options{}, "https://contoso.webhook.office.com/webhookb2/x"); err == nil {
		t.Fatal("connector URL accepted")
	}
}
