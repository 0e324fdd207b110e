package channels

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"text/template"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/series"
)

// DefaultTemplates are the built-in message bodies, by language. They are
// written once for every platform: platform syntax comes from the template
// functions b (bold), link and code, and every value in the view is already
// escaped for the platform's markup. A channel's Template setting replaces
// them; it sees the same View and functions.
var DefaultTemplates = map[string]string{
	"zh": `{{define "alert"}}{{if not .Single}}{{.Emoji}} {{b .Name}}{{if .Severity}} · {{.Severity}}{{end}}
{{end}}{{if .Instance}}实例：{{.Instance}}
{{end}}{{if .Summary}}摘要：{{.Summary}}
{{end}}{{if .Description}}描述：{{.Description}}
{{end}}{{if .Value}}当前值：{{.Value}}
{{end}}开始：{{.StartsAt}}（{{if .IsResolved}}持续 {{.Duration}}，恢复于 {{.EndsAt}}{{else}}已持续 {{.Duration}}{{end}}）
{{end}}{{if not .Card}}{{.Emoji}} {{b .Headline}}
{{end}}{{if .Digest}}告警风暴摘要：合并 {{.Total}} 条告警（告警中 {{.Firing}}，已恢复 {{.Resolved}}）
{{end}}{{if .Compact}}
{{end}}{{range .Alerts}}{{if $.Compact}}- {{.Emoji}} {{if $.SameName}}{{or .Instance .Name}}{{else}}{{.Name}}{{if .Instance}} @ {{.Instance}}{{end}}{{end}}{{if .Summary}}：{{.Summary}}{{end}}（{{.Duration}}）
{{else}}
{{template "alert" .}}{{end}}{{end}}{{if .More}}… 另有 {{.More}} 条告警
{{end}}{{if .Stats}}
📊 {{.ChartTitle}}
{{range .Stats}}- {{.Name}}：当前 {{.Last}}，最大 {{.Max}}，最小 {{.Min}}
{{end}}{{if .MoreSeries}}… 另有 {{.MoreSeries}} 条曲线
{{end}}{{end}}{{if .ChartNote}}
⚠️ {{.ChartNote}}
{{end}}{{if or .GrafanaURL .SilenceURL}}
{{if .GrafanaURL}}{{link .GrafanaURL "📈 在 Grafana 中查看"}}{{end}}{{if and .GrafanaURL .SilenceURL}} | {{end}}{{if .SilenceURL}}{{link .SilenceURL (print "🔕 静默" (or (and (gt .Total 1) "这组") "此") "告警")}}{{end}}
{{end}}`,
	"en": `{{define "alert"}}{{if not .Single}}{{.Emoji}} {{b .Name}}{{if .Severity}} · {{.Severity}}{{end}}
{{end}}{{if .Instance}}Instance: {{.Instance}}
{{end}}{{if .Summary}}Summary: {{.Summary}}
{{end}}{{if .Description}}Description: {{.Description}}
{{end}}{{if .Value}}Value: {{.Value}}
{{end}}Started: {{.StartsAt}} ({{if .IsResolved}}lasted {{.Duration}}, resolved {{.EndsAt}}{{else}}for {{.Duration}}{{end}})
{{end}}{{if not .Card}}{{.Emoji}} {{b .Headline}}
{{end}}{{if .Digest}}Alert storm digest: {{.Total}} alerts merged ({{.Firing}} firing, {{.Resolved}} resolved)
{{end}}{{if .Compact}}
{{end}}{{range .Alerts}}{{if $.Compact}}- {{.Emoji}} {{if $.SameName}}{{or .Instance .Name}}{{else}}{{.Name}}{{if .Instance}} @ {{.Instance}}{{end}}{{end}}{{if .Summary}}: {{.Summary}}{{end}} ({{.Duration}})
{{else}}
{{template "alert" .}}{{end}}{{end}}{{if .More}}… and {{.More}} more alerts
{{end}}{{if .Stats}}
📊 {{.ChartTitle}}
{{range .Stats}}- {{.Name}}: last {{.Last}}, max {{.Max}}, min {{.Min}}
{{end}}{{if .MoreSeries}}… and {{.MoreSeries}} more series
{{end}}{{end}}{{if .ChartNote}}
⚠️ {{.ChartNote}}
{{end}}{{if or .GrafanaURL .SilenceURL}}
{{if .GrafanaURL}}{{link .GrafanaURL "📈 Open in Grafana"}}{{end}}{{if and .GrafanaURL .SilenceURL}} | {{end}}{{if .SilenceURL}}{{link .SilenceURL (or (and (gt .Total 1) "🔕 Silence group") "🔕 Silence")}}{{end}}
{{end}}`,
}

