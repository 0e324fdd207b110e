package dingtalk

import (
	"encoding/json"
	"strings"

	"github.com/alertchart/alertchart/test/fakes/rendered"
)

// Render shows a message the way the DingTalk client does: a line break
// where a line ends in two spaces, markdown images, links and bold
// applied, @mentions from the "at" list. DingTalk markdown has no escapes.
func Render(m Message) rendered.Message {
	var v struct {
		Markdown struct{ Title, Text string } `json:"markdown"`
		At       struct {
			AtMobiles []string `json:"atMobiles"`
			AtUserIds []string `json:"atUserIds"`
			IsAtAll   bool     `json:"isAtAll"`
		} `json:"at"`
	}
	_ = json.Unmarshal(m.Body, &v)
	r := rendered.Markdown(strings.ReplaceAll(v.Markdown.Text, "  \n", "\n"))
	r.Mentions = append(v.At.AtMobiles, v.At.AtUserIds...)
	if v.At.IsAtAll {
		r.Mentions = append(r.Mentions, "所有人")
	}
	return r
}
