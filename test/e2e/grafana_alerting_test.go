package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels/inbox"
	fakegrafana "github.com/alertchart/alertchart/test/fakes/grafana"
	"github.com/alertchart/alertchart/test/pluginhost"
)

// Grafana Alerting as a source (issue 16): a Grafana webhook contact point
// posts Grafana's payload (version "1", with values) to the built plugin;
// the plugin reads the Grafana-managed rule with its managed service
// account, runs the rule's queries through /api/ds/query and charts
// exactly the firing series with the rule's threshold.

const cpuExprE2E = `100 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100`

// alertingGrafana is a fake Grafana with a Prometheus data source of five
// instances (web-2 and web-4 high), a PostgreSQL one with two hosts (db-2
// high), and the rules of the scenarios.
func alertingGrafana(t *testing.T, token string, perms ...string) *fakegrafana.Fake {
	t.Helper()
	f := fakegrafana.New(t)
	f.AddToken(token, perms...)
	var prom []fakegrafana.Series
	for i := 1; i <= 5; i++ {
		base := 30.0 + float64(i)
		if i == 2 || i == 4 {
			base = 88 + float64(i)
		}
		prom = append(prom, fakegrafana.Series{Labels: map[string]string{"instance": fmt.Sprintf("web-%d:9100", i)},
			Value: func(ts time.Time) float64 { return base + float64(ts.Unix()%60)/20 }})
	}
	prom = append(prom, fakegrafana.Series{Labels: map[string]string{"__name__": "rack_temperature_celsius", "rack": "r7"},
		Value: func(ts time.Time) float64 { return 22 + float64(ts.Unix()%120)/60 }})
	f.AddDatasource(fakegrafana.Datasource{UID: "prom-main", Name: "Prometheus", Type: fakegrafana.TypePrometheus, Series: prom})
	f.AddDatasource(fakegrafana.Datasource{UID: "pg-main", Name: "PostgreSQL", Type: fakegrafana.TypePostgres,
		Series: []fakegrafana.Series{
			{Labels: map[string]string{"host": "db-1"}, Value: func(time.Time) float64 { return 1.1 }},
			{Labels: map[string]string{"host": "db-2"}, Value: func(ts time.Time) float64 { return 6 + float64(ts.Unix()%30)/30 }},
		}})
	f.AddAlertRule(fakegrafana.AlertRule{UID: "cpu-high", Title: "HighCPU", FolderUID: "infra", RuleGroup: "node", Condition: "C", For: "1m",
		Labels: map[string]string{"severity": "critical"}, Annotations: map[string]string{"summary": "CPU above 80%"},
		Data: []fakegrafana.AlertQuery{fakegrafana.PromQuery("A", "prom-main", cpuExprE2E, 10*time.Minute),
			fakegrafana.Reduce("B", "A", "last"), fakegrafana.Threshold("C", "B", "gt", 80)}})
	f.AddAlertRule(fakegrafana.AlertRule{UID: "db-load", Title: "DBLoadHigh", FolderUID: "db", RuleGroup: "db", Condition: "C", For: "1m",
		Data: []fakegrafana.AlertQuery{fakegrafana.SQLQuery("A", "pg-main",
			"SELECT $__timeGroupAlias(ts, 1m), host, avg(load) AS value FROM host_load WHERE $__timeFilter(ts) GROUP BY 1, 2 ORDER BY 1", 10*time.Minute),
			fakegrafana.Reduce("B", "A", "mean"), fakegrafana.Threshold("C", "B", "gt", 4)}})
	f.AddAlertRule(fakegrafana.AlertRule{UID: "rack-temp", Title: "RackTempInDeadBand", FolderUID: "dc", RuleGroup: "dc", Condition: "C", For: "1m",
		Data: []fakegrafana.AlertQuery{fakegrafana.PromQuery("A", "prom-main", `rack_temperature_celsius`, 10*time.Minute),
			fakegrafana.Reduce("B", "A", "last"), fakegrafana.Threshold("C", "B", "within_range", 18, 27)}})
	f.AddAlertRule(fakegrafana.AlertRule{UID: "cpu-classic", Title: "AnyCPUHigh", FolderUID: "infra", RuleGroup: "node", Condition: "B", For: "1m",
		Data: []fakegrafana.AlertQuery{fakegrafana.PromQuery("A", "prom-main", cpuExprE2E, 10*time.Minute),
			fakegrafana.Classic("B", fakegrafana.ClassicCondition{Query: "A", Reducer: "avg", Evaluator: "gt", Params: []float64{90}})}})
	return f
}

