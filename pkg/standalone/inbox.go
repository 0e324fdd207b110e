package standalone

import (
	"bytes"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"

	"github.com/alertchart/alertchart/pkg/channels/inbox"
)

// inboxPage lists the messages of the inbox channels with their charts, so
// AlertChart can be tried without any chat account.
var inboxPage = template.Must(template.New("inbox").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
<title>AlertChart inbox</title>
<style>
body{background:#111217;color:#ccccdc;font:14px/1.5 Inter,"Noto Sans SC",system-ui,sans-serif;margin:0 auto;max-width:1080px;padding:24px}
h1{font-size:20px;font-weight:500}.msg{background:#181b1f;border:1px solid #2c3235;border-radius:4px;margin:16px 0;padding:16px}
.meta{color:#8e8e8e;font-size:12px}.firing{color:#f2495c}.resolved{color:#73bf69}
pre{white-space:pre-wrap;font:13px/1.5 ui-monospace,monospace;margin:8px 0}img{max-width:100%;border-radius:2px}
.md h1{font-size:16px;font-weight:500;margin:8px 0}.md p{margin:6px 0}.md ul{margin:6px 0;padding-left:20px}
a{color:#6e9fff}code{font:13px ui-monospace,monospace;background:#22252b;padding:0 3px;border-radius:2px}
.note{color:#ff9830}.empty{color:#8e8e8e}
</style></head><body>
<h1>AlertChart inbox</h1>
{{range .Channels}}<p class="meta">channel <b>{{.Name}}</b> — folder {{.Dir}}</p>
{{if .Err}}<p class="note">{{.Err}}</p>{{end}}
{{range .Entries}}<div class="msg">
<div class="meta">{{.Time.Format "2006-01-02 15:04:05 MST"}} · <span class="{{.Status}}">{{.Status}}</span> · {{.Alerts}} alert(s) · {{.Part}}</div>
{{if .HTML}}<div class="md">{{.HTML}}</div>{{else}}<pre>{{.Text}}</pre>{{end}}
{{if and .Image (not .ImageShown)}}<img src="/inbox/{{.Channel}}/{{.Image}}" alt="chart">{{end}}
{{if .Note}}<p class="note">{{.Note}}</p>{{end}}
</div>{{else}}<p class="empty">No messages yet: they appear here as Alertmanager sends alerts.</p>{{end}}
{{else}}<p class="empty">No inbox channel is configured.</p>{{end}}
</body></html>`))

type inboxView struct {
	Channels []inboxChannelView
}

type inboxChannelView struct {
	Name, Dir string
	Err       string
	Entries   []inboxEntryView
}

type inboxEntryView struct {
	inbox.Entry
	Channel string
	// Text is the entry's markdown; HTML the same rendered, as a chat
	// client would show it (empty if it could not be rendered).
	Text       string
	HTML       template.HTML
	ImageShown bool // the rendered markdown shows the chart
}

// inboxMarkdown renders an inbox entry: the CommonMark the inbox channel
// writes (untrusted values already escaped), each line break kept as the
// chat platforms keep it. goldmark's defaults are the safe ones: raw HTML
// is left out and javascript:, vbscript:, file: and data: (other than
// images) link targets are dropped.
var inboxMarkdown = goldmark.New(goldmark.WithRendererOptions(html.WithHardWraps()))

// renderInboxEntry renders md as HTML. An image whose target is an inbox
// file name is served from /inbox/{channel}/; any other image is left out,
// so the page never loads a picture from elsewhere. shown reports whether
// an inbox image remained.
func renderInboxEntry(channel string, md []byte) (page template.HTML, shown bool, err error) {
	doc := inboxMarkdown.Parser().Parse(text.NewReader(md))
	var foreign []ast.Node
	err = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		img, ok := n.(*ast.Image)
		if !ok || !entering {
			return ast.WalkContinue, nil
		}
		if name := string(img.Destination); inbox.ValidName(name) {
			img.Destination = []byte("/inbox/" + url.PathEscape(channel) + "/" + name)
			shown = true
		} else {
			foreign = append(foreign, img)
		}
		return ast.WalkSkipChildren, nil
	})
	if err != nil {
		return "", false, err
	}
	for _, n := range foreign {
		n.Parent().RemoveChild(n.Parent(), n)
	}
	var buf bytes.Buffer
	if err := inboxMarkdown.Renderer().Render(&buf, md, doc); err != nil {
		return "", false, err
	}
	return template.HTML(buf.String()), shown, nil //nolint:gosec // goldmark's safe renderer: raw HTML omitted, dangerous URLs dropped
}

// registerInbox serves GET /inbox (the page) and /inbox/{channel}/{file}.
func (s *Server) registerInbox(mux *http.ServeMux) {
	dirs := map[string]string{}
	var order []string
	for _, ch := range s.cfg.Channels {
		if ch.Type == "inbox" {
			dirs[ch.Name] = ch.Dir
			order = append(order, ch.Name)
		}
	}
	mux.HandleFunc("GET /inbox", func(w http.ResponseWriter, r *http.Request) {
		limit := 50
		if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 && n <= 1000 {
			limit = n
		}
		var v inboxView
		for _, name := range order {
			cv := inboxChannelView{Name: name, Dir: dirs[name]}
			entries, err := inbox.List(dirs[name], limit)
			if err != nil {
				cv.Err = err.Error()
			}
			for _, e := range entries {
				ev := inboxEntryView{Entry: e, Channel: name}
				if rc, _, err := inbox.Open(dirs[name], e.Markdown); err == nil {
					b, _ := io.ReadAll(io.LimitReader(rc, 64<<10))
					rc.Close()
					ev.Text = string(b)
					if h, shown, err := renderInboxEntry(name, b); err == nil {
						ev.HTML, ev.ImageShown = h, shown
					}
				}
				cv.Entries = append(cv.Entries, ev)
			}
			v.Channels = append(v.Channels, cv)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = inboxPage.Execute(w, v)
	})
	mux.HandleFunc("GET /inbox/{channel}/{file}", func(w http.ResponseWriter, r *http.Request) {
		dir, ok := dirs[r.PathValue("channel")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		rc, ct, err := inbox.Open(dir, r.PathValue("file"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer rc.Close()
		w.Header().Set("Content-Type", ct)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = io.Copy(w, rc)
	})
}
