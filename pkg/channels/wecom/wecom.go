// Package wecom sends alerts to a WeCom (企业微信) group robot: the text as a
// markdown message (at most 4096 bytes), then the chart as an image message
// (base64 and md5 of the raw PNG, at most 2 MB). The markdown type is the
// only one that supports formatting and <@userid> mentions; mobiles and
// @all need a text message, so they go in a short extra message.
package wecom

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // WeCom's image message requires the MD5 of the picture; no security depends on it
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/i18n"
)

// Platform limits.
const (
	MarkdownMaxBytes = 4096
	TextMaxBytes     = 2048
	ImageMaxBytes    = 2 << 20
	PerMinute        = 20
)

// Notifier is a WeCom group robot.
type Notifier struct {
	channels.Base
	url string
}

// New creates the notifier; webhookURL is the robot URL with its key.
func New(opts channels.Options, webhookURL string) (*Notifier, error) {
	if err := channels.CheckURL(webhookURL, "the WeCom webhook URL (secureJsonData url)"); err != nil {
		return nil, err
	}
	u, err := channels.Rebase(webhookURL, opts.Channel.APIURL)
	if err != nil {
		return nil, err
	}
	f, err := opts.Formatter(channels.WeComMarkdown)
	if err != nil {
		return nil, err
	}
	return &Notifier{Base: channels.Base{Opts: opts, Fmt: f, TypeName: "wecom"}, url: u}, nil
}

// Limits: 20 messages a minute per robot; text and image are two messages.
func (n *Notifier) Limits() channels.Limits {
	l := n.Opts.Limits(Spec.Limits)
	if len(channels.Mobiles(n.Opts.Channel)) > 0 || n.Opts.Channel.MentionAll {
		l.MessagesPerSend++
	}
	return l
}

// Cost counts the markdown text, the image and the mention message that
// follows a firing alert's text when mobiles or @all are configured.
func (n *Notifier) Cost(m *channels.Message) int {
	cost := 0
	if m.Part != channels.PartChart {
		cost++
		if m.Data != nil && m.Data.Status != "resolved" && (len(channels.Mobiles(n.Opts.Channel)) > 0 || n.Opts.Channel.MentionAll) {
			cost++
		}
	}
	if n.Opts.WantsChart(m) {
		cost++
	}
	return max(1, cost)
}

// Named says which alerts the markdown text of m names (channels.Fitter):
// the same limit Send renders it within.
func (n *Notifier) Named(m *channels.Message) ([]string, error) {
	return n.Fmt.Named(m, channels.Limit{Max: MarkdownMaxBytes - len(n.mentionTags(m)), Unit: channels.Bytes})
}

var _ channels.Fitter = (*Notifier)(nil)