// grafanaPayload is Grafana's webhook body for alerts of one rule, as
// grafana/alerting's webhook notifier writes it.
func grafanaPayload(rule, uid string, alerts ...map[string]any) []byte {
	var list []any
	for _, a := range alerts {
		labels := map[string]string{"alertname": rule, "grafana_folder": "Infrastructure"}
		for k, v := range a["labels"].(map[string]string) {
			labels[k] = v
		}
		var matchers []string
		for k, v := range labels {
			if k != "alertname" && k != "grafana_folder" {
				matchers = append(matchers, "&matcher="+k+"%3D"+v)
			}
		}
		list = append(list, map[string]any{"status": "firing", "labels": labels,
			"annotations": map[string]string{"summary": rule + " on " + labels["instance"] + labels["host"] + labels["rack"]},
			"startsAt":    time.Now().Add(-70 * time.Second).UTC().Format(time.RFC3339Nano), "endsAt": "0001-01-01T00:00:00Z",
			"generatorURL": "http://grafana.example:3000/alerting/grafana/" + uid + "/view?orgId=1",
			"fingerprint":  fmt.Sprintf("%016x", len(list)+len(rule)*31+len(labels["instance"]+labels["host"])),
			"silenceURL": "http://grafana.example:3000/alerting/silence/new?alertmanager=grafana&matcher=__alert_rule_uid__%3D" + uid +
				strings.Join(matchers, "") + "&orgId=1",
			"dashboardURL": "", "panelURL": "", "values": a["values"], "valueString": a["valueString"], "orgId": 1})
	}
	b, _ := json.Marshal(map[string]any{"receiver": "AlertChart", "status": "firing", "alerts": list,
		"groupLabels":  map[string]string{"alertname": rule, "grafana_folder": "Infrastructure"},
		"commonLabels": map[string]string{"alertname": rule}, "commonAnnotations": map[string]string{},
		"externalURL": "http://grafana.example:3000/", "version": "1",
		"groupKey":        `{}/{__grafana_autogenerated__="true"}/{__grafana_receiver__="AlertChart"}:{alertname="` + rule + `"}`,
		"truncatedAlerts": 0, "orgId": 1, "title": "[FIRING:" + fmt.Sprint(len(list)) + "] " + rule, "state": "alerting", "message": "**Firing**"})
	return b
}

func alertingPlugin(t *testing.T, graf *fakegrafana.Fake, token, inboxDir string) (*pluginhost.Host, string) {
	t.Helper()
	// No Prometheus configured: Grafana-managed rules need only Grafana.
	jsonData := fmt.Sprintf(`{
		"chart": {"renderer": "native", "minWindow": "2m", "language": "en"},
		"channels": [{"name": "inbox", "type": "inbox", "dir": %q}],
		"routes": [{"receiver": "grafana", "channels": ["inbox"]}]
	}`, inboxDir)
	return launch(t, "plugin", t.TempDir(), pluginhost.Settings{JSONData: []byte(jsonData),
		GrafanaConfig: map[string]string{"GF_APP_URL": graf.URL + "/", "GF_PLUGIN_APP_CLIENT_SECRET": token}})
}

// waitInbox waits for an inbox entry whose markdown contains want.
func waitInbox(t *testing.T, dir, want string, timeout time.Duration) (inbox.Entry, string) {
	t.Helper()
	var seen []string
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		entries, _ := inbox.List(dir, 0)
		seen = seen[:0]
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Markdown))
			if err != nil {
				continue
			}
			seen = append(seen, string(b))
			if strings.Contains(string(b), want) {
				return e, string(b)
			}
		}
		time.Sleep(150 * time.Millisecond)
	}
	t.Fatalf("no inbox message with %q within %s; messages:\n%s", want, timeout, strings.Join(seen, "\n-----\n"))
	return inbox.Entry{}, ""
}

func readPNG(t *testing.T, dir string, e inbox.Entry) []byte {
	t.Helper()
	if e.Image == "" {
		t.Fatalf("message %s has no chart", e.Markdown)
	}
	b, err := os.ReadFile(filepath.Join(dir, e.Image))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Fatalf("chart is not a PNG: %v", err)
	}
	return b
}

