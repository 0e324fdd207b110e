// Package samples builds the deterministic example charts used by the
// renderer's reference-image tests, its benchmarks and the chartsamples
// command, so what a developer looks at is exactly what the tests check.
package samples

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/alertchart/alertchart/pkg/render"
	"github.com/alertchart/alertchart/pkg/series"
)

// Case is one named chart with its render options.
type Case struct {
	Name    string
	Chart   *render.Chart
	Options render.Options
}

// Shanghai is the zone of most samples (the product's first users).
var Shanghai = mustLoad("Asia/Shanghai")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// Window is the sample window: 09:40–10:40 Shanghai time, alert at 10:27:10.
var (
	From       = time.Date(2026, 11, 25, 9, 40, 0, 0, Shanghai)
	To         = From.Add(time.Hour)
	AlertStart = time.Date(2026, 11, 25, 10, 27, 10, 0, Shanghai)
)

// Walk returns n samples every step from from: a seeded random walk between
// lo and hi around base, with a jump after jumpAt (fraction of the window;
// ≤0 for none) towards jumpTo.
func Walk(seed uint64, from time.Time, step time.Duration, n int, base, lo, hi, vol float64, jumpAt, jumpTo float64) []series.Point {
	r := rand.New(rand.NewPCG(seed, seed*7919+1))
	pts := make([]series.Point, n)
	v := base
	for i := range pts {
		target := base
		if jumpAt > 0 && float64(i) >= jumpAt*float64(n) {
			target = jumpTo
		}
		v += (target-v)*0.04 + (r.Float64()-0.5)*vol
		v = math.Max(lo, math.Min(hi, v))
		pts[i] = series.Point{T: from.Add(time.Duration(i) * step).UnixMilli(), V: v}
	}
	return pts
}

var instances = []string{
	"10.12.0.11:9100", "10.12.0.12:9100", "10.12.0.13:9100", "db-master-01:9100", "db-slave-02:9100",
	"web-03 (北京)", "web-04 (上海)", "cache-05", "mq-06", "gateway-07",
}

