package standalone

import (
	"strings"
	"testing"
)

// TestInboxPageRendersMarkdown: the inbox page shows an entry as a chat
// client would — escapes resolved, lines kept, links and the chart
// rendered — and
// nothing an alert's labels could smuggle in: no raw HTML, no javascript:
// link, no picture from elsewhere.
func TestInboxPageRendersMarkdown(t *testing.T) {
	t.Parallel()
	md := "# 🔥 \\[告警中\\] HostHighCpuUsage\n\n" +
		"实例：node-2\n摘要：CPU usage above 80%\n\n" +
		"📊 HostHighCpuUsage \\(最近2分钟\\)\n" +
		"- host=node\\_2\n\n" +
		"[🔕 静默此告警](http://am.example/#/silences/new?filter=%7Ba%3D%22b%22%7D)\n\n" +
		"<script>alert(1)</script>\n\n" +
		"[x](javascript:alert(1)) ![y](http://elsewhere.example/y.png)\n\n" +
		"![chart](20261207T212930.599Z-0001-460085fb.png)\n"
	html, shown, err := renderInboxEntry("demo box", []byte(md))
	if err != nil {
		t.Fatal(err)
	}
	h := string(html)
	for _, want := range []string{
		"<h1>🔥 [告警中] HostHighCpuUsage</h1>",
		"实例：node-2<br>\n摘要：CPU usage above 80%", // one line each, as in the chat
		"HostHighCpuUsage (最近2分钟)",
		"<li>host=node_2</li>",
		`<a href="http://am.example/#/silences/new?filter=%7Ba%3D%22b%22%7D">🔕 静默此告警</a>`,
		`<img src="/inbox/demo%20box/20261207T212930.599Z-0001-460085fb.png" alt="chart">`,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("rendered entry lacks %q:\n%s", want, h)
		}
	}
	for _, bad := range []string{"<script", "javascript:", "elsewhere.example", `\(`} {
		if strings.Contains(h, bad) {
			t.Errorf("rendered entry contains %q:\n%s", bad, h)
		}
	}
	if !shown {
		t.Error("the chart in the markdown was not reported shown")
	}
	if _, shown, _ := renderInboxEntry("box", []byte("text only")); shown {
		t.Error("an entry without a chart reported one shown")
	}
}
