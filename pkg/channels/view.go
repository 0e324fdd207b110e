package channels

import (
	"fmt"
	"strings"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/i18n"
	"github.com/alertchart/alertchart/pkg/series"
)

// The view is what a message template sees: the alerts, the chart's legend
// values and the links, every text but the links already escaped for the
// channel's markup, so a custom template cannot forget to.

// MaxStatsSeries is how many series the Max/Min/Last lines show.
const MaxStatsSeries = 5

// compactAbove: groups with more alerts than this list one line per alert.
const compactAbove = 3

// View is what templates see. Every string except the URLs is already
// escaped for the channel's markup; Data is the raw Alertmanager payload
// for templates that need something else (escape it with esc).
type View struct {
	Lang     string
	Status   string // firing | resolved
	Emoji    string
	Headline string
	Severity string
	Receiver string
	Digest   bool
	// Card is true when the platform shows the headline in a card header
	// or embed title, so the body need not repeat it.
	Card bool
	// Compact is true for digests and groups of more than 3 alerts.
	Compact bool
	// SameName is true when every alert has the same alertname (shown in
	// the headline, so compact lines can lead with the instance).
	SameName                bool
	Total, Firing, Resolved int
	// More is the number of alerts left out to fit the platform's limit.
	More       int
	Alerts     []AlertView
	ChartTitle string
	Stats      []StatView
	MoreSeries int
	ChartNote  string
	GrafanaURL string
	SilenceURL string
	// ListURL is a digest's link to the list of every alert it merged
	// (Message.ListURL).
	ListURL string
	Data    *amtemplate.Data
}

// AlertView is one alert, escaped.
type AlertView struct {
	Status, Emoji, Name, Severity, Instance, Summary, Description, Value string
	StartsAt, EndsAt, Duration                                           string
	IsResolved                                                           bool
	// Single is true when this is the message's only alert: the headline
	// already names it, so the built-in templates skip its name line.
	Single                   bool
	Labels, Annotations      map[string]string
	GeneratorURL, SilenceURL string
}

// AlertGroup is the alerts of a digest that share a name and a status
// emoji (status and severity), in the order they are listed: a digest
// names each group on one line, "🔥 HostHighCpuUsage ×37: node-1 97%,
// node-2 95%, …", so a storm's alerts fit a few messages.
type AlertGroup struct {
	Emoji, Name string
	Count       int
	// Items name each alert of the group: its instance (or summary) and
	// value, escaped.
	Items []string
	// Alerts are the group's alerts (a group of one is listed as usual).
	Alerts []AlertView
}

// Groups gathers the view's alerts into AlertGroups, in order of first
// appearance (the alerts are sorted most urgent first).
func (v View) Groups() []AlertGroup {
	var out []AlertGroup
	at := map[[2]string]int{}
	for _, a := range v.Alerts {
		k := [2]string{a.Emoji, a.Name}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, AlertGroup{Emoji: a.Emoji, Name: a.Name})
		}
		g := &out[i]
		item := a.Instance
		if item == "" {
			item = a.Summary
		}
		if a.Value != "" {
			item = strings.TrimSpace(item + " " + a.Value)
		}
		g.Count++
		g.Items = append(g.Items, item)
		g.Alerts = append(g.Alerts, a)
	}
	return out
}

// StatView is one series' legend values, formatted with the chart's unit.
type StatView struct{ Name, Last, Max, Min, Mean string }

