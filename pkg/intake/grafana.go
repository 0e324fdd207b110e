package intake

import (
	"encoding/json"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/alertmanager/template"
)

// Grafana Alerting's webhook contact point posts Alertmanager's fields plus
// its own (version "1"; grafana/alerting receivers/webhook/v1/webhook.go,
// templates.ExtendedAlert in templates/template_data.go): per alert
// values, valueString, silenceURL, dashboardURL, panelURL, imageURL and,
// since early 2026, ruleUID. Alertmanager's template.Alert has no place for
// them, so they are kept as private annotations ("__…__", which Grafana
// itself uses for the same data before its notifier strips them) and carried
// through the queue with the alert.
const (
	// AnnotationGrafanaValues is the alert's values as JSON, {"B": 92.3,
	// "C": 1} — Grafana's own name for it (alerting models.ValuesAnnotation).
	AnnotationGrafanaValues = "__values__"
	// AnnotationGrafanaValueString is valueString, "[ var='B' labels={…}
	// value=92.3 ], …" (models.ValueStringAnnotation).
	AnnotationGrafanaValueString = "__value_string__"
	// AnnotationGrafanaRuleUID is the rule's UID when the payload names it
	// (ruleUID); Grafana's label of that name (models.RuleUIDLabel) is
	// private and never reaches a webhook.
	AnnotationGrafanaRuleUID = "__alert_rule_uid__"
	// AnnotationGrafanaSilenceURL, …DashboardURL, …PanelURL and …ImageURL
	// are the links Grafana computed for the alert.
	AnnotationGrafanaSilenceURL   = "__grafana_silence_url__"
	AnnotationGrafanaDashboardURL = "__grafana_dashboard_url__"
	AnnotationGrafanaPanelURL     = "__grafana_panel_url__"
	AnnotationGrafanaImageURL     = "__alert_image_url__"
	// AnnotationGrafanaOrgID is the organisation of the rule (orgId).
	AnnotationGrafanaOrgID = "__orgId__"
	// AnnotationValue is the human-readable current value the messages show
	// ("Value: 92.3"); it is set from values/valueString only when the rule
	// has no value annotation of its own.
	AnnotationValue = "value"
)

// grafanaAlert is the part of Grafana's ExtendedAlert that template.Alert
// lacks.
type grafanaAlert struct {
	Values       map[string]*float64 `json:"values"`
	ValueString  string              `json:"valueString"`
	SilenceURL   string              `json:"silenceURL"`
	DashboardURL string              `json:"dashboardURL"`
	PanelURL     string              `json:"panelURL"`
	ImageURL     string              `json:"imageURL"`
	RuleUID      string              `json:"ruleUID"`
	OrgID        *int64              `json:"orgId"`
}

// addGrafanaFields copies Grafana's per-alert extras into annotations of
// the decoded alerts (same order as in the body). Payloads without them —
// every Alertmanager payload — are left as they are.
func addGrafanaFields(body []byte, data *template.Data) {
	var d struct {
		OrgID  *int64         `json:"orgId"`
		Alerts []grafanaAlert `json:"alerts"`
	}
	if err := json.Unmarshal(body, &d); err != nil || len(d.Alerts) != len(data.Alerts) {
		return
	}
	for i, g := range d.Alerts {
		a := &data.Alerts[i]
		set := func(k, v string) {
			v = strings.TrimSpace(v)
			if v == "" || len(v) > MaxLabelValueBytes {
				return
			}
			if a.Annotations == nil {
				a.Annotations = template.KV{}
			}
			if _, ok := a.Annotations[k]; !ok {
				a.Annotations[k] = v
			}
		}
		values := map[string]float64{}
		for k, v := range g.Values {
			if v != nil && !math.IsNaN(*v) && !math.IsInf(*v, 0) {
				values[k] = *v
			}
		}
		if len(values) == 0 && g.ValueString != "" {
			values = parseValueString(g.ValueString)
		}
		if len(values) > 0 {
			if b, err := json.Marshal(values); err == nil {
				set(AnnotationGrafanaValues, string(b))
			}
		}
		set(AnnotationGrafanaValueString, g.ValueString)
		set(AnnotationGrafanaRuleUID, g.RuleUID)
		set(AnnotationGrafanaSilenceURL, g.SilenceURL)
		set(AnnotationGrafanaDashboardURL, g.DashboardURL)
		set(AnnotationGrafanaPanelURL, g.PanelURL)
		set(AnnotationGrafanaImageURL, g.ImageURL)
		org := g.OrgID
		if org == nil {
			org = d.OrgID
		}
		if org != nil && *org > 0 {
			set(AnnotationGrafanaOrgID, strconv.FormatInt(*org, 10))
		}
		if len(values) > 0 && !hasValueAnnotation(a.Annotations) {
			set(AnnotationValue, ValueText(values))
		}
	}
}

func hasValueAnnotation(kv template.KV) bool {
	for _, k := range []string{"value", "current_value", "currentValue"} {
		if strings.TrimSpace(kv[k]) != "" {
			return true
		}
	}
	return false
}

// valueStringVar reads one "[ var='B' labels={…} value=92.3 ]" entry.
var valueStringVar = regexp.MustCompile(`var='([^']*)'.*?value=([-+0-9.eEIinfNa]+)`)

// parseValueString reads the refIds and values of a valueString (older
// Grafanas send no values map).
func parseValueString(s string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range valueStringVar.FindAllStringSubmatch(s, -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[m[1]] = v
		}
	}
	return out
}

// ValueText is the current value shown in the message, from a Grafana
// alert's values: one value as it is; of several, the values that are not
// the 0/1 outcome of a threshold or comparison (Grafana reports the
// condition's result beside the reduced value: {"B": 92.3, "C": 1}); when
// that still leaves several, all of them as "B=92.3, D=4".
func ValueText(values map[string]float64) string {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 1 {
		var measured []string
		for _, k := range keys {
			if v := values[k]; v != 0 && v != 1 {
				measured = append(measured, k)
			}
		}
		if len(measured) > 0 {
			keys = measured
		}
	}
	if len(keys) == 1 {
		return formatValue(values[keys[0]])
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + formatValue(values[k])
	}
	return strings.Join(parts, ", ")
}

// formatValue writes a value with at most four decimals ("92.3457"), in
// exponent form only when it is very large or very small.
func formatValue(v float64) string {
	if a := math.Abs(v); a != 0 && (a >= 1e15 || a < 1e-4) {
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	return strconv.FormatFloat(math.Round(v*1e4)/1e4, 'f', -1, 64)
}
