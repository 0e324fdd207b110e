// Package feishu is a fake Feishu/Lark custom bot plus the two open-platform
// endpoints needed for images (tenant_access_token and im/v1/images),
// enforcing the contract of 自定义机器人使用指南
// (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot): body ≤ 20 KB (9499),
// signature in the body (19021), keywords (19024), 5 requests a second and
// 100 a minute (11232, answered with HTTP 200 like the real custom bot, or
// RateLimitStatus), and image keys that were really uploaded.
package feishu

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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

// Limits from the platform documentation.
const (
	MaxBodyBytes   = 20 << 10
	PerSecond      = 5
	PerMinute      = 100
	ImageMaxBytes  = 10 << 20
	tokenPrefix    = "t-fake-"
	imageKeyPrefix = "img_v3_fake_"
)

// Message is an accepted bot message.
type Message struct {
	MsgType string
	Body    []byte
}

// Server is the fake.
type Server struct {
	*httptest.Server
	Token, Secret    string
	AppID, AppSecret string
	Keywords         []string
	Now              func() time.Time
	// RateLimitStatus is the HTTP status of a 11232 answer: 200 as custom
	// bots answer (the default), or 400 as the Open API message service
	// does, to test that a client retries either way.
	RateLimitStatus int

	mu       sync.Mutex
	accepted []Message
	limit    *fakelimit.Limiter
	images   map[string][]byte
	tokens   int
}

// New starts a fake with hook token "hook-token", secret "feishu-secret"
// and app "cli_fake"/"app-secret".
func New() *Server {
	s := &Server{Token: "hook-token", Secret: "feishu-secret", AppID: "cli_fake", AppSecret: "app-secret", Now: time.Now, images: map[string][]byte{},
		limit: fakelimit.CountingRefused(fakelimit.Window{Max: PerSecond, Per: time.Second}, fakelimit.Window{Max: PerMinute, Per: time.Minute})}
	mux := http.NewServeMux()
	mux.HandleFunc("/open-apis/bot/v2/hook/", s.hook)
	mux.HandleFunc("/open-apis/auth/v3/tenant_access_token/internal", s.token)
	mux.HandleFunc("/open-apis/im/v1/images", s.upload)
	s.Server = httptest.NewServer(mux)
	return s
}

// WebhookURL is the bot URL a user would paste.
func (s *Server) WebhookURL() string { return s.URL + "/open-apis/bot/v2/hook/" + s.Token }

// Accepted returns accepted messages.
func (s *Server) Accepted() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.accepted...)
}

// Image returns an uploaded image by key.
func (s *Server) Image(key string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.images[key]
}

