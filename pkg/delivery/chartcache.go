package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
	"github.com/alertchart/alertchart/pkg/nochart"
	"github.com/alertchart/alertchart/pkg/series"
)

// chartResult is one alert's chart in one language, or why there is none.
type chartResult struct {
	chart *channels.Chart
	info  channels.ChartInfo
	err   error
	lang  string // the language asked for ("" for a Charter without languages)
}

// future is a chart being made in this process. Several channels of one
// notification wait on the same future, so each alert is rendered once per
// language its channels use.
type future struct {
	done chan struct{}
	res  chartResult
}

// chartCache runs Charter calls in the background, bounded in number, and
// stores every outcome in alertchart_chart (the record and the source for
// other replicas or a restarted process).
type chartCache struct {
	s   *engine
	sem chan struct{}
	mu  sync.Mutex
	m   map[string]*future
}

const maxConcurrentCharts = 4

func newChartCache(s *engine) *chartCache {
	return &chartCache{s: s, sem: make(chan struct{}, maxConcurrentCharts), m: map[string]*future{}}
}

// start begins making the chart of alert fp of a delivery in lang (see
// orgRuntime.chartLang), with the organisation's charter, unless it is
// already being made; it never blocks.
func (c *chartCache) start(rt *orgRuntime, del *deliveryRec, a template.Alert, lang string) *future {
	key := del.ID + "/" + a.Fingerprint + "/" + lang
	c.mu.Lock()
	if f, ok := c.m[key]; ok {
		c.mu.Unlock()
		return f
	}
	f := &future{done: make(chan struct{})}
	c.m[key] = f
	c.mu.Unlock()
	c.s.wg.Add(1)
	go func() {
		defer c.s.wg.Done()
		f.res = c.make(rt.charter, del, a, lang)
		close(f.done)
		// Waiters that come later read the stored record.
		time.AfterFunc(2*time.Minute, func() {
			c.mu.Lock()
			delete(c.m, key)
			c.mu.Unlock()
		})
	}()
	return f
}

// get returns the chart in lang, waiting at most until ctx ends.
func (c *chartCache) get(ctx context.Context, rt *orgRuntime, del *deliveryRec, a template.Alert, lang string) (chartResult, error) {
	f := c.start(rt, del, a, lang)
	select {
	case <-f.done:
		return f.res, nil
	case <-ctx.Done():
		return chartResult{}, ctx.Err()
	}
}

func (c *chartCache) make(charter Charter, del *deliveryRec, a template.Alert, lang string) chartResult {
	s := c.s
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ChartTimeout)
	defer cancel()
	if res, ok, err := s.loadChart(ctx, del.ID, a.Fingerprint, lang); err == nil && ok {
		return res
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return chartResult{lang: lang, err: nochart.New(nochart.Timeout, fmt.Sprintf("chart queue: no renderer free within %s", s.cfg.ChartTimeout))}
	}
	t0 := time.Now()
	res := chartResult{lang: lang}
	func() {
		defer func() {
			if p := recover(); p != nil {
				res.chart, res.err = nil, nochart.New(nochart.Internal, fmt.Sprintf("chart panicked: %v", p))
			}
			<-c.sem
		}()
		if lc, ok := charter.(LanguageCharter); ok && lang != "" {
			res.chart, res.info, res.err = lc.ChartIn(ctx, del.Receiver, lang, a)
		} else {
			res.chart, res.info, res.err = charter.Chart(ctx, del.Receiver, a)
		}
	}()
	if res.err == nil && (res.chart == nil || (len(res.chart.Image) == 0 && res.chart.URL == "")) {
		res.err = nochart.New(nochart.Internal, "the chart has no image")
	}
	outcome := "ok"
	if res.err != nil {
		outcome = "error"
		if ctx.Err() != nil && s.ctx.Err() == nil {
			res.err = &nochart.Error{Reason: nochart.Timeout, Err: res.err,
				Detail: fmt.Sprintf("chart took longer than %s: %v", s.cfg.ChartTimeout, res.err)}
		}
	}
	s.m.chartLatency.WithLabelValues(outcome).Observe(time.Since(t0).Seconds())
	if res.err == nil && res.info.FallbackReason != "" {
		s.m.chartFallback.WithLabelValues(res.info.Renderer).Inc()
	}
	if s.ctx.Err() != nil {
		// Shutting down: leave no record, the next instance renders again.
		return res
	}
	if err := s.storeChart(context.WithoutCancel(ctx), del.ID, a.Fingerprint, res); err != nil {
		s.log.Warn("delivery: could not store chart record", "delivery", del.ID, "error", err)
	}
	return res
}

// chartMeta is everything of a channels.Chart except the image bytes.
type chartMeta struct {
	ContentType string          `json:"contentType,omitempty"`
	URL         string          `json:"url,omitempty"`
	Title       string          `json:"title,omitempty"`
	Series      []series.Series `json:"series,omitempty"`
	Unit        string          `json:"unit,omitempty"`
	Query       string          `json:"query,omitempty"`
	From        time.Time       `json:"from"`
	To          time.Time       `json:"to"`
}

// storeChart keeps a chart, or why there is none (the full reason and its
// kind), under its delivery, fingerprint and language.
func (s *engine) storeChart(ctx context.Context, id, fp string, res chartResult) error {
	rec := store.ChartRecord{DeliveryID: id, Fingerprint: fp, Lang: res.lang, CreatedAt: s.now(), Renderer: res.info.Renderer,
		Fallback: res.info.FallbackReason, Plan: string(res.info.Plan), Note: res.info.Note}
	if res.err != nil {
		rec.Error, rec.Reason = res.err.Error(), string(nochart.ReasonOf(res.err))
	} else {
		rec.Image = res.chart.Image
		rec.ContentType = res.chart.ContentType
		if rec.ContentType == "" && len(rec.Image) > 0 {
			rec.ContentType = "image/png"
		}
		meta, _ := json.Marshal(chartMeta{ContentType: rec.ContentType, URL: res.chart.URL, Title: res.chart.Title, Series: res.chart.Series,
			Unit: res.chart.Unit, Query: res.chart.Query, From: res.chart.From, To: res.chart.To})
		rec.Meta = string(meta)
	}
	return s.st.InsertChart(ctx, rec)
}

// loadChart reads a stored chart in lang; ok is false when none is
// stored. A stored failure comes back as the nochart.Error it was.
func (s *engine) loadChart(ctx context.Context, id, fp, lang string) (chartResult, bool, error) {
	rec, err := s.st.Chart(ctx, id, fp, lang)
	if errors.Is(err, store.ErrNoRows) {
		return chartResult{}, false, nil
	}
	if err != nil {
		return chartResult{}, false, err
	}
	res := chartResult{lang: lang, info: channels.ChartInfo{Renderer: rec.Renderer, FallbackReason: rec.Fallback, Note: rec.Note}}
	if rec.Plan != "" {
		res.info.Plan = json.RawMessage(rec.Plan)
	}
	if rec.Error != "" {
		reason := nochart.Reason(rec.Reason)
		if reason == "" {
			reason = nochart.Internal // stored before reasons were
		}
		res.err = nochart.New(reason, rec.Error)
		return res, true, nil
	}
	var m chartMeta
	_ = json.Unmarshal([]byte(rec.Meta), &m)
	res.chart = &channels.Chart{Image: rec.Image, ContentType: rec.ContentType, URL: m.URL, Title: m.Title, Series: m.Series, Unit: m.Unit,
		Query: m.Query, From: m.From, To: m.To}
	return res, true, nil
}
