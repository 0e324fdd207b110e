package teams

import (
	"encoding/json"
	"strings"

	"github.com/alertchart/alertchart/test/fakes/rendered"
)

// Render shows an Adaptive Card the way Teams does: each block a line (a
// "medium" spacing a blank line before it), TextRuns as written, links
// from their Action.OpenUrl, TextBlocks' text as written, images.
func Render(r Run) rendered.Message {
	var v struct {
		Attachments []struct {
			Content struct {
				Body []struct {
					Type    string `json:"type"`
					Text    string `json:"text"`
					URL     string `json:"url"`
					Spacing string `json:"spacing"`
					Inlines []struct {
						Text         string `json:"text"`
						SelectAction *struct {
							URL string `json:"url"`
						} `json:"selectAction"`
					} `json:"inlines"`
				} `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	_ = json.Unmarshal(r.Body, &v)
	var out rendered.Message
	var lines []string
	for _, a := range v.Attachments {
		for _, b := range a.Content.Body {
			if b.Spacing == "medium" || b.Spacing == "large" {
				lines = append(lines, "")
			}
			switch b.Type {
			case "TextBlock":
				lines = append(lines, b.Text)
			case "RichTextBlock":
				var line strings.Builder
				for _, in := range b.Inlines {
					line.WriteString(in.Text)
					if in.SelectAction != nil {
						out.Links = append(out.Links, rendered.Link{Text: in.Text, URL: in.SelectAction.URL})
					}
				}
				lines = append(lines, line.String())
			case "Image":
				u := b.URL
				if strings.HasPrefix(u, "data:") {
					u = "data URI"
				}
				out.Images = append(out.Images, u)
			}
		}
	}
	out.Text = strings.Join(lines, "\n")
	return out
}
