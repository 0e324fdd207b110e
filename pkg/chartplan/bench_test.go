package chartplan

import (
	"context"
	"testing"
	"time"

	fakeprom "github.com/alertchart/alertchart/test/fakes/prometheus"
)

// BenchmarkRewriteExpr measures parsing, stripping, label injection and the
// round-trip parse of a large kube-state-metrics rule.
func BenchmarkRewriteExpr(b *testing.B) {
	var tc rewriteCase
	for _, c := range rewriteCases {
		if c.name == "ksm_notready" {
			tc = c
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RewriteExpr(tc.expr, tc.ids); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRewriteTable rewrites every expression of the table once per op.
func BenchmarkRewriteTable(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		for _, tc := range rewriteCases {
			if _, err := RewriteExpr(tc.expr, tc.ids); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkPlanCached is one alert's plan with the rules API answer cached:
// the cost per alert during a storm.
func BenchmarkPlanCached(b *testing.B) {
	fake := fakeprom.New(b)
	twoSeverities(fake)
	p := NewPlanner(Config{RulesCacheTTL: time.Hour}, mustClient(b, fake.URL))
	a := alert(map[string]string{"alertname": "HighCPU", "instance": "a:9100", "job": "node", "severity": "critical"}, "node_cpu_usage > 90", t0)
	ctx := context.Background()
	p.Plan(ctx, a, t0)
	b.ReportAllocs()
	for b.Loop() {
		if pl := p.Plan(ctx, a, t0); pl.Source != SourceRulesAPI {
			b.Fatal(pl.Fallbacks)
		}
	}
}