// words are the few translated strings built in Go (headline, durations).
var words = map[string]map[string]string{
	"zh": {"firing": "告警中", "resolved": "已恢复", "alerts": "%d 条告警", "chart": "📈 %s"},
	"en": {"firing": "FIRING", "resolved": "RESOLVED", "alerts": "%d alerts", "chart": "📈 %s"},
}

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
	Data       *amtemplate.Data
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

// StatView is one series' legend values, formatted with the chart's unit.
type StatView struct{ Name, Last, Max, Min, Mean string }

// Text is a rendered message.
type Text struct {
	// Title is a short plain (unescaped) headline for notification previews,
	// card headers and embed titles.
	Title string
	// Body is the message in the platform's markup.
	Body string
	// Shown and Total count alerts in the body and in the message.
	Shown, Total int
	// Truncated is true when the body was cut to the limit.
	Truncated bool
	// Note records a fallback (e.g. a custom template that failed).
	Note string
}

// Formatter renders messages for one channel.
type Formatter struct {
	Markup   Markup
	Lang     string
	Location *time.Location
	// Card: the platform shows Title in a header (Feishu, Teams, Discord).
	Card bool
	// Links build the Explore link.
	Links Links
	// Now is the clock for durations of firing alerts (tests pin it).
	Now      func() time.Time
	tmpl     *template.Template
	fallback *template.Template
}

// NewFormatter parses the channel's template (or the default for lang) for
// a platform markup. A bad custom template is an error here, at
// configuration time, not when an alert is due.
func NewFormatter(mk Markup, lang, custom string, loc *time.Location) (*Formatter, error) {
	if lang != "en" {
		lang = "zh"
	}
	if loc == nil {
		loc = time.UTC
	}
	f := &Formatter{Markup: mk, Lang: lang, Location: loc, Now: time.Now}
	var err error
	f.fallback, err = template.New("default").Funcs(f.funcs()).Parse(DefaultTemplates[lang])
	if err != nil {
		return nil, fmt.Errorf("default template: %w", err)
	}
	f.tmpl = f.fallback
	if strings.TrimSpace(custom) != "" {
		f.tmpl, err = template.New("custom").Option("missingkey=zero").Funcs(f.funcs()).Parse(custom)
		if err != nil {
			return nil, fmt.Errorf("channel template: %w", err)
		}
	}
	return f, nil
}

func (f *Formatter) funcs() template.FuncMap {
	return template.FuncMap{
		"b":     func(s string) string { return f.Markup.Bold(s) },
		"link":  func(u, text string) string { return f.Markup.Link(u, text) },
		"code":  func(s string) string { return f.Markup.Code(s) },
		"esc":   func(s string) string { return f.Markup.Escape(s) },
		"upper": strings.ToUpper,
		"lower": strings.ToLower,
		"join":  strings.Join,
		"value": FormatValue,
	}
}