type explained struct {
	Plans []struct {
		Source        string `json:"source"`
		Query         string `json:"query"`
		NoChartReason string `json:"noChartReason"`
		Thresholds    []struct {
			Op    string   `json:"op"`
			Value float64  `json:"value"`
			Upper *float64 `json:"upper"`
		} `json:"thresholds"`
		Window  string `json:"window"`
		Grafana *struct {
			RuleUID   string            `json:"ruleUid"`
			Chain     []string          `json:"chain"`
			Match     map[string]string `json:"match"`
			AnySeries bool              `json:"anySeries"`
			Queries   []struct {
				RefID          string `json:"refId"`
				DatasourceType string `json:"datasourceType"`
				Query          string `json:"query"`
				Expr           string `json:"expr"`
			} `json:"queries"`
		} `json:"grafana"`
	} `json:"plans"`
}

func explainPayload(t *testing.T, base string, payload []byte) explained {
	t.Helper()
	var ex explained
	if st, err := call(http.MethodPost, base+"explain", payload, &ex); err != nil || st != 200 {
		t.Fatalf("explain: %d %v", st, err)
	}
	return ex
}

func TestGrafanaAlertingCharts(t *testing.T) {
	const token = "glsa_managed_alertchart_grafana_alerting"
	graf := alertingGrafana(t, token, fakegrafana.AllPermissions...)
	dir := t.TempDir()
	h, base := alertingPlugin(t, graf, token, dir)

	// Health: the plugin may read alert rules.
	hr, err := h.CheckHealth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(hr.JsonDetails), `"Alert rules","status":"ok"`) {
		t.Fatalf("health: %s", hr.JsonDetails)
	}

	t.Run("prometheus data source: exactly the firing series with its threshold", func(t *testing.T) {
		payload := grafanaPayload("HighCPU", "cpu-high", map[string]any{"labels": map[string]string{"instance": "web-2:9100", "severity": "critical"},
			"values": map[string]float64{"B": 90.5, "C": 1}, "valueString": "[ var='B' labels={instance=web-2:9100} value=90.5 ], [ var='C' labels={instance=web-2:9100} value=1 ]"})
		ex := explainPayload(t, base, payload)
		pl := ex.Plans[0]
		if pl.Source != "grafana_rule" || pl.Grafana == nil || pl.Grafana.RuleUID != "cpu-high" || len(pl.Thresholds) != 1 ||
			pl.Thresholds[0].Op != ">" || pl.Thresholds[0].Value != 80 || !strings.Contains(pl.Query, `instance="web-2:9100"`) {
			t.Fatalf("plan %+v", pl)
		}
		if st, err := call(http.MethodPost, base+"webhook/grafana", payload, nil); err != nil || st != 200 {
			t.Fatalf("webhook: %d %v", st, err)
		}
		e, md := waitInbox(t, dir, "HighCPU", 30*time.Second)
		saveArtifact(t, "grafana-alerting-prometheus.md", []byte(md))
		// The current value is in the text at once, from Grafana's values;
		// the chart's stats name only the firing instance.
		if !strings.Contains(md, "Value: 90.5") || !strings.Contains(md, "web-2:9100: last") || strings.Contains(md, "web-4") ||
			strings.Contains(md, "web-1") {
			t.Fatalf("message:\n%s", md)
		}
		// Links go to Grafana's silence page and the rule, as Grafana made them.
		if !strings.Contains(md, "(http://grafana.example:3000/alerting/silence/new?") || strings.Contains(md, "#/silences") ||
			!strings.Contains(md, "[📈 Open in Grafana](http://grafana.example:3000/alerting/grafana/cpu-high/view?orgId=1)") {
			t.Fatalf("links:\n%s", md)
		}
		saveArtifact(t, "grafana-alerting-prometheus.png", readPNG(t, dir, e))
		last := graf.DSQueries()[len(graf.DSQueries())-1]
		if last.Status != 200 || last.Queries[0]["expr"] != pl.Query || last.Queries[0]["range"] != true {
			t.Fatalf("ds/query %+v", last)
		}
	})

	t.Run("SQL data source, two series, one fires", func(t *testing.T) {
		payload := grafanaPayload("DBLoadHigh", "db-load", map[string]any{"labels": map[string]string{"host": "db-2"},
			"values": map[string]float64{"B": 6.4, "C": 1}})
		ex := explainPayload(t, base, payload)
		pl := ex.Plans[0]
		if pl.Grafana == nil || pl.Grafana.Queries[0].DatasourceType != fakegrafana.TypePostgres || pl.Grafana.Match["host"] != "db-2" ||
			len(pl.Thresholds) != 1 || pl.Thresholds[0].Value != 4 {
			t.Fatalf("plan %+v", pl)
		}
		if st, err := call(http.MethodPost, base+"webhook/grafana", payload, nil); err != nil || st != 200 {
			t.Fatalf("webhook: %d %v", st, err)
		}
		e, md := waitInbox(t, dir, "DBLoadHigh", 30*time.Second)
		if !strings.Contains(md, "Value: 6.4") || !strings.Contains(md, "db-2: last") || strings.Contains(md, "db-1") {
			t.Fatalf("message:\n%s", md)
		}
		saveArtifact(t, "grafana-alerting-sql.png", readPNG(t, dir, e))
	})

	t.Run("within_range is a band", func(t *testing.T) {
		payload := grafanaPayload("RackTempInDeadBand", "rack-temp", map[string]any{"labels": map[string]string{"__name__": "rack_temperature_celsius", "rack": "r7"},
			"values": map[string]float64{"B": 22.5, "C": 1}})
		ex := explainPayload(t, base, payload)
		th := ex.Plans[0].Thresholds
		if len(th) != 1 || th[0].Op != "within_range" || th[0].Value != 18 || th[0].Upper == nil || *th[0].Upper != 27 {
			t.Fatalf("thresholds %+v", th)
		}
		if st, err := call(http.MethodPost, base+"webhook/grafana", payload, nil); err != nil || st != 200 {
			t.Fatalf("webhook: %d %v", st, err)
		}
		e, md := waitInbox(t, dir, "RackTempInDeadBand", 30*time.Second)
		if !strings.Contains(md, "r7: last") {
			t.Fatalf("message:\n%s", md)
		}
		saveArtifact(t, "grafana-alerting-band.png", readPNG(t, dir, e))
	})

	t.Run("classic condition", func(t *testing.T) {
		payload := grafanaPayload("AnyCPUHigh", "cpu-classic", map[string]any{"labels": map[string]string{}, "values": map[string]float64{"B0": 92.1}})
		ex := explainPayload(t, base, payload)
		pl := ex.Plans[0]
		if pl.Grafana == nil || !pl.Grafana.AnySeries || len(pl.Thresholds) != 1 || pl.Thresholds[0].Value != 90 ||
			pl.Grafana.Chain[0] != "B: classic condition avg(A) > 90" {
			t.Fatalf("plan %+v", pl)
		}
		if st, err := call(http.MethodPost, base+"webhook/grafana", payload, nil); err != nil || st != 200 {
			t.Fatalf("webhook: %d %v", st, err)
		}
		e, md := waitInbox(t, dir, "AnyCPUHigh", 30*time.Second)
		for i := 1; i <= 5; i++ {
			if !strings.Contains(md, fmt.Sprintf("web-%d:9100: last", i)) {
				t.Fatalf("classic conditions chart every series; message:\n%s", md)
			}
		}
		readPNG(t, dir, e)
	})

	t.Run("multi-dimensional rule, 2 of 5 fire: each alert its own series", func(t *testing.T) {
		payload := grafanaPayload("HighCPU", "cpu-high",
			map[string]any{"labels": map[string]string{"instance": "web-2:9100", "severity": "critical"}, "values": map[string]float64{"B": 90.2, "C": 1}},
			map[string]any{"labels": map[string]string{"instance": "web-4:9100", "severity": "critical"}, "values": map[string]float64{"B": 92.7, "C": 1}})
		ex := explainPayload(t, base, payload)
		if len(ex.Plans) != 2 || !strings.Contains(ex.Plans[0].Query, `instance="web-2:9100"`) || !strings.Contains(ex.Plans[1].Query, `instance="web-4:9100"`) {
			t.Fatalf("plans %+v", ex.Plans)
		}
		before := len(graf.DSQueries())
		if st, err := call(http.MethodPost, base+"webhook/grafana", payload, nil); err != nil || st != 200 {
			t.Fatalf("webhook: %d %v", st, err)
		}
		// The group's text first, then one chart per alert, each drawn from
		// a query narrowed to its own instance.
		waitInbox(t, dir, "92.7", 30*time.Second)
		if !waitUntil(30*time.Second, func() bool {
			entries, _ := inbox.List(dir, 0)
			charts := 0
			for _, e := range entries {
				if e.Part == "chart" && strings.Contains(e.Title, "HighCPU") {
					charts++
				}
			}
			return charts >= 2
		}) {
			entries, _ := inbox.List(dir, 0)
			t.Fatalf("no two chart messages: %+v", entries)
		}
		narrowed := map[string]bool{}
		for _, q := range graf.DSQueries()[before:] {
			expr, _ := q.Queries[0]["expr"].(string)
			for _, inst := range []string{"web-2:9100", "web-4:9100", "web-1:9100", "web-3:9100", "web-5:9100"} {
				if strings.Contains(expr, `instance="`+inst+`"`) {
					narrowed[inst] = true
				}
			}
		}
		if len(narrowed) != 2 || !narrowed["web-2:9100"] || !narrowed["web-4:9100"] {
			t.Fatalf("charts queried %v, want exactly web-2 and web-4", narrowed)
		}
	})
}

