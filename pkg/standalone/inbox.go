package standalone

import (
	"html/template"
	"io"
	"net/http"
	"strconv"

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
.note{color:#ff9830}.empty{color:#8e8e8e}
</style></head><body>
<h1>AlertChart inbox</h1>
{{range .Channels}}<p class="meta">channel <b>{{.Name}}</b> — folder {{.Dir}}</p>
{{if .Err}}<p class="note">{{.Err}}</p>{{end}}
{{range .Entries}}<div class="msg">
<div class="meta">{{.Time.Format "2006-01-02 15:04:05 MST"}} · <span class="{{.Status}}">{{.Status}}</span> · {{.Alerts}} alert(s) · {{.Part}}</div>
<pre>{{.Text}}</pre>
{{if .Image}}<img src="/inbox/{{.Channel}}/{{.Image}}" alt="chart">{{end}}
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
	Text    string
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
