// Package webhook posts alerts as JSON to any HTTP endpoint, for custom
// integrations. The body carries the Alertmanager payload untouched, a
// plain-text rendering, the links, the chart's plan (title, query, unit,
// range, per-series Max/Min/Last) and the chart itself: its URL from the
// image store, or the PNG as base64 with imageBase64.
//
// Optional secrets: token (sent as "Authorization: Bearer …") and secret
// (the body is signed: "X-AlertChart-Signature: sha256=<hex HMAC-SHA256 of
// the body>", so receivers can check the sender).
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"math"
	"net/http"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/channels"
)

// MaxBodyBytes caps a request; a chart that would exceed it goes by URL or
// not at all.
const MaxBodyBytes = 8 << 20

// SignatureHeader carries the body's HMAC when a secret is configured.
const SignatureHeader = "X-AlertChart-Signature"

// Payload is the JSON body (version 1).
type Payload struct {
	Version      string           `json:"version"`
	Channel      string           `json:"channel"`
	Part         channels.Part    `json:"part"`
	Digest       bool             `json:"digest"`
	Title        string           `json:"title"`
	Text         string           `json:"text"`
	Alertmanager *amtemplate.Data `json:"alertmanager"`
	Chart        *Chart           `json:"chart,omitempty"`
	ChartNote    string           `json:"chartNote,omitempty"`
	Links        Links            `json:"links"`
}

// Chart describes the chart and carries it by URL or base64.
type Chart struct {
	Title       string        `json:"title"`
	Query       string        `json:"query,omitempty"`
	Unit        string        `json:"unit,omitempty"`
	From        time.Time     `json:"from"`
	To          time.Time     `json:"to"`
	ContentType string        `json:"contentType"`
	URL         string        `json:"url,omitempty"`
	Base64      string        `json:"base64,omitempty"`
	Series      []SeriesStats `json:"series"`
}

// SeriesStats are one series' legend values (null when it had no samples).
type SeriesStats struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	Last   *float64          `json:"last"`
	Max    *float64          `json:"max"`
	Min    *float64          `json:"min"`
}

// Links are the message's links.
type Links struct {
	Grafana string `json:"grafana,omitempty"`
	Silence string `json:"silence,omitempty"`
}

// Notifier is a generic webhook.
type Notifier struct {
	channels.Base
	url, token, secret string
}

// New creates the notifier; token and secret may be empty.
func New(opts channels.Options, url, token, secret string) (*Notifier, error) {
	if err := channels.CheckURL(url, "the webhook URL (secureJsonData url)"); err != nil {
		return nil, err
	}
	u, err := channels.Rebase(url, opts.Channel.APIURL)
	if err != nil {
		return nil, err
	}
	f, err := opts.Formatter(channels.PlainText)
	if err != nil {
		return nil, err
	}
	return &Notifier{Base: channels.Base{Opts: opts, Fmt: f, TypeName: "webhook"}, url: u, token: token, secret: secret}, nil
}

// Limits: no platform limit; one request carries everything.
func (n *Notifier) Limits() channels.Limits {
	return n.Opts.Limits(Spec.Limits)
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// Named says which alerts a payload names (channels.Fitter): all of
// them, since it carries the Alertmanager data whole.
func (n *Notifier) Named(m *channels.Message) ([]string, error) {
	if m == nil || m.Data == nil || m.Part == channels.PartChart {
		return nil, nil
	}
	out := make([]string, len(m.Data.Alerts))
	for i, a := range m.Data.Alerts {
		out[i] = a.Fingerprint
	}
	return out, nil
}

var _ channels.Fitter = (*Notifier)(nil)

// Send delivers m. A 413 answer to a body with a base64 chart is retried
// once with the chart by URL (or without it).
func (n *Notifier) Send(ctx context.Context, m *channels.Message) (*channels.Result, error) {
	if m == nil || m.Data == nil {
		return nil, channels.Errorf(channels.Permanent, "message without alert data")
	}
	res, err := n.post(ctx, m, n.Opts.Channel.ImageBase64)
	if channels.KindOf(err) == channels.TooBig && n.Opts.Channel.ImageBase64 && n.Opts.WantsChart(m) {
		res2, err2 := n.post(ctx, m, false)
		if res2 != nil {
			res2.Requests++
			res2.Note = channels.JoinNotes(res2.Note, "base64 chart dropped after a too-big answer")
		}
		return res2, err2
	}
	return res, err
}

func (n *Notifier) post(ctx context.Context, m *channels.Message, b64 bool) (*channels.Result, error) {
	var notes []string
	p := Payload{Version: "1", Channel: n.Name(), Part: m.Part, Digest: m.Digest, Alertmanager: m.Data}
	if channels.SafeURL(m.GrafanaURL) {
		p.Links.Grafana = m.GrafanaURL
	}
	if m.Chart != nil && m.Part != channels.PartText {
		c := m.Chart
		pc := &Chart{Title: c.Title, Query: c.Query, Unit: c.Unit, From: c.From, To: c.To, ContentType: c.ContentTypeOrPNG(), Series: []SeriesStats{}}
		for _, s := range c.Series {
			st := s.Stats()
			pc.Series = append(pc.Series, SeriesStats{Name: s.DisplayName(), Labels: s.Labels, Last: finite(st.Last), Max: finite(st.Max), Min: finite(st.Min)})
		}
		if n.Opts.WantsChart(m) {
			if b64 && base64.StdEncoding.EncodedLen(len(c.Image)) < MaxBodyBytes/2 {
				pc.Base64 = base64.StdEncoding.EncodeToString(c.Image)
			} else {
				var note string
				pc.URL, note = n.Opts.HostChart(ctx, c, n.Lang())
				if note != "" {
					m = channels.WithNote(m, note)
					notes = append(notes, note)
				}
			}
		}
		p.Chart = pc
	}
	t, err := n.Fmt.Render(m, channels.Limit{Max: 64 << 10, Unit: channels.Bytes})
	if err != nil {
		return nil, channels.Errorf(channels.Permanent, "%v", err)
	}
	if t.Note != "" {
		notes = append(notes, t.Note)
	}
	p.Title, p.Text, p.ChartNote = t.Title, t.Body, m.ChartNote
	p.Links.Silence = channels.SilenceURL(n.Fmt.Links.AlertmanagerBase(m), m.Data.CommonLabels)
	body, err := channels.MarshalJSON(p)
	if err != nil {
		return nil, channels.Errorf(channels.Permanent, "encoding payload: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return nil, channels.Errorf(channels.Permanent, "bad webhook URL")
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if n.token != "" {
		req.Header.Set("Authorization", "Bearer "+n.token)
	}
	if n.secret != "" {
		req.Header.Set(SignatureHeader, "sha256="+Sign(body, n.secret))
	}
	resp, err := channels.Do(ctx, n.Opts.HTTP, req)
	if err != nil {
		return nil, err
	}
	res := channels.NewResult(resp, 1, channels.JoinNotes(notes...))
	if e := channels.ClassifyStatus(resp, ""); e != nil {
		return res, e
	}
	return res, nil
}

// Sign returns the hex HMAC-SHA256 of body keyed by secret.
func Sign(body []byte, secret string) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}
