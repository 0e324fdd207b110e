package pipeline

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alertchart/alertchart/pkg/delivery"
	"github.com/alertchart/alertchart/pkg/grafana"
	"github.com/alertchart/alertchart/pkg/i18n"
	"github.com/alertchart/alertchart/pkg/promapi"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Check statuses.
const (
	StatusOK      = "ok"
	StatusWarning = "warning"
	StatusError   = "error"
	// StatusSkipped: the check did not run (not configured, or a check it
	// depends on failed).
	StatusSkipped = "skipped"
)

// Check is one line of the health report. Code is a stable message id the
// config page translates, filling {arg} placeholders from Args; Message is
// the same text in English, for logs, Grafana's own health answer and as the
// page's fallback. Neither ever holds a secret (Report redacts them).
type Check struct {
	Name    string            `json:"name"`
	Status  string            `json:"status"` // ok | warning | error | skipped
	Message string            `json:"message"`
	Code    string            `json:"code"`
	Args    map[string]string `json:"args"`
}

// Health is the JSON health report (GET /health) behind CheckHealth.
type Health struct {
	Status  string            `json:"status"`
	Message string            `json:"message"`
	Code    string            `json:"code"`
	Args    map[string]string `json:"args"`
	Checks  []Check           `json:"checks"`
	// Detailed is false in the report shown to callers who are not
	// administrators: it has the overall status but no checks, because
	// check messages name internal URLs, hosts and users.
	Detailed bool `json:"detailed"`
}

// CheckCode is one message id the backend can send, with its texts.
type CheckCode struct {
	Code string `json:"code"`
	// Text is the English message (the check's "message"); {name} is
	// replaced by Args["name"].
	Text string `json:"text"`
	// Zh is the same message in Chinese, with the same placeholders.
	Zh string `json:"zh"`
	// Args are the placeholders Text uses, in order of appearance.
	Args []string `json:"args"`
}

// checkCodes is every message id of the health report: the checks of this
// package, of package grafana, and the summaries. Their texts, in English
// and Chinese, are in the backend's catalogue (pkg/i18n, ids
// "health.<code>"). A code not listed here is a bug
// (TestEveryCheckCodeIsCatalogued), and the config page gets both texts of
// each (src/health-codes.json, written by that test).
var checkCodes = []string{
	CodeSummaryReady, CodeSummaryProblems, CodeSummaryRestrictedWarning, CodeSummaryRestrictedError,
	CodeSettingsValid, CodeSettingsInvalid,
	CodeChannelsNone, CodeChannelsOK, CodeChannelInvalid,
	CodePrometheusOK, CodePrometheusNotConfigured, CodePrometheusInvalid, CodePrometheusUnreachable,
	CodeImageStoreOK, CodeImageStoreInvalid, CodeImageStoreUnreachable,
	CodeGrafanaUnavailable,
	grafana.CodeAPIOK, grafana.CodeAPIFailed, grafana.CodeTemplateSkippedNoAPI, grafana.CodeRendererSkippedNoAPI,
	grafana.CodeTemplateNotConfigured, grafana.CodeTemplateOK, grafana.CodeTemplateFailed, grafana.CodeRendererNative,
	grafana.CodeRendererFailed, grafana.CodeRendererMissing, grafana.CodeRendererUntested, grafana.CodeRendererOK,
	grafana.CodeAlertRulesOK, grafana.CodeAlertRulesForbidden, grafana.CodeAlertRulesUnreadable, grafana.CodeAlertRulesSkippedNoAPI,
	CodeQueueOK, CodeQueueBacklog, CodeQueueTemporary, CodeQueueWarning, CodeQueueFailed, CodeQueueDataDirUnsafe, CodeQueueUnreachable,
	CodeWebhookUsers, CodeWebhookToken, CodeWebhookUsersAndToken, CodeWebhookUnconfigured, CodeWebhookRefused,
	CodeStandaloneToken, CodeStandaloneOpen,
}

