package teams_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/channels"
)

// TestNamedIsWhatTheCardNames: a digest of 300 differently named alerts
// is one card line each, so the card's JSON, not its text, is what has to
// fit: Named must still be exactly the alerts the accepted card shows.
func TestNamedIsWhatTheCardNames(t *testing.T) {
	n, s := setup(t, "en", nil)
	d := &amtemplate.Data{Receiver: "ops", Status: "firing", CommonLabels: amtemplate.KV{}}
	start := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	for i := range 300 {
		inst := fmt.Sprintf("host-%03d:9100", i)
		d.Alerts = append(d.Alerts, amtemplate.Alert{Status: "firing", Fingerprint: fmt.Sprintf("fp%03d", i), StartsAt: start.Add(time.Duration(i) * time.Second),
			Labels:      amtemplate.KV{"alertname": fmt.Sprintf("Alert%03d", i), "instance": inst, "severity": "warning"},
			Annotations: amtemplate.KV{"summary": "disk filling up"}})
	}
	m := &channels.Message{Data: d, Part: channels.PartText, Digest: true}
	named, err := n.Named(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	body := string(succeeded(t, s).Body)
	want := map[string]bool{}
	for _, fp := range named {
		want[fp] = true
	}
	for _, a := range d.Alerts {
		if shown := strings.Contains(body, a.Labels["instance"]); shown != want[a.Fingerprint] {
			t.Errorf("alert %s shown %v, named %v", a.Fingerprint, shown, want[a.Fingerprint])
		}
	}
	t.Logf("%d of 300 alerts named in a %d-byte card", len(named), len(body))
}