// Sign is Feishu's signature: HMAC-SHA256 keyed by "timestamp\nsecret" over
// an empty message, base64.
func Sign(ts int64, secret string) string {
	h := hmac.New(sha256.New, []byte(fmt.Sprintf("%d\n%s", ts, secret)))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

func reply(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%d,"data":{},"msg":%q}`, code, msg)
}

func (s *Server) hook(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		reply(w, 200, 9499, "Bad Request")
		return
	}
	if strings.TrimPrefix(r.URL.Path, "/open-apis/bot/v2/hook/") != s.Token {
		reply(w, 200, 19001, "param invalid: incoming webhook access token invalid")
		return
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if len(raw) > MaxBodyBytes {
		reply(w, 200, 9499, "Bad Request")
		return
	}
	var msg struct {
		Timestamp string          `json:"timestamp"`
		Sign      string          `json:"sign"`
		MsgType   string          `json:"msg_type"`
		Content   json.RawMessage `json:"content"`
		Card      json.RawMessage `json:"card"`
	}
	if err := json.Unmarshal(raw, &msg); err != nil {
		reply(w, 200, 9499, "Bad Request")
		return
	}
	now := s.Now()
	if s.Secret != "" {
		ts, err := strconv.ParseInt(msg.Timestamp, 10, 64)
		if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > time.Hour || !hmac.Equal([]byte(msg.Sign), []byte(Sign(ts, s.Secret))) {
			reply(w, 200, 19021, "sign match fail or timestamp is not within one hour from current time")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.limit.Take(s.Token, now).OK {
		reply(w, cmp.Or(s.RateLimitStatus, 200), 11232, "frequency limited psm[lark.oapi.app_platform_runtime]appID[1500]")
		return
	}
	var text string
	switch msg.MsgType {
	case "text", "post":
		if len(msg.Content) == 0 {
			reply(w, 200, 9499, "Bad Request")
			return
		}
		text = string(msg.Content)
	case "image":
		var c struct {
			ImageKey string `json:"image_key"`
		}
		if json.Unmarshal(msg.Content, &c) != nil || s.images[c.ImageKey] == nil {
			reply(w, 200, 9499, "Bad Request")
			return
		}
	case "interactive":
		if len(msg.Card) == 0 || len(msg.Content) > 0 {
			reply(w, 200, 9499, "Bad Request")
			return
		}
		var card struct {
			Schema string `json:"schema"`
			Header struct {
				Title struct{ Content string } `json:"title"`
			} `json:"header"`
			Body struct {
				Elements []map[string]any `json:"elements"`
			} `json:"body"`
		}
		if json.Unmarshal(msg.Card, &card) != nil || card.Schema != "2.0" || len(card.Body.Elements) == 0 {
			reply(w, 200, 9499, "Bad Request")
			return
		}
		text = card.Header.Title.Content
		for _, e := range card.Body.Elements {
			switch e["tag"] {
			case "markdown":
				c, _ := e["content"].(string)
				text += "\n" + c
			case "img":
				if k, _ := e["img_key"].(string); s.images[k] == nil {
					reply(w, 200, 9499, "Bad Request")
					return
				}
			}
		}
	default:
		reply(w, 200, 9499, "Bad Request")
		return
	}
	if len(s.Keywords) > 0 {
		if !slices.ContainsFunc(s.Keywords, func(k string) bool { return strings.Contains(text, k) }) {
			reply(w, 200, 19024, "Key Words Not Found")
			return
		}
	}
	s.accepted = append(s.accepted, Message{MsgType: msg.MsgType, Body: raw})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	io.WriteString(w, `{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}`)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AppID     string `json:"app_id"`
		AppSecret string `json:"app_secret"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req) != nil {
		reply(w, 400, 10003, "invalid param")
		return
	}
	if req.AppID != s.AppID || req.AppSecret != s.AppSecret {
		reply(w, 200, 10014, "app secret invalid")
		return
	}
	s.mu.Lock()
	s.tokens++
	tok := tokenPrefix + strconv.Itoa(s.tokens)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	fmt.Fprintf(w, `{"code":0,"msg":"ok","tenant_access_token":%q,"expire":7200}`, tok)
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		reply(w, 405, 234001, "Invalid request param.")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "+tokenPrefix) {
		reply(w, 401, 234002, "Unauthorized.")
		return
	}
	if err := r.ParseMultipartForm(ImageMaxBytes + 1<<20); err != nil {
		reply(w, 400, 234001, "Invalid request param.")
		return
	}
	if r.FormValue("image_type") != "message" {
		reply(w, 400, 234001, "Invalid request param: image_type")
		return
	}
	f, _, err := r.FormFile("image")
	if err != nil {
		reply(w, 400, 234001, "Invalid request param: image")
		return
	}
	data, _ := io.ReadAll(io.LimitReader(f, ImageMaxBytes+1))
	if len(data) == 0 || len(data) > ImageMaxBytes {
		reply(w, 400, 234006, "The image size exceeds the limit or is empty.")
		return
	}
	if !strings.HasPrefix(http.DetectContentType(data), "image/") {
		reply(w, 400, 234011, "Can't recognize image format.")
		return
	}
	s.mu.Lock()
	key := fmt.Sprintf("%s%d", imageKeyPrefix, len(s.images)+1)
	s.images[key] = data
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	fmt.Fprintf(w, `{"code":0,"data":{"image_key":%q},"msg":"success"}`, key)
}