// Message ids of the summary and of this package's checks.
const (
	CodeSummaryReady             = "summary.ready"
	CodeSummaryProblems          = "summary.problems"
	CodeSummaryRestrictedWarning = "summary.restricted_warning"
	CodeSummaryRestrictedError   = "summary.restricted_error"

	CodeSettingsValid   = "settings.valid"
	CodeSettingsInvalid = "settings.invalid"

	CodeChannelsNone   = "channels.none"
	CodeChannelsOK     = "channels.ok"
	CodeChannelInvalid = "channel.invalid"

	CodePrometheusOK            = "prometheus.ok"
	CodePrometheusNotConfigured = "prometheus.not_configured"
	CodePrometheusInvalid       = "prometheus.invalid"
	CodePrometheusUnreachable   = "prometheus.unreachable"

	CodeImageStoreOK          = "imagestore.ok"
	CodeImageStoreInvalid     = "imagestore.invalid"
	CodeImageStoreUnreachable = "imagestore.unreachable"

	CodeGrafanaUnavailable = "grafana.unavailable"

	CodeQueueOK            = "queue.ok"
	CodeQueueBacklog       = "queue.backlog"
	CodeQueueUnreachable   = "queue.unreachable"
	CodeQueueTemporary     = "queue.temporary"
	CodeQueueWarning       = "queue.warning"
	CodeQueueFailed        = "queue.failed"
	CodeQueueDataDirUnsafe = "queue.data_dir_unsafe"

	CodeWebhookUsers         = "webhook.users"
	CodeWebhookToken         = "webhook.token"
	CodeWebhookUsersAndToken = "webhook.users_and_token"
	CodeWebhookUnconfigured  = "webhook.unconfigured"
	CodeWebhookRefused       = "webhook.refused"
	CodeStandaloneToken      = "webhook.standalone_token"
	CodeStandaloneOpen       = "webhook.standalone_open"
)

// CheckNames are the names of the checks ("channel {channel}" stands for
// one per unusable channel); the config page may translate them.
var CheckNames = []string{"settings", "channels", "channel {channel}", "prometheus", "image store", "grafana",
	"Grafana API", "Template panel", "Image renderer", "Alert rules", "queue", "webhook"}

// CheckStatuses are the statuses a check can have.
var CheckStatuses = []string{StatusOK, StatusWarning, StatusError, StatusSkipped}

// CheckCodes lists every message id the backend can send, in a stable
// order, with its texts from the catalogue ("" when one is missing).
func CheckCodes() []CheckCode {
	out := make([]CheckCode, len(checkCodes))
	for i, c := range checkCodes {
		out[i] = CheckCode{Code: c, Text: codeText(c), Zh: codeTextIn(i18n.ZH, c), Args: i18n.Placeholders(i18n.HealthPrefix + c)}
		if out[i].Args == nil {
			out[i].Args = []string{}
		}
	}
	return out
}

// codeText is a code's English text as written, placeholders included (""
// when the code is not catalogued).
func codeText(code string) string { return codeTextIn(i18n.EN, code) }

// codeTextIn is a code's text in lang as written.
func codeTextIn(lang, code string) string {
	id := i18n.HealthPrefix + code
	if !slices.Contains(checkCodes, code) || !i18n.Has(id) {
		return ""
	}
	return i18n.T(lang, id)
}

// Expand fills a code's English text with args (a missing arg is empty).
func Expand(code string, args map[string]string) string {
	if codeText(code) == "" {
		return code
	}
	return i18n.Fill(i18n.EN, i18n.HealthPrefix+code, args)
}

// NewCheck makes a check whose message is the code's text filled with args.
func NewCheck(name, status, code string, args map[string]string) Check {
	if args == nil {
		args = map[string]string{}
	}
	return Check{Name: name, Status: status, Code: code, Args: args, Message: Expand(code, args)}
}

// Summarise folds checks into one status and a plain-words message.
func Summarise(checks []Check) Health {
	h := Health{Status: StatusOK, Checks: checks, Detailed: true, Args: map[string]string{}}
	if h.Checks == nil {
		h.Checks = []Check{}
	}
	var problems []string
	for _, c := range checks {
		switch c.Status {
		case StatusError:
			h.Status = StatusError
			problems = append(problems, c.Name+": "+c.Message)
		case StatusWarning:
			if h.Status == StatusOK {
				h.Status = StatusWarning
			}
			problems = append(problems, c.Name+": "+c.Message)
		}
	}
	if len(problems) == 0 {
		h.Code = CodeSummaryReady
	} else {
		h.Code = CodeSummaryProblems
		h.Args["problems"] = strings.Join(problems, "; ")
	}
	h.Message = Expand(h.Code, h.Args)
	return h
}

