package delivery

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
)

// TestStormDigestShortWindow squeezes a storm into a 3 s rate window: 1,500
// alerts for a robot allowed 20 messages per window. Every alert must arrive,
// the fake must never see a 21st message inside its window, and the backlog
// must be merged into digests. (test/deliverytest runs the real-time minute.)
func TestStormDigestShortWindow(t *testing.T) {
	n := newFake("wecom", 20, false)
	n.window = 3 * time.Second
	svc := openTest(t, testSettings(t, "wecom"), &fakeCharter{}, func(c *Config) { c.RateWindow = 3100 * time.Millisecond }, n)
	const total = 1500
	for i := range total / 5 {
		if _, err := svc.Accept(context.Background(), "ops", payload(5, fmt.Sprintf("s%04d-", i))); err != nil {
			t.Fatal(err)
		}
	}
	seen := func() map[string]int {
		m := map[string]int{}
		for _, s := range n.messages() {
			if s.part == channels.PartChart {
				continue
			}
			for _, fp := range s.fps {
				m[fp]++
			}
		}
		return m
	}
	waitFor(t, 60*time.Second, "every alert delivered", func() bool { return len(seen()) == total })
	n.mu.Lock()
	hits := n.rateHits
	n.mu.Unlock()
	if hits != 0 {
		t.Fatalf("provoked %d rate-limit errors", hits)
	}
	digests, dup := 0, 0
	for _, s := range n.messages() {
		if s.digest {
			digests++
		}
	}
	for _, c := range seen() {
		dup += c - 1
	}
	if digests == 0 {
		t.Fatal("no digest was sent")
	}
	if dup != 0 {
		t.Fatalf("%d duplicate alerts", dup)
	}
	t.Logf("%d alerts in %d messages (%d digests)", total, len(n.messages()), digests)
}

// TestRestartResumes closes a Service while a channel is failing and opens a
// new one on the same data directory: the queued text is sent by the new one.
func TestRestartResumes(t *testing.T) {
	dir := t.TempDir()
	s := testSettings(t, "ops")
	down := newFake("ops", 0, false)
	down.fail = func(int, *channels.Message) error {
		return &channels.Error{Kind: channels.Retryable, StatusCode: 503, Msg: "unavailable", RetryAfter: 2 * time.Second}
	}
	svc := openTest(t, s, nil, func(c *Config) { c.DataDir = dir }, down)
	res, err := svc.Accept(context.Background(), "ops", payload(2, "r"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "first attempt", func() bool { down.mu.Lock(); defer down.mu.Unlock(); return down.calls > 0 })
	if err := svc.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	up := newFake("ops", 0, false)
	svc2 := openTest(t, s, nil, func(c *Config) { c.DataDir = dir }, up)
	waitFor(t, 10*time.Second, "text after restart", func() bool { return len(up.messages()) == 1 })
	d, err := svc2.Delivery(context.Background(), res.ID)
	if err != nil || d.Status != "sent" || d.Channels[0].Attempts != 2 {
		t.Fatalf("%v %+v", err, d)
	}
}

// TestOverlappingInstances mimics a settings change: the new Service opens
// the same data directory while the old one still runs, then the old one is
// closed. Nothing is sent twice or lost.
func TestOverlappingInstances(t *testing.T) {
	dir := t.TempDir()
	s := testSettings(t, "ops")
	n := newFake("ops", 0, false)
	old := openTest(t, s, nil, func(c *Config) { c.DataDir = dir }, n)
	for i := range 50 {
		if _, err := old.Accept(context.Background(), "ops", payload(1, fmt.Sprintf("o%02d-", i))); err != nil {
			t.Fatal(err)
		}
	}
	cur := openTest(t, s, nil, func(c *Config) { c.DataDir = dir }, n)
	for i := range 50 {
		if _, err := cur.Accept(context.Background(), "ops", payload(1, fmt.Sprintf("n%02d-", i))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := old.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "100 texts", func() bool { return len(n.messages()) >= 100 })
	time.Sleep(300 * time.Millisecond)
	count := map[string]int{}
	for _, m := range n.messages() {
		for _, fp := range m.fps {
			count[fp]++
		}
	}
	if len(count) != 100 || len(n.messages()) != 100 {
		t.Fatalf("%d distinct alerts in %d messages", len(count), len(n.messages()))
	}
}
