// Package discord is a fake Discord webhook enforcing the contract in
// Discord's API documentation
// (https://discord.com/developers/docs/resources/webhook): id/token (10015
// Unknown Webhook, 50027 Invalid Webhook Token), JSON or multipart payload_json + files[n],
// every attachment://name referenced by an embed must be uploaded, content
// ≤ 2000, embed limits (title 256, description 4096, total 6000), files
// ≤ 10 MiB (413/40005), 5 requests per 2 seconds answered with 429, a
// float retry_after and Retry-After/X-RateLimit-* headers, and 204 unless
// wait=true.
package discord

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/alertchart/alertchart/test/fakes/fakelimit"
)

// Limits.
const (
	ContentMax     = 2000
	TitleMax       = 256
	DescriptionMax = 4096
	EmbedTotalMax  = 6000
	FileMax        = 10 << 20
	Bucket         = 5
	Window         = 2 * time.Second
)

// Message is an accepted execution.
type Message struct {
	Payload []byte
	Files   map[string][]byte
}

// Server is the fake.
type Server struct {
	*httptest.Server
	ID, Token string
	Now       func() time.Time

	mu       sync.Mutex
	accepted []Message
	limit    *fakelimit.Limiter
}

// New starts a fake webhook 1234567890/fake-token.
func New() *Server {
	s := &Server{ID: "1234567890", Token: "fake-token", Now: time.Now, limit: fakelimit.New(fakelimit.Window{Max: Bucket, Per: Window})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// WebhookURL is the webhook URL a user would paste.
func (s *Server) WebhookURL() string { return s.URL + "/api/webhooks/" + s.ID + "/" + s.Token }

// Accepted returns accepted messages.
func (s *Server) Accepted() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.accepted...)
}

func fail(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q,"code":%d}`, msg, code)
}

type embed struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Footer      *struct {
		Text string `json:"text"`
	} `json:"footer"`
	Image *struct {
		URL string `json:"url"`
	} `json:"image"`
	Fields []struct{ Name, Value string } `json:"fields"`
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/webhooks/"), "/")
	if len(parts) != 2 || parts[0] != s.ID {
		fail(w, 404, 10015, "Unknown Webhook")
		return
	}
	if parts[1] != s.Token {
		fail(w, 401, 50027, "Invalid Webhook Token")
		return
	}
	if r.Method != http.MethodPost {
		fail(w, 405, 0, "405: Method Not Allowed")
		return
	}
	d := s.limit.Take(s.ID, s.Now())
	// Like Discord, every answer announces the bucket.
	w.Header().Set("X-RateLimit-Limit", fmt.Sprint(Bucket))
	w.Header().Set("X-RateLimit-Remaining", fmt.Sprint(d.Remaining))
	w.Header().Set("X-RateLimit-Reset-After", fmt.Sprintf("%.3f", d.ResetAfter.Seconds()))
	w.Header().Set("X-RateLimit-Bucket", "fakebucket")
	if !d.OK {
		reset := d.Wait
		w.Header().Set("Retry-After", fmt.Sprintf("%d", int(reset.Seconds())+1))
		w.Header().Set("X-RateLimit-Reset-After", fmt.Sprintf("%.3f", reset.Seconds()))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintf(w, `{"message":"You are being rate limited.","retry_after":%.3f,"global":false}`, reset.Seconds())
		return
	}

	var payload []byte
	files := map[string][]byte{}
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		payload, _ = io.ReadAll(io.LimitReader(r.Body, 1<<20))
	case strings.HasPrefix(ct, "multipart/form-data"):
		r.Body = http.MaxBytesReader(w, r.Body, 3*FileMax)
		mr, err := r.MultipartReader()
		if err != nil {
			fail(w, 400, 50035, "Invalid Form Body")
			return
		}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				fail(w, 400, 50035, "Invalid Form Body")
				return
			}
			data, _ := io.ReadAll(io.LimitReader(p, FileMax+1))
			switch name := p.FormName(); {
			case name == "payload_json":
				payload = data
			case strings.HasPrefix(name, "files["):
				if len(data) > FileMax {
					fail(w, 413, 40005, "Request entity too large")
					return
				}
				files[p.FileName()] = data
			default:
				fail(w, 400, 50035, "Invalid Form Body: unknown field "+name)
				return
			}
		}
	default:
		fail(w, 400, 50035, "Invalid Form Body")
		return
	}
	var msg struct {
		Content string  `json:"content"`
		Embeds  []embed `json:"embeds"`
	}
	if json.Unmarshal(payload, &msg) != nil {
		fail(w, 400, 50109, "The request body contains invalid JSON.")
		return
	}
	if msg.Content == "" && len(msg.Embeds) == 0 && len(files) == 0 {
		fail(w, 400, 50006, "Cannot send an empty message")
		return
	}
	if utf8.RuneCountInString(msg.Content) > ContentMax || len(msg.Embeds) > 10 {
		fail(w, 400, 50035, "Invalid Form Body")
		return
	}
	total := 0
	for _, e := range msg.Embeds {
		t, d := utf8.RuneCountInString(e.Title), utf8.RuneCountInString(e.Description)
		if t > TitleMax || d > DescriptionMax {
			fail(w, 400, 50035, "Invalid Form Body: embeds.0.description: Must be 4096 or fewer in length.")
			return
		}
		total += t + d
		if e.Footer != nil {
			total += utf8.RuneCountInString(e.Footer.Text)
		}
		for _, f := range e.Fields {
			total += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
		}
		if e.Image != nil {
			if name, ok := strings.CutPrefix(e.Image.URL, "attachment://"); ok && files[name] == nil {
				fail(w, 400, 50035, "Invalid Form Body: embeds.0.image.url: attachment "+name+" not uploaded")
				return
			}
		}
	}
	if total > EmbedTotalMax {
		fail(w, 400, 50035, "Invalid Form Body: Embed size exceeds maximum size of 6000")
		return
	}
	s.mu.Lock()
	s.accepted = append(s.accepted, Message{Payload: payload, Files: files})
	id := len(s.accepted)
	s.mu.Unlock()
	if r.URL.Query().Get("wait") != "true" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"%d","type":0,"channel_id":"99","webhook_id":%q}`, 1000+id, s.ID)
}
