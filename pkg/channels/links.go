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
	if base == "" {
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
		if u := a.Annotations[k]; httpLink(u) {
			return u
		}
	}
	if strings.Contains(a.GeneratorURL, "/alerting/grafana/") && httpLink(a.GeneratorURL) {
		return a.GeneratorURL
	}
	return ""
}

// alertSilenceURL is Grafana's own silence link for an alert of Grafana
// Alerting (an Alertmanager-style link would not open in Grafana), else the
// Alertmanager silence link.
func alertSilenceURL(amURL string, a amtemplate.Alert) string {
	if u := a.Annotations[grafanaSilenceURL]; httpLink(u) {
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
		if err != nil || !httpLink(a.Annotations[grafanaSilenceURL]) {
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

func httpLink(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
}
