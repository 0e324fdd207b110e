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
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/alertchart/alertchart/pkg/series"
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

// RuleGroup is one group of the rules API answer.
type RuleGroup struct {
	Name     string  `json:"name"`
	File     string  `json:"file"`
	Interval float64 `json:"interval"`
	Rules    []Rule  `json:"rules"`

	// Fields only some rulers send; Flavour tells from them which one answered.

	// ID and Concurrency are vmalert's; Labels are a vmalert group's
	// labels, added to every alert of the group.
	ID          string            `json:"id,omitempty"`
	Concurrency int               `json:"concurrency,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	// PartialResponseStrategy is Thanos ruler's ("ABORT", "WARN").
	PartialResponseStrategy string `json:"partialResponseStrategy,omitempty"`
	// SourceTenants is Mimir's and Cortex's (null for a group of one tenant).
	SourceTenants json.RawMessage `json:"sourceTenants,omitempty"`
}

// Rule evaluators, as RuleGroup.Flavour names them.
const (
	FlavourPrometheus = "prometheus"
	FlavourVMAlert    = "vmalert"
	FlavourThanos     = "thanos"
	FlavourMimir      = "mimir" // Mimir or Cortex
)

// Flavour names the ruler that answered from the fields only it sends:
// vmalert (group id, rule datasourceType), Thanos ruler
// (partialResponseStrategy), Mimir/Cortex (sourceTenants); Prometheus
// otherwise.
func (g RuleGroup) Flavour() string {
	switch {
	case g.ID != "" || g.Concurrency > 0:
		return FlavourVMAlert
	case g.PartialResponseStrategy != "":
		return FlavourThanos
	case g.SourceTenants != nil:
		return FlavourMimir
	}
	for _, r := range g.Rules {
		if r.DatasourceType != "" || r.GroupID != "" {
			return FlavourVMAlert
		}
	}
	return FlavourPrometheus
}

// Rule is an alerting (or recording) rule as the rules API reports it.
type Rule struct {
	Type string `json:"type"` // "alerting" or "recording"
	Name string `json:"name"`
	// Query is the rule's expression as Prometheus formats it.
	Query string `json:"query"`
	// Duration is the rule's `for` in seconds.
	Duration      float64           `json:"duration"`
	KeepFiringFor float64           `json:"keepFiringFor"`
	Labels        map[string]string `json:"labels"`
	Annotations   map[string]string `json:"annotations"`
	Alerts        []ActiveAlert     `json:"alerts"`
	Health        string            `json:"health"`
	LastError     string            `json:"lastError"`
	// DatasourceType and GroupID are vmalert's.
	DatasourceType string `json:"datasourceType,omitempty"`
	GroupID        string `json:"group_id,omitempty"`
}

// ActiveAlert is a pending or firing alert of a rule.
type ActiveAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    *time.Time        `json:"activeAt"`
	Value       string            `json:"value"`
}

// For returns the rule's `for` as a duration.
func (r Rule) For() time.Duration { return secondsToDuration(r.Duration) }

func secondsToDuration(s float64) time.Duration {
	if s <= 0 || math.IsNaN(s) {
		return 0
	}
	if s > float64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s * float64(time.Second))
}

// Rules returns the alerting rules, narrowed to ruleNames when given. Servers
// that ignore the rule_name[] filter (Prometheus before 2.54, some Thanos and
// vmalert versions) are handled by filtering again here.
func (c *Client) Rules(ctx context.Context, ruleNames ...string) ([]RuleGroup, error) {
	params := url.Values{"type": {"alert"}}
	for _, n := range ruleNames {
		params.Add("rule_name[]", n)
	}
	ar, err := c.do(ctx, "rules", c.rules, "/api/v1/rules", params)
	if err != nil {
		return nil, err
	}
	var data struct {
		Groups []RuleGroup `json:"groups"`
	}
	if err := json.Unmarshal(ar.Data, &data); err != nil {
		return nil, &Error{Op: "rules", Message: "unexpected answer: " + err.Error()}
	}
	want := map[string]bool{}
	for _, n := range ruleNames {
		want[n] = true
	}
	out := data.Groups[:0]
	for _, g := range data.Groups {
		rules := g.Rules[:0]
		for _, r := range g.Rules {
			if r.Type != "" && r.Type != "alerting" {
				continue
			}
			if len(want) > 0 && !want[r.Name] {
				continue
			}
			rules = append(rules, r)
		}
		if len(rules) > 0 {
			g.Rules = rules
			out = append(out, g)
		}
	}
	return out, nil
}

// RangeResult is a query_range answer.
type RangeResult struct {
	Series []series.Series
	// Warnings and Infos are passed on from the server (e.g. partial data from Thanos).
	Warnings []string
	// SkippedHistograms counts series that held only native histograms, which
	// a line chart cannot draw.
	SkippedHistograms int
}

// QueryRange evaluates query over [start, end] at step.
func (c *Client) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) (*RangeResult, error) {
	if step <= 0 {
		return nil, &Error{Op: "query_range", Message: "step must be positive"}
	}
	params := url.Values{
		"query": {query},
		"start": {formatTime(start)},
		"end":   {formatTime(end)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
	ar, err := c.do(ctx, "query_range", c.base, "/api/v1/query_range", params)
	if err != nil {
		return nil, err
	}
	res, err := parseMatrix(ar.Data)
	if err != nil {
		return nil, &Error{Op: "query_range", Message: err.Error()}
	}
	res.Warnings = append(append(res.Warnings, ar.Warnings...), ar.Infos...)
	return res, nil
}

func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

func parseMatrix(raw json.RawMessage) (*RangeResult, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric     map[string]string    `json:"metric"`
			Values     [][2]json.RawMessage `json:"values"`
			Histograms []json.RawMessage    `json:"histograms"`
		} `json:"result"`
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, fmt.Errorf("unexpected answer: %w", err)
	}
	if data.ResultType != "matrix" {
		return nil, fmt.Errorf("expected a matrix result, got %q", data.ResultType)
	}
	res := &RangeResult{Series: make([]series.Series, 0, len(data.Result))}
	for _, r := range data.Result {
		if len(r.Values) == 0 {
			if len(r.Histograms) > 0 {
				res.SkippedHistograms++
			}
			continue
		}
		s := series.Series{Labels: r.Metric, Points: make([]series.Point, 0, len(r.Values))}
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		for _, v := range r.Values {
			var ts float64
			var val string
			if err := json.Unmarshal(v[0], &ts); err != nil {
				return nil, fmt.Errorf("bad sample time: %w", err)
			}
			if err := json.Unmarshal(v[1], &val); err != nil {
				return nil, fmt.Errorf("bad sample value: %w", err)
			}
			f, err := strconv.ParseFloat(val, 64)
			if err != nil {
				return nil, fmt.Errorf("bad sample value %q", val)
			}
			s.Points = append(s.Points, series.Point{T: int64(math.Round(ts * 1000)), V: f})
		}
		res.Series = append(res.Series, s)
	}
	sort.SliceStable(res.Series, func(i, j int) bool {
		return series.LabelString(res.Series[i].Labels) < series.LabelString(res.Series[j].Labels)
	})
	return res, nil
}
