package chartplan

import (
	"net/url"
	"strings"
	"testing"
)

func TestRewriteRejectsBadInput(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{
		"",
		"up{",                 // parse error with a partial AST
		"sum(rate(x[5m]) > ",  // incomplete
		"1 > 0",               // scalar, nothing to chart
		`"a string"`,          // string
		"rate(x[5m])[10m:1m]", // range vector
		strings.Repeat("(", MaxExprBytes) + "up" + strings.Repeat(")", MaxExprBytes),
	} {
		if rw, err := RewriteExpr(expr, L{"instance": "a"}); err == nil {
			t.Errorf("RewriteExpr(%.40q) = %q, want an error", expr, rw.Query)
		}
	}
}

func TestRewriteDoesNotMutateAcrossLabels(t *testing.T) {
	t.Parallel()
	// A label that must be post-filtered in one operand of `or` (topk
	// outside its groups) leaves no matcher in that operand; the other
	// operand, fetched on its own, is narrowed. (Before parts, the whole
	// query stayed unnarrowed.)
	rw, err := RewriteExpr(`topk(3, node_load1) > 5 or node_load5 > 5`, L{"instance": "a", "job": "node"})
	if err != nil {
		t.Fatal(err)
	}
	if rw.Query != `topk(3, node_load1) or node_load5{instance="a",job="node"}` {
		t.Errorf("query = %s", rw.Query)
	}
	if rw.PostFilter["instance"] != "a" || rw.PostFilter["job"] != "node" {
		t.Errorf("injected %v post %v", rw.Injected, rw.PostFilter)
	}
	if len(rw.Parts) != 2 || rw.Parts[0].Query != `topk(3, node_load1)` || rw.Parts[0].Name != "node_load1" || rw.Parts[1].Name != "node_load5" {
		t.Errorf("parts = %+v", rw.Parts)
	}
}

func TestRewriteExistingMatcherNotDuplicated(t *testing.T) {
	t.Parallel()
	rw, err := RewriteExpr(`up{job="node"} == 0`, L{"job": "node", "instance": "a"})
	if err != nil {
		t.Fatal(err)
	}
	if rw.Query != `up{instance="a",job="node"}` {
		t.Errorf("query = %s", rw.Query)
	}
}

func TestExprFromGeneratorURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"http://prom:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1":                        "up == 0",
		"http://thanos-ruler:10902/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+1&g0.tab=1": "rate(x[5m]) > 1",
		"http://vmalert:8880/vmalert/alert?group_id=123&alert_id=456":                "",
		"https://grafana.example.com/alerting/grafana/abc123/view?orgId=1":           "",
		"http://prom/#/graph?g0.expr=up":                                             "up",
		"http://grafana:3000/explore?left=" + url.QueryEscape(`{"queries":[{"expr":"sum(rate(x[5m])) > 1","queryType":"range","datasource":{"type":"prometheus","uid":"mimir"}}]}`):              "sum(rate(x[5m])) > 1",
		"http://grafana:3000/explore?schemaVersion=1&panes=" + url.QueryEscape(`{"a1b":{"datasource":"mimir","queries":[{"refId":"A","expr":"up == 0"}],"range":{"from":"now-1h","to":"now"}}}`): "up == 0",
		"":            "",
		"::not a url": "",
	} {
		if got := ExprFromGeneratorURL(raw); got != want {
			t.Errorf("ExprFromGeneratorURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestRewriteOneToOneWithUnsafeRightSide(t *testing.T) {
	t.Parallel()
	// The right side rewrites instance; the result's instance is the left
	// side's, so the left side alone is narrowed.
	rw, err := RewriteExpr(`node_load1 / label_replace(node_cpus, "instance", "$1", "host", "(.*)") > 2`, L{"instance": "a"})
	if err != nil {
		t.Fatal(err)
	}
	if rw.Query != `node_load1{instance="a"} / label_replace(node_cpus, "instance", "$1", "host", "(.*)")` || rw.PostFilter != nil {
		t.Errorf("query %s post %v", rw.Query, rw.PostFilter)
	}
}

func TestRewriteUTF8LabelNamesArePostFiltered(t *testing.T) {
	t.Parallel()
	rw, err := RewriteExpr(`up == 0`, L{"service.name": "api", "instance": "a"})
	if err != nil {
		t.Fatal(err)
	}
	if rw.Query != `up{instance="a"}` || rw.PostFilter["service.name"] != "api" {
		t.Errorf("query %s post %v", rw.Query, rw.PostFilter)
	}
}
