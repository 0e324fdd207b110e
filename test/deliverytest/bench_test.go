package deliverytest

import (
	"context"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery"
	"github.com/alertchart/alertchart/pkg/settings"
)

// memNotifier records when each alert's text and chart arrived.
type memNotifier struct {
	mu    sync.Mutex
	text  map[string]time.Time
	chart map[string]time.Time
}

func (m *memNotifier) Name() string            { return "robot" }
func (m *memNotifier) Type() string            { return "webhook" }
func (m *memNotifier) Limits() channels.Limits { return channels.Limits{} }
func (m *memNotifier) Send(_ context.Context, msg *channels.Message) (*channels.Result, error) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range msg.Data.Alerts {
		if msg.Part == channels.PartChart {
			m.chart[a.Fingerprint] = now
		} else {
			m.text[a.Fingerprint] = now
		}
	}
	return &channels.Result{StatusCode: 200}, nil
}

func pct(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return float64(d[int(float64(len(d)-1)*p)].Microseconds()) / 1000
}

// BenchmarkPostgres200PerSecond is the HA-mode twin of pkg/delivery's
// BenchmarkPipeline200PerSecond: b.N one-alert webhooks at 200/s into a
// Service whose queue is a real PostgreSQL 15 on loopback.
//
// Run: go test ./test/deliverytest -run '^$' -bench Postgres200 -benchtime 2000x
func BenchmarkPostgres200PerSecond(b *testing.B) {
	dsn := startPostgres(b)
	s := &settings.Settings{Channels: []settings.Channel{{Name: "robot", Type: "webhook"}}}
	s.Delivery.Queue = "postgres"
	s.Secrets = map[string]string{settings.SecretPostgresDSN: dsn}
	s.ApplyDefaults()
	n := &memNotifier{text: map[string]time.Time{}, chart: map[string]time.Time{}}
	svc, err := delivery.Open(context.Background(), delivery.Config{Settings: s, Notifiers: map[string]channels.Notifier{"robot": n},
		Charter: quickCharter{}, Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close(context.Background())
	accepted := map[string]time.Time{}
	var acc []time.Duration
	start := time.Now()
	b.ResetTimer()
	for i := range b.N {
		if d := time.Until(start.Add(time.Duration(i) * 5 * time.Millisecond)); d > 0 {
			time.Sleep(d)
		}
		d, fps := webhook(i, 1)
		t0 := time.Now()
		if _, err := svc.Accept(context.Background(), "ops", d); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		acc = append(acc, t1.Sub(t0))
		accepted[fps[0]] = t1
	}
	b.StopTimer()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		n.mu.Lock()
		done := len(n.chart) >= b.N
		n.mu.Unlock()
		if done {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var text, chart []time.Duration
	n.mu.Lock()
	for fp, at := range accepted {
		if t, ok := n.text[fp]; ok {
			text = append(text, t.Sub(at))
		}
		if t, ok := n.chart[fp]; ok {
			chart = append(chart, t.Sub(at))
		}
	}
	n.mu.Unlock()
	if len(text) < b.N {
		b.Fatalf("only %d of %d texts arrived", len(text), b.N)
	}
	b.ReportMetric(pct(acc, 0.5), "accept-p50-ms")
	b.ReportMetric(pct(acc, 0.99), "accept-p99-ms")
	b.ReportMetric(pct(text, 0.5), "text-p50-ms")
	b.ReportMetric(pct(text, 0.99), "text-p99-ms")
	b.ReportMetric(pct(chart, 0.5), "chart-p50-ms")
	b.ReportMetric(0, "ns/op")
}

// textSink is a chat channel that answers at once and counts the texts.
type textSink struct {
	mu   sync.Mutex
	at   map[string]time.Time // fingerprint → first text
	msgs int
	last time.Time
}

func (t *textSink) Name() string            { return "sink" }
func (t *textSink) Type() string            { return "webhook" }
func (t *textSink) Limits() channels.Limits { return channels.Limits{} }
func (t *textSink) Send(_ context.Context, msg *channels.Message) (*channels.Result, error) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.msgs++
	t.last = now
	for _, a := range msg.Data.Alerts {
		if _, ok := t.at[a.Fingerprint]; !ok {
			t.at[a.Fingerprint] = now
		}
	}
	return &channels.Result{StatusCode: 200}, nil
}

func (t *textSink) messages() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.msgs
}

func (t *textSink) count() (int, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.at), t.last
}

// openSink opens a Service whose one channel (text only, rate limit
// 1,000,000 a minute) is a textSink, on SQLite (dsn "") or PostgreSQL.
func openSink(b *testing.B, dsn string) (*delivery.Service, *textSink) {
	return openSinkWith(b, dsn, "")
}

