package wecom

import (
	"encoding/json"
	"regexp"

	"github.com/alertchart/alertchart/test/fakes/rendered"
)

var (
	mentionRE = regexp.MustCompile(`<@([^>]+)>`)
	fontRE    = regexp.MustCompile(`<font[^>]*>(.*?)</font>`)
)

// Render shows messages the way the WeCom client does: markdown links and
// bold applied, <@userid> as a mention, the image as an image, a text
// message's mentioned lists as mentions. WeCom markdown has no escapes.
func Render(msgs []Message) rendered.Message {
	var out rendered.Message
	for _, m := range msgs {
		var v struct {
			Markdown struct{ Content string } `json:"markdown"`
			Text     struct {
				Content string   `json:"content"`
				Users   []string `json:"mentioned_list"`
				Mobiles []string `json:"mentioned_mobile_list"`
			} `json:"text"`
		}
		_ = json.Unmarshal(m.Body, &v)
		switch m.MsgType {
		case "markdown":
			var mentions []string
			s := mentionRE.ReplaceAllStringFunc(v.Markdown.Content, func(x string) string {
				id := mentionRE.FindStringSubmatch(x)[1]
				mentions = append(mentions, id)
				return "@" + id
			})
			r := rendered.Markdown(fontRE.ReplaceAllString(s, "$1"))
			r.Mentions = mentions
			out.Add(r)
		case "text":
			out.Add(rendered.Message{Text: v.Text.Content, Mentions: append(v.Text.Users, v.Text.Mobiles...)})
		case "image":
			out.Add(rendered.Message{Images: []string{"image message"}})
		}
	}
	return out
}
