// Package dingtalk sends alerts to a DingTalk (钉钉) custom robot as one
// markdown message, with the chart as an image URL from the image store
// (the robot has no way to take image bytes).
//
// Security settings: with 加签 configure the SEC… secret (secureJsonData
// secret) and every request is signed. With 自定义关键词, set the channel's
// keyword to one of the robot's keywords; it is appended to any message
// that lacks it (DingTalk answers errcode 310000 "keywords not in content"
// otherwise). An IP whitelist must list the plugin host's egress address.
package dingtalk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
)

// Platform limits.
const (
	MaxBodyBytes = 20000
	PerMinute    = 20
)

// Notifier is a DingTalk custom robot.
type Notifier struct {
	channels.Base
	url    string
	secret string
	// Now is the signing clock.
	Now func() time.Time
}

// New creates the notifier. secret may be empty (robot without 加签).
func New(opts channels.Options, webhookURL, secret string) (*Notifier, error) {
	if err := channels.CheckURL(webhookURL, "the DingTalk webhook URL (secureJsonData url)"); err != nil {
		return nil, err
	}
	if secret != "" && !strings.HasPrefix(secret, "SEC") {
		return nil, fmt.Errorf("the DingTalk signing secret must start with SEC")
	}
	u, err := channels.Rebase(webhookURL, opts.Channel.APIURL)
	if err != nil {
		return nil, err
	}
	f, err := opts.Formatter(channels.DingTalkMarkdown)
	if err != nil {
		return nil, err
	}
	return &Notifier{Base: channels.Base{Opts: opts, Fmt: f, TypeName: "dingtalk"}, url: u, secret: secret, Now: time.Now}, nil
}

// Limits: 20 messages a minute; text and chart share one markdown message.
func (n *Notifier) Limits() channels.Limits {
	return n.Opts.Limits(Spec.Limits)
}

// Sign returns the URL-encoded signature of DingTalk's 加签 mode.
func Sign(ts int64, secret string) string {
	h := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(h, "%d\n%s", ts, secret)
	return url.QueryEscape(base64.StdEncoding.EncodeToString(h.Sum(nil)))
}

func (n *Notifier) signedURL() string {
	if n.secret == "" {
		return n.url
	}
	ts := n.Now().UnixMilli()
	sep := "&"
	if !strings.Contains(n.url, "?") {
		sep = "?"
	}
	return n.url + sep + "timestamp=" + strconv.FormatInt(ts, 10) + "&sign=" + Sign(ts, n.secret)
}

type at struct {
	AtMobiles []string `json:"atMobiles,omitempty"`
	AtUserIds []string `json:"atUserIds,omitempty"`
	IsAtAll   bool     `json:"isAtAll"`
}

type payload struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	} `json:"markdown"`
	At at `json:"at"`
}

// Named says which alerts the markdown text of m names (channels.Fitter),
// within the limit Send starts from: the mentions, the keyword and room
// for the image link are left out of it.
func (n *Notifier) Named(m *channels.Message) ([]string, error) {
	if m == nil || m.Data == nil || m.Part == channels.PartChart {
		return nil, nil
	}
	tail := len(n.Opts.Channel.Keyword) + 4
	if n.Opts.WantsChart(m) {
		tail += channels.ImageReserve
	}
	for _, id := range append(channels.Mobiles(n.Opts.Channel), channels.Mentions(n.Opts.Channel, m)...) {
		tail += len(id) + 2
	}
	return n.Fmt.Named(m, channels.Limit{Max: MaxBodyBytes - 1500 - tail - 4, Unit: channels.Bytes})
}

var _ channels.Fitter = (*Notifier)(nil)

