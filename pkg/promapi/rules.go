package promapi

import (
	"context"
	"encoding/json"
	"math"
	"net/url"
	"time"
)

// The rules API: an alert's rule tells the chart its query, its `for` and
// its labels, and the group's fields tell which ruler answered.

// RuleGroup is one group of the rules API answer.
type RuleGroup struct {
	Name     string  `json:"name"`
	File     string  `json:"file"`
	Interval float64 `json:"interval"`
	Rules    []Rule  `json:"rules"`

	// Fields only some rulers send; Flavour tells from them which one answered.

	// ID and Concurrency are vmalert's; Labels are a vmalert group's
	// labels, added to every alert of the group.
	ID          string            `json:"id,omitempty"`
	Concurrency int               `json:"concurrency,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	// PartialResponseStrategy is Thanos ruler's ("ABORT", "WARN").
	PartialResponseStrategy string `json:"partialResponseStrategy,omitempty"`
	// SourceTenants is Mimir's and Cortex's (null for a group of one tenant).
	SourceTenants json.RawMessage `json:"sourceTenants,omitempty"`
}

// Rule evaluators, as RuleGroup.Flavour names them.
const (
	FlavourPrometheus = "prometheus"
	FlavourVMAlert    = "vmalert"
	FlavourThanos     = "thanos"
	FlavourMimir      = "mimir" // Mimir or Cortex
)

// Flavour names the ruler that answered from the fields only it sends:
// vmalert (group id, rule datasourceType), Thanos ruler
// (partialResponseStrategy), Mimir/Cortex (sourceTenants); Prometheus
// otherwise.
func (g RuleGroup) Flavour() string {
	switch {
	case g.ID != "" || g.Concurrency > 0:
		return FlavourVMAlert
	case g.PartialResponseStrategy != "":
		return FlavourThanos
	case g.SourceTenants != nil:
		return FlavourMimir
	}
	for _, r := range g.Rules {
		if r.DatasourceType != "" || r.GroupID != "" {
			return FlavourVMAlert
		}
	}
	return FlavourPrometheus
}

// Rule is an alerting (or recording) rule as the rules API reports it.
type Rule struct {
	Type string `json:"type"` // "alerting" or "recording"
	Name string `json:"name"`
	// Query is the rule's expression as Prometheus formats it.
	Query string `json:"query"`
	// Duration is the rule's `for` in seconds.
	Duration      float64           `json:"duration"`
	KeepFiringFor float64           `json:"keepFiringFor"`
	Labels        map[string]string `json:"labels"`
	Annotations   map[string]string `json:"annotations"`
	Alerts        []ActiveAlert     `json:"alerts"`
	Health        string            `json:"health"`
	LastError     string            `json:"lastError"`
	// DatasourceType and GroupID are vmalert's.
	DatasourceType string `json:"datasourceType,omitempty"`
	GroupID        string `json:"group_id,omitempty"`
}

// ActiveAlert is a pending or firing alert of a rule.
type ActiveAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    *time.Time        `json:"activeAt"`
	Value       string            `json:"value"`
}

// For returns the rule's `for` as a duration.
func (r Rule) For() time.Duration { return secondsToDuration(r.Duration) }

func secondsToDuration(s float64) time.Duration {
	if s <= 0 || math.IsNaN(s) {
		return 0
	}
	if s > float64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s * float64(time.Second))
}

// Rules returns the alerting rules, narrowed to ruleNames when given. Servers
// that ignore the rule_name[] filter (Prometheus before 2.54, some Thanos and
// vmalert versions) are handled by filtering again here.
func (c *Client) Rules(ctx context.Context, ruleNames ...string) ([]RuleGroup, error) {
	params := url.Values{"type": {"alert"}}
	for _, n := range ruleNames {
		params.Add("rule_name[]", n)
	}
	ar, err := c.do(ctx, "rules", c.rules, "/api/v1/rules", params)
	if err != nil {
		return nil, err
	}
	var data struct {
		Groups []RuleGroup `json:"groups"`
	}
	if err := json.Unmarshal(ar.Data, &data); err != nil {
		return nil, &Error{Op: "rules", Message: "unexpected answer: " + err.Error()}
	}
	want := map[string]bool{}
	for _, n := range ruleNames {
		want[n] = true
	}
	out := data.Groups[:0]
	for _, g := range data.Groups {
		rules := g.Rules[:0]
		for _, r := range g.Rules {
			if r.Type != "" && r.Type != "alerting" {
				continue
			}
			if len(want) > 0 && !want[r.Name] {
				continue
			}
			rules = append(rules, r)
		}
		if len(rules) > 0 {
			g.Rules = rules
			out = append(out, g)
		}
	}
	return out, nil
}
