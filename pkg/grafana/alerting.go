package grafana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-openapi-client-go/client/datasources"
	"github.com/grafana/grafana-openapi-client-go/client/provisioning"
	"github.com/grafana/grafana-openapi-client-go/models"
	"github.com/prometheus/common/model"
)

// Grafana-managed alert rules, read with the plugin's credentials.
//
// Two APIs serve them:
//   - the provisioning API, GET /api/v1/provisioning/alert-rules/{UID}
//     (grafana-openapi-client-go Provisioning.GetAlertRule;
//     Grafana's pkg/services/ngalert/api/tooling/definitions/provisioning_alert_rules.go).
//     Grafana 11+ lets it be read with any of alert.provisioning:read,
//     alert.rules.provisioning:read, alert.provisioning.secrets:read, or
//     alert.rules:read together with folders:read, folder scopes checked
//     in the handler (Grafana's pkg/services/ngalert/api/authorization.go); a missing
//     rule is a 404 with an empty body (api_provisioning.go
//     RouteRouteGetAlertRule);
//   - the resource API of Grafana 12+, GET
//     /apis/rules.alerting.grafana.app/v0alpha1/namespaces/<ns>/alertrules/<uid>
//     (apps/alerting/rules: metadata.name is the UID, spec.expressions maps
//     refIds to {datasourceUID, model, queryType, relativeTimeRange
//     {from,to} as Prometheus durations, source: true on the condition};
//     older builds called it spec.data), authorised by alert.rules:read
//     (Grafana's pkg/registry/apps/alerting/rules/alertrule/authorize.go).
//
// The provisioning API is asked first; when Grafana refuses it (403) or
// does not serve it, the resource API is tried where Grafana announces it.

// Permissions the plugin needs to read alert rules (plugin.json "iam").
const (
	PermAlertRulesRead = "alert.rules:read"
	PermFoldersRead    = "folders:read"
)

// ExpressionDatasourceUID is the data source of server-side expressions
// (reduce, math, threshold, classic conditions); "-100" is its old UID.
const (
	ExpressionDatasourceUID    = "__expr__"
	oldExpressionDatasourceUID = "-100"
)

// rulesGroup is the resource API group of alert rules.
const rulesGroup = "rules.alerting.grafana.app"

