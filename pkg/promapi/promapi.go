// Package promapi is a small client for the two Prometheus HTTP API endpoints
// AlertChart needs: the rules API (to find an alert's rule, its `for` and its
// labels) and query_range (to fetch the chart data).
//
// It talks to any Prometheus-compatible server (Prometheus, Thanos, Mimir,
// VictoriaMetrics) directly, or to a Grafana Prometheus data source through
// Grafana's data source proxy (<grafana>/api/datasources/proxy/uid/<uid>).
// The caller supplies the base URL and the credentials; FromSettings builds
// them from the plugin settings.
package promapi

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alertchart/alertchart/pkg/settings"
)

// Limits that protect the plugin from a misbehaving server.
const (
	// MaxResponseBytes caps one API response body.
	MaxResponseBytes = 64 << 20
	// maxGetURL is the longest URL sent as GET; longer queries are POSTed as a form.
	maxGetURL = 4000
)

// Config says where the API is and how to authenticate.
type Config struct {
	// BaseURL is the API root without /api/v1, e.g. http://prometheus:9090,
	// http://mimir/prometheus or <grafana>/api/datasources/proxy/uid/<uid>.
	BaseURL string
	// RulesURL, when set, is the root used for the rules API (e.g. a Thanos
	// ruler or a vmalert next to a VictoriaMetrics that has no rules API).
	RulesURL string
	// BasicAuthUser / BasicAuthPassword enable HTTP basic auth.
	BasicAuthUser     string
	BasicAuthPassword string
	// BearerToken is sent as "Authorization: Bearer <token>" (wins over basic auth).
	BearerToken string
	// Headers are added to every request (tenant headers such as X-Scope-OrgID,
	// X-Grafana-Org-Id, API keys).
	Headers map[string]string
	// TLSSkipVerify disables certificate verification (self-signed servers).
	TLSSkipVerify bool
	// Timeout bounds one request (default settings.DefaultQueryTimeout).
	Timeout time.Duration
	// HTTPClient replaces the default transport (tests, custom proxies).
	HTTPClient *http.Client
}

// Client calls a Prometheus-compatible HTTP API. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	rules   *url.URL
	cfg     Config
	http    *http.Client
	timeout time.Duration
}

// New validates the configuration and returns a client.
func New(cfg Config) (*Client, error) {
	base, err := parseBase(cfg.BaseURL, "base URL")
	if err != nil {
		return nil, err
	}
	rules := base
	if cfg.RulesURL != "" {
		if rules, err = parseBase(cfg.RulesURL, "rules URL"); err != nil {
			return nil, err
		}
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if cfg.TLSSkipVerify {
			tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // explicit user choice for self-signed servers
		}
		hc = &http.Client{Transport: tr}
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = settings.DefaultQueryTimeout
	}
	return &Client{base: base, rules: rules, cfg: cfg, http: hc, timeout: timeout}, nil
}

func parseBase(raw, what string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("promapi: %s is empty", what)
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("promapi: invalid %s: %w", what, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("promapi: %s must start with http:// or https://", what)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("promapi: %s has no host", what)
	}
	return u, nil
}

// GrafanaDatasourceURL is the root of a Grafana data source's proxy, usable as
// Config.BaseURL together with a service-account token as BearerToken.
func GrafanaDatasourceURL(grafanaURL, uid string) string {
	return strings.TrimRight(grafanaURL, "/") + "/api/datasources/proxy/uid/" + url.PathEscape(uid)
}

// ErrNoDataSource means neither prometheus.url nor prometheus.datasourceUid is set.
var ErrNoDataSource = errors.New("promapi: no data source configured (set prometheus.url or prometheus.datasourceUid)")