// Render renders m within lim. Large groups show as many alerts as fit and
// end with "… and N more alerts"; a single alert too long for the limit is
// cut on a UTF-8 boundary with "…(truncated)".
func (f *Formatter) Render(m *Message, lim Limit) (Text, error) {
	if m == nil || m.Data == nil {
		return Text{}, fmt.Errorf("message has no alert data")
	}
	alerts := sortedAlerts(m.Data.Alerts)
	base := f.view(m, alerts)
	t := Text{Title: f.title(m, alerts), Total: len(alerts)}
	render := func(n int) (string, error) {
		v := base
		v.Alerts = base.Alerts[:n]
		v.More = len(base.Alerts) - n
		return f.exec(&v, &t)
	}
	body, err := render(len(alerts))
	if err != nil {
		return t, err
	}
	t.Shown = len(alerts)
	if !lim.Fits(body) && len(alerts) > 1 {
		lo, hi := 1, len(alerts)-1 // largest n that fits, if any
		best, bestBody := 0, ""
		for lo <= hi {
			mid := (lo + hi) / 2
			s, err := render(mid)
			if err != nil {
				return t, err
			}
			if lim.Fits(s) {
				best, bestBody = mid, s
				lo = mid + 1
			} else {
				hi = mid - 1
			}
		}
		if best > 0 {
			body, t.Shown = bestBody, best
		} else {
			body, _ = render(1)
			t.Shown = 1
		}
	}
	if !lim.Fits(body) {
		body = lim.Truncate(body, f.truncMarker(), f.Markup.HTML)
		t.Truncated = true
	}
	t.Body = body
	return t, nil
}

func (f *Formatter) truncMarker() string {
	return strings.ReplaceAll("\n"+TruncatedMarker, "\n", f.Markup.Newline)
}

// Caption renders the short text that goes with a chart sent on its own
// (Part "chart"): the chart title, or the headline, plus the chart note.
// Body is what a message says: for PartChart (the text went out before) the
// chart's caption or why no chart follows, otherwise the rendered alert
// text. note reports a degradation worth recording (e.g. a template that
// failed and fell back to the default).
func (f *Formatter) Body(m *Message, lim Limit) (body, note string, err error) {
	if m.Part == PartChart {
		return f.Caption(m, lim), "", nil
	}
	t, err := f.Render(m, lim)
	return t.Body, t.Note, err
}

// Caption is the short text that goes with a chart sent on its own.
func (f *Formatter) Caption(m *Message, lim Limit) string {
	var s string
	switch {
	case m.Chart != nil && m.Chart.Title != "":
		s = fmt.Sprintf(words[f.Lang]["chart"], f.Markup.Escape(m.Chart.Title))
	case m.Data != nil:
		s = f.EscTitle(m)
	}
	if m.ChartNote != "" {
		s += f.Markup.Newline + "⚠️ " + f.Markup.Escape(m.ChartNote)
	}
	return lim.Truncate(s, "…", f.Markup.HTML)
}

// EscTitle is Title escaped for the markup, keeping the status brackets
// readable (for headers that interpret markup, like Teams TextBlocks).
func (f *Formatter) EscTitle(m *Message) string {
	if m == nil || m.Data == nil {
		return ""
	}
	alerts := sortedAlerts(m.Data.Alerts)
	status, _, _ := groupStatus(m, alerts)
	return statusEmoji(status) + " " + f.escHeadline(m, alerts)
}

// Title returns the plain headline of m, e.g. "🔥 [FIRING·critical] HighCPU".
func (f *Formatter) Title(m *Message) string {
	if m == nil || m.Data == nil {
		return ""
	}
	return f.title(m, sortedAlerts(m.Data.Alerts))
}