// CPU is ten node CPU series (percent) where the first jumps over 80 %.
func CPU(n int) []series.Series {
	out := make([]series.Series, 0, n)
	for i := 0; i < n; i++ {
		inst := instances[i%len(instances)]
		if i >= len(instances) {
			inst = fmt.Sprintf("node-%02d:9100", i)
		}
		jump := -1.0
		if i == 0 {
			jump = 0.78
		}
		base := 35 + float64((i*37)%45)
		out = append(out, series.Series{
			Labels: map[string]string{"instance": inst, "job": "node"},
			Points: Walk(uint64(i+1), From, 5*time.Second, 720, base, 3, 97, 6, jump, 92),
		})
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// All returns every sample case.
func All() []Case {
	var cases []Case

	cases = append(cases, Case{
		Name: "dark-percent",
		Chart: &render.Chart{
			Title:      "主机CPU使用率过高 (最近10分钟)",
			Series:     CPU(10),
			Thresholds: []series.Threshold{{Op: ">", Value: 80}},
			AlertStart: AlertStart, From: From, To: To, Unit: "percent",
		},
		Options: render.Options{Location: Shanghai},
	})

	// Latency in seconds with a NaN gap and a scrape gap.
	lat := make([]series.Series, 4)
	for i := range lat {
		jump := -1.0
		if i == 0 {
			jump = 0.78
		}
		pts := Walk(uint64(20+i), From, 5*time.Second, 720, 0.08+0.03*float64(i), 0.01, 0.25, 0.012, jump, 0.23)
		lat[i] = series.Series{Labels: map[string]string{"__name__": "http_request_duration_seconds", "instance": instances[i], "quantile": "0.99"}, Points: pts}
	}
	for i := 230; i < 290; i++ { // series 4 stops reporting for five minutes
		lat[3].Points[i].V = math.NaN()
	}
	lat[2].Points = append(lat[2].Points[:400:400], lat[2].Points[460:]...) // samples missing entirely
	cases = append(cases, Case{
		Name: "dark-seconds-gap",
		Chart: &render.Chart{
			Title:      "P99 请求延迟 http_request_duration_seconds",
			Series:     lat,
			Thresholds: []series.Threshold{{Op: ">", Value: 0.2}},
			AlertStart: AlertStart, From: From, To: To, Unit: "s",
			Style: render.Style{FillOpacity: 10},
		},
		Options: render.Options{Location: Shanghai, LegendFormat: "{{instance}}"},
	})

	mem := make([]series.Series, 6)
	for i := range mem {
		jump := -1.0
		if i == 0 {
			jump = 0.78
		}
		gib := float64(1 << 30)
		mem[i] = series.Series{
			Labels: map[string]string{"instance": instances[i]},
			Points: Walk(uint64(40+i), From, 5*time.Second, 720, (1.2+0.25*float64(i))*gib, 0.2*gib, 3.8*gib, 0.12*gib, jump, 3.6*gib),
		}
	}
	cases = append(cases, Case{
		Name: "light-bytes-2x",
		Chart: &render.Chart{
			Title:      "内存使用量 Memory used (node_memory_MemTotal - MemAvailable)",
			Series:     mem,
			Thresholds: []series.Threshold{{Op: ">", Value: 3.125 * float64(1<<30)}},
			AlertStart: AlertStart, From: From, To: To, Unit: "bytes",
			Style: render.Style{FillOpacity: 12},
		},
		Options: render.Options{Location: Shanghai, Theme: "light", PixelRatio: 2, LegendFormat: "{{instance}}"},
	})

	cases = append(cases, Case{
		Name: "nodata-zh",
		Chart: &render.Chart{
			Title: "磁盘空间不足 /data", From: From, To: To,
			NoDataReason: "查询没有返回数据：node_filesystem_avail_bytes{mountpoint=\"/data\"}",
		},
		Options: render.Options{Location: Shanghai},
	})
	cases = append(cases, Case{
		Name:    "nodata-en-light",
		Chart:   &render.Chart{Title: "Disk almost full", From: From, To: To},
		Options: render.Options{Location: time.UTC, Language: "en", Theme: "light"},
	})

	// Resolved alert, requests per second, English, UTC.
	rps := make([]series.Series, 3)
	for i := range rps {
		jump := -1.0
		if i == 1 {
			jump = 0.45
		}
		pts := Walk(uint64(60+i), From, 15*time.Second, 240, 900+400*float64(i), 100, 3500, 120, jump, 3100)
		if i == 1 {
			for k := 180; k < len(pts); k++ { // recovers
				pts[k].V = math.Max(100, pts[k].V-float64(k-180)*60)
			}
		}
		rps[i] = series.Series{Labels: map[string]string{"service": []string{"checkout", "payments", "search"}[i]}, Points: pts}
	}
	cases = append(cases, Case{
		Name: "light-reqps-resolved-en",
		Chart: &render.Chart{
			Title: "High request rate", Series: rps,
			Thresholds: []series.Threshold{{Op: ">", Value: 2500}},
			AlertStart: time.Date(2026, 11, 25, 10, 8, 0, 0, Shanghai), AlertEnd: time.Date(2026, 11, 25, 10, 31, 30, 0, Shanghai),
			From: From, To: To, Unit: "reqps",
			Style: render.Style{LegendCalcs: []string{"mean", "max", "lastNotNull"}},
		},
		Options: render.Options{Location: time.UTC, Language: "en", Theme: "light", LegendFormat: "{{service}}"},
	})

	// Many series: the legend is capped with "… N more series".
	cases = append(cases, Case{
		Name: "dark-many-series",
		Chart: &render.Chart{
			Title: "Pod restarts 容器重启", Series: CPU(40), AlertStart: AlertStart, From: From, To: To, Unit: "short",
		},
		Options: render.Options{Location: Shanghai},
	})

	// A template panel's style: fixed colour shades, dashed+area thresholds,
	// list legend, two decimals, fixed min/max, thick lines.
	panelStyle := render.Style{
		Unit: "percentunit", Decimals: ptr(1), Min: ptr(0.0), Max: ptr(1.0),
		ColorMode: "shades", FixedColor: "blue", LineWidth: 2, FillOpacity: 0,
		Thresholds:      []render.ThresholdStep{{Color: "green"}, {Color: "orange", Value: ptr(0.6)}, {Color: "red", Value: ptr(0.85)}},
		ThresholdsStyle: "dashed+area",
		LegendCalcs:     []string{"mean", "lastNotNull"}, LegendDisplay: "list",
	}
	ratio := CPU(3)
	for i := range ratio {
		for k := range ratio[i].Points {
			ratio[i].Points[k].V /= 100
		}
	}
	cases = append(cases, Case{
		Name: "dark-panel-style-list",
		Chart: &render.Chart{
			Title: "Error budget burn (panel style)", Series: ratio, From: From, To: To, AlertStart: AlertStart,
			Style: panelStyle,
		},
		Options: render.Options{Location: Shanghai, Language: "en", LegendFormat: "{{instance}}"},
	})

	// Long names are ellipsised; alert started before the window.
	long := CPU(3)
	for i := range long {
		long[i].Labels["pod"] = "checkout-service-deployment-7f9c8d6b5-abcdefghijklmnopqrstuvwxyz-" + fmt.Sprint(i)
		long[i].Labels["namespace"] = "production-east-一号机房"
		long[i].Labels["__name__"] = "container_memory_working_set_bytes"
	}
	cases = append(cases, Case{
		Name: "dark-long-names-early-alert",
		Chart: &render.Chart{
			Title:  "这是一个非常非常长的告警标题，用来检查标题在图片宽度不够时是否会被省略号截断而不是溢出画面，并且还要再长一些才能超出宽度 (a very long title that must end in an ellipsis)",
			Series: long, From: From, To: To, AlertStart: From.Add(-2 * time.Hour), Unit: "percent",
			Thresholds: []series.Threshold{{Op: "<", Value: 20}},
		},
		Options: render.Options{Location: Shanghai},
	})
	// Template panel with the legend table on the right (placement "right").
	cases = append(cases, Case{
		Name: "dark-legend-right",
		Chart: &render.Chart{
			Title: "磁盘写入 Disk write", Series: diskWrites(), From: From, To: To, AlertStart: AlertStart, Unit: "Bps",
			Thresholds: []series.Threshold{{Op: ">", Value: 80e6}},
			Style:      render.Style{LegendPlacement: "right", LegendCalcs: []string{"max", "lastNotNull"}, FillOpacity: 8, LineInterpolation: "stepAfter"},
		},
		Options: render.Options{Location: Shanghai, LegendFormat: "{{device}}"},
	})
	// Log axis (custom.scaleDistribution log 10) for latencies spanning
	// decades; one quantile stops reporting (a zero is a gap on a log axis).
	q := make([]series.Series, 3)
	for i, name := range []string{"0.5", "0.9", "0.99"} {
		base := []float64{0.004, 0.03, 0.2}[i]
		pts := Walk(uint64(100+i), From, 15*time.Second, 240, base, base/4, base*6, base/3, 0.8, base*4)
		q[i] = series.Series{Labels: map[string]string{"quantile": name, "handler": "/api/v1/query"}, Points: pts}
	}
	for k := 100; k < 110; k++ {
		q[1].Points[k].V = 0
	}
	cases = append(cases, Case{
		Name: "light-log-latency",
		Chart: &render.Chart{
			Title: "Query latency by quantile (log scale)", Series: q, From: From, To: To, AlertStart: AlertStart, Unit: "s",
			Thresholds: []series.Threshold{{Op: ">", Value: 0.5}},
			Style:      render.Style{LogBase: 10, LegendCalcs: []string{"mean", "max"}},
		},
		Options: render.Options{Location: Shanghai, Theme: "light", Language: "en", LegendFormat: "p{{quantile}}"},
	})
	// A multi-window burn-rate alert (Sloth's page tiers) that resolved
	// minutes before the end: every window is its own series, each tier's
	// threshold is labelled with the windows it applies to, and the start
	// and end labels crowd the right edge.
	burn := make([]series.Series, 4)
	for i, w := range []string{"5m", "1h", "30m", "6h"} {
		base := []float64{0.004, 0.003, 0.002, 0.0015}[i]
		pts := Walk(uint64(120+i), From, 15*time.Second, 240, base, 0, 0.03, base/2, 0.9, []float64{0.022, 0.017, 0.008, 0.007}[i])
		for k := 228; k < len(pts); k++ { // recovers
			pts[k].V = math.Max(0, pts[k].V*(1-float64(k-227)*0.06))
		}
		burn[i] = series.Series{Name: w, Labels: map[string]string{"sloth_id": "checkout-availability", "sloth_window": w}, Points: pts}
	}
	cases = append(cases, Case{
		Name: "dark-burnrate-tiers-resolved",
		Chart: &render.Chart{
			Title: "CheckoutHighErrorRate (最近1小时)", Series: burn, From: From, To: To, Unit: "percentunit",
			Thresholds: []series.Threshold{{Op: ">", Value: 0.0144, Series: "5m, 1h"}, {Op: ">", Value: 0.006, Series: "30m, 6h"}},
			AlertStart: To.Add(-5 * time.Minute), AlertEnd: To.Add(-2*time.Minute - 30*time.Second),
		},
		Options: render.Options{Location: Shanghai},
	})
	// Grafana Alerting range thresholds: a temperature that must stay
	// outside a band (here it drifts into it) and a queue depth that fires
	// while it leaves its normal range.
	lo, hi := 18.0, 27.0
	temp := series.Series{Name: "rack-7", Labels: map[string]string{"rack": "rack-7"},
		Points: Walk(140, From, 15*time.Second, 240, 31, 10, 40, 0.8, 0.75, 22)}
	cases = append(cases, Case{
		Name: "dark-within-range-band",
		Chart: &render.Chart{
			Title: "Cold aisle temperature in the dead band (最近1小时)", Series: []series.Series{temp}, From: From, To: To,
			AlertStart: AlertStart, Unit: "celsius",
			Thresholds: []series.Threshold{{Op: series.OpWithinRange, Value: lo, Upper: &hi}},
		},
		Options: render.Options{Location: Shanghai},
	})
	qlo, qhi := 100.0, 400.0
	depth := []series.Series{
		{Name: "orders", Labels: map[string]string{"queue": "orders"}, Points: Walk(150, From, 15*time.Second, 240, 250, 0, 800, 20, 0.8, 520)},
	}
	cases = append(cases, Case{
		Name: "light-outside-range-band-en",
		Chart: &render.Chart{
			Title: "QueueDepthAbnormal (last 1h)", Series: depth, From: From, To: To, AlertStart: AlertStart,
			Thresholds: []series.Threshold{{Op: series.OpOutsideRangeIncluded, Value: qhi, Upper: &qlo}},
		},
		Options: render.Options{Location: Shanghai, Theme: "light", Language: "en"},
	})
	// The demo's alert: a 2-minute window (a `for: 20s` rule) whose series
	// climbs to 99 % just as the alert fires at the window's end, where the
	// marker label would hide the peak along the top edge; it goes along
	// the bottom instead.
	cases = append(cases, Case{
		Name: "dark-alert-at-peak",
		Chart: &render.Chart{
			Title: "HostHighCpuUsage (最近2分钟)", Series: []series.Series{Climb(To.Add(-2*time.Minute), 2*time.Second, 60)},
			Thresholds: []series.Threshold{{Op: ">", Value: 80}},
			AlertStart: To.Add(-2 * time.Second), From: To.Add(-2 * time.Minute), To: To, Unit: "percent",
		},
		Options: render.Options{Location: Shanghai},
	})
	return cases
}

// Climb is one host's CPU (percent): n samples every step from from, near
// 35 % for the first 40 %, then rising to about 99 % at the end.
func Climb(from time.Time, step time.Duration, n int) series.Series {
	r := rand.New(rand.NewPCG(160, 160*7919+1))
	pts := make([]series.Point, n)
	rise := int(0.4 * float64(n))
	for i := range pts {
		v := 35 + 4*math.Sin(float64(i)/4)
		if i >= rise {
			v = 35 + 64*(1-math.Exp(-float64(i-rise)/float64(n-rise)*6))
		}
		pts[i] = series.Point{T: from.Add(time.Duration(i) * step).UnixMilli(), V: math.Min(99.5, v+(r.Float64()-0.5)*1.5)}
	}
	return series.Series{Labels: map[string]string{"host": "node-2", "instance": "10.12.0.12:9100", "job": "node"}, Points: pts}
}

func diskWrites() []series.Series {
	var out []series.Series
	for i, dev := range []string{"nvme0n1", "nvme1n1", "sda", "sdb", "dm-0"} {
		jump := -1.0
		if i == 0 {
			jump = 0.8
		}
		out = append(out, series.Series{
			Labels: map[string]string{"device": dev, "instance": "db-master-01:9100"},
			Points: Walk(uint64(80+i), From, time.Minute, 60, 20e6+8e6*float64(i), 1e6, 120e6, 6e6, jump, 100e6),
		})
	}
	return out
}

// Bench is the benchmark chart: 10 series × 720 points with threshold, alert
// marker, shaded firing period and a 10-row legend table.
func Bench() *render.Chart {
	return All()[0].Chart
}
