// Package feishu sends alerts to a Feishu (飞书) or Lark custom bot as an
// interactive card (schema 2.0): the headline in the card header, the text
// as a markdown element, and the chart as an image element.
//
// Custom bots cannot take image bytes or URLs; an image needs an image_key
// from an app upload. With feishuAppId and the app secret
// (secureJsonData appSecret) configured, the chart is uploaded with a
// tenant_access_token (the app needs bot capability and the im:resource
// scope). Without them the card links to the chart in the image store, or
// says why there is no chart.
//
// Security settings: a signing secret (secureJsonData secret) signs every
// message; for keyword security set the channel's keyword.
package feishu

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/i18n"
)

// Platform limits: a custom bot takes 100 messages a minute and 5 a second
// per tenant, and bodies of at most 20 KB.
const (
	MaxBodyBytes = 20 << 10
	PerMinute    = 100
	PerSecond    = 5
)

// Notifier is a Feishu/Lark custom bot.
type Notifier struct {
	channels.Base
	url       string
	secret    string
	api       string
	appSecret string
	// Now is the signing clock.
	Now func() time.Time

	mu       sync.Mutex
	token    string
	tokenExp time.Time
}

// New creates the notifier. secret and appSecret may be empty.
func New(opts channels.Options, webhookURL, secret, appSecret string) (*Notifier, error) {
	if err := channels.CheckURL(webhookURL, "the Feishu webhook URL (secureJsonData url)"); err != nil {
		return nil, err
	}
	u, err := channels.Rebase(webhookURL, opts.Channel.APIURL)
	if err != nil {
		return nil, err
	}
	api := "https://open.feishu.cn"
	if opts.Channel.Lark {
		api = "https://open.larksuite.com"
	}
	if opts.Channel.APIURL != "" {
		api = strings.TrimRight(opts.Channel.APIURL, "/")
	}
	if opts.Channel.FeishuAppID != "" && appSecret == "" {
		return nil, fmt.Errorf("feishuAppId is set but secureJsonData appSecret is missing")
	}
	f, err := opts.Formatter(channels.LarkMarkdown)
	if err != nil {
		return nil, err
	}
	f.Card = true
	return &Notifier{Base: channels.Base{Opts: opts, Fmt: f, TypeName: "feishu"}, url: u, secret: secret, api: api, appSecret: appSecret, Now: time.Now}, nil
}

// Limits: 100 a minute and 5 a second; text and chart share one card.
func (n *Notifier) Limits() channels.Limits {
	return n.Opts.Limits(Spec.Limits)
}

