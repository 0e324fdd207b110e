package fakegrafana

// Grafana Alerting and data queries, with Grafana's shapes:
//
//   - GET /api/v1/provisioning/alert-rules/{UID} and …/alert-rules: the
//     ProvisionedAlertRule JSON of Grafana's pkg/services/ngalert/api/tooling/
//     definitions (relativeTimeRange in seconds, for as "5m"); authorised as
//     Grafana's pkg/services/ngalert/api/authorization.go does — any of
//     alert.provisioning:read, alert.rules.provisioning:read,
//     alert.provisioning.secrets:read, or alert.rules:read together with
//     folders:read — with its 403 message naming them; a missing rule is an
//     empty 404.
//   - GET /apis/rules.alerting.grafana.app[/v0alpha1/namespaces/{ns}/alertrules/{uid}]
//     when SetRulesResourceAPI(true): the AlertRule resource of
//     apps/alerting/rules (spec.expressions keyed by refId, relativeTimeRange
//     as Prometheus durations, source on the condition, folder in the
//     grafana.app/folder annotation), alert.rules:read, Kubernetes Status
//     errors.
//   - GET /api/datasources/uid/{uid}: datasources:read; a deleted data
//     source is 404 {"message":"Data source not found"}.
//   - POST /api/ds/query: datasources:query; the answer has the shape the
//     plugin SDK's backend.QueryDataResponse writes (queryDataResponse;
//     TestQueryAnswerAsTheSDKWritesIt holds the two together) and frames
//     written by the SDK's data package, so they are real data-frame JSON. A Prometheus data source answers wide frames, one per series,
//     labels on the value field (as Grafana's Prometheus backend), narrowed
//     by the label matchers of the query's selectors on the labels its
//     series carry; a SQL data source
//     answers its rows as one long frame (time, string columns, value) for
//     format "table" and wide frames for "time_series", whatever the SQL
//     says. An unknown data source UID fails the request with 404 "Data
//     source not found"; a failed query answers 400 with its error, as
//     Grafana's toJsonStreamingResponse does.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/prometheus/prometheus/promql/parser"
)

// Alerting and data source permissions the fake checks.
const (
	PermAlertRulesRead               = "alert.rules:read"
	PermAlertProvisioningRead        = "alert.provisioning:read"
	PermAlertRulesProvisioningRead   = "alert.rules.provisioning:read"
	PermAlertProvisioningSecretsRead = "alert.provisioning.secrets:read"
	PermDatasourcesRead              = "datasources:read"
)

// Data source types the fake serves, by their Grafana plugin ids.
const (
	TypePrometheus = "prometheus"
	TypePostgres   = "grafana-postgresql-datasource"
	TypeMySQL      = "mysql"
)

// AlertRule is a Grafana-managed rule the fake serves.
type AlertRule struct {
	UID, Title, FolderUID, RuleGroup string
	// Condition is the refId deciding the rule.
	Condition string
	// For is the pending period, e.g. "5m".
	For         string
	Labels      map[string]string
	Annotations map[string]string
	Data        []AlertQuery
}

// AlertQuery is one entry of a rule's data.
type AlertQuery struct {
	RefID string
	// DatasourceUID is "__expr__" for expressions.
	DatasourceUID string
	// From and To are the relative time range (now-From … now-To).
	From, To time.Duration
	Model    map[string]any
}

// Series is one series of a fake data source.
type Series struct {
	Labels map[string]string
	Value  func(t time.Time) float64
}

// Datasource is a fake data source.
type Datasource struct {
	UID, Name, Type string
	Series          []Series
}

// DSQuery is one received POST /api/ds/query.
type DSQuery struct {
	From, To time.Time
	Queries  []map[string]any
	Status   int
}

type alertingState struct {
	rules        map[string]AlertRule
	datasources  map[string]*Datasource
	dsQueries    []DSQuery
	resourceAPI  bool
	ruleRequests atomic.Int64
}

// AddAlertRule stores (or replaces) a Grafana-managed rule.
func (f *Fake) AddAlertRule(r AlertRule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.alerting.rules[r.UID] = r
}

// AddDatasource adds (or replaces) a data source.
func (f *Fake) AddDatasource(ds Datasource) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := ds
	f.alerting.datasources[ds.UID] = &d
}

