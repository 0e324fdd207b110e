package grafana

import (
	"context"
	"fmt"
	"time"

	"github.com/grafana/grafana-openapi-client-go/client/search"

	"github.com/alertchart/alertchart/pkg/i18n"
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
// Message is the same text in English, from the backend's catalogue
// (pkg/i18n, "health.<code>").
type Check struct {
	Name    string            `json:"name"`
	Status  CheckStatus       `json:"status"`
	Message string            `json:"message"`
	Code    string            `json:"code"`
	Args    map[string]string `json:"args"`
}

// newCheck makes a check whose message is its code's English text filled
// with args.
func newCheck(name string, status CheckStatus, code string, args map[string]string) Check {
	if args == nil {
		args = map[string]string{}
	}
	return Check{Name: name, Status: status, Code: code, Args: args, Message: i18n.Fill(i18n.EN, i18n.HealthPrefix+code, args)}
}

// The names of the Grafana checks.
const (
	apiCheck        = "Grafana API"
	templateCheck   = "Template panel"
	rendererCheck   = "Image renderer"
	alertRulesCheck = "Alert rules"
)

// Stable ids of the Grafana checks' messages (see pipeline.CheckCodes).
const (
	CodeAPIOK                  = "grafana.api_ok"
	CodeAPIFailed              = "grafana.api_failed"
	CodeTemplateSkippedNoAPI   = "grafana.template_skipped_no_api"
	CodeRendererSkippedNoAPI   = "grafana.renderer_skipped_no_api"
	CodeAlertRulesSkippedNoAPI = "grafana.alert_rules_skipped_no_api"
	CodeTemplateNotConfigured  = "grafana.template_not_configured"
	CodeTemplateOK             = "grafana.template_ok"
	CodeTemplateFailed         = "grafana.template_failed"
	CodeRendererNative         = "grafana.renderer_native"
	CodeRendererFailed         = "grafana.renderer_failed"
	CodeRendererMissing        = "grafana.renderer_missing"
	CodeRendererUntested       = "grafana.renderer_untested"
	CodeRendererOK             = "grafana.renderer_ok"
	CodeAlertRulesOK           = "grafana.alert_rules"
	CodeAlertRulesForbidden    = "grafana.alert_rules_forbidden"
	CodeAlertRulesUnreadable   = "grafana.alert_rules_unreadable"
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
		return append(checks, newCheck(alertRulesCheck, CheckSkipped, CodeAlertRulesSkippedNoAPI, nil))
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

	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	limit, typ := int64(1), "dash-db"
	_, err := c.api.Search.Search(search.NewSearchParams().WithContext(actx).WithLimit(&limit).WithType(&typ))
	cancel()
	if err != nil {
		msg := apiErr("search dashboards at "+c.BaseURL(), err).Error()
		// Without the API every other check fails the same way.
		return append(checks, newCheck(apiCheck, failed, CodeAPIFailed, map[string]string{"error": msg}),
			newCheck(templateCheck, CheckSkipped, CodeTemplateSkippedNoAPI, nil),
			newCheck(rendererCheck, CheckSkipped, CodeRendererSkippedNoAPI, nil))
	}
	checks = append(checks, newCheck(apiCheck, CheckOK, CodeAPIOK, map[string]string{"url": c.BaseURL(), "source": c.creds.Source}))

	var tmpl Check
	var panelType string
	uid, id := s.Chart.TemplateDashboardUID, s.Chart.TemplatePanelID
	if uid == "" || id == 0 {
		tmpl = newCheck(templateCheck, CheckSkipped, CodeTemplateNotConfigured, nil)
	} else {
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		d, err := c.GetDashboard(tctx, uid)
		cancel()
		var p map[string]any
		if err == nil {
			p, err = d.Panel(id)
		}
		if err != nil {
			tmpl = newCheck(templateCheck, failed, CodeTemplateFailed, map[string]string{"error": err.Error()})
		} else {
			title, _ := p["title"].(string)
			panelType, _ = p["type"].(string)
			schema := "schema v1"
			if d.APIVersion != "" {
				schema = d.APIVersion
			}
			tmpl = newCheck(templateCheck, CheckOK, CodeTemplateOK, map[string]string{"panel": fmt.Sprint(id), "title": title, "type": panelType,
				"dashboard": d.Title, "schema": schema})
		}
	}
	checks = append(checks, tmpl)

	if s.Chart.Renderer == "native" {
		return append(checks, newCheck(rendererCheck, CheckSkipped, CodeRendererNative, nil))
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	info, err := c.Renderer(rctx)
	cancel()
	var rend Check
	switch {
	case err != nil:
		rend = newCheck(rendererCheck, failed, CodeRendererFailed, map[string]string{"error": err.Error()})
	case !info.Available:
		rend = newCheck(rendererCheck, failed, CodeRendererMissing, nil)
	case tmpl.Status != CheckOK:
		rend = newCheck(rendererCheck, CheckOK, CodeRendererUntested, map[string]string{"version": info.Version})
	default:
		now := time.Now()
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		start := time.Now()
		_, err := c.Render(rctx, RenderRequest{DashboardUID: uid, PanelID: id, From: now.Add(-time.Hour), To: now,
			Width: 400, Height: 200, Theme: s.Chart.Theme, Timezone: s.Chart.Timezone, Timeout: 25 * time.Second})
		cancel()
		if err != nil {
			rend = newCheck(rendererCheck, failed, CodeRendererFailed, map[string]string{"error": err.Error()})
		} else {
			took := time.Since(start).Round(10 * time.Millisecond)
			rend = newCheck(rendererCheck, CheckOK, CodeRendererOK, map[string]string{"version": info.Version, "duration": took.String()})
		}
	}
	return append(checks, rend)
}
