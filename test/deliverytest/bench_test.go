package deliverytest

import (
	"context"
	"sort"
	"sync"
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
