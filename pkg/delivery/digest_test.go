package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/settings"
)

// shortWindow squeezes a robot's minute into 3 s so digests form quickly.
func shortWindow(c *Config) { c.RateWindow = 3100 * time.Millisecond }

// burst fills the robot's window with 20 one-alert notifications, waits
// until they are out, then accepts n-20 more: those find no free slot, so
// the first becomes a digest's owner and the others join it.
func burst(t *testing.T, svc *Service, f *fakeNotifier, n int) []string {
	t.Helper()
	var ids []string
	accept := func(i int) {
		res, err := svc.Accept(context.Background(), "ops", payload(1, fmt.Sprintf("b%03d-", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
	}
	for i := range 20 {
		accept(i)
	}
	waitFor(t, 10*time.Second, "the first 20 texts", func() bool { return len(f.messages()) >= 20 })
	for i := 20; i < n; i++ {
		accept(i)
	}
	return ids
}

func digestsOf(n *fakeNotifier) (texts, images []sent) {
	for _, m := range n.messages() {
		switch {
		case m.digest && m.part == channels.PartChart:
			images = append(images, m)
		case m.digest:
			texts = append(texts, m)
		}
	}
	return texts, images
}

func rateHits(n *fakeNotifier) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.rateHits
}

// channelOf returns the delivery's record for its only channel.
func channelOf(t *testing.T, svc *Service, id string) ChannelDelivery {
	t.Helper()
	d, err := svc.Delivery(context.Background(), id)
	if err != nil || len(d.Channels) != 1 {
		t.Fatalf("delivery %s: %v %+v", id, err, d)
	}
	return d.Channels[0]
}

// waitRecorded waits until every one of ids is recorded sent and, if it
// went in a digest, what became of the overview: a fake notifier holds a
// message as soon as Send is called, a moment before the sender records it.
func waitRecorded(t *testing.T, svc *Service, ids []string) {
	t.Helper()
	waitFor(t, 10*time.Second, "the records of every text and overview", func() bool {
		for _, id := range ids {
			c := channelOf(t, svc, id)
			if c.Part == "" || c.Part == "digest" && !strings.HasPrefix(c.ChartNote, "overview chart") {
				return false
			}
		}
		return true
	})
}

// TestDigestOverviewFollowsOnSeparatePlatform: on a WeCom-like robot
// (text and image are separate messages) the digest text goes first and the
// overview image follows as a second message once no text waits, and the
// digested deliveries say so.
func TestDigestOverviewFollowsOnSeparatePlatform(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	n := newFake("ops", 20, false)
	n.window = 3 * time.Second
	ch := &fakeCharter{}
	svc := openTest(t, testSettings(t, "ops"), ch, shortWindow, n)
	ids := burst(t, svc, n, 26)
	waitFor(t, 20*time.Second, "the digest and its overview", func() bool {
		_, images := digestsOf(n)
		return len(images) == 1
	})
	waitRecorded(t, svc, ids)
	texts, images := digestsOf(n)
	if len(texts) != 1 {
		t.Fatalf("%d digest texts, want 1", len(texts))
	}
	if !slices.Equal(texts[0].fps, images[0].fps) || !images[0].chart {
		t.Fatalf("the overview image lists %v, the digest %v", images[0].fps, texts[0].fps)
	}
	if got := images[0].message.Chart.Title; got != fmt.Sprintf("HighCPU — %d alerts", len(texts[0].fps)) {
		t.Errorf("overview title %q", got)
	}
	if ov := ch.overviews(); len(ov) != 1 || ov[0] != len(texts[0].fps) {
		t.Errorf("overviews drawn for %v alerts, want one for %d", ov, len(texts[0].fps))
	}
	msgs := n.messages()
	if i := slices.IndexFunc(msgs, func(m sent) bool { return m.digest && m.part == channels.PartChart }); i == 0 || !msgs[i-1].digest {
		t.Errorf("the overview image is message %d, not right after the digest text", i)
	}
	if h := rateHits(n); h != 0 {
		t.Fatalf("provoked %d rate-limit errors", h)
	}
	digested := 0
	for _, id := range ids {
		c := channelOf(t, svc, id)
		if c.Part != "digest" {
			continue
		}
		digested++
		if c.ChartSentAt == nil || !strings.HasPrefix(c.ChartNote, "overview chart sent after the digest") ||
			!strings.Contains(c.ChartNote, "2 more series not shown") || c.Renderer != "native" {
			t.Errorf("digested delivery %s: note %q, chart sent %v, renderer %q", id, c.ChartNote, c.ChartSentAt, c.Renderer)
		}
	}
	if digested != len(texts[0].fps) {
		t.Errorf("%d deliveries recorded as digested, the digest listed %d", digested, len(texts[0].fps))
	}
	// The image is kept once, with the digest's first delivery.
	first := texts[0].fps[0]
	var owner string
	for i, id := range ids {
		if fmt.Sprintf("b%03d-0000", i) == first {
			owner = id
		}
	}
	res, ok, err := svc.e.loadChart(context.Background(), owner, overviewFingerprint("ops"), "") // the fake charter has no languages
	if err != nil || !ok || res.err != nil || len(res.chart.Image) == 0 {
		t.Fatalf("stored overview of %s: ok %v, %v %v", owner, ok, err, res.err)
	}
}

// TestDigestOverviewCombined: a platform that combines text and image gets
// the digest and its overview in one PartBoth message.
func TestDigestOverviewCombined(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	n := newFake("ops", 20, true)
	n.window = 3 * time.Second
	svc := openTest(t, testSettings(t, "ops"), &fakeCharter{}, shortWindow, n)
	ids := burst(t, svc, n, 26)
	waitFor(t, 20*time.Second, "every alert", func() bool {
		seen := 0
		for _, m := range n.messages() {
			seen += len(m.fps)
		}
		return seen == 26
	})
	waitRecorded(t, svc, ids)
	texts, images := digestsOf(n)
	if len(texts) != 1 || len(images) != 0 {
		t.Fatalf("%d digests and %d separate overview images, want 1 and 0", len(texts), len(images))
	}
	if texts[0].part != channels.PartBoth || !texts[0].chart {
		t.Fatalf("digest sent as %s (chart %v), want both", texts[0].part, texts[0].chart)
	}
	if h := rateHits(n); h != 0 {
		t.Fatalf("provoked %d rate-limit errors", h)
	}
	for _, id := range ids {
		if c := channelOf(t, svc, id); c.Part == "digest" && (c.ChartSentAt == nil || !strings.HasPrefix(c.ChartNote, "overview chart sent with the digest")) {
			t.Errorf("digested delivery %s: note %q", id, c.ChartNote)
		}
	}
}

// TestDigestOverviewGivenUp: a slow or failing overview never holds the
// digest text beyond chart.budget, and the records say why there is none.
func TestDigestOverviewGivenUp(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	for _, tc := range []struct {
		name    string
		charter *fakeCharter
		note    string
	}{
		{"slow", &fakeCharter{ovDelay: 10 * time.Second}, "overview chart skipped: not ready within chart.budget"},
		{"failing", &fakeCharter{ovErr: errors.New("prometheus: 503")}, "overview chart unavailable: prometheus: 503"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newFake("ops", 20, true)
			n.window = 3 * time.Second
			s := testSettings(t, "ops")
			s.Chart.Budget = settings.Duration(300 * time.Millisecond)
			svc := openTest(t, s, tc.charter, shortWindow, n)
			t0 := time.Now()
			ids := burst(t, svc, n, 25)
			waitFor(t, 20*time.Second, "the digest", func() bool { texts, _ := digestsOf(n); return len(texts) == 1 })
			waitRecorded(t, svc, ids)
			texts, _ := digestsOf(n)
			if texts[0].part != channels.PartText || texts[0].chart {
				t.Fatalf("digest sent as %s with chart %v", texts[0].part, texts[0].chart)
			}
			// The window frees 3.1 s after the burst; the digest may wait
			// for the overview 0.3 s more, not the 10 s the charter takes.
			if d := texts[0].at.Sub(t0); d > 6*time.Second {
				t.Errorf("digest sent %s after the burst", d)
			}
			for _, id := range ids {
				if c := channelOf(t, svc, id); c.Part == "digest" && (c.ChartNote != tc.note || c.ChartSentAt != nil) {
					t.Errorf("digested delivery %s: note %q", id, c.ChartNote)
				}
			}
		})
	}
}

// TestOverviewImageWaitsForText: the follow-up image is refused while any
// other text for the robot is pending, and allowed once none is.
func TestOverviewImageWaitsForText(t *testing.T) {
	t.Parallel()
	n := newFake("ops", 20, false)
	svc := openTest(t, testSettings(t, "ops"), nil, nil, n)
	ctx := context.Background()
	if err := svc.rt.pause(ctx, "ops", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Accept(ctx, "ops", payload(1, "w")); err != nil {
		t.Fatal(err)
	}
	_, idle, err := svc.rt.acquireImage(ctx, "ops", "digest/ops", 1, 20, true)
	if err != nil || idle {
		t.Fatalf("idle %v with a text pending (%v)", idle, err)
	}
	if _, err := svc.e.st.Exec(ctx, `UPDATE alertchart_channel SET status = 'sent'`); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.e.st.Exec(ctx, `UPDATE alertchart_rate SET paused_until = 0`); err != nil {
		t.Fatal(err)
	}
	dec, idle, err := svc.rt.acquireImage(ctx, "ops", "digest/ops", 1, 20, true)
	if err != nil || !idle || !dec.OK {
		t.Fatalf("no text pending: idle %v, slot %v (%v)", idle, dec.OK, err)
	}
}