func (f *Formatter) exec(v *View, t *Text) (string, error) {
	var buf bytes.Buffer
	if err := f.tmpl.Execute(&buf, v); err != nil {
		if f.tmpl == f.fallback {
			return "", fmt.Errorf("template: %w", err)
		}
		// A custom template that fails on this alert must not lose it.
		t.Note = JoinNotes("custom template failed, default used: " + err.Error())
		buf.Reset()
		if err := f.fallback.Execute(&buf, v); err != nil {
			return "", fmt.Errorf("template: %w", err)
		}
	}
	s := strings.TrimSpace(buf.String())
	// Collapse runs of blank lines a template's conditionals leave behind.
	for strings.Contains(s, "\n\n\n") {
		s = strings.ReplaceAll(s, "\n\n\n", "\n\n")
	}
	if f.Markup.Newline != "\n" {
		s = strings.ReplaceAll(s, "\n", f.Markup.Newline)
	}
	return s, nil
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
	return fmt.Sprintf(words[lang]["alerts"], len(alerts))
}

// title is the unescaped headline with emoji.
func (f *Formatter) title(m *Message, alerts []amtemplate.Alert) string {
	status, _, _ := groupStatus(m, alerts)
	return statusEmoji(status) + " " + f.headline(m, alerts)
}

func (f *Formatter) headline(m *Message, alerts []amtemplate.Alert) string {
	w := words[f.Lang]
	status, firing, resolved := groupStatus(m, alerts)
	tag := w[status]
	if tag == "" {
		tag = strings.ToUpper(status)
	}
	if len(alerts) > 1 {
		var parts []string
		if firing > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", w["firing"], firing))
		}
		if resolved > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", w["resolved"], resolved))
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
func (f *Formatter) escHeadline(m *Message, alerts []amtemplate.Alert) string {
	h := f.headline(m, alerts)
	i := strings.Index(h, "] ")
	return "[" + f.Markup.Escape(h[1:i]) + "] " + f.Markup.Escape(h[i+2:])
}

func (f *Formatter) view(m *Message, alerts []amtemplate.Alert) View {
	esc := f.Markup.Escape
	status, firing, resolved := groupStatus(m, alerts)
	v := View{
		Lang: f.Lang, Status: status, Emoji: statusEmoji(status),
		Headline: f.escHeadline(m, alerts), Severity: esc(groupSeverity(m, alerts)),
		Receiver: esc(m.Data.Receiver), Digest: m.Digest, Card: f.Card,
		Compact:  m.Digest || len(alerts) > compactAbove,
		SameName: sameName(alerts),
		Total:    len(alerts), Firing: firing, Resolved: resolved,
		ChartNote: esc(m.ChartNote), Data: m.Data,
	}
	amURL := m.AlertmanagerURL
	if amURL == "" {
		amURL = m.Data.ExternalURL
	}
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
			av.StartsAt = a.StartsAt.In(f.Location).Format("2006-01-02 15:04:05 MST")
			end := now
			if av.IsResolved && !a.EndsAt.IsZero() {
				end = a.EndsAt
				av.EndsAt = a.EndsAt.In(f.Location).Format("15:04:05")
			}
			av.Duration = humanDuration(end.Sub(a.StartsAt), f.Lang)
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

// humanDuration prints 1h5m-style durations in the message language.
func humanDuration(d time.Duration, lang string) string {
	if d < 0 {
		d = 0
	}
	units := []struct {
		d      time.Duration
		zh, en string
	}{{24 * time.Hour, "天", "d"}, {time.Hour, "小时", "h"}, {time.Minute, "分", "m"}, {time.Second, "秒", "s"}}
	var parts []string
	for _, u := range units {
		if d >= u.d {
			n := int64(d / u.d)
			d -= time.Duration(n) * u.d
			if lang == "zh" {
				parts = append(parts, fmt.Sprintf("%d%s", n, u.zh))
			} else {
				parts = append(parts, fmt.Sprintf("%d%s", n, u.en))
			}
		}
		if len(parts) == 2 {
			break
		}
	}
	if len(parts) == 0 {
		if lang == "zh" {
			return "0秒"
		}
		return "0s"
	}
	sep := " "
	if lang == "zh" {
		sep = ""
	}
	return strings.Join(parts, sep)
}
