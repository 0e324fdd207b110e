package telegram

import (
	"html"
	"regexp"
	"strings"

	"github.com/alertchart/alertchart/test/fakes/rendered"
)

var anchorRE = regexp.MustCompile(`<a href="([^"]*)">(.*?)</a>`)
var tagRE2 = regexp.MustCompile(`</?[a-z-]+[^>]*>`)

// HTML shows a parse_mode=HTML text the way Telegram does: links applied,
// other tags as formatting, entities as their characters.
func HTML(s string) rendered.Message {
	var m rendered.Message
	s = anchorRE.ReplaceAllStringFunc(s, func(x string) string {
		g := anchorRE.FindStringSubmatch(x)
		text := html.UnescapeString(tagRE2.ReplaceAllString(g[2], ""))
		m.Links = append(m.Links, rendered.Link{Text: text, URL: html.UnescapeString(g[1])})
		return g[2]
	})
	m.Text = html.UnescapeString(tagRE2.ReplaceAllString(s, ""))
	return m
}

// Render shows accepted messages: texts and captions, photos.
func Render(msgs []Message) rendered.Message {
	var out rendered.Message
	for _, m := range msgs {
		r := HTML(m.Text)
		if m.Method == "sendPhoto" {
			r.Images = append(r.Images, "photo")
		}
		out.Add(r)
	}
	out.Text = strings.TrimSpace(out.Text)
	return out
}
