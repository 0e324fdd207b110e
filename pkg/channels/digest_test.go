package channels_test

import (
	"strings"
	"testing"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/test/fakes/fixture"
)

// A storm digest names each group of alerts (same name and status emoji)
// on one line, "🔴 **HighCPUUsage** ×2：web-04:9100, web-01:9100"; a group
// of one keeps the usual compact line. Names stay escaped.
func TestDigestGroupsAlertsByName(t *testing.T) {
	t.Parallel()
	d := fixture.Data(5, true, false)
	more := fixture.Data(5, true, false)
	for i := range more.Alerts {
		more.Alerts[i].Labels["alertname"] = "Other<b>*x*"
		more.Alerts[i].Fingerprint += "x"
	}
	d.Alerts = append(d.Alerts, more.Alerts...)
	m := fixture.Message(d, nil)
	m.Digest = true
	for _, c := range []struct {
		mk   channels.Markup
		want []string
	}{
		{channels.CommonMark, []string{"- 🔴 **HighCPUUsage** ×2：web-04:9100, web-01:9100\n", "- 🔴 **Other\\<b\\>\\*x\\*** ×2：web-04:9100, web-01:9100\n",
			"- 🟠 HighCPUUsage @ web-02:9100：web-02:9100 CPU 使用率超过 90%（6分钟）\n"}},
		{channels.TelegramHTML, []string{"- 🔴 <b>Other&lt;b&gt;*x*</b> ×2：web-04:9100, web-01:9100\n"}},
	} {
		mk, want := c.mk, c.want
		txt, err := formatter(t, mk, "zh", "").Render(m, channels.Limit{})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(txt.Body, w) {
				t.Errorf("%s: missing %q in\n%s", mk.Name, w, txt.Body)
			}
		}
		if txt.Shown != 10 {
			t.Errorf("%s: shown %d of 10", mk.Name, txt.Shown)
		}
	}
	// A digest links the list of every alert (the Deliveries page); a
	// single notification does not.
	m.ListURL = "https://grafana.example/a/alertchart-webhook-app/deliveries?orgId=1"
	txt, err := formatter(t, channels.CommonMark, "en", "").Render(m, channels.Limit{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(txt.Body, "[📋 All alerts](https://grafana.example/a/alertchart-webhook-app/deliveries?orgId=1) | [📈 Open in Grafana]") {
		t.Errorf("no list link in\n%s", txt.Body)
	}
	m.Digest = false
	if txt, _ := formatter(t, channels.CommonMark, "en", "").Render(m, channels.Limit{}); strings.Contains(txt.Body, "All alerts") {
		t.Errorf("list link in a single notification:\n%s", txt.Body)
	}
	m.Digest = true
	// Cut to a limit, the groups shrink with the alerts shown, and the rest
	// is counted.
	txt, err = formatter(t, channels.CommonMark, "en", "").Render(m, channels.Limit{Max: 900, Unit: channels.Bytes})
	if err != nil {
		t.Fatal(err)
	}
	if !txt.Truncated || txt.Shown >= 10 || !strings.Contains(txt.Body, "more alerts") {
		t.Errorf("cut digest: shown %d, truncated %v:\n%s", txt.Shown, txt.Truncated, txt.Body)
	}
}
