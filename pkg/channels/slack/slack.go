// Package slack sends alerts to Slack in one of two ways:
//
//   - with a bot token (secureJsonData token, scopes chat:write and
//     files:write) and slackChannel: the chart is uploaded into the channel
//     with files.getUploadURLExternal → upload → files.completeUploadExternal,
//     the alert text as its comment, so text and chart are one message
//     (files.upload is retired);
//   - with an incoming webhook URL (secureJsonData url): a section block
//     with the text and an image block whose URL comes from the image store.
//
// apiUrl overrides https://slack.com/api (bot) or the webhook's host.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
)

// Limits: a section block's text, and what Slack shows of a message.
const (
	SectionTextMax = 3000
	CommentMax     = 3900
)

var memberIDRE = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// Notifier is a Slack destination.
type Notifier struct {
	channels.Base
	webhook string
	token   string
	api     string
}

// New creates the notifier: token+slackChannel for uploads, else webhookURL.
func New(opts channels.Options, webhookURL, token string) (*Notifier, error) {
	n := &Notifier{token: token, api: "https://slack.com/api"}
	switch {
	case token != "":
		if opts.Channel.SlackChannel == "" {
			return nil, fmt.Errorf("slackChannel (a channel ID such as C0123456) is required with a bot token")
		}
		if opts.Channel.APIURL != "" {
			if err := channels.CheckURL(opts.Channel.APIURL, "apiUrl"); err != nil {
				return nil, err
			}
			n.api = strings.TrimRight(opts.Channel.APIURL, "/")
		}
	case webhookURL != "":
		if err := channels.CheckURL(webhookURL, "the Slack webhook URL (secureJsonData url)"); err != nil {
			return nil, err
		}
		u, err := channels.Rebase(webhookURL, opts.Channel.APIURL)
		if err != nil {
			return nil, err
		}
		n.webhook = u
	default:
		return nil, fmt.Errorf("set either a bot token (secureJsonData token) and slackChannel, or an incoming webhook URL (secureJsonData url)")
	}
	f, err := opts.Formatter(channels.SlackMrkdwn)
	if err != nil {
		return nil, err
	}
	n.Base = channels.Base{Opts: opts, Fmt: f, TypeName: "slack"}
	return n, nil
}

// PerMinute is what AlertChart keeps to per channel, within Slack's "one
// message a second per channel, short bursts allowed".
const PerMinute = 60

// Limits: one message a second per channel.
func (n *Notifier) Limits() channels.Limits {
	return n.Opts.Limits(Spec.Limits)
}

// Send delivers m.
func (n *Notifier) Send(ctx context.Context, m *channels.Message) (*channels.Result, error) {
	if m == nil || m.Data == nil {
		return nil, channels.Errorf(channels.Permanent, "message without alert data")
	}
	if n.token != "" {
		return n.sendBot(ctx, m)
	}
	return n.sendWebhook(ctx, m)
}

// Named says which alerts the text of m names (channels.Fitter): the
// limit of the webhook's section, or of the bot's message.
func (n *Notifier) Named(m *channels.Message) ([]string, error) {
	lim := channels.Limit{Max: SectionTextMax - 100, Unit: channels.Runes}
	if n.token != "" {
		lim.Max = CommentMax
	}
	return n.Fmt.Named(m, lim)
}

var _ channels.Fitter = (*Notifier)(nil)

func (n *Notifier) text(m *channels.Message, lim channels.Limit, notes *[]string) (string, error) {
	if m.Part == channels.PartChart {
		return n.Fmt.Caption(m, lim), nil
	}
	body, note, err := n.Fmt.Body(m, lim)
	if note != "" {
		*notes = append(*notes, note)
	}
	if err != nil {
		return "", channels.Errorf(channels.Permanent, "%v", err)
	}
	var mentions []string
	for _, id := range channels.Mentions(n.Opts.Channel, m) {
		if memberIDRE.MatchString(id) { // U… / W… member ids only
			mentions = append(mentions, "<@"+id+">")
		}
	}
	if len(mentions) > 0 {
		body += "\n" + strings.Join(mentions, " ") + " "
	}
	if n.Opts.Channel.MentionAll && m.Data.Status != "resolved" {
		body += "<!channel>"
	}
	return strings.TrimRight(body, " "), nil
}

func (n *Notifier) sendWebhook(ctx context.Context, m *channels.Message) (*channels.Result, error) {
	var notes []string
	imgURL := ""
	if n.Opts.WantsChart(m) {
		var note string
		imgURL, note = n.Opts.HostChart(ctx, m.Chart, n.Lang())
		if note != "" {
			m = channels.WithNote(m, note)
			notes = append(notes, note)
		}
	}
	lim := channels.Limit{Max: SectionTextMax - 100, Unit: channels.Runes}
	var resp *channels.Response
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		text, err2 := n.text(m, lim, &notes)
		if err2 != nil {
			return nil, err2
		}
		blocks := []any{map[string]any{"type": "section", "text": map[string]string{"type": "mrkdwn", "text": text}}}
		if imgURL != "" {
			alt := channels.ChartAlt(m.Chart, n.Lang())
			blocks = append(blocks, map[string]any{"type": "image", "image_url": imgURL, "alt_text": alt})
		}
		resp, _, err = channels.PostJSON(ctx, n.Opts.HTTP, n.webhook, map[string]any{"text": channels.SlackMrkdwn.Escape(n.Fmt.Title(m)), "blocks": blocks}, nil)
		if err == nil {
			err = classifyWebhook(resp)
		}
		if channels.KindOf(err) != channels.TooBig || attempt == 1 {
			return channels.NewResult(resp, attempt+1, channels.JoinNotes(notes...)), err
		}
		lim = lim.Scale(0.5)
		imgURL = ""
		notes = append(notes, "text shrunk and image dropped after a too-big answer")
	}
	return channels.NewResult(resp, 2, channels.JoinNotes(notes...)), err
}

