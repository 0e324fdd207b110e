package slack

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/alertchart/alertchart/test/fakes/rendered"
)

var (
	linkRE    = regexp.MustCompile(`<((?:https?|mailto):[^|>]*)\|([^>]*)>`)
	mentionRE = regexp.MustCompile(`<[@!]([A-Za-z0-9]+)>`)
	unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
)

// Mrkdwn shows Slack mrkdwn the way Slack does: <url|text> links and <@U…>
// / <!channel> mentions applied, then &lt; &gt; &amp; shown as their
// characters (the only escapes Slack has). Emphasis (*x*, _x_, ~x~) is
// left as written.
func Mrkdwn(s string) rendered.Message {
	var m rendered.Message
	s = linkRE.ReplaceAllStringFunc(s, func(x string) string {
		g := linkRE.FindStringSubmatch(x)
		m.Links = append(m.Links, rendered.Link{Text: unescaper.Replace(g[2]), URL: g[1]})
		return g[2]
	})
	s = mentionRE.ReplaceAllStringFunc(s, func(x string) string {
		id := mentionRE.FindStringSubmatch(x)[1]
		m.Mentions = append(m.Mentions, id)
		return "@" + id
	})
	m.Text = unescaper.Replace(s)
	return m
}

// Render shows an accepted post: the section text, image blocks, an
// uploaded file with its comment.
func Render(p Post) rendered.Message {
	switch p.Kind {
	case "upload":
		m := Mrkdwn(p.Comment)
		m.Images = append(m.Images, "uploaded file")
		return m
	default:
		var v struct {
			Text   string           `json:"text"`
			Blocks []map[string]any `json:"blocks"`
		}
		_ = json.Unmarshal(p.Body, &v)
		if len(v.Blocks) == 0 {
			return Mrkdwn(v.Text)
		}
		var out rendered.Message
		for _, b := range v.Blocks {
			switch b["type"] {
			case "section":
				t, _ := b["text"].(map[string]any)
				s, _ := t["text"].(string)
				out.Add(Mrkdwn(s))
			case "image":
				u, _ := b["image_url"].(string)
				out.Add(rendered.Message{Images: []string{u}})
			}
		}
		return out
	}
}
