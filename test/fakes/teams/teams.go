// Package teams is a fake Microsoft Teams Workflows webhook ("When a Teams
// webhook request is received"), enforcing the contract of Microsoft's
// add-incoming-webhook documentation
// (https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook):
// the SAS sig in the URL, a message with Adaptive Card attachments, the
// 28 KB cap and the 4 requests a second throttle (429 with Retry-After,
// no run). Like the real service it answers 202 with an empty body to any
// other well-formed request and records the flow run's outcome, which tests
// read with Runs.
package teams

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alertchart/alertchart/test/fakes/fakelimit"
)

// Limits from the platform documentation.
const (
	MaxMessageBytes = 28 << 10
	PerSecond       = 4
)

// Run is a flow run.
type Run struct {
	Status string // Succeeded, Failed
	Error  string
	Body   []byte
}

// Server is the fake.
type Server struct {
	*httptest.Server
	Sig string
	Now func() time.Time

	limit *fakelimit.Limiter
	mu    sync.Mutex
	runs  []Run
}

// New starts the fake with sig "fake-sig".
func New() *Server {
	s := &Server{Sig: "fake-sig", Now: time.Now, limit: fakelimit.CountingRefused(fakelimit.Window{Max: PerSecond, Per: time.Second})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// WebhookURL is the workflow URL a user would paste.
func (s *Server) WebhookURL() string {
	return s.URL + "/workflows/0f0e/triggers/manual/paths/invoke?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + s.Sig
}

// Runs returns the flow runs.
func (s *Server) Runs() []Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Run(nil), s.runs...)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/triggers/manual/paths/invoke") || r.Method != http.MethodPost {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":{"code":"TriggerNotFound","message":"not found"}}`)
		return
	}
	if r.URL.Query().Get("sig") != s.Sig {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"code":"DirectApiAuthorizationRequired","message":"The request must be authenticated."}}`)
		return
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if d := s.limit.Take(s.Sig, s.Now()); !d.OK {
		w.Header().Set("Retry-After", strconv.Itoa(int(d.Wait/time.Second)+1))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"code":"TooManyRequests","message":"The client connection is throttled: more than four requests in a second."}}`)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	run := Run{Status: "Succeeded", Body: raw}
	switch {
	case len(raw) > MaxMessageBytes:
		run = Run{Status: "Failed", Error: "The payload is too large. Please make sure the size is less than 28KB.", Body: raw}
	default:
		if err := check(raw); err != "" {
			run = Run{Status: "Failed", Error: err, Body: raw}
		}
	}
	s.runs = append(s.runs, run)
	w.WriteHeader(http.StatusAccepted)
}

func check(raw []byte) string {
	var msg struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Type    string           `json:"type"`
				Version string           `json:"version"`
				Body    []map[string]any `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(raw, &msg); err != nil {
		return "invalid JSON: " + err.Error()
	}
	if msg.Type != "message" {
		return "type must be message"
	}
	if len(msg.Attachments) == 0 {
		return "The execution of template action 'Send_each_adaptive_card' failed: the result of the evaluation of 'foreach' expression '@triggerOutputs()?['body']?['attachments']' is of type 'Null'."
	}
	for _, a := range msg.Attachments {
		if a.ContentType != "application/vnd.microsoft.card.adaptive" || a.Content.Type != "AdaptiveCard" || len(a.Content.Body) == 0 {
			return "attachment is not an Adaptive Card"
		}
		for _, el := range a.Content.Body {
			if el["type"] == "RichTextBlock" {
				if e := checkInlines(el["inlines"]); e != "" {
					return e
				}
				continue
			}
			if el["type"] != "Image" {
				continue
			}
			u, _ := el["url"].(string)
			switch {
			case strings.HasPrefix(u, "https://"), strings.HasPrefix(u, "http://"):
			case strings.HasPrefix(u, "data:image/png;base64,"), strings.HasPrefix(u, "data:image/jpeg;base64,"):
				if _, err := base64.StdEncoding.DecodeString(u[strings.IndexByte(u, ',')+1:]); err != nil {
					return "bad data URI"
				}
			default:
				return "Image url must be http(s) or a data URI"
			}
		}
	}
	return ""
}

// checkInlines checks a RichTextBlock's inlines: TextRuns with text, links
// only as Action.OpenUrl to http(s).
func checkInlines(v any) string {
	inlines, ok := v.([]any)
	if !ok || len(inlines) == 0 {
		return "RichTextBlock without inlines"
	}
	for _, in := range inlines {
		run, _ := in.(map[string]any)
		if run["type"] != "TextRun" {
			return "RichTextBlock inlines must be TextRuns"
		}
		if t, ok := run["text"].(string); !ok || t == "" {
			return "TextRun without text"
		}
		if sa, ok := run["selectAction"].(map[string]any); ok {
			u, _ := sa["url"].(string)
			if sa["type"] != "Action.OpenUrl" || !(strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
				return "TextRun selectAction must be Action.OpenUrl to an http(s) URL"
			}
		}
	}
	return ""
}
