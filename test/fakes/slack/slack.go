// Package slack is a fake Slack: an incoming webhook and the Web API
// methods for bot-token uploads (files.getUploadURLExternal, the upload URL,
// files.completeUploadExternal) plus chat.postMessage, enforcing
// the contract in Slack's documentation (https://docs.slack.dev: incoming
// webhooks, the files.* and chat.postMessage methods, rate limits): plain-text webhook errors with
// their statuses, {"ok":false,"error":…} Web API errors, bot tokens, known
// channels, declared upload lengths, block limits, and HTTP 429 with
// Retry-After beyond one message a second per channel (a short burst of
// Burst is tolerated, as Slack documents).
package slack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alertchart/alertchart/test/fakes/fakelimit"
)

// Limits.
const (
	SectionTextMax = 3000
	ImageURLMax    = 3000
	TextMax        = 40000
	// Burst is how many messages the fake lets through at once; over any
	// Burst seconds a channel gets at most Burst, i.e. one a second.
	Burst = 3
)

// Post is an accepted message (webhook JSON, chat.postMessage or a
// completed upload).
type Post struct {
	Kind    string // webhook, postMessage, upload
	Body    []byte
	File    []byte
	Channel string
	Comment string
}

// Server is the fake.
type Server struct {
	*httptest.Server
	HookPath string
	Token    string
	Channels []string
	Now      func() time.Time

	mu      sync.Mutex
	posts   []Post
	limit   *fakelimit.Limiter
	pending map[string]*upload
	nextID  int
}

type upload struct {
	length int
	data   []byte
	done   bool
}

// New starts the fake with webhook path /services/T000/B000/XXXX, bot token
// xoxb-fake and channel C0123.
func New() *Server {
	s := &Server{HookPath: "/services/T000/B000/XXXX", Token: "xoxb-fake", Channels: []string{"C0123"}, Now: time.Now, pending: map[string]*upload{},
		limit: fakelimit.New(fakelimit.Window{Max: Burst, Per: Burst * time.Second})}
	mux := http.NewServeMux()
	mux.HandleFunc("/services/", s.webhook)
	mux.HandleFunc("/api/chat.postMessage", s.postMessage)
	mux.HandleFunc("/api/files.getUploadURLExternal", s.getUploadURL)
	mux.HandleFunc("/upload/", s.upload)
	mux.HandleFunc("/api/files.completeUploadExternal", s.complete)
	s.Server = httptest.NewServer(mux)
	return s
}

// WebhookURL is the incoming webhook URL.
func (s *Server) WebhookURL() string { return s.URL + s.HookPath }

// Posts returns accepted messages.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.posts...)
}

// limited applies the channel's rate; callers hold mu.
func (s *Server) limited(w http.ResponseWriter, channel string, api bool) bool {
	if d := s.limit.Take(channel, s.Now()); !d.OK {
		w.Header().Set("Retry-After", strconv.Itoa(int(d.Wait/time.Second)+1))
		w.WriteHeader(http.StatusTooManyRequests)
		if api {
			io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
		} else {
			io.WriteString(w, "rate_limited")
		}
		return true
	}
	return false
}

