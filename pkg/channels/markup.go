package channels

import (
	"net/url"
	"regexp"
	"strings"
)

// Markup is one platform's text syntax: how to escape untrusted text (label
// values, annotations) and how to write the few constructs the templates
// use. Escaping matters: a label value such as `*prod*` or `<b>` must show
// as typed, not restyle the message, break the platform's parser (Telegram
// rejects bad HTML) or inject mentions.
//
// Each markup uses the platform's own escape syntax where it has one —
// backslashes on Discord, HTML entities in Telegram HTML, Feishu card
// markdown and Slack mrkdwn (&, < and >), no markdown at all for Teams
// (RichTextBlock text runs). WeCom and DingTalk document no escape, so there
// the few characters that would start a construct (a tag, bold, a link,
// inline code, a heading or quote at a line start) become look-alikes and
// everything else stays as typed. Slack has no escape for * _ ~ and `: they
// stay as typed (they can restyle a word, never link or mention anyone).
// Line breaks inside values are kept on every platform that shows them.
type Markup struct {
	// Name identifies the markup in errors and tests.
	Name string
	// Escape makes untrusted text literal.
	Escape func(string) string
	// Bold wraps already-escaped text.
	Bold func(string) string
	// Link writes a link; text is already escaped, u is a raw URL. Only
	// http and https URLs become links: anything else (javascript:, data:)
	// leaves the text alone.
	Link func(u, text string) string
	// Code writes inline code from raw text.
	Code func(string) string
	// Newline replaces "\n" in the rendered template (DingTalk needs two
	// trailing spaces to break a line).
	Newline string
	// HTML makes truncation keep tags balanced (Telegram, Teams).
	HTML bool
}

// SafeURL reports whether u may become a link in a message: an absolute
// http or https URL. Alertmanager's externalURL, generator URLs and
// annotations come from outside; javascript: or data: links must never
// reach a chat client.
func SafeURL(u string) bool {
	if u == "" || strings.ContainsAny(u, " \t\r\n") {
		return false
	}
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

// safeLink wraps a markup's link writer with the scheme check.
func safeLink(link func(u, text string) string) func(u, text string) string {
	return func(u, text string) string {
		if !SafeURL(u) {
			return text
		}
		return link(u, text)
	}
}

// markdownEscaper backslash-escapes the characters CommonMark treats as
// syntax, & included (an entity such as &amp; typed into a label must not
// turn into "&"); the inbox page renders CommonMark.
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`,
	"(", `\(`, ")", `\)`, "#", `\#`, "~", `\~`, "|", `\|`,
	"<", `\<`, ">", `\>`, "&", `\&`,
	"\r\n", "\n", "\r", "\n",
)

func escapeMarkdown(s string) string { return markdownEscaper.Replace(s) }

// The markups' fixed replacements, built once (a Replacer is costly to
// build and is used for every value of every message).
var (
	mdURLEscaper    = strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E")
	codeEscaper     = strings.NewReplacer("`", "'", "\n", " ")
	newlines        = strings.NewReplacer("\r\n", "\n", "\r", "\n")
	lineStarts      = strings.NewReplacer("#", "＃", ">", "＞")
	wecomLookalikes = strings.NewReplacer("<", "＜", "`", "ˋ", "[", "［", "](", "］(", "**", "∗∗")
	dingLookalikes  = strings.NewReplacer("<", "＜", "`", "ˋ", "[", "［", "](", "］(", "*", "∗")
	lookalikeCoder  = strings.NewReplacer("`", "ˋ", "\r\n", " ", "\n", " ", "\r", " ")
	hrefEscaper     = strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "%3C", ">", "%3E")
	slackURLEscaper = strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C")
	slackEscaper    = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r\n", "\n", "\r", "\n")
	slackCoder      = strings.NewReplacer("`", "'", "&", "&amp;", "<", "&lt;", ">", "&gt;", "\n", " ")
)

// mdURL makes a URL safe inside markdown's (…) link target.
func mdURL(u string) string { return mdURLEscaper.Replace(u) }

func mdLink(u, text string) string { return "[" + text + "](" + mdURL(u) + ")" }
func mdBold(s string) string       { return "**" + s + "**" }
func mdCode(s string) string       { return "`" + codeEscaper.Replace(s) + "`" }

// lineStartRE finds what starts a heading or a quote at the beginning of a
// line in the Chinese robots' markdown.
var lineStartRE = regexp.MustCompile(`(?m)^[ \t]*(#+[ \t]|>)`)

// lookalikes replaces the characters that would start a construct in a
// markdown dialect without an escape syntax (WeCom, DingTalk), and nothing
// else: a tag (<font>, <@userid>), bold (**, or * on DingTalk), a link or
// image ([ and the ]( that closes its text — a stray [ could otherwise pair
// with the ]( of the message's own links), inline code (`), a heading or
// quote at a line start.
func lookalikes(s string, singleStar bool) string {
	s = newlines.Replace(s)
	if strings.ContainsAny(s, "#>") {
		s = lineStartRE.ReplaceAllStringFunc(s, lineStarts.Replace)
	}
	if singleStar {
		return dingLookalikes.Replace(s)
	}
	return wecomLookalikes.Replace(s)
}

