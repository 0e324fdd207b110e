package promapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/alertchart/alertchart/pkg/series"
)

// query_range fetches the chart's data: one series per label set, sorted by
// their labels, with the server's warnings passed on.

// RangeResult is a query_range answer.
type RangeResult struct {
	Series []series.Series
	// Warnings and Infos are passed on from the server (e.g. partial data from Thanos).
	Warnings []string
	// SkippedHistograms counts series that held only native histograms, which
	// a line chart cannot draw.
	SkippedHistograms int
}

// QueryRange evaluates query over [start, end] at step.
func (c *Client) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) (*RangeResult, error) {
	if step <= 0 {
		return nil, &Error{Op: "query_range", Message: "step must be positive"}
	}
	params := url.Values{
		"query": {query},
		"start": {formatTime(start)},
		"end":   {formatTime(end)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
	ar, err := c.do(ctx, "query_range", c.base, "/api/v1/query_range", params)
	if err != nil {
		return nil, err
	}
	res, err := parseMatrix(ar.Data)
	if err != nil {
		return nil, &Error{Op: "query_range", Message: err.Error()}
	}
	res.Warnings = append(append(res.Warnings, ar.Warnings...), ar.Infos...)
	return res, nil
}

func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

func parseMatrix(raw json.RawMessage) (*RangeResult, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric     map[string]string    `json:"metric"`
			Values     [][2]json.RawMessage `json:"values"`
			Histograms []json.RawMessage    `json:"histograms"`
		} `json:"result"`
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, fmt.Errorf("unexpected answer: %w", err)
	}
	if data.ResultType != "matrix" {
		return nil, fmt.Errorf("expected a matrix result, got %q", data.ResultType)
	}
	res := &RangeResult{Series: make([]series.Series, 0, len(data.Result))}
	for _, r := range data.Result {
		if len(r.Values) == 0 {
			if len(r.Histograms) > 0 {
				res.SkippedHistograms++
			}
			continue
		}
		s := series.Series{Labels: r.Metric, Points: make([]series.Point, 0, len(r.Values))}
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		for _, v := range r.Values {
			var ts float64
			var val string
			if err := json.Unmarshal(v[0], &ts); err != nil {
				return nil, fmt.Errorf("bad sample time: %w", err)
			}
			if err := json.Unmarshal(v[1], &val); err != nil {
				return nil, fmt.Errorf("bad sample value: %w", err)
			}
			f, err := strconv.ParseFloat(val, 64)
			if err != nil {
				return nil, fmt.Errorf("bad sample value %q", val)
			}
			s.Points = append(s.Points, series.Point{T: int64(math.Round(ts * 1000)), V: f})
		}
		res.Series = append(res.Series, s)
	}
	sort.SliceStable(res.Series, func(i, j int) bool {
		return series.LabelString(res.Series[i].Labels) < series.LabelString(res.Series[j].Labels)
	})
	return res, nil
}
