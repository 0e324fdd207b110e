package chartplan

import (
	"regexp"
	"sort"
	"strings"

	"github.com/alertchart/alertchart/pkg/promapi"
)

// Rule evaluators a plan can name (Plan.Evaluator). Each adds labels of
// its own to the alerts it sends, labels no series carries: injecting one
// would empty the chart.
const (
	EvaluatorPrometheus = promapi.FlavourPrometheus
	EvaluatorVMAlert    = promapi.FlavourVMAlert
	EvaluatorThanos     = promapi.FlavourThanos
	EvaluatorMimir      = promapi.FlavourMimir
	EvaluatorGrafana    = "grafana"
)

// evaluatorLabels are the labels an evaluator adds to every alert by
// default: vmalert the group's name (alertgroup, unless
// -disableAlertgroupLabel), Grafana-managed rules their folder.
var evaluatorLabels = map[string][]string{
	EvaluatorVMAlert: {"alertgroup"},
	EvaluatorGrafana: {"grafana_folder"},
}

// vmalertStatusPath is vmalert's oldest generatorURL: <external.url>/api/v1/<group id>/<alert id>/status.
var vmalertStatusPath = regexp.MustCompile(`/api/v1/[0-9]+/[0-9]+/status$`)

// EvaluatorFromURL recognises the evaluator from an alert's generatorURL:
// vmalert's default links (<external.url>/vmalert/alert?group_id=…&alert_id=…,
// …/vmalert/api/v1/alert?…, older …/api/v1/<group>/<alert>/status) and
// Grafana-managed rules' (…/alerting/grafana/<uid>/view). Prometheus,
// Thanos ruler and Mimir/Cortex rulers all link to /graph?g0.expr=…; for
// them it returns "" and the rules API's answer decides.
func EvaluatorFromURL(raw string) string {
	// Plain string tests, no URL parsing: this runs for every alert.
	p, q := raw, ""
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		p, q = raw[:i], raw[i:]
	}
	switch {
	case strings.Contains(p, "/vmalert/alert") || strings.Contains(p, "/vmalert/api/v1/alert") || vmalertStatusPath.MatchString(p):
		return EvaluatorVMAlert
	case strings.Contains(q, "group_id=") && strings.Contains(q, "alert_id="):
		return EvaluatorVMAlert
	case strings.Contains(p, "/alerting/grafana/") || strings.HasSuffix(p, "/alerting/list"):
		return EvaluatorGrafana
	}
	return ""
}

// addedLabels returns the alert labels the evaluator added, as far as they
// can be known before querying any data:
//   - the evaluator's default labels (vmalert's alertgroup, Grafana's
//     grafana_folder) and a vmalert group's own labels;
//   - labels the webhook alert carries but the rules API's copy of the same
//     active alert does not: rulers add their external labels (Prometheus
//     and Thanos external_labels, Mimir/Cortex per-tenant external labels,
//     vmalert -external.label) only when sending.
//
// Labels that only the data can tell are caught by Fetch, which drops a
// matcher that empties the chart.
func addedLabels(evaluator string, match *candidate, alertLabels map[string]string) []string {
	if len(evaluatorLabels[evaluator]) == 0 && (match == nil || (len(match.group.Labels) == 0 && len(match.rule.Alerts) == 0)) {
		return nil
	}
	added := map[string]bool{}
	for _, l := range evaluatorLabels[evaluator] {
		if _, ok := alertLabels[l]; ok {
			added[l] = true
		}
	}
	if match != nil {
		for l := range match.group.Labels {
			if _, ok := alertLabels[l]; ok {
				added[l] = true
			}
		}
		// The rule's active alert with the most labels that are all on
		// the webhook alert is the same alert as the evaluator saw it.
		var best map[string]string
		for _, a := range match.rule.Alerts {
			if len(a.Labels) > len(best) && subset(a.Labels, alertLabels) {
				best = a.Labels
			}
		}
		if best != nil {
			for l := range alertLabels {
				if _, ok := best[l]; !ok && l != "alertname" {
					added[l] = true
				}
			}
		}
	}
	out := make([]string, 0, len(added))
	for l := range added {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

func subset(a, b map[string]string) bool {
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
