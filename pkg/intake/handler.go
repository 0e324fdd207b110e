package intake

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// Acceptor takes a validated notification. It must persist it durably before
// returning nil; an error makes the handler answer 503 so Alertmanager retries.
type Acceptor interface {
	Accept(ctx context.Context, receiver, groupKey string, data *template.Data) (Accepted, error)
}

// Accepted is the webhook's 200 answer.
type Accepted struct {
	Status     string `json:"status"`
	ID         string `json:"id,omitempty"`
	Alerts     int    `json:"alerts"`
	Duplicates int    `json:"duplicates"`
}

// Handler serves POST /webhook and POST /webhook/{receiver}.
type Handler struct {
	// MaxBodyBytes caps the body (413 above it).
	MaxBodyBytes int64
	// ReceiverKnown reports whether a receiver has a route (404 otherwise).
	ReceiverKnown func(receiver string) bool
	// Acceptor persists and schedules delivery.
	Acceptor Acceptor
	// Recent remembers the last alerts for the config page's preview.
	Recent *Recent
}

// ServeHTTP implements http.Handler. The receiver is the path segment after
// /webhook/, or the payload's own "receiver" field on POST /webhook.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		WriteError(w, &Error{Status: http.StatusMethodNotAllowed, Msg: "method " + r.Method + " not allowed: Alertmanager webhooks are POSTed"})
		return
	}
	receiver := r.PathValue("receiver")
	if receiver == "" {
		// Fall back to a path suffix when not routed through a pattern.
		if i := strings.Index(r.URL.Path, "/webhook/"); i >= 0 {
			receiver = strings.Trim(r.URL.Path[i+len("/webhook/"):], "/")
		}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !IsJSON(ct) {
		WriteError(w, &Error{Status: http.StatusUnsupportedMediaType, Msg: "Content-Type " + ct + " not supported: send application/json"})
		return
	}
	body, err := Read(r.Body, h.MaxBodyBytes)
	if err != nil {
		WriteError(w, err)
		return
	}
	n, err := DecodeNotification(body)
	if err != nil {
		WriteError(w, err)
		return
	}
	data := n.Data
	if receiver == "" {
		receiver = data.Receiver
	}
	if receiver == "" {
		WriteError(w, &Error{Status: http.StatusBadRequest, Field: "receiver", Msg: "no receiver in the URL (/webhook/<receiver>) or the payload"})
		return
	}
	if h.ReceiverKnown != nil && !h.ReceiverKnown(receiver) {
		WriteError(w, &Error{Status: http.StatusNotFound, Msg: "unknown receiver " + quote(receiver) + ": add a route for it in the AlertChart settings"})
		return
	}
	if h.Recent != nil {
		h.Recent.Add(receiver, data)
	}
	res := Accepted{Status: "accepted", Alerts: len(data.Alerts)}
	if h.Acceptor != nil {
		res, err = h.Acceptor.Accept(r.Context(), receiver, n.GroupKey, data)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				WriteError(w, e)
				return
			}
			WriteError(w, &Error{Status: http.StatusServiceUnavailable, Msg: "could not store the notification, Alertmanager will retry: " + err.Error()})
			return
		}
	}
	WriteJSON(w, http.StatusOK, res)
}

// IsJSON accepts application/json and the +json media types, with
// parameters. Anything else — text/plain, form encodings — is what a page
// on another site can post without a CORS preflight, so it is refused.
func IsJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

func quote(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return "\"" + s + "\""
}

// RecentAlert is one alert remembered for previews.
type RecentAlert struct {
	Receiver   string         `json:"receiver"`
	ReceivedAt time.Time      `json:"receivedAt"`
	Alert      template.Alert `json:"alert"`
	// ExternalURL is the Alertmanager's URL from the payload.
	ExternalURL string `json:"externalURL,omitempty"`
}

// Recent is a small ring of the latest alerts, newest first.
type Recent struct {
	mu   sync.Mutex
	size int
	buf  []RecentAlert
}

// NewRecent keeps the last n alerts.
func NewRecent(n int) *Recent { return &Recent{size: n} }

// Add remembers every alert of a notification.
func (r *Recent) Add(receiver string, d *template.Data) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now().UTC()
	alerts := d.Alerts
	if len(alerts) > r.size {
		alerts = alerts[len(alerts)-r.size:]
	}
	for _, a := range alerts {
		r.buf = append([]RecentAlert{{Receiver: receiver, ReceivedAt: now, Alert: a, ExternalURL: d.ExternalURL}}, r.buf...)
		if len(r.buf) > r.size {
			r.buf = r.buf[:r.size]
		}
	}
}

// List returns the remembered alerts, newest first.
func (r *Recent) List() []RecentAlert {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RecentAlert(nil), r.buf...)
}
