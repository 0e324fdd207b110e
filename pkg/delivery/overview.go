package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// A digest carries at most one image: an overview chart of the alerts it
// lists (OverviewCharter). The text never waits for it longer than
// chart.budget, and the image never takes a rate slot that waiting text
// needs: when the budget is short, images are the first thing given up.

// overviewOutcome is what became of a digest's overview chart, recorded in
// the chart_state / chart_note of every row the digest carried.
type overviewOutcome struct {
	sent  bool
	state store.ChartState // done or skipped
	note  string
}

func overviewSent(note, extra string) *overviewOutcome {
	return &overviewOutcome{sent: true, state: store.ChartDone, note: channels.JoinNotes(note, extra)}
}

func overviewSkipped(note string) *overviewOutcome {
	return &overviewOutcome{state: store.ChartSkipped, note: note}
}

// overviewFingerprint names the overview's alertchart_chart record. It is
// stored once, with the digest's first delivery, rather than copied into
// every delivery the digest carried (a digest may list a thousand).
func overviewFingerprint(channel string) string { return "overview/" + channel }

// overviewBudget is how long the digest's overview may take from the moment
// the digest send starts: chart.budget, and never more than ChartTimeout.
func (s *orgRuntime) overviewBudget() time.Duration {
	return min(s.s.Chart.Budget.D(), s.cfg.ChartTimeout)
}

// startOverview starts drawing the overview chart of a digest's alerts in
// the background and returns where its result will arrive, or nil when
// there is no overview to draw (no OverviewCharter, charts disabled for the
// channel). The drawing is cancelled at deadline.
func (s *orgRuntime) startOverview(channel, receiver string, alerts []template.Alert, deadline time.Time) <-chan chartResult {
	oc, ok := s.charter.(OverviewCharter)
	if !ok || len(alerts) == 0 || !s.overviewWanted(channel) {
		return nil
	}
	out := make(chan chartResult, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithDeadline(s.ctx, deadline)
		defer cancel()
		out <- s.drawOverview(ctx, oc, receiver, overviewLang(oc, s.noteLang(channel)), alerts)
	}()
	return out
}

// overviewWanted says whether the channel's digests get an overview chart:
// the Charter draws them and the channel has charts.
func (s *orgRuntime) overviewWanted(channel string) bool {
	if _, ok := s.charter.(OverviewCharter); !ok {
		return false
	}
	c, ok := s.s.Channel(channel)
	return !ok || !c.DisableChart
}

func (s *orgRuntime) drawOverview(ctx context.Context, oc OverviewCharter, receiver, lang string, alerts []template.Alert) (res chartResult) {
	// The overview shares the chart semaphore with per-alert charts, so a
	// storm cannot start more renders than maxConcurrentCharts.
	select {
	case s.charts.sem <- struct{}{}:
	case <-ctx.Done():
		return chartResult{err: fmt.Errorf("chart queue: %w", ctx.Err())}
	}
	t0 := time.Now()
	func() {
		defer func() {
			if p := recover(); p != nil {
				res = chartResult{err: fmt.Errorf("overview chart panicked: %v", p)}
			}
			<-s.charts.sem
		}()
		res.chart, res.info, res.err = overviewIn(ctx, oc, receiver, lang, alerts)
		res.lang = lang
	}()
	if res.err == nil && (res.chart == nil || (len(res.chart.Image) == 0 && res.chart.URL == "")) {
		res.err = fmt.Errorf("the chart has no image")
	}
	outcome := "ok"
	if res.err != nil {
		outcome = "error"
	}
	s.m.chartLatency.WithLabelValues(outcome).Observe(time.Since(t0).Seconds())
	return res
}

// awaitOverview waits for the overview until deadline; ok is false when it
// did not arrive in time (the drawing is cancelled at the same deadline).
func awaitOverview(ctx context.Context, ch <-chan chartResult, deadline time.Time) (res chartResult, ok bool) {
	select {
	case res = <-ch: // ready already, even if the deadline has passed meanwhile
		return res, true
	default:
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case res = <-ch:
		return res, true
	case <-t.C:
		return chartResult{}, false
	case <-ctx.Done():
		return chartResult{}, false
	}
}

// acquireImage reserves cost slots for a message whose image could be given
// up. When the robot has a limit and wait is set, it refuses (idle false)
// while any other text for the robot is pending — a row not owned by self —
// so an image never makes waiting text wait longer. The check and the
// reservation happen under the channel's rate row lock, which claim also
// takes, so no text can join the queue between them unseen.
func (s *orgRuntime) acquireImage(ctx context.Context, channel, self string, cost, limit int, wait bool) (dec rateDecision, idle bool, err error) {
	if limit <= 0 || !wait {
		dec, err = s.acquire(ctx, channel, cost, limit)
		return dec, true, err
	}
	idle = true
	robot := s.robot(channel)
	err = s.st.Tx(ctx, func(t *store.Tx) error {
		if err := t.EnsureRate(ctx, robot); err != nil {
			return err
		}
		if err := t.LockDigests(ctx, robot); err != nil {
			return err
		}
		backlog, err := t.PendingTexts(ctx, s.org, channel, self)
		if err != nil {
			return err
		}
		if backlog > 0 {
			idle = false
			return nil
		}
		dec, err = t.RateCheckWindows(ctx, robot, cost, s.windows(channel, limit), s.now(), true)
		return err
	})
	return dec, idle, err
}

