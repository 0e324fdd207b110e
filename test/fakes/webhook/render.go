package webhook

import (
	"encoding/json"

	"github.com/alertchart/alertchart/test/fakes/rendered"
)

// Render shows a payload as a receiver would display it: its plain text
// and its links.
func Render(body []byte) rendered.Message {
	var p payload
	_ = json.Unmarshal(body, &p)
	m := rendered.Message{Text: p.Text}
	if p.Links.Grafana != "" {
		m.Links = append(m.Links, rendered.Link{Text: "grafana", URL: p.Links.Grafana})
	}
	if p.Links.Silence != "" {
		m.Links = append(m.Links, rendered.Link{Text: "silence", URL: p.Links.Silence})
	}
	if p.Chart != nil && (p.Chart.URL != "" || p.Chart.Base64 != "") {
		m.Images = append(m.Images, "chart")
	}
	return m
}
