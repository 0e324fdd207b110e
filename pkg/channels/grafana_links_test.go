package channels_test

import (
	"os"
	"strings"
	"testing"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/intake"
	"github.com/alertchart/alertchart/test/fakes/fixture"
)

// TestGrafanaAlertingLinks: an alert from Grafana Alerting links to what
// Grafana computed for it — its silence page and its panel (else its rule)
// — not to an Alertmanager silence page or an empty Explore view.
func TestGrafanaAlertingLinks(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../intake/testdata/grafana.json")
	if err != nil {
		t.Fatal(err)
	}
	data, err := intake.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	f := formatter(t, channels.CommonMark, "en", "")
	f.Links.GrafanaURL = "http://grafana.example:3000/"
	one := *data
	one.Alerts = data.Alerts[:1]
	txt, err := f.Render(fixture.Message(&one, nil), channels.Limit{})
	if err != nil {
		t.Fatal(err)
	}
	a := data.Alerts[0]
	if !strings.Contains(txt.Body, "("+a.Annotations[intake.AnnotationGrafanaSilenceURL]+")") ||
		!strings.Contains(txt.Body, "("+a.Annotations[intake.AnnotationGrafanaPanelURL]+")") || strings.Contains(txt.Body, "#/silences") {
		t.Fatalf("links:\n%s", txt.Body)
	}
	// The second alert has no panel: its rule's page.
	if got := channels.GrafanaAlertLink(data.Alerts[1]); got != data.Alerts[1].GeneratorURL {
		t.Fatalf("link %q", got)
	}
	// The group is silenced by the matchers every alert's link shares.
	txt, _ = f.Render(fixture.Message(data, nil), channels.Limit{})
	if !strings.Contains(txt.Body, "matcher=__alert_rule_uid__%3Dcpu-high-1") || strings.Contains(txt.Body, "web-1%3A9100&") ||
		strings.Contains(txt.Body, "instance%3Dweb") {
		t.Fatalf("group silence link:\n%s", txt.Body)
	}
	// Alertmanager alerts are untouched.
	if channels.GrafanaAlertLink(fixture.Data(1, false, false).Alerts[0]) != "" {
		t.Fatal("an Alertmanager alert got a Grafana link")
	}
}
