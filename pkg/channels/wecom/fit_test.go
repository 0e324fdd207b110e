package wecom_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/settings"
)

// TestNamedIsWhatTheTextNames: for a digest far over the 4,096-byte
// markdown limit, Named returns exactly the alerts whose instance the
// accepted markdown shows — with mentions taking their share of the limit.
func TestNamedIsWhatTheTextNames(t *testing.T) {
	for _, ch := range []settings.Channel{{}, {MentionUsers: []string{"zhangsan", "lisi"}}} {
		s := start(t)
		n := newNotifier(t, s.WebhookURL(), ch, "zh")
		d := &amtemplate.Data{Receiver: "ops", Status: "firing", CommonLabels: amtemplate.KV{}}
		start := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
		for i := range 300 {
			inst := fmt.Sprintf("host-%03d:9100", i)
			d.Alerts = append(d.Alerts, amtemplate.Alert{Status: "firing", Fingerprint: fmt.Sprintf("fp%03d", i), StartsAt: start.Add(time.Duration(i) * time.Second),
				Labels:      amtemplate.KV{"alertname": fmt.Sprintf("Alert%d", i%7), "instance": inst, "severity": "warning"},
				Annotations: amtemplate.KV{"summary": "disk filling up on " + inst}})
		}
		m := &channels.Message{Data: d, Part: channels.PartText, Digest: true}
		named, err := n.Named(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(named) == 0 || len(named) >= 300 {
			t.Fatalf("named %d of 300 alerts", len(named))
		}
		if _, err := n.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		var body struct{ Markdown struct{ Content string } }
		if err := json.Unmarshal(s.Accepted()[0].Body, &body); err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, fp := range named {
			want[fp] = true
		}
		for _, a := range d.Alerts {
			if shown := strings.Contains(body.Markdown.Content, a.Labels["instance"]); shown != want[a.Fingerprint] {
				t.Errorf("mentions %v: alert %s shown %v, named %v", ch.MentionUsers, a.Fingerprint, shown, want[a.Fingerprint])
			}
		}
		t.Logf("mentions %v: %d of 300 alerts named in %d bytes", ch.MentionUsers, len(named), len(body.Markdown.Content))
	}
}