// RemoveDatasource deletes a data source, as a user would.
func (f *Fake) RemoveDatasource(uid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.alerting.datasources, uid)
}

// SetRulesResourceAPI says whether Grafana serves rules.alerting.grafana.app.
func (f *Fake) SetRulesResourceAPI(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.alerting.resourceAPI = on
}

// DSQueries returns every /api/ds/query request received.
func (f *Fake) DSQueries() []DSQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]DSQuery(nil), f.alerting.dsQueries...)
}

// RuleRequests counts alert-rule reads (both APIs, single and list).
func (f *Fake) RuleRequests() int { return int(f.alerting.ruleRequests.Load()) }

func (f *Fake) alertingRoutes(add func(pattern, perm string, h func(http.ResponseWriter, *http.Request))) {
	add("GET /api/v1/provisioning/alert-rules/{uid}", "", f.getProvisionedRule)
	add("GET /api/v1/provisioning/alert-rules", "", f.listProvisionedRules)
	add("GET /apis/rules.alerting.grafana.app", "", f.rulesAPIGroup)
	add("GET /apis/rules.alerting.grafana.app/{version}/namespaces/{ns}/alertrules/{uid}", "", f.getRuleResource)
	add("GET /api/datasources/uid/{uid}", PermDatasourcesRead, f.getDatasource)
	add("POST /api/ds/query", PermDatasourcesQuery, f.dsQuery)
}

// provisioningReadNeeded is Grafana's message for the provisioning read
// routes' evaluator.
const provisioningReadNeeded = "any of " + PermAlertProvisioningRead + ", " + PermAlertRulesProvisioningRead + ", " +
	PermAlertProvisioningSecretsRead + ", all of " + PermAlertRulesRead + ", " + PermFoldersRead

func canReadProvisionedRules(r *http.Request) bool {
	return hasPerm(r, PermAlertProvisioningRead) || hasPerm(r, PermAlertRulesProvisioningRead) ||
		hasPerm(r, PermAlertProvisioningSecretsRead) || (hasPerm(r, PermAlertRulesRead) && hasPerm(r, PermFoldersRead))
}

func forbidden(w http.ResponseWriter, need string) {
	writeJSON(w, http.StatusForbidden, map[string]any{"accessErrorId": "ACE0947241127", "title": "Access denied",
		"message": "You'll need additional permissions to perform this action. Permissions needed: " + need})
}

func (f *Fake) getProvisionedRule(w http.ResponseWriter, r *http.Request) {
	f.alerting.ruleRequests.Add(1)
	if !canReadProvisionedRules(r) {
		forbidden(w, provisioningReadNeeded)
		return
	}
	f.mu.Lock()
	rule, ok := f.alerting.rules[r.PathValue("uid")]
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound) // response.Empty(http.StatusNotFound)
		return
	}
	writeJSON(w, 200, provisionedJSON(rule))
}

func (f *Fake) listProvisionedRules(w http.ResponseWriter, r *http.Request) {
	f.alerting.ruleRequests.Add(1)
	if !canReadProvisionedRules(r) {
		forbidden(w, provisioningReadNeeded)
		return
	}
	f.mu.Lock()
	uids := make([]string, 0, len(f.alerting.rules))
	for uid := range f.alerting.rules {
		uids = append(uids, uid)
	}
	sort.Strings(uids)
	out := make([]any, 0, len(uids))
	for _, uid := range uids {
		out = append(out, provisionedJSON(f.alerting.rules[uid]))
	}
	f.mu.Unlock()
	writeJSON(w, 200, out)
}

func provisionedJSON(r AlertRule) map[string]any {
	var dataOut []any
	for _, q := range r.Data {
		dataOut = append(dataOut, map[string]any{
			"refId": q.RefID, "queryType": "", "datasourceUid": q.DatasourceUID, "model": q.Model,
			"relativeTimeRange": map[string]any{"from": int64(q.From / time.Second), "to": int64(q.To / time.Second)},
		})
	}
	forDur := r.For
	if forDur == "" {
		forDur = "0s"
	}
	return map[string]any{"id": 7, "uid": r.UID, "orgID": 1, "folderUID": r.FolderUID, "ruleGroup": r.RuleGroup,
		"title": r.Title, "condition": r.Condition, "data": dataOut, "updated": "2026-12-01T08:00:00Z",
		"noDataState": "NoData", "execErrState": "Error", "for": forDur, "keep_firing_for": "0s",
		"annotations": r.Annotations, "labels": r.Labels, "provenance": "", "isPaused": false}
}

