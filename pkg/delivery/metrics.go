package delivery

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the pipeline's self-metrics. Grafana scrapes them through the
// SDK's metrics collector (prometheus.DefaultRegisterer); the standalone
// server exposes them on /metrics.
type metrics struct {
	accepted      *prometheus.CounterVec   // notifications accepted, by receiver
	alerts        *prometheus.CounterVec   // alerts accepted, by result (new|duplicate)
	deliveries    *prometheus.CounterVec   // channel deliveries, by channel and outcome
	retries       *prometheus.CounterVec   // retries scheduled, by channel and part
	rateWaits     *prometheus.CounterVec   // sends delayed by the robot rate limit, by channel
	queueDepth    *prometheus.GaugeVec     // pending work, by kind (text|chart)
	chartLatency  *prometheus.HistogramVec // Charter.Chart duration, by outcome
	chartFallback *prometheus.CounterVec   // charts made by a fallback renderer, by renderer
	textLatency   prometheus.Histogram     // acceptance → text sent
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "alertchart", Name: "notifications_accepted_total",
			Help: "Webhook notifications persisted and acknowledged.",
		}, []string{"receiver"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "alertchart", Name: "alerts_accepted_total",
			Help: "Alerts in accepted notifications, by result (new or duplicate within delivery.dedupeWindow).",
		}, []string{"result"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "alertchart", Name: "deliveries_total",
			Help: "Finished channel deliveries by outcome (sent, digest, failed, deduplicated; chart_skipped for follow-up charts dropped to save a robot's rate budget).",
		}, []string{"channel", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "alertchart", Name: "delivery_retries_total",
			Help: "Send attempts that failed and were scheduled again.",
		}, []string{"channel", "part"}),
		rateWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "alertchart", Name: "rate_limit_waits_total",
			Help: "Sends held back so a robot's rate limit is not exceeded.",
		}, []string{"channel"}),
		queueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "alertchart", Name: "queue_depth",
			Help: "Channel deliveries waiting for their text or chart.",
		}, []string{"kind"}),
		chartLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "alertchart", Name: "chart_duration_seconds",
			Help:    "Time to plan and render one chart.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60},
		}, []string{"outcome"}),
		chartFallback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "alertchart", Name: "chart_fallbacks_total",
			Help: "Charts made by a fallback renderer (e.g. native after Grafana failed).",
		}, []string{"renderer"}),
		textLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "alertchart", Name: "text_latency_seconds",
			Help:    "Time from acceptance to the alert text being sent.",
			Buckets: []float64{0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300},
		}),
	}
	if reg == nil {
		return m
	}
	m.accepted = register(reg, m.accepted)
	m.alerts = register(reg, m.alerts)
	m.deliveries = register(reg, m.deliveries)
	m.retries = register(reg, m.retries)
	m.rateWaits = register(reg, m.rateWaits)
	m.queueDepth = register(reg, m.queueDepth)
	m.chartLatency = register(reg, m.chartLatency)
	m.chartFallback = register(reg, m.chartFallback)
	m.textLatency = register(reg, m.textLatency)
	return m
}

// register adds c to reg, or returns the collector already registered under
// the same name: a settings change creates a new Service while the old one
// is still running, and both must count into the same series.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}
