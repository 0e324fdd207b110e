package grafana

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// RenderRequest asks Grafana's image renderer for one panel as PNG through
// /render/d-solo/<uid>/<slug>.
type RenderRequest struct {
	DashboardUID string
	// Slug is the dashboard's URL slug; any non-empty word works, Grafana
	// resolves the dashboard by UID.
	Slug    string
	PanelID int64
	From    time.Time
	To      time.Time
	Width   int
	Height  int
	// Scale is the device scale factor (1 when zero).
	Scale float64
	// Theme is "light" or "dark" (Grafana answers 400 to anything else).
	Theme string
	// Timezone is an IANA name, e.g. "UTC" or "Asia/Shanghai".
	Timezone string
	// Timeout is how long the renderer may take (Grafana's default is 60 s).
	Timeout time.Duration
	// Vars are template variable values, sent as var-<name>=<value>.
	Vars map[string][]string
}

// Render fetches a panel image. It returns the PNG bytes, or an *APIError
// (429 carries RetryAfter when Grafana or the renderer sent one).
func (c *Client) Render(ctx context.Context, r RenderRequest) ([]byte, error) {
	if r.DashboardUID == "" || r.PanelID == 0 {
		return nil, errors.New("render: dashboard UID and panel id are required")
	}
	if !r.To.After(r.From) {
		return nil, fmt.Errorf("render: the time range %s – %s is empty", r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
	}
	if r.Width <= 0 || r.Height <= 0 {
		return nil, fmt.Errorf("render: width and height must be positive, not %d×%d", r.Width, r.Height)
	}
	if r.Theme != "light" && r.Theme != "dark" {
		return nil, fmt.Errorf("render: theme must be light or dark, not %q", r.Theme)
	}
	slug := r.Slug
	if slug == "" {
		slug = "alertchart"
	}
	q := url.Values{}
	q.Set("orgId", strconv.FormatInt(c.creds.OrgID, 10))
	q.Set("panelId", strconv.FormatInt(r.PanelID, 10))
	q.Set("from", strconv.FormatInt(r.From.UnixMilli(), 10))
	q.Set("to", strconv.FormatInt(r.To.UnixMilli(), 10))
	q.Set("width", strconv.Itoa(r.Width))
	q.Set("height", strconv.Itoa(r.Height))
	q.Set("theme", r.Theme)
	if r.Scale > 0 && r.Scale != 1 {
		q.Set("scale", strconv.FormatFloat(r.Scale, 'f', -1, 64))
	}
	if r.Timezone != "" {
		q.Set("tz", r.Timezone)
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	q.Set("timeout", strconv.Itoa(int(math.Ceil(timeout.Seconds()))))
	for name, vals := range r.Vars {
		for _, v := range vals {
			q.Add("var-"+name, v)
		}
	}
	op := fmt.Sprintf("render panel %d of dashboard %q", r.PanelID, r.DashboardUID)
	p := "/render/d-solo/" + url.PathEscape(r.DashboardUID) + "/" + url.PathEscape(slug)
	b, h, err := c.do(ctx, op, http.MethodGet, p, q, nil, maxPNGBytes)
	if err != nil {
		return nil, err
	}
	if ct := h.Get("Content-Type"); ct != "" && ct != "image/png" {
		return nil, fmt.Errorf("%s: Grafana answered %q instead of a PNG image", op, ct)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: the image Grafana sent is not a valid PNG: %w", op, err)
	}
	if cfg.Width == 0 || cfg.Height == 0 {
		return nil, fmt.Errorf("%s: Grafana sent an empty image", op)
	}
	return b, nil
}

// RendererInfo is what Grafana says about its image renderer.
type RendererInfo struct {
	Available bool
	Version   string
	// GrafanaVersion is Grafana's own version.
	GrafanaVersion string
}

// Renderer asks Grafana (GET /api/frontend/settings) whether an image
// renderer is configured. It does not render anything.
func (c *Client) Renderer(ctx context.Context) (RendererInfo, error) {
	b, _, err := c.do(ctx, "read Grafana's frontend settings", http.MethodGet, "/api/frontend/settings", nil, nil, maxJSONBytes)
	if err != nil {
		return RendererInfo{}, err
	}
	var fs struct {
		RendererAvailable bool   `json:"rendererAvailable"`
		RendererVersion   string `json:"rendererVersion"`
		BuildInfo         struct {
			Version string `json:"version"`
		} `json:"buildInfo"`
	}
	if err := json.Unmarshal(b, &fs); err != nil {
		return RendererInfo{}, fmt.Errorf("read Grafana's frontend settings: unexpected answer: %v", err)
	}
	return RendererInfo{Available: fs.RendererAvailable, Version: fs.RendererVersion, GrafanaVersion: fs.BuildInfo.Version}, nil
}
