package resources

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/alertchart/alertchart/pkg/intake"
	"github.com/alertchart/alertchart/pkg/pipeline"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Role is a Grafana organisation role, in increasing order of rights.
type Role int

// Grafana's organisation roles. RoleNone is a caller without a role: no
// user in the request (a host that identified nobody) or Grafana's "None"
// basic role.
const (
	RoleNone Role = iota
	RoleViewer
	RoleEditor
	RoleAdmin
)

// String is Grafana's name of the role.
func (r Role) String() string {
	switch r {
	case RoleViewer:
		return "Viewer"
	case RoleEditor:
		return "Editor"
	case RoleAdmin:
		return "Admin"
	}
	return "None"
}

// ParseRole reads Grafana's org role names (PluginContext.User.Role):
// "Viewer", "Editor", "Admin"; anything else, "None" included, is RoleNone.
func ParseRole(s string) Role {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "viewer":
		return RoleViewer
	case "editor":
		return RoleEditor
	case "admin":
		return RoleAdmin
	}
	return RoleNone
}

// Caller is who sent a request, as the host established it: the Grafana
// plugin reads the user Grafana authenticated from the request's
// PluginContext; the standalone server knows only whether its bearer token
// was presented.
type Caller struct {
	// Login is the Grafana login ("" when there is none), e.g.
	// "sa-1-alertmanager" for a service-account token.
	Login string
	Role  Role
	// Alertmanager is true when the host itself has established that the
	// caller may post webhooks (the standalone server's token). The plugin
	// leaves it false: webhookAllowed decides from the settings.
	Alertmanager bool
}

func (c Caller) describe() string {
	switch {
	case c.Login != "":
		return c.Login + " (" + c.Role.String() + ")"
	case c.Role != RoleNone:
		return "a caller with role " + c.Role.String()
	}
	return "a request without a Grafana user"
}

// Access is who may call a route.
type Access int

const (
	// AccessAlertmanager: only Alertmanager's identity (POST /webhook).
	AccessAlertmanager Access = iota
	// AccessViewer: any role.
	AccessViewer
	// AccessEditor: Editor or Admin.
	AccessEditor
	// AccessAdmin: Admin only.
	AccessAdmin
)

// String names the access in docs and denials.
func (a Access) String() string {
	switch a {
	case AccessAlertmanager:
		return "Alertmanager"
	case AccessViewer:
		return "Viewer"
	case AccessEditor:
		return "Editor"
	}
	return "Admin"
}

func (a Access) role() Role {
	switch a {
	case AccessViewer:
		return RoleViewer
	case AccessEditor:
		return RoleEditor
	}
	return RoleAdmin
}

// WebhookTokenHeader carries secureJsonData.webhookToken to the plugin.
// Grafana consumes the Authorization header to authenticate the caller and
// never forwards it to a plugin, so the token needs a header of its own
// (Alertmanager ≥ 0.28 http_headers, Grafana Alerting's webhook contact
// point "Extra headers"), or the token= query parameter (url_file).
const WebhookTokenHeader = "X-AlertChart-Token"

// WebhookTokenParam is the query parameter alternative to WebhookTokenHeader.
const WebhookTokenParam = "token"

// denial is a 403 answer: what is needed, never any of the route's data.
type denial struct {
	Error    string `json:"error"`
	Required string `json:"requiredRole"`
}

// allowed decides whether c may call a route with access a; when not, it
// answers (403, or 503 while the settings do not say who Alertmanager is)
// and returns false. It is the one place where callers are checked.
func (a *api) allowed(w http.ResponseWriter, r *http.Request, rt *Route, c Caller) bool {
	if rt.Access != AccessAlertmanager {
		if c.Role >= rt.Access.role() {
			return true
		}
		intake.WriteJSON(w, http.StatusForbidden, denial{Required: rt.Access.String(),
			Error: rt.Method + " " + rt.Path + " needs the " + rt.Access.String() + " role; the caller is " + c.describe()})
		return false
	}
	if c.Alertmanager {
		return true
	}
	p, err := a.src.Pipeline()
	if err != nil {
		// No settings to tell Alertmanager apart: 503, so Alertmanager
		// keeps the notification and retries once the settings are fixed.
		a.unavailable(w, c, err)
		return false
	}
	reason := webhookRefusal(r, c, p.Settings)
	if reason == "" {
		return true
	}
	if reason == reasonUnconfigured {
		intake.WriteError(w, &intake.Error{Status: http.StatusServiceUnavailable, Msg: reasonUnconfigured})
		return false
	}
	if a.opts.Refusals != nil {
		a.opts.Refusals.add(c, reason)
	}
	intake.WriteJSON(w, http.StatusForbidden, denial{Required: AccessAlertmanager.String(),
		Error: "POST /webhook is reserved for Alertmanager: " + reason + "; the caller is " + c.describe()})
	return false
}

const reasonUnconfigured = "AlertChart does not know Alertmanager's identity yet: an administrator must set " +
	"webhook.allowedUsers (Alertmanager's Grafana service account) or secureJsonData.webhookToken; Alertmanager will retry"

// webhookRefusal says why c may not post webhooks under s ("" when it may).
// Every configured check must pass: a login in webhook.allowedUsers, and
// the webhook token when one is set. Nothing configured refuses everyone.
func webhookRefusal(r *http.Request, c Caller, s *settings.Settings) string {
	users := s.Webhook.AllowedUsers
	token := s.Secrets[settings.SecretWebhookToken]
	if len(users) == 0 && token == "" {
		return reasonUnconfigured
	}
	if len(users) > 0 && !slices.ContainsFunc(users, func(u string) bool { return c.Login != "" && strings.EqualFold(u, c.Login) }) {
		return "the caller must be a Grafana login listed in webhook.allowedUsers"
	}
	if token != "" {
		got := r.Header.Get(WebhookTokenHeader)
		if got == "" {
			got = r.URL.Query().Get(WebhookTokenParam)
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			return "the request must carry the webhook token (" + WebhookTokenHeader + " header or " + WebhookTokenParam + "= in the URL)"
		}
	}
	return ""
}

// WebhookRefusals remembers the webhook requests the plugin refused, so that
// the health report names them: Alertmanager drops a notification it gets a
// 403 for, and a typo in webhook.allowedUsers would otherwise lose alerts
// without a trace on the configuration page.
type WebhookRefusals struct {
	mu   sync.Mutex
	list []refusal
}

type refusal struct {
	caller string
	reason string
	count  int
	since  time.Time
}

// maxRefusals bounds the remembered callers.
const maxRefusals = 5

func (w *WebhookRefusals) add(c Caller, reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	who := c.describe()
	for i := range w.list {
		if w.list[i].caller == who && w.list[i].reason == reason {
			w.list[i].count++
			return
		}
	}
	if len(w.list) == maxRefusals {
		w.list = w.list[1:]
	}
	w.list = append(w.list, refusal{caller: who, reason: reason, count: 1, since: time.Now().UTC()})
}

// Checks are health warnings, one per refused caller.
func (w *WebhookRefusals) Checks() []pipeline.Check {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]pipeline.Check, 0, len(w.list))
	for _, r := range w.list {
		out = append(out, pipeline.NewCheck("webhook", pipeline.StatusWarning, pipeline.CodeWebhookRefused, map[string]string{
			"caller": r.caller, "count": itoa(r.count), "since": r.since.Format(time.RFC3339), "reason": r.reason}))
	}
	return out
}