// AlertRule is a Grafana-managed alert rule as AlertChart reads it.
type AlertRule struct {
	UID       string `json:"uid"`
	Title     string `json:"title"`
	FolderUID string `json:"folderUid,omitempty"`
	RuleGroup string `json:"ruleGroup,omitempty"`
	// Condition is the refId whose result decides whether the rule fires.
	Condition string       `json:"condition"`
	Data      []AlertQuery `json:"data"`
	// For is the pending period; KeepFiringFor keeps it firing after the
	// condition clears.
	For           time.Duration     `json:"-"`
	KeepFiringFor time.Duration     `json:"-"`
	Labels        map[string]string `json:"labels,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	IsPaused      bool              `json:"isPaused,omitempty"`
	NoDataState   string            `json:"noDataState,omitempty"`
	ExecErrState  string            `json:"execErrState,omitempty"`
	// API says which API answered: "provisioning" or the resource API's
	// group/version.
	API string `json:"api"`
}

// AlertQuery is one entry of a rule's data: a data source query or an
// expression.
type AlertQuery struct {
	RefID         string `json:"refId"`
	QueryType     string `json:"queryType,omitempty"`
	DatasourceUID string `json:"datasourceUid"`
	// RelativeFrom and RelativeTo are the query's time range, from
	// now-RelativeFrom to now-RelativeTo.
	RelativeFrom time.Duration  `json:"-"`
	RelativeTo   time.Duration  `json:"-"`
	Model        map[string]any `json:"model"`
}

// IsExpression reports whether the query is a server-side expression.
func (q AlertQuery) IsExpression() bool {
	if q.DatasourceUID == ExpressionDatasourceUID || q.DatasourceUID == oldExpressionDatasourceUID {
		return true
	}
	if ds, ok := q.Model["datasource"].(map[string]any); ok {
		if t, _ := ds["type"].(string); t == ExpressionDatasourceUID {
			return true
		}
	}
	return false
}

// ExpressionType is an expression's model.type ("reduce", "math",
// "threshold", "classic_conditions", "resample", "sql"…), "" for a query.
func (q AlertQuery) ExpressionType() string {
	if !q.IsExpression() {
		return ""
	}
	t, _ := q.Model["type"].(string)
	return t
}

// DatasourceType is the data source type the model names
// (model.datasource.type), "" when it names none.
func (q AlertQuery) DatasourceType() string {
	if ds, ok := q.Model["datasource"].(map[string]any); ok {
		t, _ := ds["type"].(string)
		return t
	}
	return ""
}

// Query returns the rule's entry with refId, or nil.
func (r *AlertRule) Query(refID string) *AlertQuery {
	for i := range r.Data {
		if r.Data[i].RefID == refID {
			return &r.Data[i]
		}
	}
	return nil
}

// ErrRuleNotFound is returned (wrapped) when Grafana has no rule with that UID.
var ErrRuleNotFound = errors.New("Grafana has no alert rule with this UID (deleted, or in another organisation)")

// IsForbidden reports whether Grafana refused the plugin's credentials the
// permission (403).
func IsForbidden(err error) bool { return StatusOf(err) == http.StatusForbidden }

// AlertRule reads a Grafana-managed alert rule by UID.
func (c *Client) AlertRule(ctx context.Context, uid string) (*AlertRule, error) {
	if uid == "" || strings.ContainsAny(uid, "/?#") {
		return nil, fmt.Errorf("read alert rule: %q is not a rule UID", uid)
	}
	op := fmt.Sprintf("read alert rule %q", uid)
	ok, err := c.api.Provisioning.GetAlertRuleWithParams(
		provisioning.NewGetAlertRuleParams().WithContext(ctx).WithUID(uid))
	if err == nil {
		if ok.Payload == nil {
			return nil, fmt.Errorf("%s: Grafana answered without a rule", op)
		}
		return ruleFromProvisioned(ok.Payload), nil
	}
	perr := apiErr(op+" through the provisioning API", err)
	switch StatusOf(perr) {
	case http.StatusNotFound:
		// Grafana answers a missing rule with an empty 404; a Grafana that
		// does not serve the route says "Not found".
		var ae *APIError
		if errors.As(perr, &ae) && ae.Message == "" {
			return nil, fmt.Errorf("%s: %w", op, ErrRuleNotFound)
		}
	case http.StatusForbidden, http.StatusMethodNotAllowed, http.StatusNotImplemented:
	default:
		return nil, perr
	}
	version, verr := c.rulesVersion(ctx)
	if verr != nil || version == "" {
		return nil, forbiddenHint(perr)
	}
	r, rerr := c.alertRuleResource(ctx, version, uid)
	if rerr == nil {
		return r, nil
	}
	if IsNotFound(rerr) {
		return nil, fmt.Errorf("%s: %w", op, ErrRuleNotFound)
	}
	return nil, forbiddenHint(fmt.Errorf("%w; through /apis/%s: %w", perr, rulesGroup, rerr))
}

// forbiddenHint adds which permissions are missing to a 403.
func forbiddenHint(err error) error {
	if !IsForbidden(err) {
		return err
	}
	return &PermissionError{Err: err, Permissions: []string{PermAlertRulesRead, PermFoldersRead}}
}

// PermissionError is a 403 with the permissions the plugin lacks.
type PermissionError struct {
	Err         error
	Permissions []string
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("%v (the plugin's service account needs %s on the rule's folder)", e.Err, strings.Join(e.Permissions, " and "))
}
func (e *PermissionError) Unwrap() error { return e.Err }

// AlertRules reads every alert rule the plugin may see, in one request
// (GET /api/v1/provisioning/alert-rules), keyed by UID: the batch form of
// AlertRule for many alerts at once.
func (c *Client) AlertRules(ctx context.Context) (map[string]*AlertRule, error) {
	ok, err := c.api.Provisioning.GetAlertRulesWithParams(provisioning.NewGetAlertRulesParams().WithContext(ctx))
	if err != nil {
		return nil, forbiddenHint(apiErr("read alert rules", err))
	}
	out := make(map[string]*AlertRule, len(ok.Payload))
	for _, p := range ok.Payload {
		if p != nil && p.UID != "" {
			out[p.UID] = ruleFromProvisioned(p)
		}
	}
	return out, nil
}

func ruleFromProvisioned(p *models.ProvisionedAlertRule) *AlertRule {
	r := &AlertRule{UID: p.UID, Labels: p.Labels, Annotations: p.Annotations, IsPaused: p.IsPaused, API: "provisioning"}
	r.Title = deref(p.Title)
	r.FolderUID = deref(p.FolderUID)
	r.RuleGroup = deref(p.RuleGroup)
	r.Condition = deref(p.Condition)
	r.NoDataState = deref(p.NoDataState)
	r.ExecErrState = deref(p.ExecErrState)
	if p.For != nil {
		r.For = time.Duration(*p.For)
	}
	r.KeepFiringFor = time.Duration(p.KeepFiringFor)
	for _, q := range p.Data {
		if q == nil {
			continue
		}
		aq := AlertQuery{RefID: q.RefID, QueryType: q.QueryType, DatasourceUID: q.DatasourceUID}
		aq.Model, _ = q.Model.(map[string]any)
		if q.RelativeTimeRange != nil {
			// Grafana writes relativeTimeRange.from/to as seconds
			// (Grafana's pkg/services/ngalert/models/alert_query.go Duration.MarshalJSON), not
			// the nanoseconds the generated models.Duration suggests.
			r := q.RelativeTimeRange
			aq.RelativeFrom, aq.RelativeTo = time.Duration(r.From)*time.Second, time.Duration(r.To)*time.Second
		}
		r.Data = append(r.Data, aq)
	}
	return r
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// rulesVersion returns the version of rules.alerting.grafana.app Grafana
// serves ("" when it serves none), asked once per 10 minutes.
func (c *Client) rulesVersion(ctx context.Context) (string, error) {
	c.rulesAPI.mu.Lock()
	defer c.rulesAPI.mu.Unlock()
	if time.Since(c.rulesAPI.at) < 10*time.Minute {
		return c.rulesAPI.version, nil
	}
	b, _, err := c.do(ctx, "discover "+rulesGroup, http.MethodGet, "/apis/"+rulesGroup, nil, nil, maxJSONBytes)
	if err != nil && !IsNotFound(err) {
		return "", err
	}
	c.rulesAPI.at, c.rulesAPI.version = time.Now(), ""
	if err != nil {
		return "", nil
	}
	var group struct {
		Versions []struct {
			Version string `json:"version"`
		} `json:"versions"`
		PreferredVersion struct {
			Version string `json:"version"`
		} `json:"preferredVersion"`
	}
	if json.Unmarshal(b, &group) != nil {
		return "", nil
	}
	vs := []string{}
	for _, v := range group.Versions {
		vs = append(vs, v.Version)
	}
	sort.SliceStable(vs, func(i, j int) bool { return versionRank(vs[i]) > versionRank(vs[j]) })
	if p := group.PreferredVersion.Version; p != "" {
		vs = append([]string{p}, vs...)
	}
	if len(vs) > 0 {
		c.rulesAPI.version = vs[0]
	}
	return c.rulesAPI.version, nil
}

// rulesAPIState caches the discovery of the rules resource API.
type rulesAPIState struct {
	mu      sync.Mutex
	at      time.Time
	version string
}

// alertRuleResource reads a rule through the resource API.
func (c *Client) alertRuleResource(ctx context.Context, version, uid string) (*AlertRule, error) {
	p := fmt.Sprintf("/apis/%s/%s/namespaces/%s/alertrules/%s", rulesGroup, version, url.PathEscape(c.creds.Namespace), url.PathEscape(uid))
	b, _, err := c.do(ctx, "read "+p, http.MethodGet, p, nil, nil, maxJSONBytes)
	if err != nil {
		return nil, err
	}
	type expr struct {
		QueryType         string         `json:"queryType"`
		DatasourceUID     string         `json:"datasourceUID"`
		Model             map[string]any `json:"model"`
		Source            *bool          `json:"source"`
		RelativeTimeRange *struct {
			From string `json:"from"`
			To   string `json:"to"`
		} `json:"relativeTimeRange"`
	}
	var res struct {
		Metadata struct {
			Name        string            `json:"name"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
		Spec struct {
			Title         string            `json:"title"`
			Paused        bool              `json:"paused"`
			Labels        map[string]string `json:"labels"`
			Annotations   map[string]string `json:"annotations"`
			For           string            `json:"for"`
			KeepFiringFor string            `json:"keepFiringFor"`
			NoDataState   string            `json:"noDataState"`
			ExecErrState  string            `json:"execErrState"`
			Expressions   map[string]expr   `json:"expressions"`
			Data          map[string]expr   `json:"data"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("read %s: unexpected answer: %w", p, err)
	}
	s := res.Spec
	r := &AlertRule{UID: res.Metadata.Name, Title: s.Title, IsPaused: s.Paused, Labels: s.Labels, Annotations: s.Annotations,
		NoDataState: s.NoDataState, ExecErrState: s.ExecErrState, API: rulesGroup + "/" + version,
		FolderUID: res.Metadata.Annotations["grafana.app/folder"], RuleGroup: res.Metadata.Labels["grafana.com/group"]}
	if r.UID == "" {
		r.UID = uid
	}
	var perr error
	dur := func(s string) time.Duration {
		if s == "" {
			return 0
		}
		d, err := model.ParseDuration(s)
		if err != nil && perr == nil {
			perr = fmt.Errorf("read %s: bad duration %q: %w", p, s, err)
		}
		return time.Duration(d)
	}
	r.For, r.KeepFiringFor = dur(s.For), dur(s.KeepFiringFor)
	exprs := s.Expressions
	if len(exprs) == 0 {
		exprs = s.Data
	}
	refs := make([]string, 0, len(exprs))
	for k := range exprs {
		refs = append(refs, k)
	}
	sort.Strings(refs)
	for _, ref := range refs {
		e := exprs[ref]
		q := AlertQuery{RefID: ref, QueryType: e.QueryType, DatasourceUID: e.DatasourceUID, Model: e.Model}
		if q.DatasourceUID == "" {
			q.DatasourceUID = ExpressionDatasourceUID // omitted: run against __expr__
		}
		if e.RelativeTimeRange != nil {
			q.RelativeFrom, q.RelativeTo = dur(e.RelativeTimeRange.From), dur(e.RelativeTimeRange.To)
		}
		if e.Source != nil && *e.Source {
			r.Condition = ref
		}
		r.Data = append(r.Data, q)
	}
	if perr != nil {
		return nil, perr
	}
	return r, nil
}

// DataSource is a Grafana data source as the planner needs it.
type DataSource struct {
	UID, Name, Type string
}

// DataSource reads a data source by UID (GET /api/datasources/uid/{uid},
// permission datasources:read); a deleted one is a 404.
func (c *Client) DataSource(ctx context.Context, uid string) (*DataSource, error) {
	ok, err := c.api.Datasources.GetDataSourceByUIDWithParams(
		datasources.NewGetDataSourceByUIDParams().WithContext(ctx).WithUID(uid))
	if err != nil {
		return nil, apiErr(fmt.Sprintf("read data source %q", uid), err)
	}
	if ok.Payload == nil {
		return nil, fmt.Errorf("read data source %q: Grafana answered without one", uid)
	}
	return &DataSource{UID: ok.Payload.UID, Name: ok.Payload.Name, Type: ok.Payload.Type}, nil
}

// healthProbeRuleUID is a UID no rule has: reading it tells whether the
// plugin may read rules (404) or not (403) without touching a real one.
const healthProbeRuleUID = "alertchart-health-probe"

// checkAlertRules probes the permission to read alert rules.
func (c *Client) checkAlertRules(ctx context.Context) Check {
	_, err := c.AlertRule(ctx, healthProbeRuleUID)
	var ch Check
	switch {
	case err == nil, errors.Is(err, ErrRuleNotFound):
		ch = newCheck(alertRulesCheck, CheckOK, CodeAlertRulesOK, nil)
	case IsForbidden(err):
		ch = newCheck(alertRulesCheck, CheckWarning, CodeAlertRulesForbidden,
			map[string]string{"permission": PermAlertRulesRead, "also": PermFoldersRead, "error": err.Error()})
	default:
		ch = newCheck(alertRulesCheck, CheckWarning, CodeAlertRulesUnreadable, map[string]string{"error": err.Error()})
	}
	return ch
}
