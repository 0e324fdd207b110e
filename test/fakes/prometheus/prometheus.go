// Package prometheus is a fake Prometheus HTTP API for unit tests of the
// chart planner. It enforces the parts of the real contract the planner
// relies on, so a client mistake fails here as it would against Prometheus:
//
//   - GET or form POST only; JSON envelope {"status","data"} or
//     {"status":"error","errorType","error"} with Prometheus' status codes
//     (400 bad_data, 422 execution, 503 unavailable);
//   - /api/v1/rules: type must be "alert" or "record" when given, rule_name[]
//     filters by name (as Prometheus ≥ 2.54 does; set IgnoreRuleNameFilter
//     to behave like older servers);
//   - /api/v1/query_range: query must parse (PromQL parser), start/end are
//     RFC 3339 or Unix seconds, step is a positive duration or float, end
//     must not be before start, at most 11,000 points per series;
//   - optional required credentials (bearer token or basic auth): 401 otherwise.
package prometheus

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// Rule is an alerting rule served by the fake rules API.
type Rule struct {
	Group       string
	File        string
	Name        string
	Query       string
	For         time.Duration
	Labels      map[string]string
	Annotations map[string]string
	// Alerts are active alerts (labels) shown under the rule.
	Alerts []map[string]string
}

// Series is one series of a range query answer; Value gives its value at a time.
type Series struct {
	Labels map[string]string
	Value  func(t time.Time) float64
}

// Server is the fake. Configure it before or between requests through the
// exported fields guarded by Lock/Unlock.
type Server struct {
	*httptest.Server

	mu    sync.Mutex
	Rules []Rule
	// Matrix answers query_range by query string; unknown queries get an
	// empty matrix.
	Matrix map[string][]Series
	// Fail makes every API call answer 503 unavailable.
	Fail bool
	// Delay is slept before answering (timeouts, singleflight).
	Delay time.Duration
	// IgnoreRuleNameFilter mimics Prometheus before 2.54.
	IgnoreRuleNameFilter bool
	// BearerToken / BasicUser+BasicPassword, when set, are required.
	BearerToken   string
	BasicUser     string
	BasicPassword string
	// RequiredHeaders must be present with these values.
	RequiredHeaders map[string]string
	// Flavour makes the rules API answer like another ruler:
	// "vmalert" (group id/type/concurrency/labels, rule id/group_id/
	// datasourceType), "thanos" (partialResponseStrategy) or "mimir"
	// (sourceTenants: null); "" is Prometheus.
	Flavour string
	// GroupLabels are a vmalert group's labels (Flavour "vmalert").
	GroupLabels map[string]string

	rulesRequests atomic.Int64
	rangeRequests atomic.Int64
	// LastQuery is the last query_range query received.
	lastQuery string
}

// New starts a fake Prometheus; it is closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{Matrix: map[string][]Series{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/rules", s.rules)
	mux.HandleFunc("/api/v1/query_range", s.queryRange)
	s.Server = httptest.NewServer(s.guard(mux))
	t.Cleanup(s.Close)
	return s
}

// Lock / Unlock guard the configuration fields.
func (s *Server) Lock()   { s.mu.Lock() }
func (s *Server) Unlock() { s.mu.Unlock() }

// RulesRequests is the number of /api/v1/rules requests received.
func (s *Server) RulesRequests() int { return int(s.rulesRequests.Load()) }

// RangeRequests is the number of /api/v1/query_range requests received.
func (s *Server) RangeRequests() int { return int(s.rangeRequests.Load()) }

// LastQuery returns the last query_range query.
func (s *Server) LastQuery() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastQuery
}

