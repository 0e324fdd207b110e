package grafana

import (
	"context"
	"fmt"
	"time"

	"github.com/grafana/grafana-openapi-client-go/client/search"

	"github.com/alertchart/alertchart/pkg/settings"
)

// CheckStatus is the outcome of one health check, in the plugin's health
// vocabulary.
type CheckStatus string

const (
	CheckOK CheckStatus = "ok"
	// CheckWarning: something is wrong but charts still arrive (the native
	// renderer takes over).
	CheckWarning CheckStatus = "warning"
	// CheckError: something the settings explicitly ask for
	// (chart.renderer = grafana) does not work.
	CheckError   CheckStatus = "error"
	CheckSkipped CheckStatus = "skipped"
)

// Check is one line of the plugin's health report. Code is a stable message
// id (one of the Code* constants) the config page translates with Args;
// Message is the same text in English.
type Check struct {
	Name    string            `json:"name"`
	Status  CheckStatus       `json:"status"`
	Message string            `json:"message"`
	Code    string            `json:"code"`
	Args    map[string]string `json:"args"`
}

// Stable ids of the Grafana checks' messages (see pipeline.CheckCodes).
const (
	CodeAPIOK                 = "grafana.api_ok"
	CodeAPIFailed             = "grafana.api_failed"
	CodeTemplateSkippedNoAPI  = "grafana.template_skipped_no_api"
	CodeRendererSkippedNoAPI  = "grafana.renderer_skipped_no_api"
	CodeTemplateNotConfigured = "grafana.template_not_configured"
	CodeTemplateOK            = "grafana.template_ok"
	CodeTemplateFailed        = "grafana.template_failed"
	CodeRendererNative        = "grafana.renderer_native"
	CodeRendererFailed        = "grafana.renderer_failed"
	CodeRendererMissing       = "grafana.renderer_missing"
	CodeRendererUntested      = "grafana.renderer_untested"
	CodeRendererOK            = "grafana.renderer_ok"
	CodeAlertRulesOK          = "grafana.alert_rules"
	CodeAlertRulesForbidden   = "grafana.alert_rules_forbidden"
	CodeAlertRulesUnreadable  = "grafana.alert_rules_unreadable"
)

// Health checks, in order: Grafana's API answers with the plugin's
// credentials; the template dashboard and panel exist (when configured); the
// image renderer answers (by rendering the unchanged template panel in a
// small size, which writes nothing). Each check has its own short timeout.
// A failure is an error when chart.renderer is "grafana", else a warning
// (the native renderer draws the charts). Last, whether the credentials may
// read Grafana-managed alert rules (a warning names the missing permission:
// Grafana Alerting's alerts then arrive without a chart).
func (c *Client) Health(ctx context.Context, s *settings.Settings) []Check {
	checks := c.dashboardHealth(ctx, s)
	if checks[0].Status != CheckOK {
		return append(checks, Check{Name: "Alert rules", Status: CheckSkipped, Message: "Grafana's API is not usable"})
	}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return append(checks, c.checkAlertRules(actx))
}

