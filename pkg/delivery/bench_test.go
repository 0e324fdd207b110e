package delivery

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
)

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := int(float64(len(d)-1) * p)
	return d[i]
}

// BenchmarkPipeline200PerSecond paces b.N webhooks (one alert each) at 200
// per second into a SQLite-backed Service with an unlimited in-process chat
// fake and an instant charter, and reports:
//   - accept-p50/p99-ms: Accept latency (the webhook answer minus JSON decoding);
//   - text-p50/p99-ms: from Accept returning to the text reaching the chat fake;
//   - chart-p50-ms: from Accept returning to the follow-up chart reaching it.
//
// Run: go test ./pkg/delivery -run '^$' -bench Pipeline200 -benchtime 2000x
func BenchmarkPipeline200PerSecond(b *testing.B) {
	n := newFake("ops", 0, false)
	svc := openTest(b, testSettings(b, "ops"), &fakeCharter{}, nil, n)
	accepted := make(map[string]time.Time, b.N)
	var acceptLat []time.Duration
	const interval = 5 * time.Millisecond // 200/s
	start := time.Now()
	b.ResetTimer()
	for i := range b.N {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		p := payload(1, fmt.Sprintf("b%06d-", i))
		t0 := time.Now()
		if _, err := svc.Accept(context.Background(), "ops", p); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		acceptLat = append(acceptLat, t1.Sub(t0))
		accepted[p.Alerts[0].Fingerprint] = t1
	}
	b.StopTimer()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		charts := 0
		for _, m := range n.messages() {
			if m.part == channels.PartChart {
				charts++
			}
		}
		if charts >= b.N {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var textLat, chartLat []time.Duration
	for _, m := range n.messages() {
		for _, fp := range m.fps {
			if t, ok := accepted[fp]; ok {
				if m.part == channels.PartChart {
					chartLat = append(chartLat, m.at.Sub(t))
				} else {
					textLat = append(textLat, m.at.Sub(t))
				}
			}
		}
	}
	if len(textLat) < b.N {
		b.Fatalf("only %d of %d texts arrived", len(textLat), b.N)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(percentile(acceptLat, 0.5)), "accept-p50-ms")
	b.ReportMetric(ms(percentile(acceptLat, 0.99)), "accept-p99-ms")
	b.ReportMetric(ms(percentile(textLat, 0.5)), "text-p50-ms")
	b.ReportMetric(ms(percentile(textLat, 0.99)), "text-p99-ms")
	b.ReportMetric(ms(percentile(chartLat, 0.5)), "chart-p50-ms")
	b.ReportMetric(0, "ns/op")
}
