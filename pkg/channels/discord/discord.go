// Package discord sends alerts to a Discord webhook: one message with an
// embed (headline as title, alert text as description) and, when there is
// a chart, the PNG uploaded as files[0] and shown in the embed through
// attachment://chart.png. Mentions are explicit: allowed_mentions admits
// only the configured user ids, so @everyone in a label cannot ping anyone.
package discord

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alertchart/alertchart/pkg/channels"
)

// Limits: embed and upload sizes, and the rates a webhook keeps to — 5
// requests per 2 seconds (the bucket Discord announces in its
// X-RateLimit-* headers, which the notifier also reads) and 30 messages a
// minute per channel.
const (
	DescriptionMax = 4096
	TitleMax       = 256
	EmbedTotalMax  = 6000
	FileMax        = 10 << 20
	BurstMessages  = 5
	BurstWindow    = 2 * time.Second
	PerMinute      = 30
)

var snowflakeRE = regexp.MustCompile(`^[0-9]{15,21}$`)

// Notifier is a Discord webhook.
type Notifier struct {
	channels.Base
	url string
}

// New creates the notifier.
func New(opts channels.Options, webhookURL string) (*Notifier, error) {
	if err := channels.CheckURL(webhookURL, "the Discord webhook URL (secureJsonData url)"); err != nil {
		return nil, err
	}
	u, err := channels.Rebase(webhookURL, opts.Channel.APIURL)
	if err != nil {
		return nil, err
	}
	if strings.Contains(u, "?") {
		u += "&wait=true"
	} else {
		u += "?wait=true"
	}
	f, err := opts.Formatter(channels.DiscordMarkdown)
	if err != nil {
		return nil, err
	}
	f.Card = true
	return &Notifier{Base: channels.Base{Opts: opts, Fmt: f, TypeName: "discord"}, url: u}, nil
}

// Limits: 5 per 2 seconds, 30 a minute; one message carries text and
// chart.
func (n *Notifier) Limits() channels.Limits {
	return n.Opts.Limits(Spec.Limits)
}