func (f *Fake) rulesAPIGroup(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	on := f.alerting.resourceAPI
	f.mu.Unlock()
	if !on {
		k8sStatus(w, 404, "NotFound", "the server could not find the requested resource")
		return
	}
	writeJSON(w, 200, map[string]any{"kind": "APIGroup", "apiVersion": "v1", "name": "rules.alerting.grafana.app",
		"versions":         []any{map[string]any{"groupVersion": "rules.alerting.grafana.app/v0alpha1", "version": "v0alpha1"}},
		"preferredVersion": map[string]any{"groupVersion": "rules.alerting.grafana.app/v0alpha1", "version": "v0alpha1"}})
}

func (f *Fake) getRuleResource(w http.ResponseWriter, r *http.Request) {
	f.alerting.ruleRequests.Add(1)
	f.mu.Lock()
	on := f.alerting.resourceAPI
	rule, ok := f.alerting.rules[r.PathValue("uid")]
	f.mu.Unlock()
	version, ns, uid := r.PathValue("version"), r.PathValue("ns"), r.PathValue("uid")
	if !on || version != "v0alpha1" {
		k8sStatus(w, 404, "NotFound", "the server could not find the requested resource")
		return
	}
	if !hasPerm(r, PermAlertRulesRead) || ns != "default" {
		k8sStatus(w, 403, "Forbidden", fmt.Sprintf("alertrules.rules.alerting.grafana.app %q is forbidden: User \"service-account\" cannot get resource \"alertrules\" in API group \"rules.alerting.grafana.app\" in the namespace %q", uid, ns))
		return
	}
	if !ok {
		k8sStatus(w, 404, "NotFound", fmt.Sprintf("alertrules.rules.alerting.grafana.app %q not found", uid))
		return
	}
	exprs := map[string]any{}
	for _, q := range rule.Data {
		e := map[string]any{"model": q.Model, "source": q.RefID == rule.Condition}
		if q.DatasourceUID != "__expr__" {
			e["datasourceUID"] = q.DatasourceUID
			e["relativeTimeRange"] = map[string]any{"from": promDuration(q.From), "to": promDuration(q.To)}
		}
		exprs[q.RefID] = e
	}
	spec := map[string]any{"title": rule.Title, "paused": false, "trigger": map[string]any{"interval": "1m"},
		"labels": rule.Labels, "annotations": rule.Annotations, "noDataState": "NoData", "execErrState": "Error",
		"expressions": exprs}
	if rule.For != "" && rule.For != "0s" {
		spec["for"] = rule.For
	}
	writeJSON(w, 200, map[string]any{"kind": "AlertRule", "apiVersion": "rules.alerting.grafana.app/v0alpha1",
		"metadata": map[string]any{"name": uid, "namespace": ns, "uid": uid, "resourceVersion": "1",
			"labels":      map[string]any{"grafana.com/group": rule.RuleGroup, "grafana.com/group-index": "0"},
			"annotations": map[string]any{"grafana.app/folder": rule.FolderUID}},
		"spec": spec, "status": map[string]any{}})
}

// promDuration writes a duration as Grafana's resource API does ("10m").
func promDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	if d%time.Hour == 0 {
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	}
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

func (f *Fake) getDatasource(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	ds, ok := f.alerting.datasources[r.PathValue("uid")]
	f.mu.Unlock()
	if !ok {
		writeJSON(w, 404, map[string]any{"message": "Data source not found", "messageId": "datasources.notFound", "statusCode": 404, "traceID": ""})
		return
	}
	writeJSON(w, 200, map[string]any{"id": 3, "uid": ds.UID, "orgId": 1, "name": ds.Name, "type": ds.Type,
		"typeLogoUrl": "public/plugins/" + ds.Type + "/img/logo.svg", "access": "proxy", "url": "http://" + ds.Type + ".example:9090",
		"user": "", "database": "", "basicAuth": false, "withCredentials": false, "isDefault": false,
		"jsonData": map[string]any{}, "secureJsonFields": map[string]any{}, "version": 1, "readOnly": false})
}

