package settings

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Validation checks the settings once defaults are applied and reports every
// problem at its field path ("channels[1].type"), all at once, so a user
// fixes them in one go.

// FieldError is a validation problem at a field path such as "channels[1].type".
type FieldError struct {
	Path    string
	Problem string
}

func (e FieldError) Error() string { return e.Path + ": " + e.Problem }

// ValidationError lists every problem found, so a user fixes them in one go.
type ValidationError []FieldError

func (v ValidationError) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return "invalid settings: " + strings.Join(parts, "; ")
}

// Validate checks the settings after defaults are applied.
func (s *Settings) Validate() error {
	var errs ValidationError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Problem: fmt.Sprintf(format, args...)})
	}
	switch s.Chart.Renderer {
	case "auto", "native", "grafana":
	default:
		add("chart.renderer", "must be auto, native or grafana, not %q", s.Chart.Renderer)
	}
	if s.Chart.Theme != "dark" && s.Chart.Theme != "light" {
		add("chart.theme", "must be dark or light, not %q", s.Chart.Theme)
	}
	if s.Chart.Language != "zh" && s.Chart.Language != "en" {
		add("chart.language", "must be zh or en, not %q", s.Chart.Language)
	}
	if _, err := time.LoadLocation(s.Chart.Timezone); err != nil {
		add("chart.timezone", "unknown time zone %q", s.Chart.Timezone)
	}
	if s.Chart.WindowMultiplier < 0 {
		add("chart.windowMultiplier", "must be positive")
	}
	if s.Chart.MinWindow > s.Chart.MaxWindow {
		add("chart.minWindow", "%s is larger than chart.maxWindow %s", s.Chart.MinWindow, s.Chart.MaxWindow)
	}
	if s.Chart.Width < 200 || s.Chart.Width > 4000 {
		add("chart.width", "must be between 200 and 4000, not %d", s.Chart.Width)
	}
	if s.Chart.Height < 150 || s.Chart.Height > 3000 {
		add("chart.height", "must be between 150 and 3000, not %d", s.Chart.Height)
	}
	if s.Chart.PixelRatio < 0.5 || s.Chart.PixelRatio > 4 {
		add("chart.pixelRatio", "must be between 0.5 and 4")
	}
	if s.Chart.MaxSeries < 1 || s.Chart.MaxSeries > 100 {
		add("chart.maxSeries", "must be between 1 and 100, not %d", s.Chart.MaxSeries)
	}
	if s.Chart.Renderer == "grafana" && (s.Chart.TemplateDashboardUID == "" || s.Chart.TemplatePanelID == 0) {
		add("chart.templateDashboardUid", "the grafana renderer needs a template dashboard and panel")
	}
	if si := s.Prometheus.ScrapeInterval; si != 0 && (si < Duration(time.Second) || si > Duration(time.Hour)) {
		add("prometheus.scrapeInterval", "must be between 1s and 1h")
	}
	if s.Prometheus.URL != "" && !strings.HasPrefix(s.Prometheus.URL, "http://") && !strings.HasPrefix(s.Prometheus.URL, "https://") {
		add("prometheus.url", "must start with http:// or https://")
	}
	if u := s.Alertmanager.URL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			add("alertmanager.url", "must be an http:// or https:// URL")
		}
	}
	names := map[string]bool{}
	for i, ch := range s.Channels {
		p := fmt.Sprintf("channels[%d]", i)
		if ch.Name == "" {
			add(p+".name", "is required")
		} else if names[ch.Name] {
			add(p+".name", "%q is used twice", ch.Name)
		} else if strings.ContainsAny(ch.Name, "/ .") {
			add(p+".name", "%q may not contain '/', '.' or spaces", ch.Name)
		}
		names[ch.Name] = true
		if !slices.Contains(ChannelTypes, ch.Type) {
			add(p+".type", "must be one of %s, not %q", strings.Join(ChannelTypes, ", "), ch.Type)
		}
		if ch.Language != "" && ch.Language != "zh" && ch.Language != "en" {
			add(p+".language", "must be zh or en")
		}
		if ch.RateLimitPerMinute < 0 {
			add(p+".rateLimitPerMinute", "must not be negative")
		}
	}
	for i, r := range s.Routes {
		p := fmt.Sprintf("routes[%d]", i)
		if r.Receiver == "" {
			add(p+".receiver", "is required")
		}
		if len(r.Channels) == 0 {
			add(p+".channels", "needs at least one channel")
		}
		for j, c := range r.Channels {
			if !names[c] {
				add(fmt.Sprintf("%s.channels[%d]", p, j), "no channel is named %q", c)
			}
		}
	}
	if s.Delivery.Queue != "sqlite" && s.Delivery.Queue != "postgres" {
		add("delivery.queue", "must be sqlite or postgres, not %q", s.Delivery.Queue)
	}
	if s.Delivery.Sync != "full" && s.Delivery.Sync != "normal" {
		add("delivery.sync", "must be full or normal, not %q", s.Delivery.Sync)
	}
	if s.Delivery.Queue == "postgres" && s.Secrets[SecretPostgresDSN] == "" {
		add("secureJsonData.postgresDsn", "is required when delivery.queue is postgres")
	}
	if s.ImageStore.PresignExpiry > Duration(MaxPresignExpiry) {
		add("imageStore.presignExpiry", "must be at most 7 days (S3 limit)")
	}
	if s.ImageStore.Endpoint != "" && s.ImageStore.Bucket == "" {
		add("imageStore.bucket", "is required when imageStore.endpoint is set")
	}
	if s.Webhook.MaxBodyBytes < 1024 {
		add("webhook.maxBodyBytes", "must be at least 1024")
	}
	for i, u := range s.Webhook.AllowedUsers {
		if strings.TrimSpace(u) == "" || strings.TrimSpace(u) != u {
			add(fmt.Sprintf("webhook.allowedUsers[%d]", i), "must be a Grafana login without spaces around it, e.g. sa-1-alertmanager")
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
