// Package rendered is what a chat user sees of a message: its text with
// the platform's markup applied and its escapes undone, its links, images
// and mentions. Each platform fake renders what it accepted the way the
// platform does (the Render functions in test/fakes/<platform>); Check
// looks for what a user should never see: escape codes, look-alike
// characters where the platform has a real escape, a cut-off entity, a
// link that is not http(s), a missing Silence link.
package rendered

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// Link is a link as shown: its text and where it goes.
type Link struct{ Text, URL string }

// Message is one rendered chat message (or the messages of one send).
type Message struct {
	Text     string
	Links    []Link
	Images   []string
	Mentions []string
}

// Add appends another message of the same send (a WeCom image after its
// text, a Telegram photo after a long text).
func (m *Message) Add(o Message) {
	if o.Text != "" {
		if m.Text != "" {
			m.Text += "\n\n"
		}
		m.Text += o.Text
	}
	m.Links = append(m.Links, o.Links...)
	m.Images = append(m.Images, o.Images...)
	m.Mentions = append(m.Mentions, o.Mentions...)
}

// String is the golden-file form: the text, then the links, images and
// mentions, one per line.
func (m Message) String() string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(m.Text))
	b.WriteString("\n\n----\n")
	for _, l := range m.Links {
		fmt.Fprintf(&b, "link: %s -> %s\n", l.Text, l.URL)
	}
	for _, i := range m.Images {
		if strings.HasPrefix(i, "http://") || strings.HasPrefix(i, "https://") {
			i = "<hosted chart URL>" // presigned: changes with every run
		}
		fmt.Fprintf(&b, "image: %s\n", i)
	}
	for _, p := range m.Mentions {
		fmt.Fprintf(&b, "mention: %s\n", p)
	}
	return b.String()
}

// Expect says what a message must and must not show.
type Expect struct {
	// RealEscape: the platform has an escape syntax, so no look-alike
	// character may stand in for a typed one.
	RealEscape bool
	// Literal texts must show exactly as typed (label values).
	Literal []string
	// Typed is raw text from the alert that itself looks like an escape
	// code (a label holding "&amp;"); it is not counted as one.
	Typed []string
	// Silence is the prefix of the Silence link the message must carry.
	Silence string
}

// LookAlikes are the stand-ins used where a platform has no escape.
const LookAlikes = "∗［］＜＞ˋ＃～∼\u200b"

var (
	entityRE      = regexp.MustCompile(`&(?:[a-zA-Z][a-zA-Z0-9]{1,8}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});`)
	splitEntityRE = regexp.MustCompile(`&#?[a-zA-Z0-9]{1,8}(?:…|$|\n)`)
	backslashRE   = regexp.MustCompile(`\\[!-/:-@\[-` + "`" + `{-~]`)
)

// Check reports what the user would see wrong.
func Check(t testing.TB, where string, m Message, e Expect) {
	t.Helper()
	text := m.Text
	for _, typed := range e.Typed {
		text = strings.ReplaceAll(text, typed, " ")
	}
	if s := entityRE.FindString(text); s != "" {
		t.Errorf("%s: shows the escape code %q", where, s)
	}
	if s := splitEntityRE.FindString(text); s != "" {
		t.Errorf("%s: shows a cut entity %q", where, s)
	}
	if s := backslashRE.FindString(text); s != "" {
		t.Errorf("%s: shows the backslash escape %q", where, s)
	}
	if e.RealEscape {
		if i := strings.IndexAny(m.Text, LookAlikes); i >= 0 {
			t.Errorf("%s: shows a look-alike %q where the platform has a real escape:\n%s", where, []rune(m.Text[i:])[0], m.Text)
		}
	}
	for _, l := range e.Literal {
		if !strings.Contains(m.Text, l) {
			t.Errorf("%s: %q does not show as typed:\n%s", where, l, m.Text)
		}
	}
	silence := false
	for _, l := range m.Links {
		if !strings.HasPrefix(l.URL, "http://") && !strings.HasPrefix(l.URL, "https://") {
			t.Errorf("%s: link %q to %q", where, l.Text, l.URL)
		}
		silence = silence || e.Silence != "" && strings.HasPrefix(l.URL, e.Silence) && strings.TrimSpace(l.Text) != ""
	}
	if e.Silence != "" && !silence {
		t.Errorf("%s: no Silence link:\n%s", where, m)
	}
}

// Markdown link, bold and mention syntax shared by the markdown dialects.
var (
	mdImageRE = regexp.MustCompile(`!\[([^\]\n]*)\]\(([^)\s]+)\)`)
	mdLinkRE  = regexp.MustCompile(`(^|[^\\])\[([^\]\n]*)\]\(([^)\s]+)\)`)
	mdBoldRE  = regexp.MustCompile(`\*\*(.+?)\*\*`)
)

// Markdown renders the common markdown constructs: images, links, bold.
// Platform renderers undo their own escapes before or after as the
// platform does.
func Markdown(s string) Message {
	var m Message
	s = mdImageRE.ReplaceAllStringFunc(s, func(x string) string {
		g := mdImageRE.FindStringSubmatch(x)
		m.Images = append(m.Images, g[2])
		return ""
	})
	s = mdLinkRE.ReplaceAllStringFunc(s, func(x string) string {
		g := mdLinkRE.FindStringSubmatch(x)
		m.Links = append(m.Links, Link{Text: g[2], URL: g[3]})
		return g[1] + g[2]
	})
	m.Text = mdBoldRE.ReplaceAllString(s, "$1")
	return m
}
