package grafana

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/go-openapi/runtime"
	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	"github.com/grafana/grafana-openapi-client-go/client/dashboards"
	"github.com/grafana/grafana-openapi-client-go/client/datasources"
	"github.com/grafana/grafana-openapi-client-go/client/folders"
	"github.com/grafana/grafana-openapi-client-go/client/provisioning"
	"github.com/grafana/grafana-openapi-client-go/client/search"
	"github.com/grafana/grafana-openapi-client-go/models"
)

// Response size limits: a dashboard JSON is rarely above a few MB, a panel
// PNG at 4000×3000 stays well below 32 MB.
const (
	maxJSONBytes = 16 << 20
	maxPNGBytes  = 32 << 20
)

// Client talks to one Grafana with one set of credentials. It is safe for
// concurrent use.
type Client struct {
	creds Credentials
	base  *url.URL // Grafana's base URL, path without trailing slash
	http  *http.Client
	api   services

	rulesAPI rulesAPIState
}

// NewClient builds a client. httpClient may be nil: the client then uses its
// own transport (a clone of http.DefaultTransport), never the shared one.
//
// The openapi client's own constructors (NewHTTPClientWithConfig,
// WithHTTPClient, WithRetries…) overwrite http.DefaultTransport's TLS config
// for the whole process, so they are not used: the go-openapi runtime is
// assembled here around our *http.Client instead.
func NewClient(creds Credentials, httpClient *http.Client) (*Client, error) {
	if err := checkBaseURL(creds.URL); err != nil {
		return nil, err
	}
	if creds.Token == "" {
		return nil, errors.New("grafana client: no token")
	}
	if creds.OrgID <= 0 {
		creds.OrgID = 1
	}
	if creds.Namespace == "" {
		creds.Namespace = NamespaceForOrg(creds.OrgID)
	}
	base, _ := url.Parse(creds.URL)
	base.Path = strings.TrimRight(base.Path, "/")
	base.RawQuery, base.Fragment = "", ""
	if httpClient == nil {
		httpClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}

	rt := httptransport.NewWithClient(base.Host, path.Join("/", base.Path, "api"), []string{base.Scheme}, httpClient)
	rt.DefaultAuthentication = httptransport.BearerToken(creds.Token)
	// Decode numbers as float64 like encoding/json, not json.Number, so
	// dashboard models are plain map[string]any.
	rt.Consumers[runtime.JSONMime] = runtime.ConsumerFunc(func(r io.Reader, v any) error {
		return json.NewDecoder(io.LimitReader(r, maxJSONBytes)).Decode(v)
	})
	rt.SetResponseReader(func(r *http.Response) runtime.ClientResponse { return keepErrorBody(r) })
	return &Client{creds: creds, base: base, http: httpClient, api: newServices(rt)}, nil
}

// services are the parts of the Grafana OpenAPI client AlertChart calls,
// each made the way the client's own New makes them. The client's
// GrafanaHTTPAPI would bring in all of its some sixty services: every
// binary with this package would link, and every test binary load, code for
// admin, users, teams… that nothing here calls.
type services struct {
	Dashboards   dashboards.ClientService
	Datasources  datasources.ClientService
	Folders      folders.ClientService
	Provisioning provisioning.ClientService
	Search       search.ClientService
}

func newServices(rt runtime.ClientTransport) services {
	f := strfmt.Default
	return services{
		Dashboards:   dashboards.New(rt, f),
		Datasources:  datasources.New(rt, f),
		Folders:      folders.New(rt, f),
		Provisioning: provisioning.New(rt, f),
		Search:       search.New(rt, f),
	}
}

// Credentials returns the credentials without the token, for display.
func (c *Client) Credentials() Credentials {
	cr := c.creds
	cr.Token = ""
	return cr
}

// BaseURL is Grafana's base URL as used by the client.
func (c *Client) BaseURL() string { return c.base.String() }

// APIError is a non-success answer from Grafana, with its status and message.
type APIError struct {
	// Op says what the plugin was doing, e.g. `read dashboard "abc"`.
	Op     string
	Status int
	// Message is Grafana's message, when it sent one.
	Message string
	// RetryAfter is the Retry-After delay of a 429 (zero when absent).
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := ""
	if e.Message != "" {
		msg = ": " + e.Message
	}
	switch e.Status {
	case http.StatusUnauthorized:
		return fmt.Sprintf("%s: Grafana rejected the plugin's credentials (401 Unauthorized)%s; "+
			"the service account token is missing, wrong or expired", e.Op, msg)
	case http.StatusForbidden:
		return fmt.Sprintf("%s: the plugin's service account is not allowed to do this (403 Forbidden)%s; "+
			"grant it the permissions listed under \"iam\" in plugin.json", e.Op, msg)
	case http.StatusNotFound:
		return fmt.Sprintf("%s: not found in Grafana (404)%s", e.Op, msg)
	case http.StatusTooManyRequests:
		ra := ""
		if e.RetryAfter > 0 {
			ra = fmt.Sprintf(", retry after %s", e.RetryAfter)
		}
		return fmt.Sprintf("%s: Grafana is busy (429 Too Many Requests)%s%s", e.Op, msg, ra)
	default:
		return fmt.Sprintf("%s: Grafana answered %d %s%s", e.Op, e.Status, http.StatusText(e.Status), msg)
	}
}