// sendOverviewAfter sends a digest's overview as its own image message
// after the digest text went out (platforms that cannot combine the two),
// if it is ready by deadline and a slot is free with no other text waiting;
// either way it records the outcome on the digest's rows. A failed image is
// not retried: a retry would compete with text for the same slots.
func (s *orgRuntime) sendOverviewAfter(ctx context.Context, n channels.Notifier, limit int, rows []*store.Channel, self store.Key,
	data *template.Data, ov <-chan chartResult, deadline time.Time) error {
	channel := rows[0].Channel
	res, ok := awaitOverview(ctx, ov, deadline)
	if ctx.Err() != nil {
		return nil //nolint:nilerr // shutting down: the text is out and recorded, the image is simply given up
	}
	switch {
	case !ok:
		return s.recordOverview(ctx, rows, overviewSkipped("overview chart skipped: not ready within chart.budget"), channels.ChartInfo{})
	case res.err != nil:
		return s.recordOverview(ctx, rows, overviewSkipped("overview chart unavailable: "+truncate(res.err.Error(), 300)), res.info)
	}
	s.storeOverview(ctx, rows[0].DeliveryID, channel, res)
	dec, idle, err := s.acquireImage(ctx, channel, self.Owner(), 1, limit, true)
	if err != nil {
		return err
	}
	switch {
	case !idle:
		s.m.deliveries.WithLabelValues(channel, "chart_skipped").Inc()
		return s.recordOverview(ctx, rows, overviewSkipped("overview chart skipped: alert text is waiting for the robot"), res.info)
	case !dec.OK:
		s.m.deliveries.WithLabelValues(channel, "chart_skipped").Inc()
		return s.recordOverview(ctx, rows, overviewSkipped("overview chart skipped: robot rate limit"), res.info)
	}
	msg := s.digestMessage(data, channels.PartChart, res.chart)
	at := s.now()
	sres, dur, sendErr := s.send(ctx, n, msg)
	s.settle(ctx, channel, dec)
	wctx := context.WithoutCancel(ctx)
	err = s.st.Tx(wctx, func(t *store.Tx) error {
		for _, r := range rows {
			if err := recordAttempt(wctx, t.DB, store.Key{DeliveryID: r.DeliveryID, Channel: r.Channel}, string(channels.PartChart), at, dur, sres, sendErr); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if sendErr != nil {
		if ra := channels.RetryAfterOf(sendErr); ra > 0 {
			_ = s.pause(wctx, channel, s.now().Add(ra))
		}
		return s.recordOverview(ctx, rows, overviewSkipped("overview chart failed: "+truncate(sendErr.Error(), 300)), res.info)
	}
	return s.recordOverview(ctx, rows, overviewSent("overview chart sent after the digest", overviewRef(rows, channel, res.info)), res.info)
}

// overviewRef says where the overview image is kept (and the chart's own
// note, e.g. series left out).
func overviewRef(rows []*store.Channel, channel string, info channels.ChartInfo) string {
	return channels.JoinNotes(info.Note, "image: deliveries/"+rows[0].DeliveryID+"/chart?fingerprint="+overviewFingerprint(channel))
}

// recordOverview writes the overview outcome into every row of the digest.
func (s *orgRuntime) recordOverview(ctx context.Context, rows []*store.Channel, o *overviewOutcome, info channels.ChartInfo) error {
	ctx = context.WithoutCancel(ctx)
	rec := store.Overview{State: o.state, Note: truncate(o.note, 500), Renderer: info.Renderer, Fallback: info.FallbackReason}
	if o.sent {
		done := s.now()
		rec.SentAt = &done
	}
	return s.st.Tx(ctx, func(t *store.Tx) error {
		for _, r := range rows {
			if err := t.RecordOverview(ctx, r, rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// storeOverview keeps the overview image with the digest's first delivery.
func (s *orgRuntime) storeOverview(ctx context.Context, id, channel string, res chartResult) {
	if s.ctx.Err() != nil {
		return
	}
	if err := s.storeChart(context.WithoutCancel(ctx), id, overviewFingerprint(channel), res); err != nil {
		s.log.Warn("delivery: could not store the overview chart", "delivery", id, "error", err)
	}
}
