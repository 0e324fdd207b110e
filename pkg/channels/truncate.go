package channels

import (
	"regexp"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Unit says how a platform counts the length of a text.
type Unit int

const (
	// Bytes of UTF-8 (WeCom, DingTalk, Feishu, Teams).
	Bytes Unit = iota
	// Runes, i.e. Unicode code points (Discord, Slack).
	Runes
	// UTF16 code units.
	UTF16
	// UTF16Text counts UTF-16 code units of the visible text of HTML:
	// tags count nothing and an entity counts as one character. Telegram
	// measures captions and messages this way ("after entities parsing").
	UTF16Text
)

// Limit is a platform's size limit for one text.
type Limit struct {
	Max  int
	Unit Unit
}

// Len measures s in the limit's unit.
func (l Limit) Len(s string) int {
	switch l.Unit {
	case Runes:
		return utf8.RuneCountInString(s)
	case UTF16Text:
		return utf16Len(visibleText(s))
	case UTF16:
		return utf16Len(s)
	default:
		return len(s)
	}
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if w := utf16.RuneLen(r); w > 0 {
			n += w
		} else {
			n++ // invalid rune, sent as U+FFFD
		}
	}
	return n
}

// visibleText strips tags and turns entities into one placeholder each.
func visibleText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			if j := strings.IndexByte(s[i:], '>'); j >= 0 {
				i += j + 1
				continue
			}
		case '&':
			if j := strings.IndexByte(s[i:], ';'); j > 0 && j < 10 {
				b.WriteByte('x')
				i += j + 1
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// Fits reports whether s is within the limit (a zero Max means no limit).
func (l Limit) Fits(s string) bool { return l.Max <= 0 || l.Len(s) <= l.Max }

// Scale returns the limit shrunk to the given fraction, used after a
// platform said a message was too big.
func (l Limit) Scale(f float64) Limit {
	l.Max = int(float64(l.Max) * f)
	if l.Max < 64 {
		l.Max = 64
	}
	return l
}

// TruncatedMarker ends a text that was cut to fit a platform's limit.
const TruncatedMarker = "…(truncated)"

// TruncateBytes cuts s to at most max bytes, on a UTF-8 boundary, ending
// with marker (counted in max).
func TruncateBytes(s string, max int, marker string) string {
	return Limit{Max: max, Unit: Bytes}.Truncate(s, marker, false)
}

// Truncate cuts s so that it fits the limit, ending with marker. It never
// splits a UTF-8 sequence; it prefers to cut at a line break when one is
// close, so markup on earlier lines stays intact. With html set, it never
// cuts inside a tag or an entity and closes the tags left open (Telegram
// rejects unbalanced HTML).
func (l Limit) Truncate(s, marker string, html bool) string {
	if l.Fits(s) {
		return s
	}
	budget := l.Max - l.Len(marker)
	if budget <= 0 {
		return truncateRunes(marker, l)
	}
	if html {
		return truncateHTML(s, marker, l, budget)
	}
	// Longest prefix within budget.
	n, cut := 0, 0
	for i, r := range s {
		w := l.Len(string(r))
		if n+w > budget {
			break
		}
		n += w
		cut = i + utf8.RuneLen(r)
	}
	prefix := s[:cut]
	if nl := strings.LastIndexByte(prefix, '\n'); nl > 0 && nl >= len(prefix)*3/4 {
		prefix = prefix[:nl+1]
	}
	return prefix + marker
}

// TruncateMarkup cuts text written in mk's markup so that it fits the
// limit, ending with marker, without ever splitting a markup token: an
// entity (&lt;), a backslash escape (\*), a tag or Slack link (<…>), a
// markdown link ([text](url)) goes whole or not at all, HTML tags are
// closed and an open bold span is closed.
func (l Limit) TruncateMarkup(s, marker string, mk Markup) string {
	if l.Fits(s) {
		return s
	}
	budget := l.Max - l.Len(marker)
	if budget <= 0 {
		return truncateRunes(marker, l)
	}
	if mk.HTML {
		return truncateHTML(s, marker, l, budget)
	}
	return truncateTokens(s, marker, l, budget, boldDelimiter(mk), mk.Escape != nil && mk.Escape(`\`) == `\\`)
}

// boldDelimiter is the markup's bold delimiter when it can be told apart
// from escaped text (** on markdown dialects), else "".
func boldDelimiter(mk Markup) string {
	if mk.Bold == nil || mk.Escape == nil {
		return ""
	}
	open, close, ok := strings.Cut(mk.Bold("\x00"), "\x00")
	if !ok || open == "" || open != close || mk.Escape(open) == open {
		return ""
	}
	return open
}

var entityRE = regexp.MustCompile(`^&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,8});`)

// tokenEnd returns the end of the markup token starting at s[i]; a
// backslash escapes the next character when backslash is set.
func tokenEnd(s string, i int, bold string, backslash bool) int {
	rest := s[i:]
	switch {
	case bold != "" && strings.HasPrefix(rest, bold):
		return i + len(bold)
	case rest[0] == '&':
		if m := entityRE.FindString(rest); m != "" {
			return i + len(m)
		}
	case rest[0] == '\\' && backslash && len(rest) > 1:
		_, w := utf8.DecodeRuneInString(rest[1:])
		return i + 1 + w
	case rest[0] == '<':
		if j := strings.IndexAny(rest, ">\n"); j > 0 && j < 4096 && rest[j] == '>' {
			return i + j + 1
		}
	case rest[0] == '[':
		if j := linkMiddle(rest, backslash); j > 0 && j < 4096 && !strings.Contains(rest[:j], "\n") {
			if k := strings.IndexAny(rest[j:], ")\n"); k > 0 && j+k < 8192 && rest[j+k] == ')' {
				return i + j + k + 1
			}
		}
	}
	_, w := utf8.DecodeRuneInString(rest)
	return i + w
}

// linkMiddle finds the "](" of a markdown link starting at s[0], skipping
// escaped brackets, or returns -1.
func linkMiddle(s string, backslash bool) int {
	for from := 1; from < len(s); {
		j := strings.Index(s[from:], "](")
		if j < 0 {
			return -1
		}
		j += from
		if !backslash || (j-len(strings.TrimRight(s[:j], `\`)))%2 == 0 {
			return j
		}
		from = j + 1
	}
	return -1
}

// truncateTokens keeps whole tokens within budget, preferring to end at a
// line break near the end, and closes an open bold span.
func truncateTokens(s, marker string, l Limit, budget int, bold string, backslash bool) string {
	var (
		n       int
		cut     int
		open    bool
		nlCut   = -1
		nlOpen  bool
		closing = l.Len(bold)
	)
	for i := 0; i < len(s); {
		j := tokenEnd(s, i, bold, backslash)
		tok := s[i:j]
		nextOpen := open
		if bold != "" && tok == bold {
			nextOpen = !open
		}
		need := n + l.Len(tok)
		if nextOpen {
			need += closing
		}
		if need > budget {
			break
		}
		n += l.Len(tok)
		open, cut, i = nextOpen, j, j
		if tok == "\n" {
			nlCut, nlOpen = cut, open
		}
	}
	if nlCut > 0 && nlCut >= cut*3/4 {
		cut, open = nlCut, nlOpen
	}
	out := s[:cut]
	if open {
		out = strings.TrimRight(out, " \n") + bold
	}
	return out + marker
}

func truncateRunes(s string, l Limit) string {
	n, cut := 0, 0
	for i, r := range s {
		w := l.Len(string(r))
		if n+w > l.Max {
			break
		}
		n += w
		cut = i + utf8.RuneLen(r)
	}
	return s[:cut]
}

// truncateHTML cuts Telegram-style HTML: whole tags and entities only, open
// tags closed at the end. Closing tags are counted in the budget.
func truncateHTML(s, marker string, l Limit, budget int) string {
	var (
		stack []string
		out   strings.Builder
		n     int
	)
	closing := func() string {
		var b strings.Builder
		for i := len(stack) - 1; i >= 0; i-- {
			b.WriteString("</" + stack[i] + ">")
		}
		return b.String()
	}
	lastNL := -1 // output length and stack depth at the last newline
	var lastNLStack []string
	i := 0
	for i < len(s) {
		var tok string
		switch s[i] {
		case '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				tok = s[i:]
			} else {
				tok = s[i : i+j+1]
			}
		case '&':
			j := strings.IndexByte(s[i:], ';')
			if j > 0 && j < 10 {
				tok = s[i : i+j+1]
			} else {
				tok = "&"
			}
		default:
			_, w := utf8.DecodeRuneInString(s[i:])
			tok = s[i : i+w]
		}
		isTag := strings.HasPrefix(tok, "<")
		var name string
		closingTag := false
		if isTag {
			name = strings.TrimPrefix(strings.Trim(tok, "<>/"), "/")
			if sp := strings.IndexAny(name, " \t\n"); sp >= 0 {
				name = name[:sp]
			}
			closingTag = strings.HasPrefix(tok, "</")
		}
		extra := 0
		if isTag && !closingTag {
			extra = l.Len("</" + name + ">")
		}
		if n+l.Len(tok)+extra+l.Len(closing()) > budget && !closingTag {
			break
		}
		out.WriteString(tok)
		n += l.Len(tok)
		if isTag {
			if closingTag {
				if len(stack) > 0 && stack[len(stack)-1] == name {
					stack = stack[:len(stack)-1]
				}
			} else {
				stack = append(stack, name)
			}
		}
		if tok == "\n" {
			lastNL = out.Len()
			lastNLStack = append(lastNLStack[:0], stack...)
		}
		i += len(tok)
	}
	res := out.String()
	if lastNL > 0 && lastNL >= len(res)*3/4 {
		res = res[:lastNL]
		stack = lastNLStack
	}
	return res + closing() + marker
}
