package channels

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxResponseBytes caps how much of a platform's answer is read. Chat APIs
// answer with small JSON documents; anything larger is not worth keeping.
const MaxResponseBytes = 64 << 10

// maxResultBody is how much of an answer is kept in Result.Body.
const maxResultBody = 4 << 10

// UserAgent identifies AlertChart to chat platforms (Discord blocks requests
// without one).
const UserAgent = "AlertChart (https://github.com/alertchart/alertchart, 1.0)"

// Response is a platform's raw answer.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Do sends req with client and reads at most MaxResponseBytes of the answer.
// Transport failures (connection refused, timeouts, resets) come back as a
// Retryable *Error; HTTP statuses are left to the caller's classification.
func Do(ctx context.Context, client *http.Client, req *http.Request) (*Response, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req = req.WithContext(ctx)
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", UserAgent)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, TransportError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	if err != nil {
		return nil, TransportError(fmt.Errorf("reading answer: %w", err))
	}
	// Drain a little more so the connection can be reused.
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// PostJSON marshals v without HTML escaping (so sizes measured before sending
// stay true) and posts it.
func PostJSON(ctx context.Context, client *http.Client, url string, v any, header http.Header) (*Response, []byte, error) {
	body, err := MarshalJSON(v)
	if err != nil {
		return nil, nil, &Error{Kind: Permanent, Msg: "encoding request", Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, body, &Error{Kind: Permanent, Msg: "bad URL", Err: redactURLError(err)}
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := Do(ctx, client, req)
	return resp, body, err
}

// MarshalJSON encodes v like json.Marshal but leaves <, > and & alone: chat
// texts are full of them and escaping inflates the size platforms measure.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// TransportError classifies a failure to get any HTTP answer. Everything is
// Retryable: a refused connection or a timeout says nothing about the message.
// The error text never contains the URL, which often carries the robot key.
func TransportError(err error) *Error {
	msg := "connection error"
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		msg = "timeout"
	}
	if errors.Is(err, context.Canceled) {
		msg = "canceled"
	}
	return &Error{Kind: Retryable, Msg: msg, Err: redactURLError(err)}
}

// redactURLError drops the URL from *url.Error values: webhook URLs are
// secrets (they carry the key or token).
func redactURLError(err error) error {
	type unwrapper interface{ Unwrap() error }
	var ue interface {
		error
		Timeout() bool
	}
	if errors.As(err, &ue) {
		if u, ok := ue.(unwrapper); ok && u.Unwrap() != nil {
			return u.Unwrap()
		}
	}
	return err
}

// ClassifyStatus maps an HTTP status to an error kind, the way most platforms
// mean them: 429 and 5xx are worth retrying, 401/403 mean the key is wrong,
// 413 means the message must shrink, any other 4xx will fail again. Success
// statuses return nil.
func ClassifyStatus(resp *Response, msg string) *Error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &Error{StatusCode: resp.StatusCode, Msg: msg}
	if e.Msg == "" {
		e.Msg = Snippet(resp.Body, 200)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Kind = Retryable
		e.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case resp.StatusCode == http.StatusRequestEntityTooLarge:
		e.Kind = TooBig
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		e.Kind = BadCredentials
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		e.Kind = Retryable
		e.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	default:
		e.Kind = Permanent
	}
	return e
}

// ParseRetryAfter reads a Retry-After header: delta seconds (possibly
// fractional, as Discord sends) or an HTTP date. Unparseable values give 0.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f <= 0 {
			return 0
		}
		return time.Duration(f * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Seconds converts a platform's retry_after number to a duration.
func Seconds(f float64) time.Duration {
	if f <= 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// Snippet returns at most n bytes of b as text, cut on a UTF-8 boundary.
func Snippet(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) <= n {
		return s
	}
	return TruncateBytes(s, n, "…")
}

// NewResult builds the Result for the last answer of a send.
func NewResult(resp *Response, requests int, note string) *Result {
	r := &Result{Requests: requests, Note: note}
	if resp != nil {
		r.StatusCode = resp.StatusCode
		r.Body = Snippet(resp.Body, maxResultBody)
	}
	return r
}

// JoinNotes joins non-empty degradation notes.
func JoinNotes(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}

// JSONCode reads a platform's numeric result code and message from a JSON
// answer (WeCom/DingTalk "errcode"/"errmsg", Feishu "code"/"msg"). ok is
// false when the body is not JSON or has no code field.
func JSONCode(body []byte, codeField, msgField string) (code int, msg string, ok bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return 0, "", false
	}
	raw, found := m[codeField]
	if !found || json.Unmarshal(raw, &code) != nil {
		return 0, "", false
	}
	_ = json.Unmarshal(m[msgField], &msg)
	return code, msg, true
}

// RawJSON is an already-encoded JSON body for PostJSON (used when a
// notifier measured the exact bytes before sending).
type RawJSON []byte

// MarshalJSON returns r unchanged.
func (r RawJSON) MarshalJSON() ([]byte, error) { return r, nil }
