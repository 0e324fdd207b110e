// Package wecom is a fake WeCom group robot webhook enforcing the contract of
// 群机器人配置说明 (https://developer.work.weixin.qq.com/document/path/91770)
// and the error bodies the real robot sends: key in the query, errcode in an HTTP
// 200 body, byte limits, base64+md5 images of at most 2 MB, and 20 messages
// a minute per robot (failures count) answered with errcode 45009.
package wecom

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/alertchart/alertchart/test/fakes/fakelimit"
)

// Limits from the platform documentation.
const (
	TextMaxBytes     = 2048
	MarkdownMaxBytes = 4096
	ImageMaxBytes    = 2 << 20
	PerMinute        = 20
)

// Message is an accepted message.
type Message struct {
	MsgType string
	Body    []byte
	// Image is the decoded image of an image message.
	Image []byte
	// At is when the fake accepted the message (wall clock, not Now), for
	// latency measurements.
	At time.Time
}

// Server is the fake.
type Server struct {
	*httptest.Server
	Key string
	// Now is the fake's clock (rate limiting).
	Now func() time.Time

	limit    *fakelimit.Limiter
	mu       sync.Mutex
	accepted []Message
	inject   []string
}

// New starts a fake robot with key "test-key".
func New() *Server {
	s := &Server{Key: "test-key", Now: time.Now, limit: fakelimit.CountingRefused(fakelimit.Window{Max: PerMinute, Per: time.Minute})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// WebhookURL is the robot URL a user would paste.
func (s *Server) WebhookURL() string { return s.URL + "/cgi-bin/webhook/send?key=" + s.Key }

// Accepted returns the messages accepted so far.
func (s *Server) Accepted() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.accepted...)
}

// Inject makes the next valid-key requests answer with these bodies (e.g.
// `{"errcode":-1,"errmsg":"system busy"}`).
func (s *Server) Inject(bodies ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject = append(s.inject, bodies...)
}

func reply(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, `{"errcode":%d,"errmsg":%q}`, code, msg)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/cgi-bin/webhook/send" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		reply(w, 43002, "require POST method")
		return
	}
	if r.URL.Query().Get("key") != s.Key {
		reply(w, 93000, "invalid webhook url, hint: [fake], more info at https://open.work.weixin.qq.com/devtool/query?e=93000")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.limit.Take(s.Key, s.Now()).OK {
		reply(w, 45009, "api freq out of limit, hint: [fake], more info at https://open.work.weixin.qq.com/devtool/query?e=45009")
		return
	}
	if len(s.inject) > 0 {
		body := s.inject[0]
		s.inject = s.inject[1:]
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, body)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		reply(w, -1, "system busy")
		return
	}
	var msg struct {
		MsgType string `json:"msgtype"`
		Text    *struct {
			Content string `json:"content"`
		} `json:"text"`
		Markdown *struct {
			Content string `json:"content"`
		} `json:"markdown"`
		Image *struct{ Base64, MD5 string } `json:"image"`
	}
	if err := json.Unmarshal(raw, &msg); err != nil {
		reply(w, 40035, "Warning: wrong json format. invalid parameter")
		return
	}
	accepted := Message{MsgType: msg.MsgType, Body: raw}
	switch msg.MsgType {
	case "text":
		if msg.Text == nil || msg.Text.Content == "" {
			reply(w, 44004, "empty content")
			return
		}
		if len(msg.Text.Content) > TextMaxBytes {
			reply(w, 45002, "content exceed max length")
			return
		}
	case "markdown":
		if msg.Markdown == nil || msg.Markdown.Content == "" {
			reply(w, 44004, "empty content")
			return
		}
		if len(msg.Markdown.Content) > MarkdownMaxBytes {
			reply(w, 45002, "content exceed max length")
			return
		}
	case "image":
		if msg.Image == nil {
			reply(w, 40035, "invalid parameter: image")
			return
		}
		img, err := base64.StdEncoding.DecodeString(msg.Image.Base64)
		if err != nil || len(img) == 0 {
			reply(w, 40035, "invalid base64")
			return
		}
		if len(img) > ImageMaxBytes {
			reply(w, 40006, "invalid media size")
			return
		}
		sum := md5.Sum(img)
		if hex.EncodeToString(sum[:]) != msg.Image.MD5 {
			reply(w, 40007, "invalid media data, md5 not match")
			return
		}
		if !bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")) && !bytes.HasPrefix(img, []byte{0xff, 0xd8, 0xff}) {
			reply(w, 40005, "invalid file type")
			return
		}
		accepted.Image = img
	default:
		reply(w, 40008, "invalid message type")
		return
	}
	accepted.At = time.Now()
	s.accepted = append(s.accepted, accepted)
	reply(w, 0, "ok")
}
