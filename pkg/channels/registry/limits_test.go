package registry_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/channels/registry"
	"github.com/alertchart/alertchart/pkg/settings"
	"github.com/alertchart/alertchart/test/fakes/fixture"
	fakewc "github.com/alertchart/alertchart/test/fakes/wecom"
)

// Every platform reports its documented windows, and the contract fakes
// agree with them: eight alerts paced to a channel's Limits are eight
// accepted messages, while eight sent at once are refused by every
// platform with a short window, with its own error code.
func TestLimitsMatchWhatThePlatformsEnforce(t *testing.T) {
	t.Parallel()
	f, s := newPlatformFakes(t)
	wc := fakewc.New()
	t.Cleanup(wc.Close)
	s.Channels = append(s.Channels, settings.Channel{Name: "wc", Type: "wecom"})
	s.Secrets["channels.wc.url"] = wc.WebhookURL()
	want := map[string][]channels.Rate{
		"wc": {{Messages: 20, Per: time.Minute}},
		"dt": {{Messages: 20, Per: time.Minute}},
		"fs": {{Messages: 5, Per: time.Second}, {Messages: 100, Per: time.Minute}},
		"tm": {{Messages: 4, Per: time.Second}, {Messages: 60, Per: time.Minute}},
		"sl": {{Messages: 1, Per: time.Second}, {Messages: 60, Per: time.Minute}},
		"tg": {{Messages: 1, Per: time.Second}, {Messages: 20, Per: time.Minute}},
		"dc": {{Messages: 5, Per: 2 * time.Second}, {Messages: 30, Per: time.Minute}},
		"wh": nil,
	}
	// One clock for every fake, moved by the test.
	now := time.Now()
	clock := func() time.Time { return now }
	wc.Now, f.dt.Now, f.fs.Now, f.tm.Now, f.sl.Now, f.tg.Now, f.dc.Now, f.wh.Now = clock, clock, clock, clock, clock, clock, clock, clock
	accepted := map[string]func() int{
		"wc": func() int { return len(wc.Accepted()) }, "dt": func() int { return len(f.dt.Accepted()) },
		"fs": func() int { return len(f.fs.Accepted()) }, "tm": func() int { return len(f.tm.Runs()) },
		"sl": func() int { return len(f.sl.Posts()) }, "tg": func() int { return len(f.tg.Accepted()) },
		"dc": func() int { return len(f.dc.Accepted()) }, "wh": func() int { return len(f.wh.Accepted()) },
	}
	m := fixture.Message(fixture.Data(1, false, false), nil)
	for _, ch := range s.Channels {
		n, err := registry.New(ch, s, registry.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		rates := n.Limits().Rates()
		if !slices.Equal(rates, want[ch.Name]) {
			t.Errorf("%s: rates %v, want %v", ch.Name, rates, want[ch.Name])
		}
		// Paced: the even spacing of the tightest window.
		var gap time.Duration
		for _, r := range rates {
			gap = max(gap, r.Interval())
		}
		before := accepted[ch.Name]()
		for i := range 8 {
			res, err := n.Send(context.Background(), m)
			if err != nil {
				t.Fatalf("%s: paced send %d refused: %v", ch.Name, i+1, err)
			}
			now = now.Add(max(gap, res.Pause))
		}
		if got := accepted[ch.Name]() - before; got != 8 {
			t.Errorf("%s: %d of 8 paced alerts arrived", ch.Name, got)
		}
		now = now.Add(2 * time.Minute)
		if len(rates) == 0 || rates[0].Per >= time.Minute {
			continue
		}
		// At once: the short window refuses, retryably, with a wait.
		var refused error
		for range 8 {
			if _, err := n.Send(context.Background(), m); err != nil {
				refused = err
				break
			}
		}
		if channels.KindOf(refused) != channels.Retryable || channels.RetryAfterOf(refused) <= 0 {
			t.Errorf("%s: a burst of 8 was not refused retryably: %v", ch.Name, refused)
		}
		now = now.Add(2 * time.Minute)
	}
}
