package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery/queuetest"
	"github.com/alertchart/alertchart/pkg/nochart"
	"github.com/alertchart/alertchart/pkg/settings"
)

func openTest(t testing.TB, s *settings.Settings, ch Charter, mod func(*Config), ns ...*fakeNotifier) *Service {
	t.Helper()
	m := map[string]channels.Notifier{}
	for _, n := range ns {
		m[n.name] = n
	}
	cfg := Config{Settings: s, DataDir: queuetest.DataDir(t), Notifiers: m, Charter: ch, Registerer: prometheus.NewRegistry()}
	if mod != nil {
		mod(&cfg)
	}
	svc, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = svc.Close(ctx)
	})
	return svc
}

func TestTextFirstThenChart(t *testing.T) {
	t.Parallel()
	n := newFake("ops", 20, false)
	svc := openTest(t, testSettings(t, "ops"), &fakeCharter{delay: 50 * time.Millisecond}, nil, n)
	res, err := svc.Accept(context.Background(), "ops", payload(1, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Alerts != 1 || res.Duplicates != 0 || res.ID == "" {
		t.Fatalf("accept result %+v", res)
	}
	waitFor(t, 10*time.Second, "text and chart", func() bool { return len(n.messages()) >= 2 })
	got := n.messages()
	if got[0].part != channels.PartText || got[1].part != channels.PartChart || !got[1].chart {
		t.Fatalf("want text then chart, got %+v then %+v", got[0].part, got[1].part)
	}
	waitFor(t, 5*time.Second, "chart recorded", func() bool {
		d, err := svc.Delivery(context.Background(), res.ID)
		return err == nil && d.Channels[0].ChartSentAt != nil
	})
	d, _ := svc.Delivery(context.Background(), res.ID)
	if d.Status != "sent" || !d.HasChart || d.Channels[0].Renderer != "native" || len(d.Attempts) != 2 {
		t.Fatalf("record: %+v", d)
	}
}

func TestCombinedWithinBudget(t *testing.T) {
	t.Parallel()
	n := newFake("tg", 0, true)
	svc := openTest(t, testSettings(t, "tg"), &fakeCharter{delay: 20 * time.Millisecond}, nil, n)
	if _, err := svc.Accept(context.Background(), "ops", payload(1, "b")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "one combined message", func() bool { return len(n.messages()) >= 1 })
	time.Sleep(300 * time.Millisecond)
	got := n.messages()
	if len(got) != 1 || got[0].part != channels.PartBoth || !got[0].chart {
		t.Fatalf("want one PartBoth message, got %d: %+v", len(got), got)
	}
}

func TestSlowChartTextGoesAtBudgetThenNote(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	s := testSettings(t, "tg", "wc")
	s.Chart.Budget = settings.Duration(time.Second)
	combined := newFake("tg", 0, true)
	separate := newFake("wc", 20, false)
	svc := openTest(t, s, &fakeCharter{delay: 30 * time.Second}, func(c *Config) { c.ChartTimeout = 2 * time.Second }, combined, separate)
	t0 := time.Now()
	if _, err := svc.Accept(context.Background(), "ops", payload(1, "c")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "texts", func() bool { return len(combined.messages()) >= 1 && len(separate.messages()) >= 1 })
	if d := separate.messages()[0].at.Sub(t0); d > 2*time.Second {
		t.Errorf("separate platform text took %s", d)
	}
	if d := combined.messages()[0].at.Sub(t0); d > 3*time.Second {
		t.Errorf("combined platform text took %s (budget 1s)", d)
	}
	for _, n := range []*fakeNotifier{combined, separate} {
		waitFor(t, 10*time.Second, "chart note", func() bool { return len(n.messages()) >= 2 })
		m := n.messages()
		// The note is the channel's language (zh by default) and says only the kind.
		if m[0].part != channels.PartText || m[1].part != channels.PartChart || m[1].chart || m[1].note != nochart.Timeout.Note("zh") {
			t.Fatalf("%s: want text then a note, got %+v / %+v", n.name, m[0], m[1])
		}
	}
}

func TestFailingCharterNote(t *testing.T) {
	t.Parallel()
	n := newFake("ops", 20, false)
	svc := openTest(t, testSettings(t, "ops"), &fakeCharter{err: errors.New("renderer down")}, nil, n)
	res, err := svc.Accept(context.Background(), "ops", payload(1, "d"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "note", func() bool { return len(n.messages()) >= 2 })
	// The chat gets the kind in its language (an error that is not a
	// nochart.Error is an internal one); the record keeps the full reason.
	if m := n.messages()[1]; m.note != "图表不可用：内部错误" {
		t.Fatalf("note %q", m.note)
	}
	waitFor(t, 5*time.Second, "record", func() bool {
		d, _ := svc.Delivery(context.Background(), res.ID)
		return d != nil && d.Channels[0].ChartNote == "chart unavailable: renderer down"
	})
}

func TestRetriesAndFailures(t *testing.T) {
	t.Parallel()
	s := testSettings(t, "flaky", "ratelimited", "broken")
	flaky := newFake("flaky", 0, false)
	flaky.fail = func(n int, _ *channels.Message) error {
		if n <= 2 {
			return &channels.Error{Kind: channels.Retryable, StatusCode: 500, Msg: "server error"}
		}
		return nil
	}
	limited := newFake("ratelimited", 0, false)
	limited.fail = func(n int, _ *channels.Message) error {
		if n == 1 {
			return &channels.Error{Kind: channels.Retryable, StatusCode: 429, RetryAfter: 700 * time.Millisecond, Msg: "slow down"}
		}
		return nil
	}
	broken := newFake("broken", 0, false)
	broken.fail = func(int, *channels.Message) error {
		return &channels.Error{Kind: channels.BadCredentials, StatusCode: 200, Code: 93000, Msg: "invalid webhook url"}
	}
	svc := openTest(t, s, nil, nil, flaky, limited, broken)
	t0 := time.Now()
	res, err := svc.Accept(context.Background(), "ops", payload(1, "e"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "retried sends", func() bool { return len(flaky.messages()) == 1 && len(limited.messages()) == 1 })
	if d := limited.messages()[0].at.Sub(t0); d < 700*time.Millisecond {
		t.Errorf("Retry-After not honoured: sent after %s", d)
	}
	waitFor(t, 5*time.Second, "final record", func() bool {
		d, _ := svc.Delivery(context.Background(), res.ID)
		return d != nil && d.Status != "pending"
	})
	d, _ := svc.Delivery(context.Background(), res.ID)
	if d.Status != "partial" {
		t.Fatalf("status %q, want partial", d.Status)
	}
	byName := map[string]ChannelDelivery{}
	for _, c := range d.Channels {
		byName[c.Channel] = c
	}
	if c := byName["flaky"]; c.Status != "sent" || c.Attempts != 3 {
		t.Errorf("flaky: %+v", c)
	}
	if c := byName["broken"]; c.Status != "failed" || c.Attempts != 1 || !strings.Contains(c.LastError, "invalid webhook url") {
		t.Errorf("broken: %+v", c)
	}
}

func TestRetryHorizon(t *testing.T) {
	s := testSettings(t, "down")
	s.Delivery.RetryHorizon = settings.Duration(1500 * time.Millisecond)
	down := newFake("down", 0, false)
	down.fail = func(int, *channels.Message) error { return errors.New("connection reset by peer") }
	svc := openTest(t, s, nil, nil, down)
	res, _ := svc.Accept(context.Background(), "ops", payload(1, "f"))
	waitFor(t, 15*time.Second, "failed after horizon", func() bool {
		d, _ := svc.Delivery(context.Background(), res.ID)
		return d != nil && d.Status == "failed"
	})
	d, _ := svc.Delivery(context.Background(), res.ID)
	if !strings.Contains(d.Channels[0].LastError, "gave up") || d.Channels[0].Attempts < 2 {
		t.Fatalf("%+v", d.Channels[0])
	}
}

func TestDedupe(t *testing.T) {
	t.Parallel()
	n := newFake("ops", 0, false)
	svc := openTest(t, testSettings(t, "ops"), nil, nil, n)
	p := payload(3, "g")
	if _, err := svc.Accept(context.Background(), "ops", p); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Accept(context.Background(), "ops", p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicates != 3 {
		t.Fatalf("duplicates %d", res.Duplicates)
	}
	// A resolved notification of the same alerts is new.
	r := payload(3, "g")
	for i := range r.Alerts {
		r.Alerts[i].Status = "resolved"
	}
	r.Status = "resolved"
	res2, _ := svc.Accept(context.Background(), "ops", r)
	if res2.Duplicates != 0 {
		t.Fatalf("resolved counted as duplicate")
	}
	waitFor(t, 5*time.Second, "two messages", func() bool { return len(n.messages()) == 2 })
	time.Sleep(300 * time.Millisecond)
	if len(n.messages()) != 2 {
		t.Fatalf("got %d messages", len(n.messages()))
	}
	d, _ := svc.Delivery(context.Background(), res.ID)
	if d.Channels[0].Status != "deduplicated" {
		t.Fatalf("%+v", d.Channels)
	}
}

// TestAcceptErrors: intake decides whether a notification may be accepted
// (payload and receiver) and Accept does not check again; every error of
// Accept means "not stored, retry", and what the webhook's caller may read
// of it is its Public text, never the cause.
func TestAcceptErrors(t *testing.T) {
	t.Parallel()
	s := testSettings(t, "ops", "broken")
	s.Routes = []settings.Route{{Receiver: "ops", Channels: []string{"ops"}}, {Receiver: "lost", Channels: []string{"broken"}}}
	svc := openTest(t, s, nil, func(c *Config) {
		c.Broken = map[string]error{"broken": errors.New("bad url http://10.9.8.7/robot")}
	}, newFake("ops", 0, false))
	_, err := svc.Accept(context.Background(), "lost", payload(1, "h"))
	var ce *ChannelError
	if !errors.As(err, &ce) || !strings.Contains(ce.Public(), `"broken"`) || strings.Contains(ce.Public(), "10.9.8.7") {
		t.Fatalf("broken channel: %v", err)
	}
	_ = svc.Close(context.Background())
	if _, err := svc.Accept(context.Background(), "ops", payload(1, "h")); !errors.Is(err, ErrClosed) {
		t.Fatalf("want ErrClosed, got %v", err)
	}
}

// TestAcceptQueueUnavailable: a queue database that does not answer is a
// 503 whose words do not name the database.
func TestAcceptQueueUnavailable(t *testing.T) {
	t.Parallel()
	s := testSettings(t, "ops")
	s.Delivery.Queue = "postgres"
	s.Secrets = map[string]string{settings.SecretPostgresDSN: "postgres://alertchart:pw@127.0.0.1:1/alertchart?connect_timeout=1"}
	svc := openTest(t, s, nil, func(c *Config) { c.RetryOpen = true }, newFake("ops", 0, false))
	_, err := svc.Accept(context.Background(), "ops", payload(1, "q"))
	var pub interface{ Public() string }
	if !errors.Is(err, ErrQueueUnavailable) || !errors.As(err, &pub) || strings.Contains(pub.Public(), "127.0.0.1") {
		t.Fatalf("queue unavailable: %v", err)
	}
	if _, err := svc.Recent(context.Background(), 10); !errors.Is(err, ErrQueueUnavailable) {
		t.Fatalf("recent without a queue: %v", err)
	}
}

func TestRecordsAPI(t *testing.T) {
	t.Parallel()
	n := newFake("ops", 0, false)
	svc := openTest(t, testSettings(t, "ops"), &fakeCharter{}, nil, n)
	ctx := context.Background()
	res, _ := svc.Accept(ctx, "ops", payload(2, "i"))
	waitFor(t, 10*time.Second, "text + 2 charts", func() bool { return len(n.messages()) == 3 })
	list, err := svc.Deliveries(ctx, 10, "", "")
	if err != nil || len(list) != 1 || list[0].ID != res.ID {
		t.Fatalf("list: %v %+v", err, list)
	}
	d, err := svc.Delivery(ctx, res.ID)
	if err != nil || len(d.Attempts) == 0 {
		t.Fatalf("get: %v %+v", err, d)
	}
	if _, err := svc.Delivery(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	if ct, img, err := svc.ChartImage(ctx, res.ID, "i0001"); err != nil || ct != "image/png" || len(img) == 0 {
		t.Fatalf("chart: %v %q %d bytes", err, ct, len(img))
	}
	if _, _, err := svc.ChartImage(ctx, res.ID, "zzz"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("chart missing: %v", err)
	}
	newID, err := svc.Resend(ctx, res.ID)
	if err != nil || newID == "" || newID == res.ID {
		t.Fatalf("resend: %v %q", err, newID)
	}
	waitFor(t, 10*time.Second, "resent text", func() bool { return len(n.messages()) >= 4 })
	if _, err := svc.Resend(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("resend missing: %v", err)
	}
	// A resend is not a received alert: the two alerts received, once.
	recent, err := svc.Recent(context.Background(), 3)
	if err != nil || len(recent) != 2 || recent[0].Receiver != "ops" || recent[0].ExternalURL != "http://am.example" {
		t.Fatalf("recent: %v %+v", err, recent)
	}
}

// TestRecentReadsTheQueue: the last alerts come from the stored
// notifications, newest first, across pages of notifications, cut at n,
// and a new Service on the same queue (a settings save) reads the same.
func TestRecentReadsTheQueue(t *testing.T) {
	t.Parallel()
	s := testSettings(t, "ops")
	dir := queuetest.DataDir(t)
	n := newFake("ops", 0, false)
	svc := openTest(t, s, nil, func(c *Config) { c.DataDir = dir }, n)
	ctx := context.Background()
	const notifications = 55
	for i := range notifications {
		if _, err := svc.Accept(ctx, "ops", payload(1, fmt.Sprintf("r%02d-", i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Accept(ctx, "ops", payload(3, "last-")); err != nil {
		t.Fatal(err)
	}
	check := func(svc *Service) {
		t.Helper()
		recent, err := svc.Recent(ctx, 54)
		if err != nil || len(recent) != 54 {
			t.Fatalf("recent: %v, %d alerts", err, len(recent))
		}
		for i, want := range []string{"last-0000", "last-0001", "last-0002", "r54-0000", "r53-0000"} {
			if got := recent[i].Alert.Fingerprint; got != want {
				t.Fatalf("recent[%d] is %s, want %s", i, got, want)
			}
		}
		if got := recent[53].Alert.Fingerprint; got != "r04-0000" {
			t.Fatalf("the 54th alert is %s, want r04-0000", got)
		}
		if all, _ := svc.Recent(ctx, 1000); len(all) != notifications+3 {
			t.Fatalf("all recent: %d alerts, want %d", len(all), notifications+3)
		}
	}
	check(svc)
	s2 := testSettings(t, "ops")
	s2.Delivery.DedupeWindow = settings.Duration(time.Minute)
	check(openTest(t, s2, nil, func(c *Config) { c.DataDir = dir }, newFake("ops", 0, false)))
}

// BenchmarkRecent is GET /recent's read on an SQLite queue holding 1,000
// notifications of 2 alerts and, newest, one of 2,000 alerts (a large
// group): 50 alerts are read back, one payload at a time.
func BenchmarkRecent(b *testing.B) {
	s := testSettings(b, "ops")
	svc := openTest(b, s, nil, nil, newFake("ops", 0, false))
	ctx := context.Background()
	for i := range 1000 {
		if _, err := svc.Accept(ctx, "ops", payload(2, fmt.Sprintf("b%04d-", i))); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("small notifications", func(b *testing.B) {
		for b.Loop() {
			if l, err := svc.Recent(ctx, 50); err != nil || len(l) != 50 {
				b.Fatal(err, len(l))
			}
		}
	})
	if _, err := svc.Accept(ctx, "ops", payload(2000, "big-")); err != nil {
		b.Fatal(err)
	}
	b.Run("newest has 2000 alerts", func(b *testing.B) {
		for b.Loop() {
			if l, err := svc.Recent(ctx, 50); err != nil || len(l) != 50 {
				b.Fatal(err, len(l))
			}
		}
	})
}