func lookalikeCode(s string) string { return "`" + lookalikeCoder.Replace(s) + "`" }

// discordEscaper backslash-escapes Discord markdown: emphasis, code,
// spoilers, masked links, headings and quotes, and the < and @ that start
// mentions (allowed_mentions is the real guard against pings; the escape
// keeps @everyone and <@id> in a label showing as typed).
var discordEscaper = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "~", `\~`, "|", `\|`,
	"[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`, "#", `\#`, "@", `\@`,
	"\r\n", "\n", "\r", "\n",
)

var discordListRE = regexp.MustCompile(`(?m)^([ \t]*)([-+])`)

func escapeDiscord(s string) string {
	s = discordEscaper.Replace(s)
	if strings.ContainsAny(s, "-+") {
		s = discordListRE.ReplaceAllString(s, `$1\$2`)
	}
	return s
}

// larkEscaper writes Feishu card markdown's special characters as the HTML
// entities Feishu documents for showing them literally.
var larkEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "*", "&#42;", "_", "&#95;", "~", "&#126;",
	"`", "&#96;", "[", "&#91;", "]", "&#93;", "#", "&#35;", `\`, "&#92;",
	"\r\n", "\n", "\r", "\n",
)

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\r\n", "\n", "\r", "\n")

func htmlEscape(s string) string { return htmlEscaper.Replace(s) }

func htmlLink(u, text string) string {
	return `<a href="` + hrefEscaper.Replace(u) + `">` + text + "</a>"
}

// Markups of the supported platforms.
var (
	// CommonMark is used by the inbox channel (rendered by a web page).
	CommonMark = Markup{Name: "commonmark", Escape: escapeMarkdown, Bold: mdBold, Link: safeLink(mdLink), Code: mdCode, Newline: "\n"}

	// WeComMarkdown is the WeCom robot's markdown subset: **bold**,
	// [links](url), `code`, # headings, > quotes, <font> and <@userid>.
	// WeCom documents no escape syntax (backslashes show verbatim), so
	// those constructs are broken with look-alikes (＜ ∗∗ ［ ］( ˋ ＃ ＞) and
	// nothing else is touched.
	WeComMarkdown = Markup{Name: "wecom", Escape: func(s string) string { return lookalikes(s, false) },
		Bold: mdBold, Link: safeLink(mdLink), Code: lookalikeCode, Newline: "\n"}

	// DingTalkMarkdown is DingTalk's markdown, which also has *italic* and
	// ![images](url); single newlines collapse unless the line ends with two
	// spaces.
	DingTalkMarkdown = Markup{Name: "dingtalk", Escape: func(s string) string { return lookalikes(s, true) },
		Bold: mdBold, Link: safeLink(mdLink), Code: lookalikeCode, Newline: "  \n"}

	// LarkMarkdown is the card "markdown" element of Feishu/Lark: special
	// characters are written as HTML entities, which Feishu shows as the
	// characters.
	LarkMarkdown = Markup{Name: "lark_md", Escape: larkEscaper.Replace, Bold: mdBold, Link: safeLink(mdLink),
		Code: mdCode, Newline: "\n"}

	// SlackMrkdwn escapes the three control characters Slack documents
	// (&, <, >) as entities; * _ ~ and ` have no escape and stay as typed.
	SlackMrkdwn = Markup{Name: "slack", Escape: slackEscaper.Replace,
		Bold: func(s string) string { return "*" + s + "*" },
		Link: safeLink(func(u, text string) string {
			return "<" + slackURLEscaper.Replace(u) + "|" + text + ">"
		}),
		Code: func(s string) string {
			return "`" + slackCoder.Replace(s) + "`"
		},
		Newline: "\n"}

	// TelegramHTML is Telegram's parse_mode=HTML.
	TelegramHTML = Markup{Name: "telegram", Escape: htmlEscape,
		Bold:    func(s string) string { return "<b>" + s + "</b>" },
		Link:    safeLink(htmlLink),
		Code:    func(s string) string { return "<code>" + htmlEscape(s) + "</code>" },
		Newline: "\n", HTML: true}

	// DiscordMarkdown is Discord's markdown with backslash escapes.
	DiscordMarkdown = Markup{Name: "discord", Escape: escapeDiscord, Bold: mdBold, Link: safeLink(mdLink),
		Code: mdCode, Newline: "\n"}

	// TeamsText is the text the Teams notifier turns into Adaptive Card
	// RichTextBlocks: a small HTML (<b>, <a href>, <code>, entities) that
	// becomes TextRuns, which Teams shows without any markdown parsing —
	// the text needs no escape beyond the HTML's own, `_` and `*` stay
	// as typed, and every line break is kept.
	TeamsText = Markup{Name: "teams", Escape: htmlEscape,
		Bold:    func(s string) string { return "<b>" + s + "</b>" },
		Link:    safeLink(htmlLink),
		Code:    func(s string) string { return "<code>" + htmlEscape(s) + "</code>" },
		Newline: "\n", HTML: true}

	// PlainText is for the generic webhook's "text" field.
	PlainText = Markup{Name: "plain", Escape: newlines.Replace,
		Bold: func(s string) string { return s },
		Link: safeLink(func(u, text string) string { return text + ": " + u }),
		Code: func(s string) string { return s }, Newline: "\n"}
)