// view builds what templates see, each text escaped for the markup and
// shortened to cap characters (0: in full).
func (f *Formatter) view(m *Message, alerts []amtemplate.Alert, cap int) View {
	esc := func(s string) string { return f.Markup.Escape(shorten(s, cap)) }
	status, firing, resolved := groupStatus(m, alerts)
	v := View{
		Lang: f.Lang, Status: status, Emoji: statusEmoji(status),
		Headline: f.escHeadline(m, alerts, cap), Severity: esc(groupSeverity(m, alerts)),
		Receiver: esc(m.Data.Receiver), Digest: m.Digest, Card: f.Card,
		Compact:  m.Digest || len(alerts) > compactAbove,
		SameName: sameName(alerts),
		Total:    len(alerts), Firing: firing, Resolved: resolved,
		ChartNote: esc(m.ChartNote), Data: m.Data,
	}
	amURL := f.Links.AlertmanagerBase(m)
	now := f.Now()
	for _, a := range alerts {
		av := AlertView{
			Status: a.Status, Emoji: alertEmoji(a), IsResolved: a.Status == "resolved",
			Name:        esc(a.Labels["alertname"]),
			Severity:    esc(a.Labels["severity"]),
			Instance:    esc(instanceOf(a.Labels)),
			Summary:     esc(firstOf(a.Annotations, "summary", "message", "title")),
			Description: esc(firstOf(a.Annotations, "description")),
			Value:       esc(firstOf(a.Annotations, "value", "current_value", "currentValue")),
			Labels:      escMap(a.Labels, esc), Annotations: escMap(a.Annotations, esc),
			GeneratorURL: a.GeneratorURL,
			SilenceURL:   alertSilenceURL(amURL, a),
			Single:       len(alerts) == 1,
		}
		if !a.StartsAt.IsZero() {
			av.StartsAt = stamp(a.StartsAt.In(f.Location))
			end := now
			if av.IsResolved && !a.EndsAt.IsZero() {
				end = a.EndsAt
				av.EndsAt = a.EndsAt.In(f.Location).Format("15:04:05")
			}
			av.Duration = i18n.Duration(f.Lang, end.Sub(a.StartsAt))
		}
		v.Alerts = append(v.Alerts, av)
	}
	if c := m.Chart; c != nil {
		v.ChartTitle = esc(c.Title)
		for i, s := range c.Series {
			if i == MaxStatsSeries {
				v.MoreSeries = len(c.Series) - i
				break
			}
			st := s.Stats()
			if st.Count == 0 {
				continue
			}
			v.Stats = append(v.Stats, StatView{
				Name: esc(statName(s)), Last: esc(FormatValue(st.Last, c.Unit)),
				Max: esc(FormatValue(st.Max, c.Unit)), Min: esc(FormatValue(st.Min, c.Unit)),
				Mean: esc(FormatValue(st.Mean, c.Unit)),
			})
		}
		if len(alerts) == 1 && v.Alerts[0].Value == "" && len(v.Stats) > 0 {
			v.Alerts[0].Value = v.Stats[0].Last
		}
		if v.ChartTitle == "" && len(v.Stats) > 0 {
			v.ChartTitle = esc(c.Query)
		}
	}
	v.GrafanaURL = f.Links.explore(m, alerts, f.Now())
	if m.Digest && SafeURL(m.ListURL) {
		v.ListURL = m.ListURL
	}
	if len(alerts) > 0 {
		if len(alerts) == 1 {
			v.SilenceURL = v.Alerts[0].SilenceURL
		} else {
			v.SilenceURL = groupSilenceURL(amURL, alerts, m.Data.CommonLabels)
		}
	}
	return v
}

func sameName(alerts []amtemplate.Alert) bool {
	for _, a := range alerts {
		if a.Labels["alertname"] != alerts[0].Labels["alertname"] {
			return false
		}
	}
	return len(alerts) > 0
}

// statName is the series' legend: its name, the only label's value, or the
// full label set.
func statName(s series.Series) string {
	if s.Name != "" {
		return s.Name
	}
	var only string
	n := 0
	for k, v := range s.Labels {
		if k != "__name__" {
			only = v
			n++
		}
	}
	if n == 1 {
		return only
	}
	return s.DisplayName()
}

func instanceOf(l map[string]string) string {
	return firstOf(l, "instance", "pod", "host", "hostname", "node", "service", "job")
}

func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := m[k]; v != "" {
			return v
		}
	}
	return ""
}

func escMap(m map[string]string, esc func(string) string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = esc(v)
	}
	return out
}

// stamp formats a message time with its zone as a UTC offset
// ("2026-11-25 17:55:00 UTC+08:00"): abbreviations such as "CST" name
// China, US Central and Cuba alike, the offset names one instant.
func stamp(t time.Time) string {
	_, off := t.Zone()
	if off == 0 {
		return t.Format("2006-01-02 15:04:05") + " UTC"
	}
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%s UTC%c%02d:%02d", t.Format("2006-01-02 15:04:05"), sign, off/3600, off%3600/60)
}
