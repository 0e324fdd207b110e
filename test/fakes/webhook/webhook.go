// Package webhook is a fake receiver for AlertChart's generic webhook: it
// checks the bearer token and the X-AlertChart-Signature HMAC, decodes the
// version 1 payload strictly (unknown fields are an error), caps the body
// (413) and answers 429 with Retry-After beyond a burst, so the notifier's
// contract with custom integrations is pinned down.
package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/alertchart/alertchart/test/fakes/fakelimit"
)

// Server is the fake.
type Server struct {
	*httptest.Server
	Token, Secret string
	MaxBytes      int
	Burst         int
	Now           func() time.Time

	mu       sync.Mutex
	accepted [][]byte
	limit    *fakelimit.Limiter
}

// New starts a receiver with token "hook-token" and secret "hook-secret".
func New() *Server {
	s := &Server{Token: "hook-token", Secret: "hook-secret", MaxBytes: 8 << 20, Burst: 10, Now: time.Now}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// Accepted returns accepted bodies.
func (s *Server) Accepted() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.accepted...)
}

// payload mirrors the documented fields; decoding is strict.
type payload struct {
	Version      string          `json:"version"`
	Channel      string          `json:"channel"`
	Part         string          `json:"part"`
	Digest       bool            `json:"digest"`
	Title        string          `json:"title"`
	Text         string          `json:"text"`
	Alertmanager json.RawMessage `json:"alertmanager"`
	Chart        *struct {
		Title, Query, Unit, ContentType, URL, Base64 string
		From, To                                     time.Time
		Series                                       []struct {
			Name           string
			Labels         map[string]string
			Last, Max, Min *float64
		}
	} `json:"chart"`
	ChartNote string `json:"chartNote"`
	Links     struct {
		Grafana string `json:"grafana"`
		Silence string `json:"silence"`
	} `json:"links"`
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		http.Error(w, "POST application/json only", http.StatusUnsupportedMediaType)
		return
	}
	if s.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.Token {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, int64(s.MaxBytes)+1))
	if len(raw) > s.MaxBytes {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	if s.Secret != "" {
		h := hmac.New(sha256.New, []byte(s.Secret))
		h.Write(raw)
		if !hmac.Equal([]byte(r.Header.Get("X-AlertChart-Signature")), []byte("sha256="+hex.EncodeToString(h.Sum(nil)))) {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
	}
	var p payload
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || p.Version != "1" || len(p.Alertmanager) == 0 || p.Text == "" {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limit == nil || s.limit.Windows()[0].Max != s.Burst { // tests change Burst
		s.limit = fakelimit.New(fakelimit.Window{Max: s.Burst, Per: time.Second})
	}
	if !s.limit.Take(s.Token, s.Now()).OK {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	}
	s.accepted = append(s.accepted, raw)
	w.WriteHeader(http.StatusNoContent)
}
