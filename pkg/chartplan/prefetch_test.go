package chartplan

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	fakeprom "github.com/alertchart/alertchart/test/fakes/prometheus"
)

// TestExplainManyNamesOneRulesRequest (issue 12): explaining a payload of
// 3,000 distinct alert names costs one rules API request, not 3,000; each
// alert still resolves to its own rule; the answers are cached like single
// look-ups (a later plan within the TTL asks nothing).
func TestExplainManyNamesOneRulesRequest(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	const n = 3000
	fake.Lock()
	for i := 0; i < n; i++ {
		fake.Rules = append(fake.Rules, fakeprom.Rule{Group: fmt.Sprintf("g%d", i%40), Name: fmt.Sprintf("Alert%04d", i),
			Query: fmt.Sprintf("metric_%d > %d", i, i), For: time.Duration(1+i%5) * time.Minute})
	}
	fake.Unlock()
	p := newPlanner(t, fake, Config{RulesCacheTTL: time.Minute})
	data := &template.Data{}
	for i := 0; i < n; i++ {
		data.Alerts = append(data.Alerts, alert(map[string]string{"alertname": fmt.Sprintf("Alert%04d", i), "instance": "a"}, "", t0))
	}
	plans := Explain(context.Background(), p, data, t0)
	if got := fake.RulesRequests(); got != 1 {
		t.Fatalf("explaining %d distinct alert names made %d rules API requests, want 1", n, got)
	}
	for i, pl := range plans {
		if pl.Rule == nil || pl.Rule.Name != fmt.Sprintf("Alert%04d", i) || pl.Rule.For.D() != time.Duration(1+i%5)*time.Minute ||
			pl.Source != SourceRulesAPINameOnly {
			t.Fatalf("plan %d: %+v", i, pl)
		}
	}
	p.Plan(context.Background(), data.Alerts[17], t0)
	if got := fake.RulesRequests(); got != 1 {
		t.Fatalf("a cached name asked the API again: %d requests", got)
	}
	// A name no rule has is remembered as such, like a single look-up.
	miss := append([]template.Alert(nil), data.Alerts[:3]...)
	miss = append(miss, alert(map[string]string{"alertname": "NoSuchRule"}, "", t0), alert(map[string]string{"alertname": "NoSuchRule2"}, "", t0))
	plans = Explain(context.Background(), p, &template.Data{Alerts: miss}, t0)
	if got := fake.RulesRequests(); got != 2 || plans[3].Rule != nil {
		t.Fatalf("requests %d, plan %+v", got, plans[3])
	}
}

// A few names are asked for by name (rule_name[]); the rules of other
// names are not fetched.
func TestPrefetchFewNamesFilters(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	twoSeverities(fake)
	p := newPlanner(t, fake, Config{RulesCacheTTL: time.Minute})
	p.Prefetch(context.Background(), []template.Alert{
		alert(map[string]string{"alertname": "HighCPU", "severity": "warning"}, "", t0),
		alert(map[string]string{"alertname": "DiskFull"}, "", t0),
	})
	if fake.RulesRequests() != 1 {
		t.Fatalf("requests %d", fake.RulesRequests())
	}
	groups, err := p.rules.get(context.Background(), "HighCPU")
	if err != nil || len(groups) != 1 || len(groups[0].Rules) != 2 {
		t.Fatalf("HighCPU groups %+v %v", groups, err)
	}
	groups, _ = p.rules.get(context.Background(), "DiskFull")
	if len(groups) != 1 || groups[0].Name != "other" || len(groups[0].Rules) != 1 {
		t.Fatalf("DiskFull groups %+v", groups)
	}
	if fake.RulesRequests() != 1 {
		t.Fatalf("cached names asked again: %d", fake.RulesRequests())
	}
}

// When the batch request fails, every name gets the failure (briefly), as
// a single look-up would: the storm does not turn into 3,000 retries.
func TestPrefetchFailureIsShared(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	twoSeverities(fake)
	fake.Lock()
	fake.Fail = true
	fake.Unlock()
	p := newPlanner(t, fake, Config{RulesCacheTTL: time.Minute})
	var alerts []template.Alert
	for i := 0; i < 100; i++ {
		alerts = append(alerts, alert(map[string]string{"alertname": fmt.Sprintf("A%d", i)}, "", t0))
	}
	plans := Explain(context.Background(), p, &template.Data{Alerts: alerts}, time.Now())
	if fake.RulesRequests() != 1 {
		t.Fatalf("requests while down = %d, want 1", fake.RulesRequests())
	}
	if len(plans[50].Fallbacks) == 0 {
		t.Fatalf("plan without the failure: %+v", plans[50])
	}
}
