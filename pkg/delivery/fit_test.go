package delivery

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestDigestNamesEveryAlert is issue 13's storm at a small scale: a robot
// whose message names only 23 alerts (the rest would be cut by its size
// limit), 20 messages per 3 s window, and 300 alerts in 5-alert
// notifications, plus one of 30 alerts that fits no message whole. A
// digest carries only the notifications its text names whole; the rest
// wait for the next free slot. Every alert must be named in a message the
// robot accepted, none twice, with no rate-limit refusal, and every
// delivery recorded sent.
func TestDigestNamesEveryAlert(t *testing.T) {
	n := newFake("wecom", 20, false)
	n.window = 3 * time.Second
	n.fits = 23
	const list = "https://grafana.example/a/alertchart-webhook-app/deliveries?orgId=1"
	svc := openTest(t, testSettings(t, "wecom"), nil, func(c *Config) { shortWindow(c); c.DeliveriesURL = list }, n)
	var ids []string
	want := map[string]bool{}
	accept := func(k int, prefix string) {
		d := payload(k, prefix)
		res, err := svc.Accept(context.Background(), "ops", d)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
		for _, a := range d.Alerts {
			want[a.Fingerprint] = true
		}
	}
	for i := range 60 {
		accept(5, fmt.Sprintf("s%02d-", i))
		if i == 30 {
			accept(30, "big-")
		}
	}
	named := func() map[string]int {
		m := map[string]int{}
		for _, s := range n.messages() {
			for _, fp := range s.fps {
				m[fp]++
			}
		}
		return m
	}
	bigNamed := func(m map[string]int) bool { return m["big-0000"] > 0 }
	waitFor(t, 60*time.Second, "every alert named", func() bool {
		m := named()
		missing := 0
		for fp := range want {
			if m[fp] == 0 && !(fp[:4] == "big-" && bigNamed(m)) {
				missing++
			}
		}
		return missing == 0
	})
	if h := rateHits(n); h != 0 {
		t.Fatalf("%d rate-limit refusals", h)
	}
	digests := 0
	for _, s := range n.messages() {
		if s.digest {
			digests++
			if s.message.ListURL != list {
				t.Errorf("a digest links %q, want the Deliveries page", s.message.ListURL)
			}
			if len(s.message.Data.Alerts) > n.fits {
				t.Errorf("a digest carried %d alerts, its text names %d", len(s.message.Data.Alerts), n.fits)
			}
		}
		if len(s.message.Data.Alerts) == 30 && s.digest {
			t.Error("the 30-alert notification went in a digest; it fits no message whole and goes alone")
		}
	}
	if digests == 0 {
		t.Fatal("no digest was sent")
	}
	for fp, c := range named() {
		if c > 1 {
			t.Errorf("alert %s named %d times", fp, c)
		}
	}
	waitFor(t, 10*time.Second, "every delivery recorded sent", func() bool {
		for _, id := range ids {
			if channelOf(t, svc, id).Status != "sent" {
				return false
			}
		}
		return true
	})
	t.Logf("%d alerts in %d messages (%d digests)", len(want), len(n.messages()), digests)
}
