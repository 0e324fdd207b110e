// Package dingtalk is a fake DingTalk custom robot enforcing
// the contract of 自定义机器人接入
// (https://open.dingtalk.com/document/orgapp/custom-robot-access): access_token, the 加签 signature
// (millisecond timestamp within an hour, URL-encoded base64 HMAC-SHA256 of
// "timestamp\nsecret"), optional keywords, 20000-byte bodies (460101), and
// 20 messages a minute followed by a 10-minute throttle (130101). Every
// answer is HTTP 200 with an errcode.
package dingtalk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alertchart/alertchart/test/fakes/fakelimit"
)

// Limits from the platform documentation.
const (
	MaxBodyBytes = 20000
	PerMinute    = 20
	Throttle     = 10 * time.Minute
)

// Message is an accepted message.
type Message struct {
	MsgType string
	Body    []byte
	Query   map[string]string
	// ImageURLs are the ![](url) targets of a markdown message.
	ImageURLs []string
}

// Server is the fake robot.
type Server struct {
	*httptest.Server
	Token  string
	Secret string
	// Keywords, when set, must appear in the message (自定义关键词).
	Keywords []string
	// FetchImages makes the fake GET every markdown image URL like a
	// DingTalk client would, failing the message when one is unreachable.
	FetchImages bool
	Now         func() time.Time

	mu        sync.Mutex
	accepted  []Message
	limit     *fakelimit.Limiter
	throttled time.Time
}

// New starts a robot with token "test-token" and secret "SECtest".
func New() *Server {
	s := &Server{Token: "test-token", Secret: "SECtest", Now: time.Now,
		limit: fakelimit.CountingRefused(fakelimit.Window{Max: PerMinute, Per: time.Minute})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// WebhookURL is the robot URL a user would paste.
func (s *Server) WebhookURL() string { return s.URL + "/robot/send?access_token=" + s.Token }

// Accepted returns the accepted messages.
func (s *Server) Accepted() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.accepted...)
}

// Sign computes the signature the way DingTalk documents it (before URL
// encoding).
func Sign(ts int64, secret string) string {
	h := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(h, "%d\n%s", ts, secret)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

func reply(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	fmt.Fprintf(w, `{"errcode":%d,"errmsg":%q}`, code, msg)
}

var imgRE = regexp.MustCompile(`!\[[^\]]*\]\(([^)\s]+)\)`)

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/robot/send" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		reply(w, 43002, "需要POST请求")
		return
	}
	q := r.URL.Query()
	if q.Get("access_token") == "" {
		reply(w, 40035, "缺少参数 access_token")
		return
	}
	if q.Get("access_token") != s.Token {
		reply(w, 300005, "token is not exist")
		return
	}
	now := s.Now()
	if s.Secret != "" {
		ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		if err != nil || now.Sub(time.UnixMilli(ts)).Abs() > time.Hour {
			reply(w, 310000, "invalid timestamp")
			return
		}
		// The raw query must carry the URL-encoded form: base64 has '+',
		// which an unencoded query would turn into a space.
		if !hmac.Equal([]byte(q.Get("sign")), []byte(Sign(ts, s.Secret))) {
			reply(w, 310000, "sign not match")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.throttled) {
		reply(w, 130101, "send too fast, exceed 20 times per minute")
		return
	}
	if !s.limit.Take(s.Token, now).OK {
		s.throttled = now.Add(Throttle)
		reply(w, 130101, "send too fast, exceed 20 times per minute")
		return
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if len(raw) > MaxBodyBytes {
		reply(w, 460101, "message too long, exceed 20000 bytes")
		return
	}
	var msg struct {
		MsgType  string                        `json:"msgtype"`
		Text     *struct{ Content string }     `json:"text"`
		Markdown *struct{ Title, Text string } `json:"markdown"`
		At       *struct {
			AtMobiles []string `json:"atMobiles"`
			AtUserIds []string `json:"atUserIds"`
			IsAtAll   bool     `json:"isAtAll"`
		} `json:"at"`
	}
	if err := json.Unmarshal(raw, &msg); err != nil {
		reply(w, 40035, "缺少参数 json")
		return
	}
	var content string
	accepted := Message{MsgType: msg.MsgType, Body: raw, Query: map[string]string{}}
	for k := range q {
		accepted.Query[k] = q.Get(k)
	}
	switch msg.MsgType {
	case "text":
		if msg.Text == nil || msg.Text.Content == "" {
			reply(w, 40035, "缺少参数 text")
			return
		}
		content = msg.Text.Content
	case "markdown":
		if msg.Markdown == nil || msg.Markdown.Title == "" || msg.Markdown.Text == "" {
			reply(w, 40035, "缺少参数 markdown")
			return
		}
		content = msg.Markdown.Title + "\n" + msg.Markdown.Text
		for _, m := range imgRE.FindAllStringSubmatch(msg.Markdown.Text, -1) {
			accepted.ImageURLs = append(accepted.ImageURLs, m[1])
		}
	default:
		reply(w, 400105, "不支持的消息类型")
		return
	}
	if len(s.Keywords) > 0 {
		if !slices.ContainsFunc(s.Keywords, func(k string) bool { return strings.Contains(content, k) }) {
			reply(w, 310000, "keywords not in content")
			return
		}
	}
	if s.FetchImages {
		for _, u := range accepted.ImageURLs {
			resp, err := http.Get(u)
			if err != nil {
				reply(w, 430103, "image unreachable: "+err.Error())
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") {
				reply(w, 430103, fmt.Sprintf("image unreachable: HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type")))
				return
			}
		}
	}
	s.accepted = append(s.accepted, accepted)
	reply(w, 0, "ok")
}
