package channels

import (
	"fmt"
	"sort"
	"strings"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/i18n"
)

// The headline ("🔥 [FIRING·critical] HighCPU") and what it is made of: the
// group's status, severity and name. Alerts are listed most urgent first, so
// the ones a long message leaves out are the least urgent.

// EscTitle is Title escaped for the markup, keeping the status brackets
// readable (for headers that interpret markup, like Teams TextBlocks).
func (f *Formatter) EscTitle(m *Message) string {
	if m == nil || m.Data == nil {
		return ""
	}
	alerts := sortedAlerts(m.Data.Alerts)
	status, _, _ := groupStatus(m, alerts)
	return statusEmoji(status) + " " + f.escHeadline(m, alerts, 0)
}

// Title returns the plain headline of m, e.g. "🔥 [FIRING·critical] HighCPU".
func (f *Formatter) Title(m *Message) string {
	if m == nil || m.Data == nil {
		return ""
	}
	return f.plainTitle(m, sortedAlerts(m.Data.Alerts))
}

var severityRank = map[string]int{"critical": 0, "page": 0, "error": 1, "high": 1, "warning": 2, "warn": 2, "medium": 2, "info": 3, "low": 3, "none": 4}

func rank(sev string) int {
	if r, ok := severityRank[strings.ToLower(sev)]; ok {
		return r
	}
	return 3
}

// sortedAlerts orders firing before resolved, then by severity, then oldest
// first, so the most urgent alerts survive truncation.
func sortedAlerts(in amtemplate.Alerts) []amtemplate.Alert {
	out := append([]amtemplate.Alert(nil), in...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Status == "resolved") != (b.Status == "resolved") {
			return a.Status != "resolved"
		}
		if ra, rb := rank(a.Labels["severity"]), rank(b.Labels["severity"]); ra != rb {
			return ra < rb
		}
		return a.StartsAt.Before(b.StartsAt)
	})
	return out
}

func statusEmoji(status string) string {
	if status == "resolved" {
		return "✅"
	}
	return "🔥"
}

func alertEmoji(a amtemplate.Alert) string {
	if a.Status == "resolved" {
		return "✅"
	}
	switch rank(a.Labels["severity"]) {
	case 0:
		return "🔴"
	case 1, 2:
		return "🟠"
	default:
		return "🔵"
	}
}

func groupStatus(m *Message, alerts []amtemplate.Alert) (status string, firing, resolved int) {
	for _, a := range alerts {
		if a.Status == "resolved" {
			resolved++
		} else {
			firing++
		}
	}
	status = m.Data.Status
	if status == "" {
		status = "firing"
		if firing == 0 && resolved > 0 {
			status = "resolved"
		}
	}
	return
}

func groupSeverity(m *Message, alerts []amtemplate.Alert) string {
	if s := m.Data.CommonLabels["severity"]; s != "" {
		return s
	}
	best := ""
	for _, a := range alerts {
		if s := a.Labels["severity"]; s != "" && (best == "" || rank(s) < rank(best)) && a.Status != "resolved" {
			best = s
		}
	}
	return best
}

func groupName(m *Message, alerts []amtemplate.Alert, lang string) string {
	if n := m.Data.CommonLabels["alertname"]; n != "" {
		return n
	}
	if n := m.Data.GroupLabels["alertname"]; n != "" {
		return n
	}
	if len(alerts) == 1 {
		return alerts[0].Labels["alertname"]
	}
	return i18n.T(lang, "headline.alerts", "count", len(alerts))
}

// plainTitle is the unescaped headline with emoji.
func (f *Formatter) plainTitle(m *Message, alerts []amtemplate.Alert) string {
	status, _, _ := groupStatus(m, alerts)
	return statusEmoji(status) + " " + f.headline(m, alerts)
}

func (f *Formatter) headline(m *Message, alerts []amtemplate.Alert) string {
	status, firing, resolved := groupStatus(m, alerts)
	tag := strings.ToUpper(status)
	if status == "firing" || status == "resolved" {
		tag = i18n.T(f.Lang, "status."+status)
	}
	if len(alerts) > 1 {
		var parts []string
		if firing > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", i18n.T(f.Lang, "status.firing"), firing))
		}
		if resolved > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", i18n.T(f.Lang, "status.resolved"), resolved))
		}
		tag = strings.Join(parts, " · ")
	}
	if sev := groupSeverity(m, alerts); sev != "" && firing > 0 {
		tag += " · " + sev
	}
	return "[" + tag + "] " + groupName(m, alerts, f.Lang)
}

// escHeadline is the headline with only the alert data escaped, so the
// brackets around the status stay readable in every markup.
func (f *Formatter) escHeadline(m *Message, alerts []amtemplate.Alert, cap int) string {
	h := f.headline(m, alerts)
	i := strings.Index(h, "] ")
	return "[" + f.Markup.Escape(h[1:i]) + "] " + f.Markup.Escape(shorten(h[i+2:], cap))
}