// Send delivers m.
func (n *Notifier) Send(ctx context.Context, m *channels.Message) (*channels.Result, error) {
	if m == nil || m.Data == nil {
		return nil, channels.Errorf(channels.Permanent, "message without alert data")
	}
	var notes []string
	imgURL := ""
	if n.Opts.WantsChart(m) {
		var note string
		imgURL, note = n.Opts.HostChart(ctx, m.Chart, n.Lang())
		m = channels.WithNote(m, note)
		if note != "" {
			notes = append(notes, note)
		}
	}
	p := payload{MsgType: "markdown"}
	p.Markdown.Title = channels.TruncateBytes(n.Fmt.Title(m), 200, "…")
	firing := m.Data.Status != "resolved"
	mention := ""
	if m.Part != channels.PartChart {
		p.At.AtUserIds = channels.Mentions(n.Opts.Channel, m)
		p.At.AtMobiles = channels.Mobiles(n.Opts.Channel)
		p.At.IsAtAll = n.Opts.Channel.MentionAll && firing
		for _, id := range append(append([]string{}, p.At.AtMobiles...), p.At.AtUserIds...) {
			mention += "@" + id + " "
		}
	}
	tail := ""
	if imgURL != "" {
		alt := strings.NewReplacer("[", "(", "]", ")").Replace(channels.ChartAlt(m.Chart, n.Lang()))
		tail += "  \n![" + alt + "](" + imgURL + ")"
	}
	if mention != "" {
		tail += "  \n" + strings.TrimSpace(mention)
	}
	if kw := n.Opts.Channel.Keyword; kw != "" {
		tail += "  \n" + kw // checked below: only added when missing
	}
	build := func(lim channels.Limit) ([]byte, error) {
		body, note, err := n.Fmt.Body(m, lim)
		if err != nil {
			return nil, err
		}
		if note != "" {
			notes = append(notes, note)
		}
		tl := tail
		if kw := n.Opts.Channel.Keyword; kw != "" && (strings.Contains(body, kw) || strings.Contains(p.Markdown.Title, kw)) {
			tl = strings.TrimSuffix(tl, "  \n"+kw)
		}
		p.Markdown.Text = body + tl
		return channels.MarshalJSON(p)
	}
	// Fit the whole body (JSON included) under the byte limit.
	lim := channels.Limit{Max: MaxBodyBytes - 1500 - len(tail), Unit: channels.Bytes}
	var body []byte
	var err error
	for i := 0; i < 6; i++ {
		if body, err = build(lim); err != nil {
			return nil, channels.Errorf(channels.Permanent, "%v", err)
		}
		if len(body) <= MaxBodyBytes {
			break
		}
		lim = lim.Scale(0.8)
	}
	resp, err := n.post(ctx, body)
	requests := 1
	if channels.KindOf(err) == channels.TooBig {
		tail = strings.Replace(tail, "![", "[", 1) // keep the link, drop the inline image
		if body, err = build(lim.Scale(0.5)); err == nil {
			resp, err = n.post(ctx, body)
			requests++
			notes = append(notes, "text shrunk after a too-big answer")
		}
	}
	return channels.NewResult(resp, requests, channels.JoinNotes(notes...)), err
}

func (n *Notifier) post(ctx context.Context, body []byte) (*channels.Response, error) {
	resp, _, err := channels.PostJSON(ctx, n.Opts.HTTP, n.signedURL(), channels.RawJSON(body), nil)
	if err != nil {
		return resp, err
	}
	if e := channels.ClassifyStatus(resp, ""); e != nil {
		return resp, e
	}
	code, msg, ok := channels.JSONCode(resp.Body, "errcode", "errmsg")
	if !ok {
		return resp, &channels.Error{Kind: channels.Retryable, StatusCode: resp.StatusCode, Msg: "unexpected answer: " + channels.Snippet(resp.Body, 200)}
	}
	if code == 0 {
		return resp, nil
	}
	return resp, Classify(code, msg, resp.StatusCode)
}

// Classify maps a DingTalk errcode to an error kind.
func Classify(code int, msg string, status int) *channels.Error {
	e := &channels.Error{StatusCode: status, Code: code, Msg: fmt.Sprintf("dingtalk errcode %d: %s", code, channels.Snippet([]byte(msg), 200))}
	switch code {
	case 130101, 410100: // 20/min exceeded; DingTalk then throttles for 10 minutes
		e.Kind, e.RetryAfter = channels.Retryable, 10*time.Minute
	case -1:
		e.Kind = channels.Retryable
	case 310000:
		if strings.Contains(msg, "keywords") {
			e.Kind = channels.Permanent
			e.Msg += " (set the channel's keyword to one of the robot's keywords)"
		} else {
			e.Kind = channels.BadCredentials // sign, timestamp or IP whitelist
		}
	case 300005, 400101, 400102, 400106, 40035, 300001:
		e.Kind = channels.BadCredentials
	case 460101:
		e.Kind = channels.TooBig
	default:
		e.Kind = channels.Permanent
	}
	return e
}