func plain(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != s.HookPath {
		plain(w, http.StatusNotFound, "no_service")
		return
	}
	if r.Method != http.MethodPost {
		plain(w, http.StatusMethodNotAllowed, "invalid_method")
		return
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var msg struct {
		Text   string           `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	if json.Unmarshal(raw, &msg) != nil {
		plain(w, http.StatusBadRequest, "invalid_payload")
		return
	}
	if msg.Text == "" && len(msg.Blocks) == 0 {
		plain(w, http.StatusBadRequest, "no_text")
		return
	}
	if e := checkBlocks(msg.Text, msg.Blocks); e != "" {
		plain(w, http.StatusBadRequest, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limited(w, r.URL.Path, false) {
		return
	}
	s.posts = append(s.posts, Post{Kind: "webhook", Body: raw})
	plain(w, http.StatusOK, "ok")
}

func checkBlocks(text string, blocks []map[string]any) string {
	if len([]rune(text)) > TextMax {
		return "invalid_payload"
	}
	if len(blocks) > 50 {
		return "invalid_blocks"
	}
	for _, b := range blocks {
		switch b["type"] {
		case "section":
			t, _ := b["text"].(map[string]any)
			if s, _ := t["text"].(string); s == "" || len([]rune(s)) > SectionTextMax {
				return "invalid_blocks"
			}
		case "image":
			u, _ := b["image_url"].(string)
			alt, _ := b["alt_text"].(string)
			if alt == "" || len(u) > ImageURLMax || !(strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
				return "invalid_blocks"
			}
		case "context", "divider", "header", "actions":
		default:
			return "invalid_blocks"
		}
	}
	return ""
}

func apiReply(w http.ResponseWriter, v map[string]any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(v)
}

func apiErr(w http.ResponseWriter, e string) { apiReply(w, map[string]any{"ok": false, "error": e}) }

func (s *Server) authed(w http.ResponseWriter, r *http.Request) bool {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if tok == "" {
		apiErr(w, "not_authed")
		return false
	}
	if tok != s.Token {
		apiErr(w, "invalid_auth")
		return false
	}
	return true
}

func (s *Server) knownChannel(c string) bool { return slices.Contains(s.Channels, c) }

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	if !s.authed(w, r) {
		return
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var msg struct {
		Channel string           `json:"channel"`
		Text    string           `json:"text"`
		Blocks  []map[string]any `json:"blocks"`
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.Unmarshal(raw, &msg) != nil {
		apiErr(w, "invalid_arguments")
		return
	}
	if !s.knownChannel(msg.Channel) {
		apiErr(w, "channel_not_found")
		return
	}
	if msg.Text == "" && len(msg.Blocks) == 0 {
		apiErr(w, "no_text")
		return
	}
	if len([]rune(msg.Text)) > TextMax {
		apiErr(w, "msg_too_long")
		return
	}
	if e := checkBlocks("", msg.Blocks); e != "" {
		apiErr(w, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limited(w, msg.Channel, true) {
		return
	}
	s.posts = append(s.posts, Post{Kind: "postMessage", Body: raw, Channel: msg.Channel})
	apiReply(w, map[string]any{"ok": true, "channel": msg.Channel, "ts": "1700000000.000100"})
}

func (s *Server) getUploadURL(w http.ResponseWriter, r *http.Request) {
	if !s.authed(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		apiErr(w, "invalid_arguments")
		return
	}
	length, err := strconv.Atoi(r.PostForm.Get("length"))
	if r.PostForm.Get("filename") == "" || err != nil || length <= 0 {
		apiErr(w, "invalid_arguments")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := fmt.Sprintf("F%07d", s.nextID)
	s.pending[id] = &upload{length: length}
	apiReply(w, map[string]any{"ok": true, "upload_url": s.URL + "/upload/" + id, "file_id": id})
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/upload/")
	data, _ := io.ReadAll(io.LimitReader(r.Body, 100<<20))
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.pending[id]
	if u == nil || r.Method != http.MethodPost {
		plain(w, http.StatusNotFound, "not found")
		return
	}
	if len(data) != u.length {
		plain(w, http.StatusBadRequest, fmt.Sprintf("length mismatch: declared %d, got %d", u.length, len(data)))
		return
	}
	u.data = data
	plain(w, http.StatusOK, "OK - "+strconv.Itoa(len(data)))
}

func (s *Server) complete(w http.ResponseWriter, r *http.Request) {
	if !s.authed(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		apiErr(w, "invalid_arguments")
		return
	}
	var files []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if json.Unmarshal([]byte(r.PostForm.Get("files")), &files) != nil || len(files) == 0 {
		apiErr(w, "invalid_arguments")
		return
	}
	ch := r.PostForm.Get("channel_id")
	if ch != "" && !s.knownChannel(ch) {
		apiErr(w, "channel_not_found")
		return
	}
	if len([]rune(r.PostForm.Get("initial_comment"))) > TextMax {
		apiErr(w, "msg_too_long")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limited(w, ch, true) {
		return
	}
	var out []map[string]any
	for _, f := range files {
		u := s.pending[f.ID]
		if u == nil || u.data == nil || u.done {
			apiErr(w, "file_not_found")
			return
		}
		u.done = true
		s.posts = append(s.posts, Post{Kind: "upload", File: u.data, Channel: ch, Comment: r.PostForm.Get("initial_comment"),
			Body: []byte(r.PostForm.Encode())})
		out = append(out, map[string]any{"id": f.ID, "title": f.Title})
	}
	apiReply(w, map[string]any{"ok": true, "files": out})
}
