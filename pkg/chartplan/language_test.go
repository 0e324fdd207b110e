package chartplan

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/nochart"
	fakeprom "github.com/alertchart/alertchart/test/fakes/prometheus"
)

// A plan is planned once, in chart.language, and worded for each channel's
// language with In: the title and the no-data note change, the data and
// the English record texts do not, and the original is untouched.
func TestPlanInAnotherLanguage(t *testing.T) {
	t.Parallel()
	p := NewPlanner(Config{Language: "zh"}, nil)
	a := alert(map[string]string{"alertname": "JobMissing", "job": "batch"}, `absent(up{job="batch"})`, t0.Add(-time.Minute))
	zh := p.Plan(context.Background(), a, t0)
	if zh.Title != "JobMissing (最近10分钟)" || zh.Language != "zh" || !strings.Contains(zh.NoDataNote, "无数据时触发") {
		t.Fatalf("zh plan: %q %q %q", zh.Title, zh.Language, zh.NoDataNote)
	}
	en := zh.In("en")
	if en.Title != "JobMissing (last 10m)" || en.Language != "en" ||
		en.NoDataNote != `This alert fires when up{job="batch"} has no data; an empty chart is expected.` {
		t.Errorf("en plan: %q %q %q", en.Title, en.Language, en.NoDataNote)
	}
	if zh.Title != "JobMissing (最近10分钟)" || zh.Language != "zh" {
		t.Errorf("In changed the original: %q %q", zh.Title, zh.Language)
	}
	if en.Query != zh.Query || en.Start != zh.Start || en.NoChartReason != zh.NoChartReason || en.NoChart != zh.NoChart {
		t.Errorf("In changed the data: %+v", en)
	}
	if back := en.In("zh-CN"); back.Title != zh.Title || back.NoDataNote != zh.NoDataNote {
		t.Errorf("back to zh: %q %q", back.Title, back.NoDataNote)
	}
	// The worded pieces are not part of the plan's JSON (/explain, records).
	b, _ := json.Marshal(en)
	for _, hidden := range []string{"titleName", "noData\"", "NoChart\"", "noChart\""} {
		if strings.Contains(string(b), hidden) {
			t.Errorf("plan JSON has %s: %s", hidden, b)
		}
	}
}

func TestOverviewTitleInAnotherLanguage(t *testing.T) {
	t.Parallel()
	p := NewPlanner(Config{Language: "en"}, nil)
	var alerts []template.Alert
	for _, inst := range []string{"a", "b"} {
		alerts = append(alerts, alert(map[string]string{"alertname": "Down", "instance": inst}, `up == 0`, t0.Add(-time.Minute)))
	}
	pl := p.PlanOverview(context.Background(), alerts, t0)
	if pl.Title != "Down — 2 alerts (last 10m)" || pl.In("zh").Title != "Down — 2 条告警 (最近10分钟)" {
		t.Errorf("titles %q / %q", pl.Title, pl.In("zh").Title)
	}
	one := p.PlanOverview(context.Background(), alerts[:1], t0)
	if one.Title != "Down — 1 alert (last 10m)" || one.In("zh").Title != "Down — 1 条告警 (最近10分钟)" {
		t.Errorf("titles %q / %q", one.Title, one.In("zh").Title)
	}
}

// Every plan without a chart says which kind of reason it is.
func TestNoChartKinds(t *testing.T) {
	t.Parallel()
	fake := fakeprom.New(t)
	withSource := newPlanner(t, fake, Config{})
	without := NewPlanner(Config{}, nil)
	disabled := alert(map[string]string{"alertname": "X", "instance": "a"}, `up == 0`, t0)
	disabled.Annotations = template.KV{AnnotationDisable: "true"}
	for _, c := range []struct {
		name string
		p    *Planner
		a    template.Alert
		want nochart.Reason
	}{
		{"chart_disable", withSource, disabled, nochart.Disabled},
		{"no data source", without, alert(map[string]string{"alertname": "X", "instance": "a"}, `up == 0`, t0), nochart.NoDataSource},
		{"no expression", withSource, alert(map[string]string{"alertname": "Unknown"}, "", t0), nochart.NoQuery},
		{"grafana rule without Grafana", withSource, template.Alert{Status: "firing", StartsAt: t0, Fingerprint: "g",
			Labels: template.KV{"alertname": "G"}, GeneratorURL: "http://grafana:3000/alerting/grafana/abc123/view"}, nochart.GrafanaNoAccess},
		{"charted", withSource, alert(map[string]string{"alertname": "X", "instance": "a"}, `up == 0`, t0), ""},
	} {
		pl := c.p.Plan(context.Background(), c.a, t0)
		if pl.NoChart != c.want || (c.want == "") != pl.HasChart() || (pl.NoChartReason == "") != (c.want == "") {
			t.Errorf("%s: kind %q (reason %q), want %q", c.name, pl.NoChart, pl.NoChartReason, c.want)
		}
	}
}
