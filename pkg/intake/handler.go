package intake

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/prometheus/alertmanager/template"
)

// Acceptor takes a notification the Handler has accepted: the payload is
// valid and its receiver has a route. That decision is the Handler's alone;
// the Acceptor trusts it and does not check again. It must persist the
// notification durably before returning nil. Every error means nothing was
// stored, and the Handler answers 503 so Alertmanager retries; an error
// that has a Public() string method (it may wrap one) is answered with that
// text — words safe for the webhook's caller, without addresses or secrets.
type Acceptor interface {
	Accept(ctx context.Context, receiver, groupKey string, data *template.Data) (Accepted, error)
}

// public is an Acceptor error that says what the webhook's caller may read.
type public interface {
	Public() string
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
	res := Accepted{Status: "accepted", Alerts: len(data.Alerts)}
	if h.Acceptor != nil {
		res, err = h.Acceptor.Accept(r.Context(), receiver, n.GroupKey, data)
		if err != nil {
			msg := "could not store the notification, Alertmanager will retry: " + err.Error()
			var p public
			if errors.As(err, &p) {
				msg = p.Public()
			}
			WriteError(w, &Error{Status: http.StatusServiceUnavailable, Msg: msg})
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