func openSinkWith(b *testing.B, dsn, durability string) (*delivery.Service, *textSink) {
	s := &settings.Settings{Channels: []settings.Channel{{Name: "sink", Type: "webhook", DisableChart: true, RateLimitPerMinute: 1000000}}}
	if dsn != "" {
		s.Delivery.Queue = "postgres"
		s.Secrets = map[string]string{settings.SecretPostgresDSN: dsn}
	}
	s.Delivery.Sync = durability
	s.ApplyDefaults()
	sink := &textSink{at: map[string]time.Time{}}
	svc, err := delivery.Open(context.Background(), delivery.Config{Settings: s, DataDir: b.TempDir(),
		Notifiers: map[string]channels.Notifier{"sink": sink}, Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = svc.Close(context.Background()) })
	return svc, sink
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTextThroughput measures how many texts a second delivery sends
// to one channel (text only, rateLimitPerMinute 1,000,000, a chat sink that
// answers at once): b.N distinct one-alert webhooks are accepted by 16
// concurrent callers as fast as Accept takes them; texts/s is b.N over the
// time from the first accept to the last text. cpu-us/text is the process's
// CPU time (user+system) per text, which moves less than wall figures on a
// shared machine; pg-cpu-us/text is PostgreSQL's (its server processes).
// msgs/text is the messages the sink got per text: below 1 when the lane
// fell a second behind and sent what waited as digests (see laneCatchUp in
// pkg/delivery).
//
// Run: go test ./test/deliverytest -run '^$' -bench TextThroughput -benchtime 20000x
func BenchmarkTextThroughput(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			dsn := ""
			if db == "postgres" {
				dsn = startPostgres(b)
			}
			svc, sink := openSink(b, dsn)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			c0, p0, t0 := cpuTime(), pgCPU(dsn), time.Now()
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						d, _ := webhook(int(i), 1)
						if _, err := svc.Accept(context.Background(), "ops", d); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			accepted := time.Since(t0)
			deadline := time.Now().Add(5 * time.Minute)
			n, last := sink.count()
			for ; n < b.N && time.Now().Before(deadline); n, last = sink.count() {
				time.Sleep(2 * time.Millisecond)
			}
			cpu, pg := cpuTime()-c0, pgCPU(dsn)-p0
			b.StopTimer()
			if n < b.N {
				b.Fatalf("only %d of %d texts arrived", n, b.N)
			}
			b.ReportMetric(float64(b.N)/accepted.Seconds(), "accepts/s")
			b.ReportMetric(float64(b.N)/last.Sub(t0).Seconds(), "texts/s")
			b.ReportMetric(float64(sink.messages())/float64(b.N), "msgs/text")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/text")
			if dsn != "" {
				b.ReportMetric(float64(pg.Microseconds())/float64(b.N), "pg-cpu-us/text")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkWebhook1000PerSecond paces b.N distinct one-alert webhooks at
// 1,000 a second (each accepted in its own goroutine, as an HTTP server
// would) into a Service with one text-only channel to a sink that answers
// at once, and reports the webhook answer's latency (Accept: persisted, and
// on SQLite with synchronous=FULL fsynced) and the text's, from acceptance
// to the sink, with delivery.sync "full" (an fsync before each answer) and
// "normal" (the default).
//
// Run: go test ./test/deliverytest -run '^$' -bench Webhook1000 -benchtime 10000x
func BenchmarkWebhook1000PerSecond(b *testing.B) {
	for _, db := range []string{"sqlite-full", "sqlite-normal", "postgres"} {
		b.Run(db, func(b *testing.B) {
			dsn := ""
			if db == "postgres" {
				dsn = startPostgres(b)
			}
			durability, _ := strings.CutPrefix(db, "sqlite-")
			if dsn != "" {
				durability = ""
			}
			svc, sink := openSinkWith(b, dsn, durability)
			acc := make([]time.Duration, b.N)
			accepted := make([]time.Time, b.N)
			sem := make(chan struct{}, 256)
			var wg sync.WaitGroup
			b.ResetTimer()
			c0, p0, t0 := cpuTime(), pgCPU(dsn), time.Now()
			for i := range b.N {
				if d := time.Until(t0.Add(time.Duration(i) * time.Millisecond)); d > 0 {
					time.Sleep(d)
				}
				sem <- struct{}{}
				wg.Add(1)
				go func() {
					defer func() { <-sem; wg.Done() }()
					d, _ := webhook(i, 1)
					s := time.Now()
					if _, err := svc.Accept(context.Background(), "ops", d); err != nil {
						b.Error(err)
						return
					}
					accepted[i] = time.Now()
					acc[i] = accepted[i].Sub(s)
				}()
			}
			wg.Wait()
			sent := time.Since(t0)
			deadline := time.Now().Add(2 * time.Minute)
			for n, _ := sink.count(); n < b.N && time.Now().Before(deadline); n, _ = sink.count() {
				time.Sleep(5 * time.Millisecond)
			}
			cpu, pg := cpuTime()-c0, pgCPU(dsn)-p0
			b.StopTimer()
			var text []time.Duration
			sink.mu.Lock()
			for i := range b.N {
				_, fps := webhook(i, 1)
				if at, ok := sink.at[fps[0]]; ok {
					text = append(text, at.Sub(accepted[i]))
				}
			}
			sink.mu.Unlock()
			if len(text) < b.N {
				b.Fatalf("only %d of %d texts arrived", len(text), b.N)
			}
			b.ReportMetric(float64(b.N)/sent.Seconds(), "webhooks/s")
			b.ReportMetric(pct(acc, 0.5), "accept-p50-ms")
			b.ReportMetric(pct(acc, 0.99), "accept-p99-ms")
			b.ReportMetric(pct(text, 0.5), "text-p50-ms")
			b.ReportMetric(pct(text, 0.99), "text-p99-ms")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/text")
			if dsn != "" {
				b.ReportMetric(float64(pg.Microseconds())/float64(b.N), "pg-cpu-us/text")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}
