// Package telegram sends alerts through a Telegram bot (secureJsonData
// token) to chatId: the chart as a photo with the alert as its HTML caption
// when the text fits the 1024-character caption, otherwise the text as a
// message (up to 4096 characters) followed by the photo. If the photo is
// refused (e.g. PHOTO_INVALID_DIMENSIONS), the text still goes out, with a
// note. apiUrl overrides https://api.telegram.org (e.g. a local Bot API
// server).
package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/alertchart/alertchart/pkg/channels"
)

// Limits, in UTF-16 code units as Telegram counts them, and the rates of
// the Bots FAQ: about one message a second per chat, 20 a minute per
// group.
const (
	TextMax    = 4096
	CaptionMax = 1024
	PhotoMax   = 10 << 20
	PerMinute  = 20
)

// Notifier is a Telegram bot and chat.
type Notifier struct {
	channels.Base
	base string // https://api.telegram.org/bot<token>
}

// New creates the notifier.
func New(opts channels.Options, token string) (*Notifier, error) {
	if token == "" || !strings.Contains(token, ":") {
		return nil, fmt.Errorf("the Telegram bot token (secureJsonData token) must look like 123456:ABC…")
	}
	if opts.Channel.ChatID == "" {
		return nil, fmt.Errorf("chatId is required for Telegram")
	}
	api := "https://api.telegram.org"
	if opts.Channel.APIURL != "" {
		if err := channels.CheckURL(opts.Channel.APIURL, "apiUrl"); err != nil {
			return nil, err
		}
		api = strings.TrimRight(opts.Channel.APIURL, "/")
	}
	f, err := opts.Formatter(channels.TelegramHTML)
	if err != nil {
		return nil, err
	}
	return &Notifier{Base: channels.Base{Opts: opts, Fmt: f, TypeName: "telegram"}, base: api + "/bot" + token}, nil
}

// Limits: one message a second per chat, 20 a minute in a group.
func (n *Notifier) Limits() channels.Limits {
	return n.Opts.Limits(Spec.Limits)
}

func (n *Notifier) renderText(m *channels.Message, max int, notes *[]string) (channels.Text, error) {
	t, err := n.Fmt.Render(m, channels.Limit{Max: max, Unit: channels.UTF16Text})
	if err != nil {
		return t, channels.Errorf(channels.Permanent, "%v", err)
	}
	if t.Note != "" {
		*notes = append(*notes, t.Note)
	}
	return t, nil
}

// Cost is one message, except for an alert with a chart whose text does not
// fit a photo caption: that goes as text plus photo (a digest drops the
// photo instead, see Send).
func (n *Notifier) Cost(m *channels.Message) int {
	if m == nil || m.Data == nil || m.Part == channels.PartChart || m.Digest ||
		!n.Opts.WantsChart(m) || len(m.Chart.Image) > PhotoMax {
		return 1
	}
	var notes []string
	t, err := n.renderText(m, CaptionMax, &notes)
	if err != nil || t.Shown == t.Total && !t.Truncated {
		return 1
	}
	return 2
}

// Named says which alerts the text of m names (channels.Fitter): a
// message's text within TextMax (an alert whose whole text fits a photo
// caption names them all as well). A digest with an overview chart gets
// the note that the photo was dropped, so it is measured with it.
func (n *Notifier) Named(m *channels.Message) ([]string, error) {
	if m != nil && m.Digest && n.Opts.WantsChart(m) {
		m = channels.WithNote(m, channels.ChartNote(n.Lang(), channels.DigestTooLongPhoto))
	}
	return n.Fmt.Named(m, channels.Limit{Max: TextMax, Unit: channels.UTF16Text})
}

var _ channels.Fitter = (*Notifier)(nil)

