// Package intake receives Alertmanager webhook notifications: it reads the
// body under a size limit, decodes it into Alertmanager's own template.Data
// and validates it, answering every client mistake with a 4xx and a JSON body
// that names the problem. Alertmanager drops a notification on 4xx and
// retries on 5xx, so a 5xx is reserved for trouble a retry can fix.
//
// Whether a notification may be accepted is decided here and only here
// (Handler: the payload, the receiver's route); the Acceptor behind it
// (delivery) trusts the decision, and any error it returns is a 503.
package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// Limits on what a notification may contain.
const (
	// MaxAlerts per notification; Alertmanager's max_alerts defaults to all,
	// and a group rarely exceeds a few hundred alerts.
	MaxAlerts = 10000
	// MaxLabelValueBytes keeps a single label or annotation value sane.
	MaxLabelValueBytes = 64 << 10
)

// Error is a rejected request with the HTTP status to answer.
type Error struct {
	Status int    `json:"-"`
	Msg    string `json:"error"`
	// Field names the offending part of the payload, when one does.
	Field string `json:"field,omitempty"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Msg
	}
	return e.Msg
}

func badRequest(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Read reads at most limit bytes of body; a longer body is a 413.
func Read(body io.Reader, limit int64) ([]byte, error) {
	if body == nil {
		return nil, badRequest("", "empty body: expected an Alertmanager webhook notification (JSON)")
	}
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(limit)
		}
		return nil, &Error{Status: http.StatusBadRequest, Msg: "reading body: " + err.Error()}
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(limit)
	}
	return b, nil
}

func tooLarge(limit int64) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge,
		Msg: fmt.Sprintf("body larger than %d bytes (webhook.maxBodyBytes); lower max_alerts in the Alertmanager webhook_config", limit)}
}

// Notification is a decoded webhook: Alertmanager's template data plus the
// fields template.Data does not carry.
type Notification struct {
	*template.Data
	// GroupKey identifies the Alertmanager group (stable across repeats).
	GroupKey string
	// TruncatedAlerts is how many alerts max_alerts cut off.
	TruncatedAlerts int
}

// Decode parses and validates an Alertmanager webhook notification.
func Decode(body []byte) (*template.Data, error) {
	n, err := DecodeNotification(body)
	if err != nil {
		return nil, err
	}
	return n.Data, nil
}

// DecodeNotification is Decode keeping groupKey and truncatedAlerts.
func DecodeNotification(body []byte) (*Notification, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, badRequest("", "empty body: expected an Alertmanager webhook notification (JSON)")
	}
	if body[0] != '{' {
		return nil, badRequest("", "body is not a JSON object: expected an Alertmanager webhook notification")
	}
	var raw struct {
		GroupKey        string           `json:"groupKey"`
		TruncatedAlerts int              `json:"truncatedAlerts"`
		Version         *string          `json:"version"`
		Status          *string          `json:"status"`
		Receiver        *string          `json:"receiver"`
		Alerts          *json.RawMessage `json:"alerts"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, badRequest("", "malformed JSON: %s", jsonProblem(err))
	}
	if raw.Alerts == nil {
		return nil, badRequest("alerts", "missing: this is not an Alertmanager webhook notification")
	}
	var d template.Data
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&d); err != nil {
		return nil, badRequest(fieldOf(err), "malformed Alertmanager notification: %s", jsonProblem(err))
	}
	// Alertmanager sends "4"; Grafana Alerting's webhook contact point sends
	// the same fields (plus orgId, state, title, message) as "1".
	if raw.Version != nil && *raw.Version != "4" && *raw.Version != "1" {
		return nil, badRequest("version", "unsupported webhook version %q (Alertmanager sends \"4\", Grafana Alerting \"1\")", *raw.Version)
	}
	addGrafanaFields(body, &d)
	if err := Validate(&d); err != nil {
		return nil, err
	}
	return &Notification{Data: &d, GroupKey: raw.GroupKey, TruncatedAlerts: raw.TruncatedAlerts}, nil
}

// Validate checks the semantic rules of a notification.
func Validate(d *template.Data) error {
	if d.Status != "" && d.Status != "firing" && d.Status != "resolved" {
		return badRequest("status", "must be \"firing\" or \"resolved\", not %q", d.Status)
	}
	if len(d.Alerts) == 0 {
		return badRequest("alerts", "no alerts in the notification")
	}
	if len(d.Alerts) > MaxAlerts {
		return badRequest("alerts", "%d alerts in one notification; at most %d (set max_alerts in the webhook_config)", len(d.Alerts), MaxAlerts)
	}
	for i, a := range d.Alerts {
		f := fmt.Sprintf("alerts[%d]", i)
		if a.Status != "firing" && a.Status != "resolved" {
			return badRequest(f+".status", "must be \"firing\" or \"resolved\", not %q", a.Status)
		}
		if len(a.Labels) == 0 {
			return badRequest(f+".labels", "an alert needs labels")
		}
		if a.Labels["alertname"] == "" {
			return badRequest(f+".labels.alertname", "missing")
		}
		if a.StartsAt.IsZero() {
			return badRequest(f+".startsAt", "missing")
		}
		if a.Status == "resolved" && !a.EndsAt.IsZero() && a.EndsAt.Before(a.StartsAt) {
			return badRequest(f+".endsAt", "before startsAt")
		}
		for k, v := range a.Labels {
			if len(v) > MaxLabelValueBytes || len(k) > 1024 {
				return badRequest(f+".labels."+k, "value too long")
			}
		}
		for k, v := range a.Annotations {
			if len(v) > MaxLabelValueBytes || len(k) > 1024 {
				return badRequest(f+".annotations."+k, "value too long")
			}
		}
		if a.Fingerprint == "" {
			d.Alerts[i].Fingerprint = Fingerprint(a.Labels)
		}
	}
	if d.Status == "" {
		d.Status = "resolved"
		if len(d.Alerts.Firing()) > 0 {
			d.Status = "firing"
		}
	}
	return nil
}

// Fingerprint derives a stable id from labels for senders that omit one
// (Alertmanager always sends it; hand-written test payloads often do not).
func Fingerprint(labels template.KV) string {
	h := uint64(14695981039346656037)
	for _, p := range labels.SortedPairs() {
		for _, s := range []string{p.Name, "\xff", p.Value, "\xff"} {
			for i := 0; i < len(s); i++ {
				h ^= uint64(s[i])
				h *= 1099511628211
			}
		}
	}
	return fmt.Sprintf("%016x", h)
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		f := te.Field
		if f == "" {
			f = "(top level)"
		}
		return fmt.Sprintf("field %s: expected %s, got JSON %s", f, te.Type.String(), te.Value)
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("bad time %q (use RFC 3339)", pe.Value)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of JSON"
	}
	return err.Error()
}

func fieldOf(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return strings.TrimPrefix(te.Field, ".")
	}
	return ""
}

// WriteError answers err as JSON with its status (500 for unknown errors).
func WriteError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: http.StatusInternalServerError, Msg: err.Error()}
	}
	WriteJSON(w, e.Status, e)
}

// WriteJSON answers v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