// Send delivers m.
func (n *Notifier) Send(ctx context.Context, m *channels.Message) (*channels.Result, error) {
	if m == nil || m.Data == nil {
		return nil, channels.Errorf(channels.Permanent, "message without alert data")
	}
	var (
		requests int
		last     *channels.Response
		notes    []string
	)
	wantChart := n.Opts.WantsChart(m)
	if wantChart {
		if reason := checkImage(m.Chart.Image); reason != "" {
			wantChart = false
			m = channels.WithNote(m, channels.ChartNote(n.Lang(), reason))
			notes = append(notes, "image dropped: "+i18n.T(i18n.EN, reason))
		}
	}
	var sent channels.Part
	if m.Part != channels.PartChart || !wantChart {
		mention := n.mentionTags(m)
		lim := channels.Limit{Max: MarkdownMaxBytes - len(mention), Unit: channels.Bytes}
		content := func(lim channels.Limit) (string, error) {
			body, note, err := n.Fmt.Body(m, lim)
			if note != "" {
				notes = append(notes, note)
			}
			return body + mention, err
		}
		body, err := content(lim)
		if err != nil {
			return nil, channels.Errorf(channels.Permanent, "%v", err)
		}
		resp, err := n.post(ctx, markdown(body))
		requests++
		if channels.KindOf(err) == channels.TooBig {
			// The platform measured differently; shrink once.
			body, _ = content(lim.Scale(0.5))
			resp, err = n.post(ctx, markdown(body))
			requests++
			notes = append(notes, "text shrunk after a too-big answer")
		}
		last = resp
		if err != nil {
			return channels.NewResult(last, requests, channels.JoinNotes(notes...)), err
		}
		sent = channels.PartText
	}
	if wantChart {
		sum := md5.Sum(m.Chart.Image) //nolint:gosec // the platform's checksum, not a security measure
		resp, err := n.post(ctx, map[string]any{"msgtype": "image", "image": map[string]string{
			"base64": base64.StdEncoding.EncodeToString(m.Chart.Image),
			"md5":    hex.EncodeToString(sum[:]),
		}})
		requests++
		if resp != nil {
			last = resp
		}
		switch kind := channels.KindOf(err); {
		case err == nil:
			// text and image are both out
		case kind == channels.TooBig || kind == channels.Permanent && sent != "":
			// The text is out; an image the platform refuses cannot be fixed
			// by retrying, so record it instead of failing the alert.
			notes = append(notes, "image rejected: "+err.Error())
		default:
			if e := (*channels.Error)(nil); errors.As(err, &e) {
				e.Sent = sent
			}
			return channels.NewResult(last, requests, channels.JoinNotes(notes...)), err
		}
	}
	if m.Part != channels.PartChart && m.Data.Status != "resolved" {
		mobiles := channels.Mobiles(n.Opts.Channel)
		var users []string
		if n.Opts.Channel.MentionAll {
			users = []string{"@all"}
		}
		if len(mobiles) > 0 || len(users) > 0 {
			text := channels.TruncateBytes(n.Fmt.Title(m), TextMaxBytes, "…")
			type textBody struct {
				Content string   `json:"content"`
				Users   []string `json:"mentioned_list,omitempty"`
				Mobiles []string `json:"mentioned_mobile_list,omitempty"`
			}
			resp, err := n.post(ctx, map[string]any{"msgtype": "text", "text": textBody{text, users, mobiles}})
			requests++
			if resp != nil {
				last = resp
			}
			if err != nil {
				notes = append(notes, "mention message failed: "+err.Error())
			}
		}
	}
	return channels.NewResult(last, requests, channels.JoinNotes(notes...)), nil
}

func markdown(content string) map[string]any {
	return map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": content}}
}

// mentionTags renders <@userid> mentions (markdown supports only user ids).
func (n *Notifier) mentionTags(m *channels.Message) string {
	ids := channels.Mentions(n.Opts.Channel, m)
	if len(ids) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n")
	for _, id := range ids {
		b.WriteString("<@" + id + ">")
	}
	return b.String()
}

func checkImage(img []byte) string {
	if len(img) > ImageMaxBytes {
		return channels.ImageTooBig
	}
	if !bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")) && !bytes.HasPrefix(img, []byte{0xff, 0xd8, 0xff}) {
		return channels.ImageRejected
	}
	return ""
}

// post sends one message and classifies the answer by errcode (WeCom
// answers HTTP 200 to everything).
func (n *Notifier) post(ctx context.Context, body any) (*channels.Response, error) {
	resp, _, err := channels.PostJSON(ctx, n.Opts.HTTP, n.url, body, nil)
	if err != nil {
		return resp, err
	}
	if e := channels.ClassifyStatus(resp, ""); e != nil {
		return resp, e
	}
	var r struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if json.Unmarshal(resp.Body, &r) != nil || r.ErrCode == nil {
		return resp, &channels.Error{Kind: channels.Retryable, StatusCode: resp.StatusCode, Msg: "unexpected answer: " + channels.Snippet(resp.Body, 200)}
	}
	if *r.ErrCode == 0 {
		return resp, nil
	}
	return resp, Classify(*r.ErrCode, r.ErrMsg, resp.StatusCode)
}

// Classify maps a WeCom errcode to an error kind.
func Classify(code int, msg string, status int) *channels.Error {
	e := &channels.Error{StatusCode: status, Code: code, Msg: fmt.Sprintf("wecom errcode %d: %s", code, channels.Snippet([]byte(msg), 200))}
	switch code {
	case 45009: // 20/min exceeded: the window is a minute.
		e.Kind, e.RetryAfter = channels.Retryable, time.Minute
	case -1, 45033: // system busy, too many concurrent calls
		e.Kind = channels.Retryable
	case 93000, 40014, 42001, 93004: // invalid webhook url / key, robot removed
		e.Kind = channels.BadCredentials
	case 45002, 40006, 45001: // content or media too big
		e.Kind = channels.TooBig
	default:
		e.Kind = channels.Permanent
	}
	return e
}
