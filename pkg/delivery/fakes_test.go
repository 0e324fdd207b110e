package delivery

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/settings"
)

// sent is one message a fake notifier accepted.
type sent struct {
	at      time.Time
	part    channels.Part
	digest  bool
	fps     []string
	chart   bool
	note    string
	message *channels.Message
}

// fakeNotifier enforces a robot limit the way WeCom does: the 21st message
// inside a sliding minute is refused with errcode 45009, and refused
// messages count too.
type fakeNotifier struct {
	name, typ string
	limits    channels.Limits
	window    time.Duration
	// fail, when set, may fail call n (1-based) before the limit is checked.
	fail  func(n int, m *channels.Message) error
	delay time.Duration
	// extra platform messages each Send costs (a WeCom mention message).
	extra int
	// fits, when set, is how many alerts a message's text names (the
	// first ones; the rest are cut, as a platform's size limit would):
	// Named says so, and sent.fps holds only those.
	fits int

	mu        sync.Mutex
	calls     int
	stamps    []time.Time
	got       []sent
	rateHits  int
	onMessage chan struct{}
}

func newFake(name string, perMinute int, combine bool) *fakeNotifier {
	return &fakeNotifier{name: name, typ: "wecom", limits: channels.Limits{PerMinute: perMinute, CombinesTextAndImage: combine, MessagesPerSend: 1},
		window: time.Minute, onMessage: make(chan struct{}, 100000)}
}

func (f *fakeNotifier) Name() string            { return f.name }
func (f *fakeNotifier) Type() string            { return f.typ }
func (f *fakeNotifier) Limits() channels.Limits { return f.limits }

func (f *fakeNotifier) Send(ctx context.Context, m *channels.Message) (*channels.Result, error) {
	if m == nil || m.Data == nil || len(m.Data.Alerts) == 0 {
		return nil, &channels.Error{Kind: channels.Permanent, Msg: "empty message"}
	}
	if (m.Part == channels.PartBoth) && m.Chart == nil {
		return nil, &channels.Error{Kind: channels.Permanent, Msg: "both without chart"}
	}
	if m.Part == channels.PartChart && m.Chart == nil && m.ChartNote == "" {
		return nil, &channels.Error{Kind: channels.Permanent, Msg: "chart part without chart or note"}
	}
	f.mu.Lock()
	f.calls++
	n := f.calls
	fail := f.fail
	f.mu.Unlock()
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if fail != nil {
		if err := fail(n, m); err != nil {
			return &channels.Result{StatusCode: 500}, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if f.limits.PerMinute > 0 {
		keep := f.stamps[:0]
		for _, t := range f.stamps {
			if now.Sub(t) < f.window {
				keep = append(keep, t)
			}
		}
		f.stamps = keep
		for range 1 + f.extra {
			f.stamps = append(f.stamps, now)
		}
		if len(f.stamps) > f.limits.PerMinute {
			f.rateHits++
			return &channels.Result{StatusCode: 200, Body: `{"errcode":45009}`},
				&channels.Error{Kind: channels.Retryable, StatusCode: 200, Code: 45009, Msg: "api freq out of limit"}
		}
	}
	s := sent{at: now, part: m.Part, digest: m.Digest, chart: m.Chart != nil, note: m.ChartNote, message: m}
	if m.Part == channels.PartChart {
		for _, a := range m.Data.Alerts {
			s.fps = append(s.fps, a.Fingerprint)
		}
	} else {
		s.fps, _ = f.Named(m)
	}
	f.got = append(f.got, s)
	select {
	case f.onMessage <- struct{}{}:
	default:
	}
	return &channels.Result{StatusCode: 200, Body: `{"errcode":0}`, Requests: 1}, nil
}

// Named is channels.Fitter: the first fits alerts (all when fits is 0).
func (f *fakeNotifier) Named(m *channels.Message) ([]string, error) {
	var out []string
	for i, a := range m.Data.Alerts {
		if f.fits > 0 && i == f.fits {
			break
		}
		out = append(out, a.Fingerprint)
	}
	return out, nil
}

func (f *fakeNotifier) messages() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.got...)
}

