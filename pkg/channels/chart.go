package channels

import (
	"context"

	"github.com/alertchart/alertchart/pkg/i18n"
	"github.com/alertchart/alertchart/pkg/imagestore"
)

// Reasons a chart did not reach the chat, as i18n message ids for
// ChartNote.
const (
	NoImageStore       = "chart.reason.no_store"
	NoImageStoreOrApp  = "chart.reason.no_store_or_app"
	EmptyImage         = "chart.reason.empty"
	ImageUploadFailed  = "chart.reason.upload_failed"
	ImageTooBig        = "chart.reason.too_big"
	ImageRejected      = "chart.reason.rejected"
	DigestTooLongPhoto = "chart.reason.digest_caption"
)

// ChartNote words why a message carries no chart, in lang: "chart
// unavailable: image too big" / "图表不可用：图片过大". reason is one of the
// reason ids above; any other text is used as written.
func ChartNote(lang, reason string) string {
	return i18n.T(lang, "chart.unavailable", "reason", i18n.T(lang, reason))
}

// HostChart returns a URL for the chart: Chart.URL when the pipeline has
// already hosted it, else an upload to the channel's image store; only an
// http(s) URL is ever returned. On
// failure it returns "" and the note to show in the message ("chart
// unavailable: …") and logs why; a missing image must never fail the
// alert.
func (o Options) HostChart(ctx context.Context, c *Chart, lang string) (url, note string) {
	if c == nil {
		return "", ""
	}
	if c.URL != "" {
		if !SafeURL(c.URL) {
			return "", ChartNote(lang, ImageRejected)
		}
		return c.URL, ""
	}
	if o.Images == nil {
		return "", ChartNote(lang, NoImageStore)
	}
	if len(c.Image) == 0 {
		return "", ChartNote(lang, EmptyImage)
	}
	ct := c.ContentTypeOrPNG()
	u, err := o.Images.Put(ctx, imagestore.ContentKey(c.Image, ct), c.Image, ct)
	if err != nil {
		o.Log().Warn("chart upload failed; sending text with a note", "channel", o.Channel.Name, "type", o.Channel.Type, "error", err)
		return "", ChartNote(lang, ImageUploadFailed)
	}
	if !SafeURL(u) {
		return "", ChartNote(lang, ImageUploadFailed)
	}
	return u, ""
}

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

// ChartAlt is the text shown for the chart where the image cannot be: its
// title, else "chart" in lang.
func ChartAlt(c *Chart, lang string) string {
	if c != nil && c.Title != "" {
		return c.Title
	}
	return i18n.T(lang, "chart.alt")
}

// ChartFileName is the file name used for uploads; never derived from alert
// names or labels.
func ChartFileName(c *Chart) string {
	if c != nil && c.ContentType == "image/jpeg" {
		return "chart.jpg"
	}
	return "chart.png"
}

// ContentTypeOrPNG returns the chart's content type, defaulting to PNG.
func (c *Chart) ContentTypeOrPNG() string {
	if c == nil || c.ContentType == "" {
		return "image/png"
	}
	return c.ContentType
}