// Restricted is the report for a caller who is not an administrator: the
// overall status only.
func (h Health) Restricted() Health {
	r := Health{Status: h.Status, Checks: []Check{}, Args: map[string]string{}}
	switch h.Status {
	case StatusError:
		r.Code = CodeSummaryRestrictedError
	case StatusWarning:
		r.Code = CodeSummaryRestrictedWarning
	default:
		r.Code = CodeSummaryReady
	}
	r.Message = Expand(r.Code, r.Args)
	return r
}

// Redacted replaces every secret value (secureJsonData) that appears in a
// message or argument with "[redacted]": an upstream error that echoes a
// URL with its key, or a DSN, never reaches the page or a log.
func (h Health) Redacted(secrets map[string]string) Health {
	var values []string
	for _, v := range secrets {
		if len(v) >= 4 {
			values = append(values, v)
		}
	}
	// Longest first, so a secret that contains another is replaced whole.
	slices.SortFunc(values, func(a, b string) int { return len(b) - len(a) })
	clean := func(s string) string {
		for _, v := range values {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
		return s
	}
	out := h
	out.Message = clean(h.Message)
	out.Args = map[string]string{}
	for k, v := range h.Args {
		out.Args[k] = clean(v)
	}
	out.Checks = make([]Check, len(h.Checks))
	for i, c := range h.Checks {
		c.Message = clean(c.Message)
		args := map[string]string{}
		for k, v := range c.Args {
			args[k] = clean(v)
		}
		c.Args = args
		out.Checks[i] = c
	}
	return out
}

// Report is a host's whole health report: the settings, the queue and,
// when the pipeline runs, every part of it, then the host's own checks
// (extra); secret values are redacted. settingsErr and pipeErr are why
// there is no pipeline (p is nil then).
func Report(ctx context.Context, secrets map[string]string, settingsErr error, p *Pipeline, pipeErr error, extra ...Check) Health {
	var checks []Check
	switch {
	case settingsErr != nil:
		checks = append(checks, NewCheck("settings", StatusError, CodeSettingsInvalid, map[string]string{"error": settingsErr.Error()}))
	case pipeErr != nil:
		checks = append(checks, NewCheck("settings", StatusOK, CodeSettingsValid, nil), queueFailure(pipeErr))
	default:
		checks = append(checks, NewCheck("settings", StatusOK, CodeSettingsValid, nil))
		if p != nil {
			checks = append(checks, p.Checks(ctx)...)
		}
	}
	checks = append(checks, extra...)
	return Summarise(checks).Redacted(secrets)
}

// queueFailure explains why the delivery queue did not open.
func queueFailure(err error) Check {
	var unsafe *delivery.UnsafeDataDirError
	if errors.As(err, &unsafe) {
		return NewCheck("queue", StatusError, CodeQueueDataDirUnsafe, map[string]string{"dir": unsafe.Dir, "problem": unsafe.Problem})
	}
	return NewCheck("queue", StatusError, CodeQueueFailed, map[string]string{"error": err.Error()})
}

// Checks probes every configured part, each within a few seconds.
func (p *Pipeline) Checks(ctx context.Context) []Check {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s := p.Settings
	var out []Check
	if len(s.Channels) == 0 {
		out = append(out, NewCheck("channels", StatusWarning, CodeChannelsNone, nil))
	} else {
		names := make([]string, 0, len(p.notifErrs))
		for name := range p.notifErrs {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			out = append(out, NewCheck("channel "+name, StatusError, CodeChannelInvalid,
				map[string]string{"channel": name, "error": p.notifErrs[name].Error()}))
		}
		if len(names) == 0 {
			out = append(out, NewCheck("channels", StatusOK, CodeChannelsOK, map[string]string{"count": strconv.Itoa(len(s.Channels))}))
		}
	}
	switch {
	case errors.Is(p.promErr, promapi.ErrNoDataSource):
		out = append(out, NewCheck("prometheus", StatusWarning, CodePrometheusNotConfigured, nil))
	case p.promErr != nil:
		out = append(out, NewCheck("prometheus", StatusWarning, CodePrometheusInvalid, map[string]string{"error": p.promErr.Error()}))
	default:
		if err := p.planner.Ping(ctx); err != nil {
			out = append(out, NewCheck("prometheus", StatusWarning, CodePrometheusUnreachable, map[string]string{"error": err.Error()}))
		} else {
			out = append(out, NewCheck("prometheus", StatusOK, CodePrometheusOK, nil))
		}
	}
	if p.storeErr != nil {
		out = append(out, NewCheck("image store", StatusWarning, CodeImageStoreInvalid, map[string]string{"error": p.storeErr.Error()}))
	} else if c, ok := p.store.(interface{ Check(context.Context) error }); ok {
		if err := c.Check(ctx); err != nil {
			out = append(out, NewCheck("image store", StatusWarning, CodeImageStoreUnreachable, map[string]string{"error": err.Error()}))
		} else {
			out = append(out, NewCheck("image store", StatusOK, CodeImageStoreOK, nil))
		}
	}
	if p.gclient != nil {
		for _, c := range p.gclient.Health(ctx, s) {
			args := c.Args
			if args == nil {
				args = map[string]string{}
			}
			out = append(out, Check{Name: c.Name, Status: string(c.Status), Message: c.Message, Code: c.Code, Args: args})
		}
	} else if s.Chart.Renderer == "grafana" {
		out = append(out, NewCheck("grafana", StatusWarning, CodeGrafanaUnavailable, map[string]string{"problem": p.charts.GrafanaProblem()}))
	}
	qs := p.delivery.Status(ctx)
	switch w := p.delivery.Warning(); {
	case qs.Err != nil:
		out = append(out, NewCheck("queue", StatusError, CodeQueueUnreachable, map[string]string{"queue": qs.Queue, "error": qs.Err.Error()}))
	case w != "" && delivery.IsTemporaryDataDir(p.delivery.DataDir()):
		out = append(out, NewCheck("queue", StatusWarning, CodeQueueTemporary, map[string]string{"dir": p.delivery.DataDir()}))
	case w != "":
		out = append(out, NewCheck("queue", StatusWarning, CodeQueueWarning, map[string]string{"warning": w}))
	case qs.Backlog > 0:
		out = append(out, NewCheck("queue", StatusOK, CodeQueueBacklog, map[string]string{"queue": s.Delivery.Queue,
			"backlog": strconv.FormatInt(qs.Backlog, 10), "oldest": i18n.Duration(i18n.EN, time.Since(qs.Oldest))}))
	default:
		out = append(out, NewCheck("queue", StatusOK, CodeQueueOK, map[string]string{"queue": s.Delivery.Queue}))
	}
	return out
}

// WebhookIdentity reports how the Grafana plugin recognises Alertmanager on
// POST /webhook (resources.webhookAllowed applies the same settings).
func WebhookIdentity(s *settings.Settings) Check {
	users := strings.Join(s.Webhook.AllowedUsers, ", ")
	token := s.Secrets[settings.SecretWebhookToken] != ""
	switch {
	case users != "" && token:
		return NewCheck("webhook", StatusOK, CodeWebhookUsersAndToken, map[string]string{"users": users})
	case users != "":
		return NewCheck("webhook", StatusOK, CodeWebhookUsers, map[string]string{"users": users})
	case token:
		return NewCheck("webhook", StatusOK, CodeWebhookToken, nil)
	default:
		return NewCheck("webhook", StatusError, CodeWebhookUnconfigured, nil)
	}
}

// StandaloneWebhook reports whether the standalone server's API needs a token.
func StandaloneWebhook(s *settings.Settings, listen string) Check {
	if s.Secrets[settings.SecretWebhookToken] != "" {
		return NewCheck("webhook", StatusOK, CodeStandaloneToken, nil)
	}
	return NewCheck("webhook", StatusWarning, CodeStandaloneOpen, map[string]string{"listen": listen})
}