// dashboardHealth checks the API, the template panel and the renderer.
func (c *Client) dashboardHealth(ctx context.Context, s *settings.Settings) []Check {
	var checks []Check
	failed := CheckWarning
	if s.Chart.Renderer == "grafana" {
		failed = CheckError
	}

	api := Check{Name: "Grafana API"}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	limit, typ := int64(1), "dash-db"
	_, err := c.api.Search.Search(search.NewSearchParams().WithContext(actx).WithLimit(&limit).WithType(&typ))
	cancel()
	if err != nil {
		api.Status, api.Message = failed, apiErr("search dashboards at "+c.BaseURL(), err).Error()
		api.Code, api.Args = CodeAPIFailed, map[string]string{"error": api.Message}
		checks = append(checks, api)
		// Without the API every other check fails the same way.
		return append(checks,
			Check{Name: "Template panel", Status: CheckSkipped, Message: "Grafana's API is not usable", Code: CodeTemplateSkippedNoAPI},
			Check{Name: "Image renderer", Status: CheckSkipped, Message: "Grafana's API is not usable", Code: CodeRendererSkippedNoAPI})
	}
	api.Status, api.Message = CheckOK, fmt.Sprintf("reachable at %s with the %s", c.BaseURL(), c.creds.Source)
	api.Code, api.Args = CodeAPIOK, map[string]string{"url": c.BaseURL(), "source": string(c.creds.Source)}
	checks = append(checks, api)

	tmpl := Check{Name: "Template panel"}
	var panelType string
	uid, id := s.Chart.TemplateDashboardUID, s.Chart.TemplatePanelID
	if uid == "" || id == 0 {
		tmpl.Status, tmpl.Message = CheckSkipped, "no template configured (chart.templateDashboardUid and chart.templatePanelId)"
		tmpl.Code = CodeTemplateNotConfigured
	} else {
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		d, err := c.GetDashboard(tctx, uid)
		cancel()
		var p map[string]any
		if err == nil {
			p, err = d.Panel(id)
		}
		if err != nil {
			tmpl.Status, tmpl.Message = failed, err.Error()
			tmpl.Code, tmpl.Args = CodeTemplateFailed, map[string]string{"error": tmpl.Message}
		} else {
			title, _ := p["title"].(string)
			panelType, _ = p["type"].(string)
			schema := "schema v1"
			if d.APIVersion != "" {
				schema = d.APIVersion
			}
			tmpl.Status = CheckOK
			tmpl.Message = fmt.Sprintf("panel %d %q (%s) of dashboard %q, read as %s", id, title, panelType, d.Title, schema)
			tmpl.Code, tmpl.Args = CodeTemplateOK, map[string]string{"panel": fmt.Sprint(id), "title": title, "type": panelType,
				"dashboard": d.Title, "schema": schema}
		}
	}
	checks = append(checks, tmpl)

	rend := Check{Name: "Image renderer"}
	if s.Chart.Renderer == "native" {
		rend.Status, rend.Message, rend.Code = CheckSkipped, "chart.renderer is native", CodeRendererNative
		return append(checks, rend)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	info, err := c.Renderer(rctx)
	cancel()
	switch {
	case err != nil:
		rend.Status, rend.Message = failed, err.Error()
		rend.Code, rend.Args = CodeRendererFailed, map[string]string{"error": rend.Message}
	case !info.Available:
		rend.Status, rend.Message = failed, "Grafana has no image renderer: install the grafana-image-renderer service and set "+
			"[rendering] server_url and callback_url; until then charts are drawn by the native renderer"
		rend.Code = CodeRendererMissing
	case tmpl.Status != CheckOK:
		rend.Status = CheckOK
		rend.Message = fmt.Sprintf("Grafana reports renderer %s; not test-rendered because no usable template panel is configured", info.Version)
		rend.Code, rend.Args = CodeRendererUntested, map[string]string{"version": info.Version}
	default:
		now := time.Now()
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		start := time.Now()
		_, err := c.Render(rctx, RenderRequest{DashboardUID: uid, PanelID: id, From: now.Add(-time.Hour), To: now,
			Width: 400, Height: 200, Theme: s.Chart.Theme, Timezone: s.Chart.Timezone, Timeout: 25 * time.Second})
		cancel()
		if err != nil {
			rend.Status, rend.Message = failed, err.Error()
			rend.Code, rend.Args = CodeRendererFailed, map[string]string{"error": rend.Message}
		} else {
			took := time.Since(start).Round(10 * time.Millisecond)
			rend.Status = CheckOK
			rend.Message = fmt.Sprintf("renderer %s rendered the template panel in %s", info.Version, took)
			rend.Code, rend.Args = CodeRendererOK, map[string]string{"version": info.Version, "duration": took.String()}
		}
	}
	return append(checks, rend)
}