// Sign is Feishu's signature: HMAC-SHA256 keyed by "timestamp\nsecret" over
// an empty message, base64 (timestamp in seconds).
func Sign(ts int64, secret string) string {
	h := hmac.New(sha256.New, []byte(strconv.FormatInt(ts, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

type text struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

// Named says which alerts the card's markdown names (channels.Fitter),
// within the limit Send starts from: the mentions and room for the image
// link are left out of it.
func (n *Notifier) Named(m *channels.Message) ([]string, error) {
	if m == nil || m.Data == nil || m.Part == channels.PartChart {
		return nil, nil
	}
	extra := len(n.Opts.Channel.Keyword) + 2
	if n.Opts.WantsChart(m) {
		extra += channels.ImageReserve
	}
	for _, id := range channels.Mentions(n.Opts.Channel, m) {
		extra += len(id) + len("<at id=></at>")
	}
	if n.Opts.Channel.MentionAll {
		extra += len("\n<at id=all></at>")
	}
	return n.Fmt.Named(m, channels.Limit{Max: MaxBodyBytes - 2048 - extra - 2, Unit: channels.Bytes})
}

var _ channels.Fitter = (*Notifier)(nil)

// Send delivers m.
func (n *Notifier) Send(ctx context.Context, m *channels.Message) (*channels.Result, error) {
	if m == nil || m.Data == nil {
		return nil, channels.Errorf(channels.Permanent, "message without alert data")
	}
	var notes []string
	requests := 0
	imageKey, imageURL := "", ""
	if n.Opts.WantsChart(m) {
		if n.Opts.Channel.FeishuAppID != "" {
			k, reqs, err := n.uploadImage(ctx, m.Chart)
			requests += reqs
			if err != nil {
				notes = append(notes, "image upload failed: "+err.Error())
			}
			imageKey = k
		}
		if imageKey == "" {
			var note string
			imageURL, note = n.Opts.HostChart(ctx, m.Chart, n.Lang())
			if note != "" {
				if n.Opts.Channel.FeishuAppID == "" {
					note = channels.ChartNote(n.Lang(), channels.NoImageStoreOrApp)
				}
				m = channels.WithNote(m, note)
				notes = append(notes, note)
			}
		}
	}
	mention := ""
	if m.Part != channels.PartChart {
		for _, id := range channels.Mentions(n.Opts.Channel, m) {
			mention += "<at id=" + id + "></at>"
		}
		if n.Opts.Channel.MentionAll && m.Data.Status != "resolved" {
			mention += "<at id=all></at>"
		}
	}
	extra := ""
	if imageURL != "" {
		extra += "\n" + channels.LarkMarkdown.Link(imageURL, i18n.T(n.Lang(), "link.chart"))
	}
	if mention != "" {
		extra += "\n" + mention
	}
	title := n.Fmt.Title(m)
	build := func(lim channels.Limit) ([]byte, error) {
		md, note, err := n.Fmt.Body(m, lim)
		if err != nil {
			return nil, err
		}
		if note != "" {
			notes = append(notes, note)
		}
		md += extra
		if kw := n.Opts.Channel.Keyword; kw != "" && !strings.Contains(md, kw) && !strings.Contains(title, kw) {
			md += "\n" + n.Fmt.Markup.Escape(kw)
		}
		elements := []any{text{Tag: "markdown", Content: md}}
		if imageKey != "" {
			alt := channels.ChartAlt(m.Chart, n.Lang())
			elements = append(elements, map[string]any{"tag": "img", "img_key": imageKey, "alt": text{"plain_text", alt}, "preview": true, "scale_type": "fit_horizontal"})
		}
		p := map[string]any{
			"msg_type": "interactive",
			"card": map[string]any{
				"schema": "2.0",
				"config": map[string]any{"update_multi": true},
				"header": map[string]any{"title": text{"plain_text", title}, "template": headerColor(m)},
				"body":   map[string]any{"elements": elements},
			},
		}
		if n.secret != "" {
			ts := n.Now().Unix()
			p["timestamp"] = strconv.FormatInt(ts, 10)
			p["sign"] = Sign(ts, n.secret)
		}
		return channels.MarshalJSON(p)
	}
	lim := channels.Limit{Max: MaxBodyBytes - 2048 - len(extra), Unit: channels.Bytes}
	var body []byte
	var err error
	for i := 0; i < 6; i++ {
		if body, err = build(lim); err != nil {
			return nil, channels.Errorf(channels.Permanent, "%v", err)
		}
		if len(body) <= MaxBodyBytes-512 {
			break
		}
		lim = lim.Scale(0.8)
	}
	resp, err := n.post(ctx, body)
	requests++
	if channels.KindOf(err) == channels.TooBig {
		imageKey = ""
		if body, err = build(lim.Scale(0.5)); err == nil {
			resp, err = n.post(ctx, body)
			requests++
			notes = append(notes, "text shrunk and image dropped after a too-big answer")
		}
	}
	return channels.NewResult(resp, requests, channels.JoinNotes(notes...)), err
}

func headerColor(m *channels.Message) string {
	if m.Data.Status == "resolved" {
		return "green"
	}
	switch strings.ToLower(m.Data.CommonLabels["severity"]) {
	case "warning", "warn":
		return "orange"
	case "info":
		return "blue"
	}
	return "red"
}

func (n *Notifier) post(ctx context.Context, body []byte) (*channels.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return nil, channels.Errorf(channels.Permanent, "bad webhook URL")
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := channels.Do(ctx, n.Opts.HTTP, req)
	if err != nil {
		return nil, err
	}
	code, msg, ok := channels.JSONCode(resp.Body, "code", "msg")
	if !ok {
		// Legacy answers carry only StatusCode.
		code, msg, ok = channels.JSONCode(resp.Body, "StatusCode", "StatusMessage")
	}
	if e := rateLimited(resp, code); e != nil {
		return resp, e
	}
	if e := channels.ClassifyStatus(resp, ""); e != nil {
		return resp, e
	}
	if !ok {
		return resp, &channels.Error{Kind: channels.Retryable, StatusCode: resp.StatusCode, Msg: "unexpected answer: " + channels.Snippet(resp.Body, 200)}
	}
	if code == 0 {
		return resp, nil
	}
	e := Classify(code, msg, resp.StatusCode)
	if code == 9499 && len(body) > MaxBodyBytes-1024 {
		e.Kind = channels.TooBig
	}
	return resp, e
}

// Feishu's frequency-limit codes: 11232 is a custom bot's (and the message
// service's) 5 a second / 100 a minute, 99991400 the Open API gateway's.
const (
	CodeBotFrequencyLimited = 11232
	CodeFrequencyLimited    = 99991400
)

// rateLimitWait is the wait when Feishu does not say how long: long enough
// for the per-second window and most of a busy minute.
const rateLimitWait = 10 * time.Second

// rateLimited classifies Feishu's frequency limits, whatever HTTP status
// they come with: custom bots answer HTTP 200 with code 11232; the Open
// API answers 429 (older endpoints 400) with code 99991400 or 11232 and an
// x-ogw-ratelimit-reset header in seconds (open.feishu.cn "Rate limits").
// A 4xx here must not read as a permanent failure.
func rateLimited(resp *channels.Response, code int) *channels.Error {
	if code != CodeBotFrequencyLimited && code != CodeFrequencyLimited && resp.StatusCode != http.StatusTooManyRequests {
		return nil
	}
	e := Classify(code, "frequency limited", resp.StatusCode)
	if code == 0 {
		e.Msg = fmt.Sprintf("feishu: HTTP %d: %s", resp.StatusCode, channels.Snippet(resp.Body, 200))
	}
	e.Kind, e.RetryAfter = channels.Retryable, rateLimitWait
	if d := channels.ParseRetryAfter(resp.Header.Get("X-Ogw-Ratelimit-Reset"), time.Now()); d > 0 {
		e.RetryAfter = d
	} else if d := channels.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); d > 0 {
		e.RetryAfter = d
	}
	return e
}

// Classify maps a Feishu code to an error kind.
func Classify(code int, msg string, status int) *channels.Error {
	e := &channels.Error{StatusCode: status, Code: code, Msg: fmt.Sprintf("feishu code %d: %s", code, channels.Snippet([]byte(msg), 200))}
	switch code {
	case CodeBotFrequencyLimited, CodeFrequencyLimited: // 5/s, 100/min
		e.Kind, e.RetryAfter = channels.Retryable, rateLimitWait
	case 19021, 19022, 19001, 19002, 10014, 99991663, 99991661:
		e.Kind = channels.BadCredentials
	case 19024:
		e.Kind = channels.Permanent
		e.Msg += " (set the channel's keyword to one of the bot's keywords)"
	default:
		e.Kind = channels.Permanent
	}
	return e
}

// accessToken returns a cached tenant_access_token, fetching a new one
// half an hour before expiry (Feishu then issues a fresh token).
func (n *Notifier) accessToken(ctx context.Context) (string, int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.token != "" && time.Now().Before(n.tokenExp) {
		return n.token, 0, nil
	}
	resp, _, err := channels.PostJSON(ctx, n.Opts.HTTP, n.api+"/open-apis/auth/v3/tenant_access_token/internal",
		map[string]string{"app_id": n.Opts.Channel.FeishuAppID, "app_secret": n.appSecret}, nil)
	if err != nil {
		return "", 1, err
	}
	var r struct {
		Code   int    `json:"code"`
		Msg    string `json:"msg"`
		Token  string `json:"tenant_access_token"`
		Expire int    `json:"expire"`
	}
	if json.Unmarshal(resp.Body, &r) != nil || r.Code != 0 || r.Token == "" {
		if e := channels.ClassifyStatus(resp, ""); e != nil {
			return "", 1, e
		}
		return "", 1, Classify(r.Code, r.Msg, resp.StatusCode)
	}
	n.token = r.Token
	n.tokenExp = time.Now().Add(time.Duration(r.Expire)*time.Second - 30*time.Minute)
	return n.token, 1, nil
}

// uploadImage uploads the chart and returns its image_key.
func (n *Notifier) uploadImage(ctx context.Context, c *channels.Chart) (string, int, error) {
	tok, requests, err := n.accessToken(ctx)
	if err != nil {
		return "", requests, err
	}
	resp, err := channels.PostMultipart(ctx, n.Opts.HTTP, n.api+"/open-apis/im/v1/images", http.Header{"Authorization": {"Bearer " + tok}},
		channels.Field("image_type", "message"), channels.File("image", channels.ChartFileName(c), c.ContentTypeOrPNG(), c.Image))
	requests++
	if err != nil {
		return "", requests, err
	}
	var r struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
		Data struct {
			ImageKey string `json:"image_key"`
		} `json:"data"`
	}
	if json.Unmarshal(resp.Body, &r) != nil || r.Code != 0 || r.Data.ImageKey == "" {
		if resp.StatusCode == http.StatusUnauthorized {
			n.mu.Lock()
			n.token = "" // fetch a new one next time
			n.mu.Unlock()
		}
		return "", requests, fmt.Errorf("HTTP %d, code %d: %s", resp.StatusCode, r.Code, channels.Snippet([]byte(r.Msg), 200))
	}
	return r.Data.ImageKey, requests, nil
}
