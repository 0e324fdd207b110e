package delivery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
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
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
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

// TestChartNotesWaitForText: the first alerts of a storm go out while the
// robot is idle, their charts fail a little later, when the storm's text
// already waits: the notes saying so never take a slot that text needs —
// no note goes out before the last alert text — and every alert is named.
func TestChartNotesWaitForText(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	n := newFake("wecom", 20, false)
	n.window = 3 * time.Second
	ch := &fakeCharter{delay: 2 * time.Second, err: errors.New("prometheus query failed")}
	svc := openTest(t, testSettings(t, "wecom"), ch, shortWindow, n)
	want := map[string]bool{}
	accept := func(from, to int) {
		var wg sync.WaitGroup
		for i := from; i < to; i++ {
			d := payload(1, fmt.Sprintf("n%02d-", i))
			want[d.Alerts[0].Fingerprint] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := svc.Accept(context.Background(), "ops", d); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	accept(0, 5)
	waitFor(t, 5*time.Second, "the first texts", func() bool { return len(n.messages()) >= 5 })
	// Their chart jobs start meanwhile and find no text waiting; the storm
	// arrives while their charts are still being drawn.
	time.Sleep(700 * time.Millisecond)
	accept(5, 80)
	waitFor(t, 30*time.Second, "every alert named", func() bool {
		got := map[string]bool{}
		for _, s := range n.messages() {
			if s.part != channels.PartChart {
				for _, fp := range s.fps {
					got[fp] = true
				}
			}
		}
		return len(got) == len(want)
	})
	var lastText time.Time
	for _, s := range n.messages() {
		if s.part != channels.PartChart {
			lastText = s.at
		}
	}
	for _, s := range n.messages() {
		if s.part == channels.PartChart && s.at.Before(lastText) {
			t.Errorf("a chart note (%q) went out at %s, before the last alert text at %s", s.note, s.at.Format("15:04:05.000"), lastText.Format("15:04:05.000"))
		}
	}
	if h := rateHits(n); h != 0 {
		t.Fatalf("%d rate-limit refusals", h)
	}
}