func (f *Fake) dsQuery(w http.ResponseWriter, r *http.Request) {
	var body struct {
		From    string           `json:"from"`
		To      string           `json:"to"`
		Queries []map[string]any `json:"queries"`
	}
	rec := DSQuery{}
	record := func(status int) {
		rec.Status = status
		f.mu.Lock()
		f.alerting.dsQueries = append(f.alerting.dsQueries, rec)
		f.mu.Unlock()
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20)).Decode(&body); err != nil {
		record(400)
		apiError(w, 400, "bad request data")
		return
	}
	from, err1 := strconv.ParseInt(body.From, 10, 64)
	to, err2 := strconv.ParseInt(body.To, 10, 64)
	rec.Queries, rec.From, rec.To = body.Queries, time.UnixMilli(from), time.UnixMilli(to)
	if err1 != nil || err2 != nil || to <= from {
		record(400)
		apiError(w, 400, "Invalid time range: from and to must be epoch milliseconds with from before to")
		return
	}
	if len(body.Queries) == 0 {
		record(400)
		apiError(w, 400, "No queries found in query")
		return
	}
	resp := queryDataResponse{Results: map[string]dataResponse{}}
	failed := false
	for _, q := range body.Queries {
		ref, _ := q["refId"].(string)
		dsm, _ := q["datasource"].(map[string]any)
		uid, _ := dsm["uid"].(string)
		if uid == "" {
			record(400)
			apiError(w, 400, "Query missing data source ID/UID")
			return
		}
		f.mu.Lock()
		ds := f.alerting.datasources[uid]
		f.mu.Unlock()
		if uid == "__expr__" {
			resp.Results[ref] = errDataResponse(400, "", "the fake Grafana does not evaluate server-side expressions")
			failed = true
			continue
		}
		if ds == nil {
			record(404)
			apiError(w, 404, "Data source not found")
			return
		}
		frames, err := ds.answer(q, rec.From, rec.To)
		if err != nil {
			resp.Results[ref] = errDataResponse(400, "downstream", err.Error())
			failed = true
			continue
		}
		for _, fr := range frames {
			fr.RefID = ref
		}
		resp.Results[ref] = dataResponse{Frames: frames, Status: 200}
	}
	status := 200
	if failed {
		status = 400
	}
	record(status)
	b, err := json.Marshal(resp)
	if err != nil {
		apiError(w, 500, "Query data error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// queryDataResponse is the answer of /api/ds/query as the plugin SDK's
// backend.QueryDataResponse writes it: refIds in order (encoding/json sorts
// map keys), each with its error, error source, status and frames. It is
// written out here so that the test binaries using the fake do not link the
// SDK's backend package (gRPC, OpenTelemetry): half of their size.
type queryDataResponse struct {
	Results map[string]dataResponse `json:"results"`
}

// dataResponse is one refId's answer (backend.DataResponse): errorSource is
// present, even empty, whenever error is.
type dataResponse struct {
	Error       string      `json:"error,omitempty"`
	ErrorSource *string     `json:"errorSource,omitempty"`
	Status      int         `json:"status"`
	Frames      data.Frames `json:"frames,omitempty"`
}

func errDataResponse(status int, source, message string) dataResponse {
	return dataResponse{Error: message, ErrorSource: &source, Status: status}
}

// answer runs one query model against the data source.
func (ds *Datasource) answer(q map[string]any, from, to time.Time) (data.Frames, error) {
	step := time.Duration(num(q["intervalMs"])) * time.Millisecond
	if mdp := num(q["maxDataPoints"]); mdp > 0 {
		step = max(step, to.Sub(from)/time.Duration(mdp))
	}
	step = max(step, time.Second).Truncate(time.Second)
	var ts []time.Time
	for t := from.Truncate(step); !t.After(to); t = t.Add(step) {
		if !t.Before(from) {
			ts = append(ts, t)
		}
	}
	switch ds.Type {
	case TypePrometheus:
		expr, _ := q["expr"].(string)
		if strings.TrimSpace(expr) == "" {
			return nil, fmt.Errorf("query is empty")
		}
		e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
		if err != nil {
			return nil, fmt.Errorf("bad_data: invalid parameter \"query\": %v", err)
		}
		if inst, _ := q["instant"].(bool); inst {
			if rng, _ := q["range"].(bool); !rng {
				ts = ts[len(ts)-1:] // an instant query: one sample at the end
			}
		}
		var frames data.Frames
		for _, s := range ds.Series {
			if !selected(e, s.Labels) {
				continue
			}
			vals := make([]float64, len(ts))
			for i, t := range ts {
				vals[i] = s.Value(t)
			}
			value := data.NewField("Value", data.Labels(copyLabels(s.Labels)), vals)
			if lf, _ := q["legendFormat"].(string); lf != "" && lf != "__auto" {
				value.Config = &data.FieldConfig{DisplayNameFromDS: expandLegend(lf, s.Labels)}
			}
			fr := data.NewFrame("", data.NewField("Time", nil, append([]time.Time(nil), ts...)), value)
			fr.Meta = &data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: data.FrameTypeVersion{0, 1},
				ExecutedQueryString: "Expr: " + expr + "\nStep: " + step.String()}
			frames = append(frames, fr)
		}
		return frames, nil
	case TypePostgres, TypeMySQL:
		sql, _ := q["rawSql"].(string)
		if strings.TrimSpace(sql) == "" {
			return nil, fmt.Errorf("no SQL query (rawSql)")
		}
		// One long frame: time, then the label columns, then value, rows
		// ordered by time as a SQL "ORDER BY 1" returns them.
		var keys []string
		seen := map[string]bool{}
		for _, s := range ds.Series {
			for k := range s.Labels {
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
		}
		sort.Strings(keys)
		times := []time.Time{}
		cols := make([][]string, len(keys))
		vals := []float64{}
		for _, t := range ts {
			for _, s := range ds.Series {
				times = append(times, t)
				for i, k := range keys {
					cols[i] = append(cols[i], s.Labels[k])
				}
				vals = append(vals, s.Value(t))
			}
		}
		fields := []*data.Field{data.NewField("time", nil, times)}
		for i, k := range keys {
			fields = append(fields, data.NewField(k, nil, cols[i]))
		}
		fields = append(fields, data.NewField("value", nil, vals))
		fr := data.NewFrame("", fields...)
		fr.Meta = &data.FrameMeta{ExecutedQueryString: sql, PreferredVisualization: data.VisTypeTable}
		if format, _ := q["format"].(string); format == "time_series" {
			// Grafana's SQL data sources turn a long result into a wide one
			// for the time_series format.
			w, err := data.LongToWide(fr, nil)
			if err != nil {
				return nil, err
			}
			w.Meta = &data.FrameMeta{ExecutedQueryString: sql}
			return data.Frames{w}, nil
		}
		fr.Meta.Type = data.FrameTypeTimeSeriesLong
		return data.Frames{fr}, nil
	}
	return nil, fmt.Errorf("the fake has no %s data source", ds.Type)
}

// selected reports whether a result series satisfies the label matchers
// of one of the expression's selectors, on the labels it carries: the
// fake's series are what the query returns (avg by (instance) (…) returns
// {instance}), so a matcher on a label the result has aggregated away
// (mode="idle", the metric name) cannot exclude it, and one on a label it
// keeps (instance="web-2") must hold — as injecting the alert's labels
// narrows a real Prometheus' answer.
func selected(e parser.Expr, l map[string]string) bool {
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok || found {
			return nil
		}
		all := true
		for _, m := range vs.LabelMatchers {
			if v, ok := l[m.Name]; ok && !m.Matches(v) {
				all = false
				break
			}
		}
		found = all
		return nil
	})
	return found
}

func copyLabels(l map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range l {
		out[k] = v
	}
	return out
}

func expandLegend(format string, l map[string]string) string {
	for k, v := range l {
		format = strings.ReplaceAll(format, "{{"+k+"}}", v)
		format = strings.ReplaceAll(format, "{{ "+k+" }}", v)
	}
	return format
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return 0
}