// Send delivers m.
func (n *Notifier) Send(ctx context.Context, m *channels.Message) (*channels.Result, error) {
	if m == nil || m.Data == nil {
		return nil, channels.Errorf(channels.Permanent, "message without alert data")
	}
	var notes []string
	requests := 0
	wantChart := n.Opts.WantsChart(m)
	if wantChart && len(m.Chart.Image) > PhotoMax {
		wantChart = false
		m = channels.WithNote(m, channels.ChartNote(n.Lang(), channels.ImageTooBig))
		notes = append(notes, "image dropped: over 10 MB")
	}
	var last *channels.Response
	sentText := false
	if wantChart && m.Part != channels.PartChart {
		// One photo with the whole alert as caption, when it fits.
		t, err := n.renderText(m, CaptionMax, &notes)
		if err != nil {
			return nil, err
		}
		if t.Shown == t.Total && !t.Truncated {
			resp, err := n.photo(ctx, m.Chart, t.Body)
			requests++
			if err == nil {
				return channels.NewResult(resp, requests, channels.JoinNotes(notes...)), nil
			}
			if channels.KindOf(err) != channels.Permanent && channels.KindOf(err) != channels.TooBig {
				return channels.NewResult(resp, requests, channels.JoinNotes(notes...)), err
			}
			// The photo was refused: the alert goes out as text.
			wantChart = false
			m = channels.WithNote(m, channels.ChartNote(n.Lang(), channels.ImageRejected))
			notes = append(notes, "photo refused, sent as text: "+err.Error())
		} else if m.Digest {
			// A storm digest rarely fits a caption, and text plus photo
			// would be two messages where the delivery stage paid for one
			// of the robot's slots: the text stays, the overview goes.
			wantChart = false
			m = channels.WithNote(m, channels.ChartNote(n.Lang(), channels.DigestTooLongPhoto))
			notes = append(notes, "overview chart dropped: the digest does not fit a photo caption")
		}
	}
	if m.Part != channels.PartChart || !wantChart {
		max := TextMax
		for attempt := 0; ; attempt++ {
			t, err := n.renderText(m, max, &notes)
			if err != nil {
				return nil, err
			}
			if m.Part == channels.PartChart {
				// The text went out before; say why no chart follows.
				t.Body = n.Fmt.Caption(m, channels.Limit{Max: max, Unit: channels.UTF16Text})
			}
			resp, err := n.call(ctx, "sendMessage", map[string]any{
				"chat_id": n.Opts.Channel.ChatID, "text": t.Body, "parse_mode": "HTML",
				"link_preview_options": map[string]bool{"is_disabled": true},
			})
			requests++
			last = resp
			if channels.KindOf(err) == channels.TooBig && attempt == 0 {
				max /= 2
				notes = append(notes, "text shrunk after a too-big answer")
				continue
			}
			if err != nil {
				return channels.NewResult(last, requests, channels.JoinNotes(notes...)), err
			}
			break
		}
		sentText = true
	}
	if wantChart {
		resp, err := n.photo(ctx, m.Chart, n.Fmt.Caption(m, channels.Limit{Max: CaptionMax, Unit: channels.UTF16Text}))
		requests++
		if resp != nil {
			last = resp
		}
		if err != nil {
			if sentText && (channels.KindOf(err) == channels.Permanent || channels.KindOf(err) == channels.TooBig) {
				notes = append(notes, "photo refused: "+err.Error())
			} else {
				if e := (*channels.Error)(nil); errors.As(err, &e) && sentText {
					e.Sent = channels.PartText
				}
				return channels.NewResult(last, requests, channels.JoinNotes(notes...)), err
			}
		}
	}
	return channels.NewResult(last, requests, channels.JoinNotes(notes...)), nil
}

func (n *Notifier) photo(ctx context.Context, c *channels.Chart, caption string) (*channels.Response, error) {
	parts := []channels.FormPart{channels.Field("chat_id", n.Opts.Channel.ChatID)}
	if caption != "" {
		parts = append(parts, channels.Field("caption", caption), channels.Field("parse_mode", "HTML"))
	}
	parts = append(parts, channels.File("photo", channels.ChartFileName(c), c.ContentTypeOrPNG(), c.Image))
	resp, err := channels.PostMultipart(ctx, n.Opts.HTTP, n.base+"/sendPhoto", nil, parts...)
	if err != nil {
		return nil, err
	}
	return resp, classify(resp)
}

func (n *Notifier) call(ctx context.Context, method string, body any) (*channels.Response, error) {
	resp, _, err := channels.PostJSON(ctx, n.Opts.HTTP, n.base+"/"+method, body, nil)
	if err != nil {
		return nil, err
	}
	return resp, classify(resp)
}

// classify reads a Bot API answer.
func classify(resp *channels.Response) error {
	var r struct {
		OK          bool   `json:"ok"`
		ErrorCode   int    `json:"error_code"`
		Description string `json:"description"`
		Parameters  struct {
			RetryAfter float64 `json:"retry_after"`
		} `json:"parameters"`
	}
	if json.Unmarshal(resp.Body, &r) != nil {
		if e := channels.ClassifyStatus(resp, ""); e != nil {
			return e
		}
		return channels.Errorf(channels.Retryable, "telegram: unexpected answer: %s", channels.Snippet(resp.Body, 200))
	}
	if r.OK && resp.StatusCode == http.StatusOK {
		return nil
	}
	e := channels.ClassifyStatus(resp, "telegram: "+r.Description)
	if e == nil {
		e = &channels.Error{StatusCode: resp.StatusCode, Kind: channels.Permanent, Msg: "telegram: " + r.Description}
	}
	e.Code = r.ErrorCode
	if r.Parameters.RetryAfter > 0 {
		e.Kind, e.RetryAfter = channels.Retryable, channels.Seconds(r.Parameters.RetryAfter)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound && strings.Contains(r.Description, "Not Found"):
		e.Kind = channels.BadCredentials // malformed token
	case strings.Contains(r.Description, "too long"):
		e.Kind = channels.TooBig
	case strings.Contains(r.Description, "chat not found"):
		e.Kind = channels.Permanent
	}
	return e
}
