package channels

import (
	"bytes"
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/i18n"
	"github.com/alertchart/alertchart/pkg/series"
)

// DefaultTemplate is the built-in message body (templates/default.tmpl):
// one layout for every platform and language, its words from the i18n
// catalogue. Platform syntax comes from the template functions b (bold),
// link and code, and every value in the view is already escaped for the
// platform's markup. A channel's Template setting replaces its "message"
// template; it sees the same View and functions and may call the
// default's "alert" and "links" templates.
//
//go:embed templates/default.tmpl
var DefaultTemplate string

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
func NewFormatter(mk Markup, lang, customText string, loc *time.Location) (*Formatter, error) {
	lang = i18n.Lang(lang)
	if loc == nil {
		loc = time.UTC
	}
	f := &Formatter{Markup: mk, Lang: lang, Location: loc, Now: time.Now}
	set, err := template.New("default.tmpl").Funcs(f.funcs()).Parse(DefaultTemplate)
	if err != nil {
		return nil, fmt.Errorf("default template: %w", err)
	}
	f.fallback = set.Lookup("message")
	f.tmpl = f.fallback
	if strings.TrimSpace(customText) != "" {
		custom, err := set.Clone()
		if err == nil {
			f.tmpl, err = custom.New("custom").Option("missingkey=zero").Parse(customText)
		}
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
		"t":     func(id string, kv ...any) string { return i18n.T(f.Lang, id, kv...) },
	}
}

// fieldCap is how many characters each free-text field (a description, a
// summary, a label value) keeps when a message must shrink: long enough
// to read, short enough that a group of alerts still fits.
const fieldCap = 300

// minFieldCap is the shortest a field is cut to before the message itself
// is cut.
const minFieldCap = 16

// Render renders m within lim. A message that does not fit is shrunk
// body first, never by cutting the header or the links off the end:
// long fields (descriptions, summaries, label values) are shortened to
// fieldCap characters ending in "…"; large groups then show as many alerts
// as fit and end with "… and N more alerts"; a single alert still too long
// has its fields shortened further. Only when even that fails (a tiny
// limit, a custom template printing raw data) is the text itself cut, on a
// markup token boundary, ending with "…(truncated)".
func (f *Formatter) Render(m *Message, lim Limit) (Text, error) {
	if m == nil || m.Data == nil {
		return Text{}, fmt.Errorf("message has no alert data")
	}
	alerts := sortedAlerts(m.Data.Alerts)
	t := Text{Title: f.plainTitle(m, alerts), Total: len(alerts)}
	views := map[int]View{}
	viewFor := func(cap int) View {
		v, ok := views[cap]
		if !ok {
			v = f.view(m, alerts, cap)
			views[cap] = v
		}
		return v
	}
	render := func(n, cap int) (string, error) {
		v := viewFor(cap)
		v.Alerts = v.Alerts[:n]
		v.More = len(alerts) - n
		return f.exec(&v, &t)
	}
	// largest returns the largest x in [lo, hi] for which ok(x) holds
	// (ok is monotonic), or lo-1.
	largest := func(lo, hi int, ok func(int) (bool, error)) (int, error) {
		best := lo - 1
		for lo <= hi {
			mid := lo + (hi-lo)/2
			fits, err := ok(mid)
			if err != nil {
				return best, err
			}
			if fits {
				best, lo = mid, mid+1
			} else {
				hi = mid - 1
			}
		}
		return best, nil
	}
	fitsWith := func(n int) func(cap int) (bool, error) {
		return func(cap int) (bool, error) {
			s, err := render(n, cap)
			return lim.Fits(s), err
		}
	}
	n := len(alerts)
	body, err := render(n, 0)
	if err != nil || lim.Fits(body) {
		t.Body, t.Shown = body, n
		return t, err
	}
	t.Truncated = true
	longest := longestField(m, alerts)
	cap := 0 // no shortening
	if longest > fieldCap {
		// Every alert, each field as long as the limit allows.
		if fits, err := fitsWith(n)(fieldCap); err != nil {
			return t, err
		} else if fits {
			best, err := largest(fieldCap, longest, fitsWith(n))
			if err != nil {
				return t, err
			}
			t.Body, _ = render(n, best)
			t.Shown = n
			return t, nil
		}
		cap = fieldCap
	}
	// As many alerts as fit.
	if n > 1 {
		shown, err := largest(1, n-1, func(k int) (bool, error) { return fitsWith(k)(cap) })
		if err != nil {
			return t, err
		}
		if shown >= 1 {
			t.Body, _ = render(shown, cap)
			t.Shown = shown
			return t, nil
		}
	}
	// One alert: shorter fields than tried so far.
	t.Shown = 1
	hi := longest - 1
	if cap > 0 {
		hi = min(cap, longest) - 1
	}
	if hi >= minFieldCap {
		best, err := largest(minFieldCap, hi, fitsWith(1))
		if err != nil {
			return t, err
		}
		if best >= minFieldCap {
			t.Body, _ = render(1, best)
			return t, nil
		}
	}
	body, err = render(1, min(minFieldCap, max(longest, 1)))
	if err != nil {
		return t, err
	}
	t.Body = lim.TruncateMarkup(body, f.truncMarker(), f.Markup)
	return t, nil
}