// classifyWebhook reads the webhook's plain-text answer.
func classifyWebhook(resp *channels.Response) error {
	body := strings.TrimSpace(string(resp.Body))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	e := channels.ClassifyStatus(resp, "slack webhook: "+channels.Snippet(resp.Body, 200))
	switch body {
	case "invalid_token", "no_service", "no_active_hooks", "no_team", "team_disabled", "no_service_id", "action_prohibited":
		e.Kind = channels.BadCredentials
	case "msg_too_long":
		e.Kind = channels.TooBig
	}
	return e
}

func (n *Notifier) sendBot(ctx context.Context, m *channels.Message) (*channels.Result, error) {
	var notes []string
	requests := 0
	lim := channels.Limit{Max: CommentMax, Unit: channels.Runes}
	wantChart := n.Opts.WantsChart(m)
	for attempt := 0; ; attempt++ {
		text, err := n.text(m, lim, &notes)
		if err != nil {
			return nil, err
		}
		var resp *channels.Response
		var reqs int
		if wantChart {
			resp, reqs, err = n.upload(ctx, m.Chart, text)
		} else {
			resp, _, err = channels.PostJSON(ctx, n.Opts.HTTP, n.api+"/chat.postMessage",
				map[string]any{"channel": n.Opts.Channel.SlackChannel, "text": text, "unfurl_links": false}, n.auth())
			reqs = 1
			if err == nil {
				err = classifyAPI(resp)
			}
		}
		requests += reqs
		if channels.KindOf(err) != channels.TooBig || attempt == 1 {
			return channels.NewResult(resp, requests, channels.JoinNotes(notes...)), err
		}
		lim = lim.Scale(0.5)
		if wantChart {
			wantChart = false
			m = channels.WithNote(m, channels.ChartNote(n.Lang(), channels.ImageTooBig))
		}
		notes = append(notes, "text shrunk and image dropped after a too-big answer")
	}
}

func (n *Notifier) auth() http.Header {
	return http.Header{"Authorization": {"Bearer " + n.token}}
}

// upload runs the three-step external upload with text as the comment.
func (n *Notifier) upload(ctx context.Context, c *channels.Chart, text string) (*channels.Response, int, error) {
	name := channels.ChartFileName(c)
	resp, err := n.form(ctx, "files.getUploadURLExternal", url.Values{"filename": {name}, "length": {strconv.Itoa(len(c.Image))}})
	if err != nil {
		return resp, 1, err
	}
	var r struct {
		UploadURL string `json:"upload_url"`
		FileID    string `json:"file_id"`
	}
	if json.Unmarshal(resp.Body, &r) != nil || r.UploadURL == "" || r.FileID == "" {
		return resp, 1, channels.Errorf(channels.Retryable, "files.getUploadURLExternal: unexpected answer")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.UploadURL, bytes.NewReader(c.Image))
	if err != nil {
		return resp, 1, channels.Errorf(channels.Permanent, "bad upload URL")
	}
	req.Header.Set("Content-Type", c.ContentTypeOrPNG())
	up, err := channels.Do(ctx, n.Opts.HTTP, req)
	if err != nil {
		return resp, 2, err
	}
	if e := channels.ClassifyStatus(up, "upload: "+channels.Snippet(up.Body, 200)); e != nil {
		return up, 2, e
	}
	title := channels.ChartAlt(c, n.Lang())
	files, _ := json.Marshal([]map[string]string{{"id": r.FileID, "title": title}})
	resp, err = n.form(ctx, "files.completeUploadExternal", url.Values{
		"files": {string(files)}, "channel_id": {n.Opts.Channel.SlackChannel}, "initial_comment": {text},
	})
	return resp, 3, err
}

func (n *Notifier) form(ctx context.Context, method string, v url.Values) (*channels.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.api+"/"+method, strings.NewReader(v.Encode()))
	if err != nil {
		return nil, channels.Errorf(channels.Permanent, "bad API URL")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+n.token)
	resp, err := channels.Do(ctx, n.Opts.HTTP, req)
	if err != nil {
		return nil, err
	}
	return resp, classifyAPI(resp)
}

// classifyAPI reads a Web API answer: {"ok":false,"error":"…"}.
func classifyAPI(resp *channels.Response) error {
	var r struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	jsonErr := json.Unmarshal(resp.Body, &r)
	if e := channels.ClassifyStatus(resp, "slack: "+r.Error); e != nil {
		return e
	}
	if jsonErr != nil {
		return channels.Errorf(channels.Retryable, "slack: unexpected answer: %s", channels.Snippet(resp.Body, 200))
	}
	if r.OK {
		return nil
	}
	e := &channels.Error{StatusCode: resp.StatusCode, Msg: "slack: " + r.Error, Kind: channels.Permanent}
	switch r.Error {
	case "ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout":
		e.Kind = channels.Retryable
		e.RetryAfter = channels.ParseRetryAfter(resp.Header.Get("Retry-After"), timeNow())
	case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "missing_scope", "not_allowed_token_type":
		e.Kind = channels.BadCredentials
	case "msg_too_long", "file_too_large":
		e.Kind = channels.TooBig
	}
	return e
}

var timeNow = time.Now