// FromSettings builds a Config from the plugin settings. A direct
// prometheus.url wins; otherwise prometheus.datasourceUid is reached through
// Grafana's data source proxy at grafanaURL (settings grafana.url overrides it)
// with grafanaToken (the plugin's service-account token, or the grafanaToken
// secret). Secret headers come from secureJsonData "prometheusHeader.<Name>".
func FromSettings(s *settings.Settings, grafanaURL, grafanaToken string) (Config, error) {
	p := s.Prometheus
	cfg := Config{
		RulesURL:      p.RulesURL,
		TLSSkipVerify: p.TLSSkipVerify,
		Timeout:       p.Timeout.D(),
		Headers:       map[string]string{},
	}
	for k, v := range p.Headers {
		cfg.Headers[k] = v
	}
	for k, v := range s.Secrets {
		if name, ok := strings.CutPrefix(k, settings.PrometheusHeaderPrefix); ok && name != "" {
			cfg.Headers[name] = v
		}
	}
	switch {
	case p.URL != "":
		cfg.BaseURL = p.URL
		cfg.BasicAuthUser = p.BasicAuthUser
		cfg.BasicAuthPassword = s.Secrets[settings.SecretPrometheusPassword]
		cfg.BearerToken = s.Secrets[settings.SecretPrometheusToken]
	case p.DatasourceUID != "":
		if s.Grafana.URL != "" {
			grafanaURL = s.Grafana.URL
		}
		if grafanaURL == "" {
			return Config{}, errors.New("promapi: prometheus.datasourceUid needs Grafana's URL (set grafana.url or GF_APP_URL)")
		}
		if tok := s.Secrets[settings.SecretGrafanaToken]; tok != "" {
			grafanaToken = tok
		}
		if grafanaToken == "" {
			return Config{}, errors.New("promapi: prometheus.datasourceUid needs a Grafana service-account token")
		}
		cfg.BaseURL = GrafanaDatasourceURL(grafanaURL, p.DatasourceUID)
		cfg.BearerToken = grafanaToken
		if s.Grafana.OrgID > 0 {
			cfg.Headers["X-Grafana-Org-Id"] = strconv.FormatInt(s.Grafana.OrgID, 10)
		}
		if cfg.RulesURL == "" {
			cfg.RulesURL = cfg.BaseURL
		}
	default:
		return Config{}, ErrNoDataSource
	}
	return cfg, nil
}

// Error is a failed API call. Retryable is true for network trouble, timeouts,
// 429 and 5xx answers; false for 4xx answers such as a bad query.
type Error struct {
	Op         string // "rules" or "query_range"
	StatusCode int    // 0 when no HTTP answer was received
	ErrorType  string // Prometheus errorType, e.g. "bad_data", "timeout"
	Message    string
	Retryable  bool
	// timedOut: no answer within the client's timeout.
	timedOut bool
}

// Timeout reports whether the request timed out: no answer within
// prometheus.timeout, or Prometheus' own query timeout.
func (e *Error) Timeout() bool { return e.timedOut || e.ErrorType == "timeout" }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("prometheus ")
	b.WriteString(e.Op)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
	}
	if e.ErrorType != "" {
		b.WriteString(" ")
		b.WriteString(e.ErrorType)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// apiResponse is the envelope of every Prometheus API answer.
type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
	Infos     []string        `json:"infos"`
}

func (c *Client) do(ctx context.Context, op string, base *url.URL, path string, params url.Values) (*apiResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := *base
	// Keep escapes in the base path (a data source UID is path-escaped).
	raw := strings.TrimRight(base.EscapedPath(), "/") + path
	if p, err := url.PathUnescape(raw); err == nil {
		u.Path, u.RawPath = p, raw
	}
	enc := params.Encode()
	var req *http.Request
	var err error
	if len(u.String())+1+len(enc) <= maxGetURL {
		u.RawQuery = enc
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(enc))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return nil, &Error{Op: op, Message: err.Error()}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "alertchart")
	for k, v := range c.cfg.Headers {
		req.Header.Set(k, v)
	}
	switch {
	case c.cfg.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+c.cfg.BearerToken)
	case c.cfg.BasicAuthUser != "":
		req.SetBasicAuth(c.cfg.BasicAuthUser, c.cfg.BasicAuthPassword)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		msg := err.Error()
		timedOut := ctx.Err() == context.DeadlineExceeded
		if timedOut {
			msg = fmt.Sprintf("no answer within %s", c.timeout)
		}
		// Never echo the URL's credentials; url.Error already redacts passwords.
		return nil, &Error{Op: op, Message: msg, Retryable: true, timedOut: timedOut}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, &Error{Op: op, StatusCode: resp.StatusCode, Message: "reading answer: " + err.Error(), Retryable: true}
	}
	if len(body) > MaxResponseBytes {
		return nil, &Error{Op: op, StatusCode: resp.StatusCode, Message: fmt.Sprintf("answer larger than %d bytes", MaxResponseBytes)}
	}
	var ar apiResponse
	jerr := json.Unmarshal(body, &ar)
	if resp.StatusCode/100 != 2 || jerr != nil || ar.Status != "success" {
		e := &Error{Op: op, StatusCode: resp.StatusCode, Retryable: resp.StatusCode == 429 || resp.StatusCode >= 500}
		if jerr == nil && ar.Status != "" {
			e.ErrorType, e.Message = ar.ErrorType, ar.Error
		} else {
			e.Message = snippet(body)
		}
		if e.ErrorType == "timeout" || e.ErrorType == "unavailable" {
			e.Retryable = true
		}
		if e.Message == "" && jerr != nil {
			e.Message = "answer is not Prometheus API JSON"
		}
		return nil, e
	}
	return &ar, nil
}

// snippet returns the start of a non-JSON error body (HTML error pages, proxies).
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
