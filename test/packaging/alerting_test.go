package packaging

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/chartplan"
	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/settings"
	fakegrafana "github.com/alertchart/alertchart/test/fakes/grafana"
)

// TestGrafanaAlertingProvisioning checks provisioning/alerting: the
// contact point posts to the plugin's resource URL for a receiver the app
// settings route, with a bearer token; the policy sends to it; the example
// rule's data is consistent, uses a provisioned data source, and plans into
// a chart with its threshold once Grafana serves it.
func TestGrafanaAlertingProvisioning(t *testing.T) {
	r := root(t)
	var file struct {
		APIVersion    int `yaml:"apiVersion"`
		ContactPoints []struct {
			OrgID     int    `yaml:"orgId"`
			Name      string `yaml:"name"`
			Receivers []struct {
				UID      string         `yaml:"uid"`
				Type     string         `yaml:"type"`
				Settings map[string]any `yaml:"settings"`
			} `yaml:"receivers"`
		} `yaml:"contactPoints"`
		Policies []struct {
			OrgID    int      `yaml:"orgId"`
			Receiver string   `yaml:"receiver"`
			GroupBy  []string `yaml:"group_by"`
		} `yaml:"policies"`
		Groups []struct {
			Name   string `yaml:"name"`
			Folder string `yaml:"folder"`
			Rules  []struct {
				UID       string `yaml:"uid"`
				Title     string `yaml:"title"`
				Condition string `yaml:"condition"`
				For       string `yaml:"for"`
				Data      []struct {
					RefID             string         `yaml:"refId"`
					DatasourceUID     string         `yaml:"datasourceUid"`
					RelativeTimeRange map[string]int `yaml:"relativeTimeRange"`
					Model             map[string]any `yaml:"model"`
				} `yaml:"data"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, filepath.Join(r, "provisioning", "alerting", "alertchart.yaml"), &file)
	if file.APIVersion != 1 || len(file.ContactPoints) != 1 || len(file.ContactPoints[0].Receivers) != 1 {
		t.Fatalf("alerting provisioning: %+v", file)
	}
	cp := file.ContactPoints[0]
	rc := cp.Receivers[0]
	url, _ := rc.Settings["url"].(string)
	const path = "/api/plugins/" + pluginID + "/resources/webhook/"
	i := strings.Index(url, path)
	if rc.Type != "webhook" || rc.UID == "" || i < 0 || !strings.HasPrefix(url, "http") {
		t.Fatalf("contact point receiver %+v", rc)
	}
	receiver := url[i+len(path):]
	if rc.Settings["httpMethod"] != "POST" || rc.Settings["authorization_scheme"] != "Bearer" ||
		!strings.HasPrefix(rc.Settings["authorization_credentials"].(string), "$__env{") {
		t.Errorf("contact point auth: %+v", rc.Settings)
	}
	var apps struct {
		Apps []struct {
			JSONData map[string]any `yaml:"jsonData"`
		} `yaml:"apps"`
	}
	readYAML(t, filepath.Join(r, "provisioning", "plugins", "apps.yaml"), &apps)
	js, _ := json.Marshal(apps.Apps[0].JSONData)
	s, err := settings.Parse(js, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.ReceiverKnown(receiver) || len(s.ChannelsFor(receiver, nil)) == 0 {
		t.Errorf("the contact point's receiver %q has no route in apps.yaml", receiver)
	}
	if len(file.Policies) != 1 || file.Policies[0].Receiver != cp.Name {
		t.Errorf("the policy does not send to the contact point: %+v", file.Policies)
	}

	var ds struct {
		Datasources []struct{ UID, Type string } `yaml:"datasources"`
	}
	readYAML(t, filepath.Join(r, "provisioning", "datasources", "prometheus.yaml"), &ds)
	f := fakegrafana.New(t)
	f.AddToken("glsa_x", fakegrafana.AllPermissions...)
	for _, d := range ds.Datasources {
		f.AddDatasource(fakegrafana.Datasource{UID: d.UID, Name: d.UID, Type: d.Type,
			Series: []fakegrafana.Series{{Labels: map[string]string{"instance": "node-exporter:9100"}, Value: func(time.Time) float64 { return 93 }}}})
	}
	if len(file.Groups) == 0 || len(file.Groups[0].Rules) == 0 {
		t.Fatal("no example rule")
	}
	rule := file.Groups[0].Rules[0]
	fr := fakegrafana.AlertRule{UID: rule.UID, Title: rule.Title, FolderUID: "demo", RuleGroup: file.Groups[0].Name,
		Condition: rule.Condition, For: rule.For, Labels: rule.Labels}
	refs := map[string]bool{}
	for _, d := range rule.Data {
		refs[d.RefID] = true
		if d.DatasourceUID != "__expr__" {
			known := false
			for _, x := range ds.Datasources {
				known = known || x.UID == d.DatasourceUID
			}
			if !known {
				t.Errorf("rule query %s uses data source %q, which is not provisioned", d.RefID, d.DatasourceUID)
			}
		}
		// YAML numbers become ints; Grafana's models hold JSON numbers.
		b, _ := json.Marshal(d.Model)
		var model map[string]any
		_ = json.Unmarshal(b, &model)
		fr.Data = append(fr.Data, fakegrafana.AlertQuery{RefID: d.RefID, DatasourceUID: d.DatasourceUID,
			From: time.Duration(d.RelativeTimeRange["from"]) * time.Second, Model: model})
	}
	if !refs[rule.Condition] {
		t.Fatalf("condition %q is not one of the rule's refIds", rule.Condition)
	}
	f.AddAlertRule(fr)

	c, err := grafana.NewClient(grafana.Credentials{URL: f.URL, Token: "glsa_x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := chartplan.NewPlanner(chartplan.ConfigFrom(s), nil)
	p.UseGrafana(c)
	now := time.Now()
	a := template.Alert{Status: "firing", StartsAt: now.Add(-time.Minute),
		Labels:       template.KV{"alertname": rule.Title, "grafana_folder": file.Groups[0].Folder, "instance": "node-exporter:9100", "severity": "warning"},
		Annotations:  template.KV{},
		GeneratorURL: "http://grafana:3000/alerting/grafana/" + rule.UID + "/view?orgId=1"}
	pl := p.Plan(context.Background(), a, now)
	if !pl.HasChart() || len(pl.Thresholds) != 1 || pl.Thresholds[0].Value != 80 || !strings.Contains(pl.Query, `instance="node-exporter:9100"`) {
		t.Fatalf("the example rule's plan: %+v", pl)
	}
	res, err := p.Fetch(context.Background(), pl)
	if err != nil || len(res.Series) != 1 {
		t.Fatalf("the example rule's data: %+v %v", res, err)
	}
}
