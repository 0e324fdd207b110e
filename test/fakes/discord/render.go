package discord

import (
	"encoding/json"
	"regexp"
	"sort"

	"github.com/alertchart/alertchart/test/fakes/rendered"
)

var (
	escapeRE  = regexp.MustCompile(`\\([^0-9A-Za-z\s])`)
	mentionRE = regexp.MustCompile(`<@([0-9]+)>`)
)

// Markdown shows Discord markdown the way Discord does: links and bold
// applied, then backslash escapes undone.
func Markdown(s string) rendered.Message {
	m := rendered.Markdown(s)
	m.Text = escapeRE.ReplaceAllString(m.Text, "$1")
	for i := range m.Links {
		m.Links[i].Text = escapeRE.ReplaceAllString(m.Links[i].Text, "$1")
	}
	return m
}

// Render shows an execution: the content's mentions, the embed's title,
// description and image, uploaded files.
func Render(m Message) rendered.Message {
	var v struct {
		Content string `json:"content"`
		Embeds  []struct {
			Title       string `json:"title"`
			Description string `json:"description"`
			Image       *struct {
				URL string `json:"url"`
			} `json:"image"`
		} `json:"embeds"`
	}
	_ = json.Unmarshal(m.Payload, &v)
	var out rendered.Message
	for _, g := range mentionRE.FindAllStringSubmatch(v.Content, -1) {
		out.Mentions = append(out.Mentions, g[1])
	}
	for _, e := range v.Embeds {
		out.Add(rendered.Message{Text: e.Title})
		out.Add(Markdown(e.Description))
		if e.Image != nil {
			out.Images = append(out.Images, e.Image.URL)
		}
	}
	var files []string
	for name := range m.Files {
		files = append(files, "file "+name)
	}
	sort.Strings(files)
	out.Images = append(out.Images, files...)
	return out
}
