package channels

import "strings"

// Markup is one platform's text syntax: how to escape untrusted text (label
// values, annotations) and how to write the few constructs the templates
// use. Escaping matters: a label value such as `*prod*` or `<b>` must show
// as typed, not restyle the message, break the platform's parser (Telegram
// rejects bad HTML) or inject mentions.
type Markup struct {
	// Name identifies the markup in errors and tests.
	Name string
	// Escape makes untrusted text literal.
	Escape func(string) string
	// Bold wraps already-escaped text.
	Bold func(string) string
	// Link writes a link; text is already escaped, u is a raw URL.
	Link func(u, text string) string
	// Code writes inline code from raw text.
	Code func(string) string
	// Newline replaces "\n" in the rendered template (DingTalk needs two
	// trailing spaces, Adaptive Cards a blank line).
	Newline string
	// HTML makes truncation keep tags balanced.
	HTML bool
}

// markdownEscaper backslash-escapes the characters CommonMark-like dialects
// treat as syntax, and neutralises angle brackets, which several dialects
// read as HTML (<font>, <at>, <@userid>).
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`,
	"(", `\(`, ")", `\)`, "#", `\#`, "~", `\~`, "|", `\|`,
	"<", "&lt;", ">", "&gt;",
	"\r\n", " ", "\r", " ",
)

func escapeMarkdown(s string) string { return markdownEscaper.Replace(s) }

// mdURL makes a URL safe inside markdown's (…) link target.
func mdURL(u string) string {
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E").Replace(u)
}

func mdLink(u, text string) string { return "[" + text + "](" + mdURL(u) + ")" }
func mdBold(s string) string       { return "**" + s + "**" }
func mdCode(s string) string {
	return "`" + strings.NewReplacer("`", "'", "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s) + "`"
}

// Markups of the supported platforms.
var (
	// CommonMark is used by the inbox channel (rendered by a web page).
	CommonMark = Markup{Name: "commonmark", Escape: escapeMarkdown, Bold: mdBold, Link: mdLink, Code: mdCode, Newline: "\n"}

	// WeComMarkdown is the WeCom robot's markdown subset. Neither WeCom nor
	// DingTalk documents an escape syntax (backslashes show up verbatim), so
	// the characters that would start syntax — bold, links, code, headings,
	// quotes, <font> and <@userid> tags — are replaced by look-alike
	// full-width forms. The text stays readable and cannot restyle the
	// message or mention anyone.
	WeComMarkdown = Markup{Name: "wecom", Escape: lookalike, Bold: mdBold, Link: mdLink, Code: lookalikeCode, Newline: "\n"}

	// DingTalkMarkdown is DingTalk's markdown; single newlines collapse
	// unless the line ends with two spaces.
	DingTalkMarkdown = Markup{Name: "dingtalk", Escape: lookalike, Bold: mdBold, Link: mdLink, Code: lookalikeCode, Newline: "  \n"}

	// LarkMarkdown is the card "markdown" element of Feishu/Lark, which
	// understands HTML entities for its special characters.
	LarkMarkdown = Markup{Name: "lark_md", Escape: strings.NewReplacer(
		"&", "&amp;", "<", "&lt;", ">", "&gt;", "*", "&#42;", "_", "&#95;", "~", "&sim;",
		"`", "&#96;", "[", "&#91;", "]", "&#93;",
		"\r\n", " ", "\r", " ").Replace,
		Bold: mdBold, Link: mdLink, Code: mdCode, Newline: "\n"}

	// SlackMrkdwn escapes the three control characters Slack documents.
	SlackMrkdwn = Markup{Name: "slack", Escape: strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace,
		Bold: func(s string) string { return "*" + s + "*" },
		Link: func(u, text string) string {
			return "<" + strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C").Replace(u) + "|" + text + ">"
		},
		Code: func(s string) string {
			return "`" + strings.NewReplacer("`", "'", "&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s) + "`"
		},
		Newline: "\n"}

	// TelegramHTML is Telegram's parse_mode=HTML.
	TelegramHTML = Markup{Name: "telegram", Escape: htmlEscape,
		Bold: func(s string) string { return "<b>" + s + "</b>" },
		Link: func(u, text string) string {
			return `<a href="` + strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "%3C", ">", "%3E").Replace(u) + `">` + text + "</a>"
		},
		Code:    func(s string) string { return "<code>" + htmlEscape(s) + "</code>" },
		Newline: "\n", HTML: true}

	// DiscordMarkdown also defuses @everyone/@here (allowed_mentions is the
	// real guard; this keeps the text readable).
	DiscordMarkdown = Markup{Name: "discord", Escape: func(s string) string {
		return strings.NewReplacer("@everyone", "@\u200beveryone", "@here", "@\u200bhere").Replace(escapeMarkdown(s))
	}, Bold: mdBold, Link: mdLink, Code: mdCode, Newline: "\n"}

	// TeamsText is the Adaptive Card TextBlock markdown subset; a single
	// newline does not break a line there. Backslash escapes render
	// differently across Teams clients (mobile showed the backslashes), so
	// syntax characters get look-alike forms as for WeCom.
	TeamsText = Markup{Name: "teams", Escape: lookalike, Bold: mdBold, Link: mdLink, Code: lookalikeCode, Newline: "\n\n"}

	// PlainText is for the generic webhook's "text" field.
	PlainText = Markup{Name: "plain", Escape: func(s string) string { return s },
		Bold: func(s string) string { return s },
		Link: func(u, text string) string { return text + ": " + u },
		Code: func(s string) string { return s }, Newline: "\n"}
)

var lookalikeReplacer = strings.NewReplacer(
	"*", "∗", "`", "ˋ", "[", "［", "]", "］", "<", "＜", ">", "＞", "#", "＃", "~", "～",
	"\r\n", " ", "\r", " ", "\n", " ",
)

func lookalike(s string) string { return lookalikeReplacer.Replace(s) }

func lookalikeCode(s string) string { return "`" + lookalike(s) + "`" }

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func htmlEscape(s string) string { return htmlEscaper.Replace(s) }