// The plugin's service account may not read alert rules: the text still
// arrives, with a plain reason in place of the chart, and the health check
// names the permission to grant.
func TestGrafanaAlertingMissingPermission(t *testing.T) {
	const token = "glsa_managed_without_alerting"
	graf := alertingGrafana(t, token, fakegrafana.PermDashboardsRead, fakegrafana.PermFoldersRead, fakegrafana.PermDatasourcesQuery)
	dir := t.TempDir()
	h, base := alertingPlugin(t, graf, token, dir)

	hr, err := h.CheckHealth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var details struct {
		Checks []struct{ Name, Status, Message string } `json:"checks"`
	}
	if err := json.Unmarshal(hr.JsonDetails, &details); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range details.Checks {
		if c.Name == "Alert rules" {
			found = true
			if c.Status != "warning" || !strings.Contains(c.Message, "alert.rules:read") || !strings.Contains(c.Message, "without a chart") {
				t.Fatalf("health check %+v", c)
			}
		}
	}
	if !found {
		t.Fatalf("no alert rules check: %s", hr.JsonDetails)
	}

	payload := grafanaPayload("HighCPU", "cpu-high", map[string]any{"labels": map[string]string{"instance": "web-2:9100", "severity": "critical"},
		"values": map[string]float64{"B": 90.5, "C": 1}})
	if st, err := call(http.MethodPost, base+"webhook/grafana", payload, nil); err != nil || st != 200 {
		t.Fatalf("webhook: %d %v", st, err)
	}
	e, md := waitInbox(t, dir, "Value: 90.5", 30*time.Second)
	if !strings.Contains(md, "HighCPU on web-2:9100") {
		t.Fatalf("text:\n%s", md)
	}
	// The reason arrives with the text (or as the chart's note), short and
	// in the channel's language (issue 13.7); the health check and the
	// delivery record name the missing permission.
	if !waitUntil(20*time.Second, func() bool {
		entries, _ := inbox.List(dir, 0)
		for _, x := range entries {
			b, _ := os.ReadFile(filepath.Join(dir, x.Markdown))
			if strings.Contains(string(b), "chart unavailable: Grafana does not let the plugin read the alert rule") {
				return true
			}
		}
		return false
	}) {
		entries, _ := inbox.List(dir, 0)
		t.Fatalf("no message says the rule cannot be read: %+v (first: %s)", entries, md)
	}
	if e.Image != "" {
		t.Fatalf("a chart without the rule: %+v", e)
	}
	var all []string
	entries, _ := inbox.List(dir, 0)
	for _, x := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, x.Markdown))
		all = append(all, string(b))
	}
	saveArtifact(t, "grafana-alerting-forbidden.md", []byte(strings.Join(all, "\n-----\n")))
	d := waitDelivery(t, base+"", "HighCPU", 20*time.Second, func(d Delivery) bool {
		return d.Status != "pending" && len(d.Channels) == 1 && d.Channels[0].ChartNote != ""
	})
	if d.Status != "sent" || !strings.Contains(d.Channels[0].ChartNote, "alert.rules:read") {
		t.Fatalf("delivery %+v", d)
	}
}
