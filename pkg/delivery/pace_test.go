package delivery

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery/queuetest"
	"github.com/alertchart/alertchart/pkg/settings"
	"github.com/alertchart/alertchart/test/fakes/fakelimit"
)

// pacedFake is a robot with a short window and a minute, enforced with the
// platform fakes' limiter: a request over either is refused (Retryable,
// like Feishu's 11232). With pauseEvery set it also announces a pause
// (Result.Pause, as Discord does with X-RateLimit-Remaining 0) after every
// pauseEvery-th message and refuses whatever arrives before it ends.
type pacedFake struct {
	limits     channels.Limits
	limit      *fakelimit.Limiter
	pauseEvery int
	pauseFor   time.Duration

	mu       sync.Mutex
	got      []sent
	refused  int
	pausedTo time.Time
}

func (f *pacedFake) Name() string            { return "robot" }
func (f *pacedFake) Type() string            { return "feishu" }
func (f *pacedFake) Limits() channels.Limits { return f.limits }

func (f *pacedFake) Send(_ context.Context, m *channels.Message) (*channels.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if now.Before(f.pausedTo) || !f.limit.Take("robot", now).OK {
		f.refused++
		return &channels.Result{StatusCode: 429}, &channels.Error{Kind: channels.Retryable, StatusCode: 429, Msg: "frequency limited"}
	}
	s := sent{at: now, part: m.Part, digest: m.Digest, chart: m.Chart != nil}
	for _, a := range m.Data.Alerts {
		s.fps = append(s.fps, a.Fingerprint)
	}
	f.got = append(f.got, s)
	res := &channels.Result{StatusCode: 200, Requests: 1}
	if f.pauseEvery > 0 && len(f.got)%f.pauseEvery == 0 {
		f.pausedTo = now.Add(f.pauseFor)
		res.Pause = f.pauseFor
	}
	return res, nil
}

func (f *pacedFake) state() ([]sent, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.got...), f.refused
}

func openPaced(t *testing.T, f *pacedFake, ch Charter, rateWindow time.Duration) *Service {
	t.Helper()
	s := &settings.Settings{Channels: []settings.Channel{{Name: "robot", Type: "feishu"}}}
	s.ApplyDefaults()
	svc, err := Open(context.Background(), Config{Settings: s, DataDir: queuetest.DataDir(t), Notifiers: map[string]channels.Notifier{"robot": f},
		Charter: ch, Registerer: prometheus.NewRegistry(), RateWindow: rateWindow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	return svc
}

// TestPacedStorm: a storm to a robot with a short window (5 a second) and
// a "minute" (squeezed to 4 s, 10 messages) goes out as individual
// messages at the robot's pace until the minute is full, and only then as
// digests; every alert arrives and the robot refuses nothing. Through the
// lanes (text only) and through River (a chart that may join the text).
func TestPacedStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	for _, tc := range []struct {
		name    string
		charter Charter
	}{{"lanes", nil}, {"river", &fakeCharter{}}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const window = 4 * time.Second
			f := &pacedFake{limits: channels.Limits{PerMinute: 10, Burst: channels.Rate{Messages: 5, Per: time.Second}, CombinesTextAndImage: true, MessagesPerSend: 1},
				limit: fakelimit.New(fakelimit.Window{Max: 5, Per: time.Second}, fakelimit.Window{Max: 10, Per: window})}
			svc := openPaced(t, f, tc.charter, window+100*time.Millisecond)
			const total = 120
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < total; i += 8 {
						if _, err := svc.Accept(context.Background(), "ops", payload(1, fmt.Sprintf("p%03d-", i))); err != nil {
							t.Error(err)
						}
					}
				}()
			}
			wg.Wait()
			seen := func() map[string]int {
				m := map[string]int{}
				got, _ := f.state()
				for _, s := range got {
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
			got, refused := f.state()
			if refused != 0 {
				t.Errorf("the robot refused %d messages", refused)
			}
			single, digests := 0, 0
			for _, s := range got {
				switch {
				case s.digest:
					digests++
				case len(s.fps) == 1 && s.part != channels.PartChart:
					single++
				}
			}
			// The first minute's 10 slots go to individual alerts; the
			// rest of the storm must be merged, not sent one by one.
			if single < 5 || digests == 0 || len(got) > total/2 {
				t.Errorf("%d messages: %d single alerts, %d digests; want the first ~10 alone, then digests", len(got), single, digests)
			}
			for fp, c := range seen() {
				if c != 1 {
					t.Errorf("alert %s arrived %d times", fp, c)
				}
			}
		})
	}
}

// TestPlatformPauseHoldsTheChannel: a platform that announces on a
// successful answer that its window is spent (Result.Pause, Discord's
// X-RateLimit-Remaining 0 + Reset-After) gets nothing until the pause
// ends, and a burst still goes out as individual messages.
func TestPlatformPauseHoldsTheChannel(t *testing.T) {
	t.Parallel()
	f := &pacedFake{limits: channels.Limits{PerMinute: 30, Burst: channels.Rate{Messages: 10, Per: 2 * time.Second}, MessagesPerSend: 1},
		limit: fakelimit.New(), pauseEvery: 3, pauseFor: 700 * time.Millisecond}
	svc := openPaced(t, f, nil, 0)
	const total = 8
	for i := range total {
		if _, err := svc.Accept(context.Background(), "ops", payload(1, fmt.Sprintf("q%03d-", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "8 messages", func() bool { got, _ := f.state(); return len(got) >= total })
	time.Sleep(200 * time.Millisecond)
	got, refused := f.state()
	if refused != 0 || len(got) != total {
		t.Fatalf("%d messages, %d refused; want %d individual messages and no refusal", len(got), refused, total)
	}
	for _, s := range got {
		if s.digest || len(s.fps) != 1 {
			t.Fatalf("a message carried %d alerts (digest %v)", len(s.fps), s.digest)
		}
	}
}