// longestField is the length in characters of the longest text the view
// would show for m.
func longestField(m *Message, alerts []amtemplate.Alert) int {
	n := max(len([]rune(m.ChartNote)), len([]rune(m.Data.Receiver)))
	for _, a := range alerts {
		for _, kv := range []amtemplate.KV{a.Labels, a.Annotations} {
			for _, v := range kv {
				n = max(n, len([]rune(v)))
			}
		}
	}
	if c := m.Chart; c != nil {
		n = max(n, len([]rune(c.Title)), len([]rune(c.Query)))
		for _, s := range c.Series {
			n = max(n, len([]rune(statName(s))))
		}
	}
	for _, v := range m.Data.CommonLabels {
		n = max(n, len([]rune(v)))
	}
	return n
}

// shorten cuts s to at most cap characters, the last one "…" (cap 0: no
// limit). Cutting the raw text before escaping it means no escape sequence
// or entity is ever split.
func shorten(s string, cap int) string {
	if cap <= 0 || utf8.RuneCountInString(s) <= cap {
		return s
	}
	i, n := 0, 0
	for j := range s {
		if n == cap-1 {
			i = j
			break
		}
		n++
	}
	return strings.TrimRight(s[:i], " \n\t") + "…"
}

func (f *Formatter) truncMarker() string {
	return strings.ReplaceAll("\n"+TruncatedMarker, "\n", f.Markup.Newline)
}

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

// Named returns the fingerprints of the alerts the text of m rendered
// within lim names (see Fitter): the first Text.Shown of the sorted alerts,
// the ones Render keeps when it must shrink. A PartChart message (a
// caption or a note) names none.
func (f *Formatter) Named(m *Message, lim Limit) ([]string, error) {
	if m == nil || m.Data == nil || m.Part == PartChart {
		return nil, nil
	}
	t, err := f.Render(m, lim)
	if err != nil {
		return nil, err
	}
	alerts := sortedAlerts(m.Data.Alerts)
	out := make([]string, 0, t.Shown)
	for _, a := range alerts[:min(t.Shown, len(alerts))] {
		out = append(out, a.Fingerprint)
	}
	return out, nil
}

// ImageReserve is what a Fitter leaves free for the image link and chart
// note a combined message may add to its text once the chart is hosted
// (Named runs before the image is): erring short only means an alert is
// named again in the next message, never that it is recorded unnamed.
const ImageReserve = 1024

// Caption is the short text that goes with a chart sent on its own.
func (f *Formatter) Caption(m *Message, lim Limit) string {
	var s string
	switch {
	case m.Chart != nil && m.Chart.Title != "":
		s = "📈 " + f.Markup.Escape(m.Chart.Title)
	case m.Data != nil:
		s = f.EscTitle(m)
	}
	if m.ChartNote != "" {
		s += f.Markup.Newline + "⚠️ " + f.Markup.Escape(m.ChartNote)
	}
	return lim.TruncateMarkup(s, "…", f.Markup)
}

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
