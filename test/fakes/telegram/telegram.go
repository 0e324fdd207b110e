// Package telegram is a fake Telegram Bot API (sendMessage, sendPhoto)
// enforcing the contract of the Bot API (https://core.telegram.org/bots/api)
// and the Bots FAQ (https://core.telegram.org/bots/faq): the bot token in the
// path (401 Unauthorized, 404 for a malformed token), a known chat, strict
// parse_mode=HTML (supported tags, balanced, only the four named entities),
// text ≤ 4096 and caption ≤ 1024 UTF-16 units after entity parsing, photos
// ≤ 10 MB, and the Bots FAQ's rates — about one message a second per chat
// (a short burst of ChatBurst is tolerated), 20 a minute per group, 30 a
// second per bot — answered with 429 and parameters.retry_after.
package telegram

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/alertchart/alertchart/test/fakes/fakelimit"
)

// Limits.
const (
	TextMax    = 4096
	CaptionMax = 1024
	PhotoMax   = 10 << 20
	PerMinute  = 20
	ChatBurst  = 3
	PerSecond  = 30 // per bot, all chats together
)

// Message is an accepted message.
type Message struct {
	Method string
	Text   string // text or caption
	Photo  []byte
	Params map[string]string
}

// Server is the fake.
type Server struct {
	*httptest.Server
	Token  string
	ChatID string
	Now    func() time.Time

	mu       sync.Mutex
	accepted []Message
	limit    *fakelimit.Limiter // per chat
	global   *fakelimit.Limiter // per bot
}

// New starts a fake bot "123456:fake-token" in chat "-1001234567890".
func New() *Server {
	s := &Server{Token: "123456:fake-token", ChatID: "-1001234567890", Now: time.Now,
		limit:  fakelimit.New(fakelimit.Window{Max: ChatBurst, Per: ChatBurst * time.Second}, fakelimit.Window{Max: PerMinute, Per: time.Minute}),
		global: fakelimit.New(fakelimit.Window{Max: PerSecond, Per: time.Second})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// Accepted returns accepted messages.
func (s *Server) Accepted() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.accepted...)
}

func fail(w http.ResponseWriter, code int, desc string, params map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	v := map[string]any{"ok": false, "error_code": code, "description": desc}
	if params != nil {
		v["parameters"] = params
	}
	json.NewEncoder(w).Encode(v)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || !strings.Contains(token, ":") {
		fail(w, 404, "Not Found", nil)
		return
	}
	if token != s.Token {
		fail(w, 401, "Unauthorized", nil)
		return
	}
	params := map[string]string{}
	var photo []byte
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		var v map[string]any
		if json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&v) != nil {
			fail(w, 400, "Bad Request: invalid JSON", nil)
			return
		}
		for k, x := range v {
			switch t := x.(type) {
			case string:
				params[k] = t
			default:
				b, _ := json.Marshal(t)
				params[k] = string(b)
			}
		}
	case strings.HasPrefix(ct, "multipart/form-data"):
		if err := r.ParseMultipartForm(PhotoMax + 1<<20); err != nil {
			fail(w, 400, "Bad Request: bad multipart", nil)
			return
		}
		for k := range r.MultipartForm.Value {
			params[k] = r.FormValue(k)
		}
		if f, _, err := r.FormFile("photo"); err == nil {
			photo, _ = io.ReadAll(io.LimitReader(f, PhotoMax+1))
		}
	default:
		if err := r.ParseForm(); err != nil {
			fail(w, 400, "Bad Request", nil)
			return
		}
		for k := range r.PostForm {
			params[k] = r.PostForm.Get(k)
		}
	}
	if params["chat_id"] != s.ChatID {
		fail(w, 400, "Bad Request: chat not found", nil)
		return
	}
	var text string
	switch method {
	case "sendMessage":
		plain, err := parse(params["text"], params["parse_mode"])
		if err != "" {
			fail(w, 400, "Bad Request: can't parse entities: "+err, nil)
			return
		}
		if n := len(utf16.Encode([]rune(strings.TrimSpace(plain)))); n == 0 {
			fail(w, 400, "Bad Request: message text is empty", nil)
			return
		} else if n > TextMax {
			fail(w, 400, "Bad Request: message is too long", nil)
			return
		}
		text = params["text"]
	case "sendPhoto":
		if len(photo) == 0 {
			fail(w, 400, "Bad Request: there is no photo in the request", nil)
			return
		}
		if len(photo) > PhotoMax {
			fail(w, 413, "Request Entity Too Large", nil)
			return
		}
		if !strings.HasPrefix(http.DetectContentType(photo), "image/") {
			fail(w, 400, "Bad Request: IMAGE_PROCESS_FAILED", nil)
			return
		}
		plain, err := parse(params["caption"], params["parse_mode"])
		if err != "" {
			fail(w, 400, "Bad Request: can't parse entities: "+err, nil)
			return
		}
		if len(utf16.Encode([]rune(plain))) > CaptionMax {
			fail(w, 400, "Bad Request: message caption is too long", nil)
			return
		}
		text = params["caption"]
	default:
		fail(w, 404, "Not Found: method not found", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	d := s.global.Take(token, now)
	if d.OK {
		d = s.limit.Take(params["chat_id"], now)
	}
	if !d.OK {
		wait := int(d.Wait/time.Second) + 1
		fail(w, 429, fmt.Sprintf("Too Many Requests: retry after %d", wait), map[string]any{"retry_after": wait})
		return
	}
	s.accepted = append(s.accepted, Message{Method: method, Text: text, Photo: photo, Params: params})
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"chat":{"id":%s,"type":"supergroup"},"date":%d}}`, len(s.accepted), s.ChatID, now.Unix())
}

var (
	tagRE    = regexp.MustCompile(`^<(/?)([a-z-]+)((?:\s+[a-z-]+="[^"]*")*)\s*>`)
	entityRE = regexp.MustCompile(`^&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});`)
	allowed  = map[string]bool{"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true, "strike": true,
		"del": true, "tg-spoiler": true, "a": true, "code": true, "pre": true, "blockquote": true, "span": true, "tg-emoji": true}
)

// parse returns the visible text of an HTML-mode message, or a parse error.
func parse(s, mode string) (string, string) {
	if mode != "HTML" {
		return s, ""
	}
	var out strings.Builder
	var stack []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			m := tagRE.FindStringSubmatch(s[i:])
			if m == nil {
				return "", fmt.Sprintf("unsupported start tag at byte offset %d", i)
			}
			if !allowed[m[2]] {
				return "", fmt.Sprintf("unsupported start tag \"%s\" at byte offset %d", m[2], i)
			}
			if m[1] == "/" {
				if len(stack) == 0 || stack[len(stack)-1] != m[2] {
					return "", fmt.Sprintf("can't find end tag corresponding to start tag at byte offset %d", i)
				}
				stack = stack[:len(stack)-1]
			} else {
				stack = append(stack, m[2])
			}
			i += len(m[0])
		case '&':
			m := entityRE.FindString(s[i:])
			if m == "" {
				return "", fmt.Sprintf("unsupported HTML entity at byte offset %d", i)
			}
			out.WriteString("x")
			i += len(m)
		case '>':
			return "", fmt.Sprintf("unexpected end tag at byte offset %d", i)
		default:
			out.WriteByte(s[i])
			i++
		}
	}
	if len(stack) > 0 {
		return "", fmt.Sprintf("can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1])
	}
	return out.String(), ""
}