func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/rules":
			s.rulesRequests.Add(1)
		case "/api/v1/query_range":
			s.rangeRequests.Add(1)
		}
		s.mu.Lock()
		delay, fail := s.Delay, s.Fail
		token, user, pass, hdrs := s.BearerToken, s.BasicUser, s.BasicPassword, s.RequiredHeaders
		s.mu.Unlock()
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "bad_data", "method not allowed")
			return
		}
		if r.Method == http.MethodPost && r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			writeError(w, http.StatusBadRequest, "bad_data", "POST needs a form body")
			return
		}
		if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		if user != "" {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				http.Error(w, "Unauthorized", http.StatusUnauthorized)
				return
			}
		}
		for k, v := range hdrs {
			if r.Header.Get(k) != v {
				http.Error(w, "missing header "+k, http.StatusUnauthorized)
				return
			}
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if fail {
			writeError(w, http.StatusServiceUnavailable, "unavailable", "fake Prometheus is down")
			return
		}
		if err := r.ParseForm(); err != nil {
			writeError(w, http.StatusBadRequest, "bad_data", err.Error())
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": typ, "error": msg})
}

func writeData(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": data})
}

func (s *Server) rules(w http.ResponseWriter, r *http.Request) {
	typ := r.Form.Get("type")
	if typ != "" && typ != "alert" && typ != "record" {
		writeError(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("not supported value %q", typ))
		return
	}
	names := map[string]bool{}
	for _, n := range r.Form["rule_name[]"] {
		names[n] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.IgnoreRuleNameFilter {
		names = map[string]bool{}
	}
	type alert struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		State       string            `json:"state"`
		ActiveAt    time.Time         `json:"activeAt"`
		Value       string            `json:"value"`
	}
	type rule struct {
		State          string            `json:"state"`
		Name           string            `json:"name"`
		Query          string            `json:"query"`
		Duration       float64           `json:"duration"`
		KeepFiringFor  float64           `json:"keepFiringFor"`
		Labels         map[string]string `json:"labels"`
		Annotations    map[string]string `json:"annotations"`
		Alerts         []alert           `json:"alerts"`
		Health         string            `json:"health"`
		EvaluationTime float64           `json:"evaluationTime"`
		LastEvaluation time.Time         `json:"lastEvaluation"`
		Type           string            `json:"type"`
		// vmalert
		ID             string `json:"id,omitempty"`
		GroupID        string `json:"group_id,omitempty"`
		GroupName      string `json:"group_name,omitempty"`
		DatasourceType string `json:"datasourceType,omitempty"`
	}
	type group struct {
		Name           string  `json:"name"`
		File           string  `json:"file"`
		Rules          []rule  `json:"rules"`
		Interval       float64 `json:"interval"`
		Limit          int     `json:"limit"`
		EvaluationTime float64 `json:"evaluationTime"`
		// vmalert
		ID          string            `json:"id,omitempty"`
		Type        string            `json:"type,omitempty"`
		Concurrency int               `json:"concurrency,omitempty"`
		Labels      map[string]string `json:"labels,omitempty"`
		// Thanos
		PartialResponseStrategy string `json:"partialResponseStrategy,omitempty"`
		// Mimir / Cortex
		SourceTenants *json.RawMessage `json:"sourceTenants,omitempty"`
	}
	var groups []*group
	byName := map[string]*group{}
	for _, rl := range s.Rules {
		if typ == "record" || (len(names) > 0 && !names[rl.Name]) {
			continue
		}
		g := byName[rl.Group]
		if g == nil {
			g = &group{Name: rl.Group, File: rl.File, Interval: 15, Rules: []rule{}}
			switch s.Flavour {
			case "vmalert":
				g.ID, g.Type, g.Concurrency, g.Labels = strconv.Itoa(1000+len(groups)), "prometheus", 1, s.GroupLabels
			case "thanos":
				g.PartialResponseStrategy = "ABORT"
			case "mimir":
				null := json.RawMessage("null")
				g.SourceTenants = &null
			}
			byName[rl.Group] = g
			groups = append(groups, g)
		}
		out := rule{State: "inactive", Name: rl.Name, Query: rl.Query, Duration: rl.For.Seconds(),
			Labels: orEmpty(rl.Labels), Annotations: orEmpty(rl.Annotations), Alerts: []alert{},
			Health: "ok", Type: "alerting", LastEvaluation: time.Now()}
		if s.Flavour == "vmalert" {
			out.ID, out.GroupID, out.GroupName, out.DatasourceType = strconv.Itoa(len(g.Rules)+1), g.ID, g.Name, "prometheus"
		}
		for _, a := range rl.Alerts {
			out.State = "firing"
			out.Alerts = append(out.Alerts, alert{Labels: a, Annotations: orEmpty(rl.Annotations), State: "firing", ActiveAt: time.Now().Add(-time.Minute), Value: "1e+00"})
		}
		g.Rules = append(g.Rules, out)
	}
	if groups == nil {
		groups = []*group{}
	}
	writeData(w, map[string]any{"groups": groups})
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func parseTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

func parseStep(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := model.ParseDuration(s)
	return time.Duration(d), err
}

var promql = parser.NewParser(parser.Options{EnableExperimentalFunctions: true})

func (s *Server) queryRange(w http.ResponseWriter, r *http.Request) {
	q := r.Form.Get("query")
	if _, err := promql.ParseExpr(q); err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", "invalid parameter \"query\": "+err.Error())
		return
	}
	start, err := parseTime(r.Form.Get("start"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", "invalid parameter \"start\": cannot parse")
		return
	}
	end, err := parseTime(r.Form.Get("end"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", "invalid parameter \"end\": cannot parse")
		return
	}
	if end.Before(start) {
		writeError(w, http.StatusBadRequest, "bad_data", "invalid parameter \"end\": end timestamp must not be before start time")
		return
	}
	step, err := parseStep(r.Form.Get("step"))
	if err != nil || step <= 0 {
		writeError(w, http.StatusBadRequest, "bad_data", "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer")
		return
	}
	if end.Sub(start)/step > 11000 {
		writeError(w, http.StatusBadRequest, "bad_data", "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
		return
	}
	s.mu.Lock()
	s.lastQuery = q
	ss := s.Matrix[q]
	s.mu.Unlock()
	type result struct {
		Metric map[string]string `json:"metric"`
		Values [][2]any          `json:"values"`
	}
	out := []result{}
	for _, se := range ss {
		res := result{Metric: se.Labels, Values: [][2]any{}}
		for t := start; !t.After(end); t = t.Add(step) {
			v := se.Value(t)
			res.Values = append(res.Values, [2]any{float64(t.UnixMilli()) / 1000, strconv.FormatFloat(v, 'f', -1, 64)})
		}
		out = append(out, res)
	}
	writeData(w, map[string]any{"resultType": "matrix", "result": out})
}
