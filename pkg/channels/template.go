package channels

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/i18n"
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