// StatusOf returns the HTTP status of an *APIError in err's chain, or 0.
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// IsNotFound reports whether Grafana answered 404.
func IsNotFound(err error) bool { return StatusOf(err) == http.StatusNotFound }

// ErrUIDClash is returned (wrapped) by CreateDashboard when a dashboard with
// the same UID exists: the caller picks a new UID.
var ErrUIDClash = errors.New("a dashboard with this UID already exists")

// apiErr turns an error of the openapi client into an *APIError.
func apiErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: cannot reach Grafana: %w", op, err)
	}
	type coded interface{ Code() int }
	type withPayload interface {
		GetPayload() *models.ErrorResponseBody
	}
	var rae *runtime.APIError
	switch {
	case errors.As(err, &rae):
		ae := &APIError{Op: op, Status: rae.Code}
		if resp, ok := rae.Response.(runtime.ClientResponse); ok {
			ae.Message, _ = readMessage(bytes.NewReader(errorBody(resp)))
			ae.RetryAfter = parseRetryAfter(resp.GetHeader("Retry-After"), time.Now())
		}
		return ae
	}
	var c coded
	if errors.As(err, &c) {
		ae := &APIError{Op: op, Status: c.Code()}
		var p withPayload
		if errors.As(err, &p) && p.GetPayload() != nil {
			b := p.GetPayload()
			if b.Message != nil {
				ae.Message = *b.Message
			}
			if b.Status != "" {
				ae.Message = strings.TrimSpace(ae.Message + " (" + b.Status + ")")
			}
		}
		return ae
	}
	return fmt.Errorf("%s: %w", op, err)
}

// keptResponse is the go-openapi response with an error body read into
// memory: the runtime closes the body before the caller sees an APIError for
// status codes the generated client does not know (409, 429), and Grafana's
// message is what tells the user what went wrong.
type keptResponse struct {
	resp *http.Response
	body []byte
}

func keepErrorBody(r *http.Response) runtime.ClientResponse {
	k := &keptResponse{resp: r}
	if r.StatusCode >= 400 {
		k.body, _ = io.ReadAll(io.LimitReader(r.Body, 64<<10))
	}
	return k
}

func (k *keptResponse) Code() int                       { return k.resp.StatusCode }
func (k *keptResponse) Message() string                 { return k.resp.Status }
func (k *keptResponse) GetHeader(name string) string    { return k.resp.Header.Get(name) }
func (k *keptResponse) GetHeaders(name string) []string { return k.resp.Header.Values(name) }
func (k *keptResponse) Body() io.ReadCloser {
	if k.resp.StatusCode >= 400 {
		return io.NopCloser(bytes.NewReader(k.body))
	}
	return k.resp.Body
}

func errorBody(resp runtime.ClientResponse) []byte {
	if k, ok := resp.(*keptResponse); ok {
		return k.body
	}
	return nil
}

// readMessage extracts "message" from a Grafana JSON error body, or returns a
// short excerpt of a non-JSON body.
func readMessage(r io.Reader) (string, error) {
	if r == nil {
		return "", nil
	}
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return "", err
	}
	var body struct {
		Message string `json:"message"`
		Status  string `json:"status"`
	}
	if json.Unmarshal(b, &body) == nil && body.Message != "" {
		if body.Status != "" && body.Status != "Failure" {
			return body.Message + " (" + body.Status + ")", nil
		}
		return body.Message, nil
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s, nil
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// do runs a plain HTTP request against Grafana with the plugin's token and
// returns the body of a 2xx answer, or an *APIError.
func (c *Client) do(ctx context.Context, op, method, p string, query url.Values, body io.Reader, limit int64) ([]byte, http.Header, error) {
	u := *c.base
	u.Path = c.base.Path + p
	if query != nil {
		u.RawQuery = query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.creds.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("%s: %w", op, ctx.Err())
		}
		return nil, nil, fmt.Errorf("%s: cannot reach Grafana at %s: %w", op, c.base.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg, _ := readMessage(resp.Body)
		return nil, resp.Header, &APIError{Op: op, Status: resp.StatusCode, Message: msg,
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: reading Grafana's answer: %w", op, err)
	}
	if int64(len(b)) > limit {
		return nil, nil, fmt.Errorf("%s: Grafana's answer is larger than %d bytes", op, limit)
	}
	return b, resp.Header, nil
}
