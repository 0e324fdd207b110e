package teams

import (
	"html"
	"strings"
)

// textRun is an Adaptive Card TextRun: text Teams shows as written (no
// markdown), bold, monospace or a link through selectAction.
type textRun struct {
	Type         string   `json:"type"`
	Text         string   `json:"text"`
	Weight       string   `json:"weight,omitempty"`
	Size         string   `json:"size,omitempty"`
	Color        string   `json:"color,omitempty"`
	FontType     string   `json:"fontType,omitempty"`
	SelectAction *openURL `json:"selectAction,omitempty"`
}

type openURL struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// richTextBlock is one line of the card.
type richTextBlock struct {
	Type    string    `json:"type"`
	Inlines []textRun `json:"inlines"`
	Spacing string    `json:"spacing,omitempty"`
}

// richText turns the formatter's Teams text — a small HTML of <b>,
// <code>, <a href> and entities, one line per "\n" — into RichTextBlocks,
// one per line, a blank line becoming the spacing before the next block.
// TextRuns are never parsed as markdown, so label values need no escaping
// and line breaks inside annotations survive.
func richText(text string) []any {
	var blocks []any
	spacing := "" // the first line keeps the default gap below the title
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			spacing = "medium"
			continue
		}
		blocks = append(blocks, richTextBlock{Type: "RichTextBlock", Inlines: runs(line), Spacing: spacing})
		spacing = "none"
	}
	return blocks
}

// runs parses one line of the Teams text into TextRuns.
func runs(line string) []textRun {
	var (
		out        []textRun
		bold, code bool
		link       string
		text       strings.Builder
		flush      = func() {
			if text.Len() == 0 {
				return
			}
			r := textRun{Type: "TextRun", Text: html.UnescapeString(text.String())}
			if bold {
				r.Weight = "bolder"
			}
			if code {
				r.FontType = "monospace"
			}
			if link != "" {
				r.SelectAction = &openURL{Type: "Action.OpenUrl", URL: link}
			}
			out = append(out, r)
			text.Reset()
		}
	)
	for i := 0; i < len(line); {
		if line[i] == '<' {
			if j := strings.IndexByte(line[i:], '>'); j > 0 {
				tag := line[i+1 : i+j]
				flush()
				switch {
				case tag == "b":
					bold = true
				case tag == "/b":
					bold = false
				case tag == "code":
					code = true
				case tag == "/code":
					code = false
				case strings.HasPrefix(tag, `a href="`):
					link = html.UnescapeString(strings.TrimSuffix(strings.TrimPrefix(tag, `a href="`), `"`))
				case tag == "/a":
					link = ""
				}
				i += j + 1
				continue
			}
		}
		text.WriteByte(line[i])
		i++
	}
	flush()
	return out
}
