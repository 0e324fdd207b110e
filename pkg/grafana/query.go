package grafana

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/alertchart/alertchart/pkg/series"
)

// Data through Grafana: POST /api/ds/query runs query models against their
// data sources with the plugin's credentials (datasources:query), the way
// Grafana Alerting runs a rule's queries.
//
// Request (Grafana's dtos.MetricRequest): {"from": "<epoch ms>", "to":
// "<epoch ms>", "queries": [<model with refId, datasource {uid, type},
// intervalMs, maxDataPoints>]}.
//
// Answer (backend.QueryDataResponse as the plugin SDK writes it,
// grafana-plugin-sdk-go backend/json.go): {"results": {"<refId>": {"status": 200, "frames":
// [<data frame JSON: schema + data>], "error": "…", "errorSource": "…"}}}.
// When a query fails Grafana answers 400 (207 with the
// datasourceQueryMultiStatus toggle) with the same body and that refId's
// error (grafana/grafana pkg/api/metrics.go toJsonStreamingResponse); a data source that
// does not exist is a 404 "Data source not found", one the caller may not
// query a 403 "Access denied to data source" (handleQueryMetricsError).

// QueryRequest is one POST /api/ds/query.
type QueryRequest struct {
	From, To time.Time
	// Queries are query models, each with refId and datasource {uid, type}.
	Queries []map[string]any
}

// QueryResult is one refId's answer.
type QueryResult struct {
	Frames      data.Frames
	Status      int
	Error       string
	ErrorSource string
}

// maxQueryAnswerBytes bounds one /api/ds/query answer: charts draw at most a
// few thousand points per series and a few dozen series.
const maxQueryAnswerBytes = 32 << 20

// QueryData runs queries through Grafana and returns each refId's frames
// or error. A refId that failed is in the map with its Error; the error
// return is for the request as a whole.
func (c *Client) QueryData(ctx context.Context, req QueryRequest) (map[string]QueryResult, error) {
	const op = "query data through Grafana (/api/ds/query)"
	if len(req.Queries) == 0 {
		return nil, fmt.Errorf("%s: no queries", op)
	}
	body, err := json.Marshal(map[string]any{
		"from":    strconv.FormatInt(req.From.UnixMilli(), 10),
		"to":      strconv.FormatInt(req.To.UnixMilli(), 10),
		"queries": req.Queries,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	u := *c.base
	u.Path = c.base.Path + "/api/ds/query"
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	hr.Header.Set("Authorization", "Bearer "+c.creds.Token)
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(hr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", op, ctx.Err())
		}
		return nil, fmt.Errorf("%s: cannot reach Grafana at %s: %w", op, c.base.Host, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxQueryAnswerBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: reading Grafana's answer: %w", op, err)
	}
	if len(raw) > maxQueryAnswerBytes {
		return nil, fmt.Errorf("%s: Grafana's answer is larger than %d bytes", op, maxQueryAnswerBytes)
	}
	var answer struct {
		Results map[string]struct {
			Status      int               `json:"status"`
			Error       string            `json:"error"`
			ErrorSource string            `json:"errorSource"`
			Frames      []json.RawMessage `json:"frames"`
		} `json:"results"`
	}
	decodeErr := json.Unmarshal(raw, &answer)
	ok := resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusMultiStatus ||
		(resp.StatusCode == http.StatusBadRequest && decodeErr == nil && len(answer.Results) > 0)
	if !ok {
		msg, _ := readMessage(bytes.NewReader(raw))
		return nil, &APIError{Op: op, Status: resp.StatusCode, Message: msg,
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	}
	if decodeErr != nil {
		return nil, fmt.Errorf("%s: unexpected answer: %w", op, decodeErr)
	}
	out := make(map[string]QueryResult, len(answer.Results))
	for ref, r := range answer.Results {
		qr := QueryResult{Status: r.Status, Error: r.Error, ErrorSource: r.ErrorSource}
		for i, fb := range r.Frames {
			f := &data.Frame{}
			if err := f.UnmarshalJSON(fb); err != nil {
				return nil, fmt.Errorf("%s: refId %s frame %d is not a data frame: %w", op, ref, i, err)
			}
			qr.Frames = append(qr.Frames, f)
		}
		out[ref] = qr
	}
	return out, nil
}

// ErrNotTimeSeries is reported for a frame without a time field: a table
// of current values, which cannot be drawn over time.
var ErrNotTimeSeries = errors.New("the frame has no time field (a table, not a time series)")

// FramesToSeries reads data frames as series: every numeric field of a
// wide frame (time + values, labels on the value fields: Prometheus, Loki
// metrics, SQL time_series format) becomes one series; a long frame (time,
// string columns, numeric columns: a SQL table with a time column) is
// turned wide first with the SDK's LongToWide, its string columns becoming
// labels. Frames without a time field are skipped and reported.
func FramesToSeries(frames data.Frames) ([]series.Series, []error) {
	var out []series.Series
	var problems []error
	for i, f := range frames {
		if f == nil || len(f.Fields) == 0 {
			continue
		}
		schema := f.TimeSeriesSchema()
		switch schema.Type {
		case data.TimeSeriesTypeNot:
			if f.Rows() > 0 {
				problems = append(problems, fmt.Errorf("frame %d %q: %w", i, f.Name, ErrNotTimeSeries))
			}
			continue
		case data.TimeSeriesTypeLong:
			w, err := data.LongToWide(f, nil)
			if err != nil {
				problems = append(problems, fmt.Errorf("frame %d %q: long to wide: %w", i, f.Name, err))
				continue
			}
			f = w
			schema = f.TimeSeriesSchema()
		}
		tf := f.Fields[schema.TimeIndex]
		names := map[string]bool{}
		for _, fi := range schema.ValueIndices {
			if f.Fields[fi].Type().Numeric() {
				names[f.Fields[fi].Name] = true
			}
		}
		for _, fi := range schema.ValueIndices {
			field := f.Fields[fi]
			if !field.Type().Numeric() {
				continue
			}
			s := series.Series{Labels: map[string]string{}, Points: make([]series.Point, 0, field.Len())}
			for k, v := range field.Labels {
				s.Labels[k] = v
			}
			s.Name = fieldName(field, len(names) > 1)
			for r := 0; r < field.Len(); r++ {
				t, ok := timeAt(tf, r)
				if !ok {
					continue
				}
				v, err := field.FloatAt(r)
				if err != nil {
					v = math.NaN()
				}
				s.Points = append(s.Points, series.Point{T: t.UnixMilli(), V: v})
			}
			sort.SliceStable(s.Points, func(a, b int) bool { return s.Points[a].T < s.Points[b].T })
			out = append(out, s)
		}
	}
	return out, problems
}

// fieldName is the name Grafana shows for a value field when the data
// source names it (displayNameFromDS, displayName); the field's own name
// when the frame has value fields of several names (a SQL query selecting
// load and mem); "" otherwise: the caller names the series by its labels.
func fieldName(field *data.Field, several bool) string {
	if c := field.Config; c != nil {
		if c.DisplayNameFromDS != "" {
			return c.DisplayNameFromDS
		}
		if c.DisplayName != "" {
			return c.DisplayName
		}
	}
	if several {
		return field.Name
	}
	return ""
}

func timeAt(f *data.Field, i int) (time.Time, bool) {
	switch v := f.At(i).(type) {
	case time.Time:
		return v, true
	case *time.Time:
		if v == nil {
			return time.Time{}, false
		}
		return *v, true
	}
	return time.Time{}, false
}
