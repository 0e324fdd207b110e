package feishu

import (
	"encoding/json"
	"html"
	"regexp"

	"github.com/alertchart/alertchart/test/fakes/rendered"
)

var atRE = regexp.MustCompile(`<at id=([^>]+)></at>`)

// Render shows an interactive card the way Feishu does: the header, the
// markdown elements with links, bold and <at> mentions applied and HTML
// entities shown as their characters, and the images.
func Render(m Message) rendered.Message {
	var v struct {
		Card struct {
			Header struct {
				Title struct{ Content string } `json:"title"`
			} `json:"header"`
			Body struct {
				Elements []map[string]any `json:"elements"`
			} `json:"body"`
		} `json:"card"`
	}
	_ = json.Unmarshal(m.Body, &v)
	out := rendered.Message{Text: v.Card.Header.Title.Content}
	for _, e := range v.Card.Body.Elements {
		switch e["tag"] {
		case "markdown":
			s, _ := e["content"].(string)
			var mentions []string
			s = atRE.ReplaceAllStringFunc(s, func(x string) string {
				id := atRE.FindStringSubmatch(x)[1]
				mentions = append(mentions, id)
				return "@" + id
			})
			r := rendered.Markdown(s)
			r.Text = html.UnescapeString(r.Text)
			for i := range r.Links {
				r.Links[i].Text = html.UnescapeString(r.Links[i].Text)
			}
			r.Mentions = mentions
			out.Add(r)
		case "img":
			k, _ := e["img_key"].(string)
			out.Add(rendered.Message{Images: []string{k}})
		}
	}
	return out
}
