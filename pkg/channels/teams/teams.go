// Package teams sends alerts to Microsoft Teams through a Workflows webhook
// ("When a Teams webhook request is received") as an Adaptive Card. Office
// 365 connector URLs are retired and not supported.
//
// The text goes in as RichTextBlocks of TextRuns, one block per line:
// Adaptive Cards never parse TextRuns as markdown, so label values show
// exactly as typed (`_`, `*`, `[x](y)` included) without look-alikes, and
// line breaks inside annotations are kept. Links are TextRuns with an
// Action.OpenUrl.
//
// The chart goes in by URL from the image store. Without one, a small chart
// is embedded as a data URI when the whole message stays under the 28 KB
// cap; otherwise the card says why there is no chart. Workflows answer 202
// before running the flow, so a message over the cap would be lost
// silently: the notifier measures every message itself.
package teams

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/alertchart/alertchart/pkg/channels"
)

// MaxMessageBytes is the Teams message cap (28 KB), less a margin for the
// flow's own wrapping.
const MaxMessageBytes = 27 << 10

// Notifier is a Teams Workflows webhook.
type Notifier struct {
	channels.Base
	url string
}

// New creates the notifier.
func New(opts channels.Options, webhookURL string) (*Notifier, error) {
	if err := channels.CheckURL(webhookURL, "the Teams Workflows URL (secureJsonData url)"); err != nil {
		return nil, err
	}
	if strings.Contains(webhookURL, ".webhook.office.com") {
		return nil, errTeamsConnector
	}
	u, err := channels.Rebase(webhookURL, opts.Channel.APIURL)
	if err != nil {
		return nil, err
	}
	f, err := opts.Formatter(channels.TeamsText)
	if err != nil {
		return nil, err
	}
	f.Card = true
	return &Notifier{Base: channels.Base{Opts: opts, Fmt: f, TypeName: "teams"}, url: u}, nil
}

var errTeamsConnector = channels.Errorf(channels.Permanent, "Office 365 connector URLs (*.webhook.office.com) are retired; create a Workflows webhook (\"When a Teams webhook request is received\") and use its URL")

// Platform limits: Teams throttles a webhook above 4 requests a second;
// AlertChart also keeps to 60 a minute.
const (
	PerSecond = 4
	PerMinute = 60
)

// Limits: 4 a second, 60 a minute; one card carries text and chart.
func (n *Notifier) Limits() channels.Limits {
	return n.Opts.Limits(Spec.Limits)
}

// Named says which alerts the card's text names (channels.Fitter): Send
// shrinks the text until the card's JSON fits MaxMessageBytes, and every
// line of text is a block of its own, so the same shrinking is measured
// here, with room left for the card around it (and an image).
func (n *Notifier) Named(m *channels.Message) ([]string, error) {
	if m == nil || m.Data == nil || m.Part == channels.PartChart {
		return nil, nil
	}
	around := 1024 + len(n.Fmt.Title(m))
	if n.Opts.WantsChart(m) {
		around += channels.ImageReserve
	}
	lim := channels.Limit{Max: 20000, Unit: channels.Bytes}
	for i := 0; i < 8; i++ {
		text, _, err := n.Fmt.Body(m, lim)
		if err != nil {
			return nil, err
		}
		blocks, err := channels.MarshalJSON(richText(text))
		if err != nil {
			return nil, err
		}
		if len(blocks)+around <= MaxMessageBytes {
			break
		}
		lim = lim.Scale(0.75)
	}
	return n.Fmt.Named(m, lim)
}

var _ channels.Fitter = (*Notifier)(nil)

// Send delivers m.
func (n *Notifier) Send(ctx context.Context, m *channels.Message) (*channels.Result, error) {
	if m == nil || m.Data == nil {
		return nil, channels.Errorf(channels.Permanent, "message without alert data")
	}
	var notes []string
	imgURL, dataURI := "", ""
	if n.Opts.WantsChart(m) {
		var note string
		if n.Opts.Images != nil || m.Chart.URL != "" {
			imgURL, note = n.Opts.HostChart(ctx, m.Chart, n.Lang())
		}
		if imgURL == "" && len(m.Chart.Image) < MaxMessageBytes*3/4-4096 {
			dataURI = "data:" + m.Chart.ContentTypeOrPNG() + ";base64," + base64.StdEncoding.EncodeToString(m.Chart.Image)
			note = ""
		} else if imgURL == "" && note == "" {
			note = channels.ChartNote(n.Lang(), channels.NoImageStore)
		}
		if note != "" {
			m = channels.WithNote(m, note)
			notes = append(notes, note)
		}
	}
	build := func(lim channels.Limit, image string) ([]byte, error) {
		text, note, err := n.Fmt.Body(m, lim)
		if err != nil {
			return nil, err
		}
		if note != "" {
			notes = append(notes, note)
		}
		color := "attention"
		if m.Data.Status == "resolved" {
			color = "good"
		}
		body := []any{richTextBlock{Type: "RichTextBlock", Inlines: []textRun{
			{Type: "TextRun", Text: n.Fmt.Title(m), Weight: "bolder", Size: "medium", Color: color}}}}
		body = append(body, richText(text)...)
		if image != "" {
			alt := channels.ChartAlt(m.Chart, n.Lang())
			body = append(body, map[string]any{"type": "Image", "url": image, "altText": alt, "size": "stretch"})
		}
		return channels.MarshalJSON(map[string]any{
			"type": "message",
			"attachments": []any{map[string]any{
				"contentType": "application/vnd.microsoft.card.adaptive",
				"contentUrl":  nil,
				"content": map[string]any{
					"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
					"type":    "AdaptiveCard", "version": "1.4",
					"msteams": map[string]any{"width": "Full"},
					"body":    body,
				},
			}},
		})
	}
	image := imgURL
	if image == "" {
		image = dataURI
	}
	lim := channels.Limit{Max: 20000, Unit: channels.Bytes}
	var body []byte
	var err error
	for i := 0; i < 8; i++ {
		if body, err = build(lim, image); err != nil {
			return nil, channels.Errorf(channels.Permanent, "%v", err)
		}
		if len(body) <= MaxMessageBytes {
			break
		}
		if image == dataURI && dataURI != "" {
			// The embedded chart goes before the text shrinks.
			image, dataURI = "", ""
			m = channels.WithNote(m, channels.ChartNote(n.Lang(), channels.ImageTooBig))
			notes = append(notes, "embedded chart dropped: message over 28 KB")
			continue
		}
		lim = lim.Scale(0.75)
	}
	resp, _, err := channels.PostJSON(ctx, n.Opts.HTTP, n.url, channels.RawJSON(body), nil)
	if err != nil {
		return nil, err
	}
	res := channels.NewResult(resp, 1, channels.JoinNotes(notes...))
	if e := channels.ClassifyStatus(resp, ""); e != nil {
		if resp.StatusCode == http.StatusNotFound {
			e.Kind = channels.BadCredentials // the flow was deleted or the URL is wrong
		}
		return res, e
	}
	return res, nil
}
