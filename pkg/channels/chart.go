package channels

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/alertchart/alertchart/pkg/imagestore"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Options carry what every platform notifier needs besides its own settings.
type Options struct {
	// Channel is the channel's settings (non-secret).
	Channel settings.Channel
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
	// Images hosts charts for platforms that take a URL; may be nil.
	Images imagestore.Store
	// Logger for degradations; nil discards.
	Logger *slog.Logger
	// Lang is the message language (zh or en).
	Lang string
	// Location formats times in messages.
	Location *time.Location
	// Links configure the Grafana Explore link of messages whose
	// Message.GrafanaURL is a base URL (or empty).
	Links Links
}

// Formatter returns a Formatter for the platform's markup with the
// channel's language, template, time zone and link settings.
func (o Options) Formatter(mk Markup) (*Formatter, error) {
	f, err := NewFormatter(mk, o.Lang, o.Channel.Template, o.Location)
	if err != nil {
		return nil, err
	}
	f.Links = o.Links
	return f, nil
}

// Log returns the logger, never nil.
func (o Options) Log() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// WantsChart reports whether m carries a chart that should be sent.
func (o Options) WantsChart(m *Message) bool {
	return !o.Channel.DisableChart && m.Part != PartText && m.Chart != nil && len(m.Chart.Image) > 0
}

// HostChart is HostChart with the channel's image store, logging why an
// upload failed (the message only says that it did).
func (o Options) HostChart(ctx context.Context, c *Chart, lang string) (url, note string) {
	url, note, err := hostChart(ctx, o.Images, c, lang)
	if err != nil {
		o.Log().Warn("chart upload failed; sending text with a note", "channel", o.Channel.Name, "type", o.Channel.Type, "error", err)
	}
	return url, note
}

// HostChart returns a URL for the chart: Chart.URL when the pipeline has
// already hosted it, else an upload to the image store. On failure it
// returns "" and the note to show in the message ("chart unavailable: …");
// a missing image must never fail the alert.
func HostChart(ctx context.Context, store imagestore.Store, c *Chart, lang string) (url, note string) {
	url, note, _ = hostChart(ctx, store, c, lang)
	return url, note
}

func hostChart(ctx context.Context, store imagestore.Store, c *Chart, lang string) (url, note string, err error) {
	if c == nil {
		return "", "", nil
	}
	if c.URL != "" {
		return c.URL, "", nil
	}
	if store == nil {
		return "", chartNote(lang, "no image store configured"), nil
	}
	if len(c.Image) == 0 {
		return "", chartNote(lang, "empty image"), nil
	}
	ct := c.ContentType
	if ct == "" {
		ct = "image/png"
	}
	u, err := store.Put(ctx, imagestore.ContentKey(c.Image, ct), c.Image, ct)
	if err != nil {
		return "", chartNote(lang, "image upload failed"), err
	}
	return u, "", nil
}

// chartNote words a missing-chart reason in the message language.
func chartNote(lang, reason string) string {
	if lang == "en" {
		return "chart unavailable: " + reason
	}
	zh := map[string]string{
		"no image store configured":           "未配置图片存储",
		"empty image":                         "图片为空",
		"image upload failed":                 "图片上传失败",
		"image too big":                       "图片过大",
		"image rejected":                      "图片被平台拒绝",
		"digest too long for a photo caption": "摘要过长，无法与图片合并发送",
	}[reason]
	if zh == "" {
		zh = reason
	}
	return "图表不可用：" + zh
}

// ChartNote is chartNote for notifiers: the note shown when the chart was
// dropped for reason.
func ChartNote(lang, reason string) string { return chartNote(lang, reason) }

// WithNote returns a shallow copy of m with note appended to ChartNote, so
// the text says why no chart follows.
func WithNote(m *Message, note string) *Message {
	if note == "" {
		return m
	}
	c := *m
	if c.ChartNote == "" {
		c.ChartNote = note
	} else if c.ChartNote != note {
		c.ChartNote += "; " + note
	}
	return &c
}

// ChartFileName is the file name used for uploads; never derived from alert
// names or labels.
func ChartFileName(c *Chart) string {
	if c != nil && c.ContentType == "image/jpeg" {
		return "chart.jpg"
	}
	return "chart.png"
}

// ContentType returns the chart's content type, defaulting to PNG.
func (c *Chart) ContentTypeOrPNG() string {
	if c == nil || c.ContentType == "" {
		return "image/png"
	}
	return c.ContentType
}

// errorf builds a classified error.
func errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Errorf builds a classified error for notifiers.
func Errorf(kind ErrorKind, format string, args ...any) *Error { return errorf(kind, format, args...) }

// mentionRE is what a user id or mobile may look like; anything else from a
// label value is dropped rather than sent as markup.
var mentionRE = regexp.MustCompile(`^[A-Za-z0-9_.@+\-]{1,64}$`)

// Mentions returns the user ids to mention for m: the channel's
// mentionUsers plus the ids listed (comma, semicolon or space separated) in
// the mentionLabel label of firing alerts. Resolved-only messages mention
// the configured users but not the label's, to keep the noise down.
func Mentions(ch settings.Channel, m *Message) []string {
	seen := map[string]bool{}
	var out []string
	add := func(id string) {
		id = strings.TrimSpace(id)
		if id != "" && mentionRE.MatchString(id) && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, u := range ch.MentionUsers {
		add(u)
	}
	if ch.MentionLabel != "" && m != nil && m.Data != nil {
		for _, a := range m.Data.Alerts {
			if a.Status == "resolved" {
				continue
			}
			for _, id := range strings.FieldsFunc(a.Labels[ch.MentionLabel], func(r rune) bool {
				return r == ',' || r == ';' || r == ' ' || r == '\t'
			}) {
				add(id)
			}
		}
	}
	return out
}

// Mobiles returns the channel's mentionMobiles that look like phone numbers.
func Mobiles(ch settings.Channel) []string {
	var out []string
	for _, m := range ch.MentionMobiles {
		if m = strings.TrimSpace(m); mentionRE.MatchString(m) {
			out = append(out, m)
		}
	}
	return out
}

// Rebase moves a platform URL onto apiURL (self-hosted gateways, proxies,
// tests): the scheme and host come from apiURL, apiURL's path is prefixed to
// u's path, and the query of u is kept. An empty apiURL returns u.
func Rebase(u, apiURL string) (string, error) {
	if apiURL == "" {
		return u, nil
	}
	base, err := url.Parse(apiURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return "", fmt.Errorf("apiUrl %q must be an http(s) URL", apiURL)
	}
	p, err := url.Parse(u)
	if err != nil {
		return "", errors.New("webhook URL is not a valid URL")
	}
	p.Scheme, p.Host, p.User = base.Scheme, base.Host, nil
	p.Path = strings.TrimRight(base.Path, "/") + p.Path
	p.RawPath = ""
	return p.String(), nil
}

// CheckURL validates a configured webhook URL without echoing it (it is a
// secret).
func CheckURL(u, what string) error {
	if u == "" {
		return fmt.Errorf("%s is not set", what)
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("%s is not an http(s) URL", what)
	}
	return nil
}

// Limits returns a platform's limits with the channel's rateLimitPerMinute
// override applied, so every notifier reports them the same way.
func (o Options) Limits(platform Limits) Limits {
	if o.Channel.RateLimitPerMinute > 0 {
		platform.PerMinute = o.Channel.RateLimitPerMinute
	}
	return platform
}