// Named says which alerts the embed's description names (channels.Fitter),
// within the limit Send starts from.
func (n *Notifier) Named(m *channels.Message) ([]string, error) {
	if m == nil || m.Data == nil {
		return nil, nil
	}
	lim := channels.Limit{Max: DescriptionMax, Unit: channels.Runes}
	title := min(utf8.RuneCountInString(n.Fmt.Title(m)), TitleMax)
	if budget := EmbedTotalMax - title - 64; budget < lim.Max {
		lim.Max = budget
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
	wantChart := n.Opts.WantsChart(m)
	if wantChart && len(m.Chart.Image) > FileMax {
		wantChart = false
		m = channels.WithNote(m, channels.ChartNote(n.Lang(), channels.ImageTooBig))
		notes = append(notes, "image dropped: over 10 MiB")
	}
	title := n.Fmt.Title(m)
	if utf8.RuneCountInString(title) > TitleMax {
		title = channels.Limit{Max: TitleMax, Unit: channels.Runes}.Truncate(title, "…", false)
	}
	ids := []string{}
	content := ""
	if m.Part != channels.PartChart {
		for _, id := range channels.Mentions(n.Opts.Channel, m) {
			// Discord user ids are snowflakes; anything else would make
			// allowed_mentions, and so the whole alert, invalid.
			if snowflakeRE.MatchString(id) && len(ids) < 100 {
				content += "<@" + id + "> "
				ids = append(ids, id)
			}
		}
	}
	lim := channels.Limit{Max: DescriptionMax, Unit: channels.Runes}
	if budget := EmbedTotalMax - utf8.RuneCountInString(title) - 64; budget < lim.Max {
		lim.Max = budget
	}
	for attempt := 0; ; attempt++ {
		desc, note, berr := n.Fmt.Body(m, lim)
		if berr != nil {
			return nil, channels.Errorf(channels.Permanent, "%v", berr)
		}
		if note != "" {
			notes = append(notes, note)
		}
		color := 0xE02F44
		if m.Data.Status == "resolved" {
			color = 0x56A64B
		}
		emb := map[string]any{"title": title, "description": desc, "color": color}
		if gu := m.GrafanaURL; channels.SafeURL(gu) && len(gu) <= 2048 {
			emb["url"] = gu
		}
		payload := map[string]any{
			"content":          strings.TrimSpace(content),
			"embeds":           []any{emb},
			"allowed_mentions": map[string]any{"parse": []string{}, "users": ids},
		}
		var resp *channels.Response
		var err error
		if wantChart {
			name := channels.ChartFileName(m.Chart)
			emb["image"] = map[string]string{"url": "attachment://" + name}
			payload["attachments"] = []any{map[string]any{"id": 0, "filename": name, "description": m.Chart.Title}}
			resp, err = n.multipart(ctx, payload, name, m.Chart)
		} else {
			resp, _, err = channels.PostJSON(ctx, n.Opts.HTTP, n.url, payload, nil)
			if err == nil {
				err = classify(resp)
			}
		}
		res := channels.NewResult(resp, attempt+1, channels.JoinNotes(notes...))
		if resp != nil {
			res.Pause = pause(resp)
		}
		if channels.KindOf(err) == channels.TooBig && attempt == 0 {
			lim = lim.Scale(0.5)
			if wantChart {
				wantChart = false
				m = channels.WithNote(m, channels.ChartNote(n.Lang(), channels.ImageTooBig))
			}
			notes = append(notes, "text shrunk and image dropped after a too-big answer")
			continue
		}
		return res, err
	}
}

// pause reads Discord's rate-limit headers on any answer: with
// X-RateLimit-Remaining at 0 the bucket is empty until
// X-RateLimit-Reset-After (seconds, fractional) has passed.
func pause(resp *channels.Response) time.Duration {
	if strings.TrimSpace(resp.Header.Get("X-RateLimit-Remaining")) != "0" {
		return 0
	}
	return channels.ParseRetryAfter(resp.Header.Get("X-RateLimit-Reset-After"), time.Now())
}

func (n *Notifier) multipart(ctx context.Context, payload map[string]any, name string, c *channels.Chart) (*channels.Response, error) {
	js, err := channels.MarshalJSON(payload)
	if err != nil {
		return nil, channels.Errorf(channels.Permanent, "encoding payload: %v", err)
	}
	resp, err := channels.PostMultipart(ctx, n.Opts.HTTP, n.url, nil,
		channels.FormPart{Name: "payload_json", ContentType: "application/json", Data: js},
		channels.File("files[0]", name, c.ContentTypeOrPNG(), c.Image))
	if err != nil {
		return nil, err
	}
	return resp, classify(resp)
}

// classify reads a Discord answer: 2xx, or JSON {"message","code"} and a
// float retry_after on 429.
func classify(resp *channels.Response) error {
	var r struct {
		Message    string  `json:"message"`
		Code       int     `json:"code"`
		RetryAfter float64 `json:"retry_after"`
	}
	_ = json.Unmarshal(resp.Body, &r)
	e := channels.ClassifyStatus(resp, "discord: "+r.Message)
	if e == nil {
		return nil
	}
	e.Code = r.Code
	if r.RetryAfter > 0 || resp.StatusCode == http.StatusTooManyRequests {
		// The longest of the body's retry_after, Retry-After and the
		// bucket's reset: all three say when the next request may go.
		e.Kind = channels.Retryable
		e.RetryAfter = max(e.RetryAfter, channels.Seconds(r.RetryAfter), pause(resp))
	}
	switch r.Code {
	case 10015, 50027:
		e.Kind = channels.BadCredentials
	case 40005:
		e.Kind = channels.TooBig
	}
	return e
}