// waitFor polls cond until it holds or the timeout passes.
// waitSent waits until delivery id is recorded sent: a fake notifier holds
// a message as soon as Send is called, a moment before the sender records it.
func waitSent(t *testing.T, svc *Service, id, what string) {
	t.Helper()
	waitFor(t, 10*time.Second, what+", recorded sent", func() bool {
		d, err := svc.Delivery(context.Background(), id)
		return err == nil && d.Status == "sent"
	})
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool, state ...func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	var got []string
	for _, f := range state {
		got = append(got, f())
	}
	t.Fatalf("timed out after %s waiting for %s %s", timeout, what, strings.Join(got, "; "))
}

// fakeCharter returns a small PNG after delay, or err. It also draws
// digest overviews (OverviewCharter) after ovDelay, or fails with ovErr,
// recording how many alerts each overview was asked for.
type fakeCharter struct {
	delay time.Duration
	err   error
	mu    sync.Mutex
	calls int

	ovDelay  time.Duration
	ovErr    error
	ovAlerts []int
}

func (c *fakeCharter) Overview(ctx context.Context, receiver string, alerts []template.Alert) (*channels.Chart, channels.ChartInfo, error) {
	c.mu.Lock()
	c.ovAlerts = append(c.ovAlerts, len(alerts))
	c.mu.Unlock()
	if c.ovDelay > 0 {
		select {
		case <-time.After(c.ovDelay):
		case <-ctx.Done():
			return nil, channels.ChartInfo{}, fmt.Errorf("prometheus did not answer: %w", ctx.Err())
		}
	}
	if c.ovErr != nil {
		return nil, channels.ChartInfo{Renderer: "native"}, c.ovErr
	}
	return &channels.Chart{Image: testPNG(), ContentType: "image/png", Title: fmt.Sprintf("%s — %d alerts", alerts[0].Labels["alertname"], len(alerts))},
		channels.ChartInfo{Renderer: "native", Plan: []byte(`{"query":"up"}`), Note: "2 more series not shown"}, nil
}

func (c *fakeCharter) overviews() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.ovAlerts...)
}

func testPNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{R: 255, A: 255})
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func (c *fakeCharter) Chart(ctx context.Context, receiver string, a template.Alert) (*channels.Chart, channels.ChartInfo, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	if c.delay > 0 {
		select {
		case <-time.After(c.delay):
		case <-ctx.Done():
			return nil, channels.ChartInfo{}, fmt.Errorf("prometheus did not answer: %w", ctx.Err())
		}
	}
	if c.err != nil {
		return nil, channels.ChartInfo{Renderer: "native"}, c.err
	}
	return &channels.Chart{Image: testPNG(), ContentType: "image/png", Title: a.Labels["alertname"]},
		channels.ChartInfo{Renderer: "native", Plan: []byte(`{"query":"up"}`)}, nil
}

func testSettings(t testing.TB, channelNames ...string) *settings.Settings {
	t.Helper()
	s := &settings.Settings{}
	for _, n := range channelNames {
		s.Channels = append(s.Channels, settings.Channel{Name: n, Type: "wecom"})
	}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

func payload(n int, prefix string) *template.Data {
	d := &template.Data{Receiver: "ops", Status: "firing", GroupLabels: template.KV{"alertname": "HighCPU"},
		CommonLabels: template.KV{"alertname": "HighCPU"}, ExternalURL: "http://am.example"}
	start := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	for i := range n {
		inst := fmt.Sprintf("%s-node%d:9100", prefix, i)
		d.Alerts = append(d.Alerts, template.Alert{Status: "firing",
			Labels:      template.KV{"alertname": "HighCPU", "instance": inst, "severity": "critical"},
			Annotations: template.KV{"summary": "CPU high on " + inst}, StartsAt: start,
			GeneratorURL: "http://prom/graph?g0.expr=up", Fingerprint: fmt.Sprintf("%s%04d", prefix, i)})
	}
	return d
}
