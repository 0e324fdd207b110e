package channels

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"
)

// Links configure the "open in Grafana" link.
type Links struct {
	// GrafanaURL is Grafana's public base URL, used when Message.GrafanaURL
	// is empty.
	GrafanaURL string
	// DatasourceUID is the Prometheus data source to open Explore with
	// (empty: Grafana's default data source).
	DatasourceUID string
	// OrgID selects the organisation (0: Grafana's current one).
	OrgID int64
	// AlertmanagerURL pins the base of Silence links (settings
	// alertmanager.url). Empty: the message's AlertmanagerURL, else the
	// payload's externalURL.
	AlertmanagerURL string
}

// AlertmanagerBase is the Alertmanager URL Silence links for m start
// with: the configured one, else the message's, else the payload's
// externalURL. Only an http(s) URL is returned; anything else ("",
// "javascript:…") means no Silence link.
func (l Links) AlertmanagerBase(m *Message) string {
	for _, u := range []string{l.AlertmanagerURL, m.AlertmanagerURL, m.Data.ExternalURL} {
		if u != "" {
			if SafeURL(u) {
				return u
			}
			return ""
		}
	}
	return ""
}

// explore returns the Explore link for m: Message.GrafanaURL as is when it
// is already a full link, otherwise an Explore URL on that base (or on
// Links.GrafanaURL) with the chart's query and window. Messages without a
// chart (the text sent before the chart is ready) use the alert rule's
// expression from its generatorURL and the hour before the alert started.
func (l Links) explore(m *Message, alerts []amtemplate.Alert, now time.Time) string {
	if len(alerts) > 0 {
		if u := GrafanaAlertLink(alerts[0]); u != "" {
			return u
		}
	}
	base := m.GrafanaURL
	if base == "" {
		base = l.GrafanaURL
	}
	if !SafeURL(base) {
		return ""
	}
	if strings.Contains(base, "/explore") || strings.Contains(base, "/d/") {
		return base
	}
	var expr string
	var from, to time.Time
	if c := m.Chart; c != nil && c.Query != "" {
		expr, from, to = c.Query, c.From, c.To
	} else if len(alerts) > 0 {
		expr = GeneratorExpr(alerts[0].GeneratorURL)
		from = alerts[0].StartsAt.Add(-time.Hour)
		to = now
		if alerts[0].Status == "resolved" && !alerts[0].EndsAt.IsZero() {
			to = alerts[0].EndsAt.Add(10 * time.Minute)
		}
	}
	return ExploreURL(base, l.DatasourceUID, l.OrgID, expr, from, to)
}

// GeneratorExpr returns the PromQL expression in a Prometheus generatorURL
// ("…/graph?g0.expr=…"), or "".
func GeneratorExpr(generatorURL string) string {
	u, err := url.Parse(generatorURL)
	if err != nil {
		return ""
	}
	return u.Query().Get("g0.expr")
}

// ExploreURL builds a Grafana Explore link (the schemaVersion=1 "panes"
// form of Grafana 10+) for expr over [from, to]. Without expr it opens
// Explore on the data source alone; zero times mean the last hour.
func ExploreURL(base, datasourceUID string, orgID int64, expr string, from, to time.Time) string {
	type ds struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	}
	type query struct {
		RefID      string `json:"refId"`
		Expr       string `json:"expr"`
		Range      bool   `json:"range"`
		Datasource *ds    `json:"datasource,omitempty"`
	}
	type pane struct {
		Datasource string            `json:"datasource,omitempty"`
		Queries    []query           `json:"queries"`
		Range      map[string]string `json:"range"`
	}
	p := pane{Datasource: datasourceUID, Queries: []query{{RefID: "A", Expr: expr, Range: true}}, Range: map[string]string{"from": "now-1h", "to": "now"}}
	if datasourceUID != "" {
		p.Queries[0].Datasource = &ds{Type: "prometheus", UID: datasourceUID}
	}
	if !from.IsZero() && !to.IsZero() && to.After(from) {
		p.Range = map[string]string{"from": strconv.FormatInt(from.UnixMilli(), 10), "to": strconv.FormatInt(to.UnixMilli(), 10)}
	}
	panes, _ := MarshalJSON(map[string]pane{"a": p})
	v := url.Values{"schemaVersion": {"1"}, "panes": {string(panes)}}
	if orgID > 0 {
		v.Set("orgId", strconv.FormatInt(orgID, 10))
	}
	return strings.TrimRight(base, "/") + "/explore?" + v.Encode()
}

var matcherEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// SilenceURL returns Alertmanager's "new silence" page prefilled with
// matchers for the given labels (alertname and the identifying labels), or
// "" without an Alertmanager URL.
func SilenceURL(externalURL string, labels map[string]string) string {
	// Without an alertname the matchers would silence far more than this
	// alert (e.g. every job="node" alert), so no link is offered; neither
	// is one to anything but an http(s) Alertmanager.
	if !SafeURL(externalURL) || labels["alertname"] == "" {
		return ""
	}
	var keys []string
	for _, k := range []string{"alertname", "instance", "job", "namespace", "pod", "service", "severity"} {
		if _, ok := labels[k]; ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + `="` + matcherEscaper.Replace(labels[k]) + `"`)
	}
	b.WriteByte('}')
	return strings.TrimRight(externalURL, "/") + "/#/silences/new?filter=" + url.QueryEscape(b.String())
}

// Annotations intake keeps from Grafana Alerting's webhook payload
// (intake.AnnotationGrafana…): the links Grafana computed for the alert.
const (
	grafanaSilenceURL   = "__grafana_silence_url__"
	grafanaPanelURL     = "__grafana_panel_url__"
	grafanaDashboardURL = "__grafana_dashboard_url__"
)

// GrafanaAlertLink is where an alert of a Grafana-managed rule is best
// opened: the panel the rule is linked to, its dashboard, else the rule's
// own page (its generatorURL, <root_url>/alerting/grafana/<uid>/view).
// It is "" for alerts of other evaluators.
func GrafanaAlertLink(a amtemplate.Alert) string {
	for _, k := range []string{grafanaPanelURL, grafanaDashboardURL} {
		if u := a.Annotations[k]; SafeURL(u) {
			return u
		}
	}
	if strings.Contains(a.GeneratorURL, "/alerting/grafana/") && SafeURL(a.GeneratorURL) {
		return a.GeneratorURL
	}
	return ""
}

// alertSilenceURL is Grafana's own silence link for an alert of Grafana
// Alerting (an Alertmanager-style link would not open in Grafana), else the
// Alertmanager silence link.
func alertSilenceURL(amURL string, a amtemplate.Alert) string {
	if u := a.Annotations[grafanaSilenceURL]; SafeURL(u) {
		return u
	}
	return SilenceURL(amURL, a.Labels)
}

// groupSilenceURL silences a group: for Grafana alerts, Grafana's silence
// link with the matchers every alert's link has; otherwise Alertmanager's
// for the common labels.
func groupSilenceURL(amURL string, alerts []amtemplate.Alert, common map[string]string) string {
	var base *url.URL
	var shared []string
	for i, a := range alerts {
		u, err := url.Parse(a.Annotations[grafanaSilenceURL])
		if err != nil || !SafeURL(a.Annotations[grafanaSilenceURL]) {
			base = nil
			break
		}
		ms := u.Query()["matcher"]
		if i == 0 {
			base, shared = u, ms
			continue
		}
		var keep []string
		for _, m := range shared {
			for _, x := range ms {
				if x == m {
					keep = append(keep, m)
					break
				}
			}
		}
		shared = keep
	}
	if base != nil && len(shared) > 0 {
		q := base.Query()
		q["matcher"] = shared
		base.RawQuery = q.Encode()
		return base.String()
	}
	return SilenceURL(amURL, common)
}
