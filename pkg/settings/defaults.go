package settings

import "time"

// The default of every setting that has one. Parse fills them in before it
// validates, so a settings file only names what it changes.

// Defaults.
const (
	DefaultMaxBodyBytes     = 4 << 20
	DefaultWindowMultiplier = 2.0
	DefaultMinWindow        = 10 * time.Minute
	DefaultMaxWindow        = 24 * time.Hour
	DefaultWidth            = 1000
	DefaultHeight           = 500
	DefaultMaxSeries        = 10
	DefaultBudget           = 5 * time.Second
	DefaultQueryTimeout     = 10 * time.Second
	DefaultRulesCacheTTL    = 30 * time.Second
	DefaultDedupeWindow     = 10 * time.Minute
	DefaultRetryHorizon     = time.Hour
	DefaultRetention        = 7 * 24 * time.Hour
	DefaultPresignExpiry    = 24 * time.Hour
	MaxPresignExpiry        = 7 * 24 * time.Hour
)

// ApplyDefaults fills every zero field that has a default.
func (s *Settings) ApplyDefaults() {
	c := &s.Chart
	if c.Renderer == "" {
		c.Renderer = "auto"
	}
	if c.WindowMultiplier == 0 {
		c.WindowMultiplier = DefaultWindowMultiplier
	}
	if c.MinWindow == 0 {
		c.MinWindow = Duration(DefaultMinWindow)
	}
	if c.MaxWindow == 0 {
		c.MaxWindow = Duration(DefaultMaxWindow)
	}
	if c.Width == 0 {
		c.Width = DefaultWidth
	}
	if c.Height == 0 {
		c.Height = DefaultHeight
	}
	if c.PixelRatio == 0 {
		c.PixelRatio = 1
	}
	if c.Theme == "" {
		c.Theme = "dark"
	}
	if c.Timezone == "" {
		c.Timezone = "UTC"
	}
	if c.Language == "" {
		c.Language = "zh"
	}
	if c.MaxSeries == 0 {
		c.MaxSeries = DefaultMaxSeries
	}
	if c.Budget == 0 {
		c.Budget = Duration(DefaultBudget)
	}
	if c.TempFolderUID == "" {
		c.TempFolderUID = "alertchart-tmp"
	}
	if c.MaxGrafanaRenders == 0 {
		c.MaxGrafanaRenders = 2
	}
	p := &s.Prometheus
	if p.Timeout == 0 {
		p.Timeout = Duration(DefaultQueryTimeout)
	}
	if p.RulesCacheTTL == 0 {
		p.RulesCacheTTL = Duration(DefaultRulesCacheTTL)
	}
	if s.Grafana.OrgID == 0 {
		s.Grafana.OrgID = 1
	}
	d := &s.Delivery
	if d.Queue == "" {
		d.Queue = "sqlite"
	}
	if d.DedupeWindow == 0 {
		d.DedupeWindow = Duration(DefaultDedupeWindow)
	}
	if d.RetryHorizon == 0 {
		d.RetryHorizon = Duration(DefaultRetryHorizon)
	}
	if d.Retention == 0 {
		d.Retention = Duration(DefaultRetention)
	}
	if d.Sync == "" {
		d.Sync = "normal"
	}
	if s.ImageStore.PresignExpiry == 0 {
		s.ImageStore.PresignExpiry = Duration(DefaultPresignExpiry)
	}
	if s.Webhook.MaxBodyBytes == 0 {
		s.Webhook.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if s.Secrets == nil {
		s.Secrets = map[string]string{}
	}
}
