package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/channels"
)

// A digest carries at most one image: an overview chart of the alerts it
// lists (OverviewCharter). The text never waits for it longer than
// chart.budget, and the image never takes a rate slot that waiting text
// needs: when the budget is short, images are the first thing given up.

// overviewOutcome is what became of a digest's overview chart, recorded in
// the chart_state / chart_note of every row the digest carried.
type overviewOutcome struct {
	sent  bool
	state string // "done" or "skipped"
	note  string
}

func overviewSent(note, extra string) *overviewOutcome {
	return &overviewOutcome{sent: true, state: "done", note: channels.JoinNotes(note, extra)}
}

func overviewSkipped(note string) *overviewOutcome {
	return &overviewOutcome{state: "skipped", note: note}
}

// overviewFingerprint names the overview's alertchart_chart record. It is
// stored once, with the digest's first delivery, rather than copied into
// every delivery the digest carried (a digest may list a thousand).
func overviewFingerprint(channel string) string { return "overview/" + channel }

// overviewBudget is how long the digest's overview may take from the moment
// the digest send starts: chart.budget, and never more than ChartTimeout.
func (s *Service) overviewBudget() time.Duration {
	return min(s.s.Chart.Budget.D(), s.cfg.ChartTimeout)
}

// startOverview starts drawing the overview chart of a digest's alerts in
// the background and returns where its result will arrive, or nil when
// there is no overview to draw (no OverviewCharter, charts disabled for the
// channel). The drawing is cancelled at deadline.
func (s *Service) startOverview(channel, receiver string, alerts []template.Alert, deadline time.Time) <-chan chartResult {
	oc, ok := s.cfg.Charter.(OverviewCharter)
	if !ok || len(alerts) == 0 {
		return nil
	}
	if c, ok := s.s.Channel(channel); ok && c.DisableChart {
		return nil
	}
	out := make(chan chartResult, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithDeadline(s.ctx, deadline)
		defer cancel()
		out <- s.drawOverview(ctx, oc, receiver, alerts)
	}()
	return out
}

func (s *Service) drawOverview(ctx context.Context, oc OverviewCharter, receiver string, alerts []template.Alert) (res chartResult) {
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
		res.chart, res.info, res.err = oc.Overview(ctx, receiver, alerts)
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
func (s *Service) acquireImage(ctx context.Context, channel, self string, cost, limit int, wait bool) (dec rateDecision, idle bool, err error) {
	if limit <= 0 || !wait {
		dec, err = s.acquire(ctx, channel, cost, limit)
		return dec, true, err
	}
	idle = true
	err = withTx(ctx, s.b, func(t txn) error {
		db := t.db()
		if _, err := db.exec(ctx, `INSERT INTO alertchart_rate (channel, paused_until) VALUES ($1, 0) ON CONFLICT (channel) DO NOTHING`, channel); err != nil {
			return err
		}
		if err := s.lockDigests(ctx, db, channel); err != nil {
			return err
		}
		var backlog int64
		if err := db.queryRow(ctx, `SELECT COUNT(*) FROM alertchart_channel WHERE channel = $1 AND status = 'pending' AND digest_owner <> $2`,
			channel, self).Scan(&backlog); err != nil {
			return err
		}
		if backlog > 0 {
			idle = false
			return nil
		}
		dec, err = s.rateCheck(ctx, db, channel, cost, limit, true)
		return err
	})
	return dec, idle, err
}

// sendOverviewAfter sends a digest's overview as its own image message
// after the digest text went out (platforms that cannot combine the two),
// if it is ready by deadline and a slot is free with no other text waiting;
// either way it records the outcome on the digest's rows. A failed image is
// not retried: a retry would compete with text for the same slots.
func (s *Service) sendOverviewAfter(ctx context.Context, n channels.Notifier, limit int, rows []*channelRow, self string,
	data *template.Data, ov <-chan chartResult, deadline time.Time) error {
	channel := rows[0].Channel
	res, ok := awaitOverview(ctx, ov, deadline)
	if ctx.Err() != nil {
		return nil // shutting down: the text is out and recorded, the image is simply given up
	}
	switch {
	case !ok:
		return s.recordOverview(ctx, rows, overviewSkipped("overview chart skipped: not ready within chart.budget"), ChartInfo{})
	case res.err != nil:
		return s.recordOverview(ctx, rows, overviewSkipped("overview chart unavailable: "+truncate(res.err.Error(), 300)), res.info)
	}
	s.storeOverview(ctx, rows[0].DeliveryID, channel, res)
	dec, idle, err := s.acquireImage(ctx, channel, self, 1, limit, true)
	if err != nil {
		return err
	}
	switch {
	case !idle:
		s.m.deliveries.WithLabelValues(channel, "chart_skipped").Inc()
		return s.recordOverview(ctx, rows, overviewSkipped("overview chart skipped: alert text is waiting for the robot"), res.info)
	case !dec.ok:
		s.m.deliveries.WithLabelValues(channel, "chart_skipped").Inc()
		return s.recordOverview(ctx, rows, overviewSkipped("overview chart skipped: robot rate limit"), res.info)
	}
	msg := &channels.Message{Data: data, Part: channels.PartChart, Chart: res.chart, Digest: true,
		GrafanaURL: s.cfg.GrafanaURL, AlertmanagerURL: data.ExternalURL}
	at := s.now()
	sres, sendErr, dur := s.send(ctx, n, msg)
	s.settle(ctx, channel, dec)
	wctx := context.WithoutCancel(ctx)
	err = withTx(wctx, s.b, func(t txn) error {
		for _, r := range rows {
			if err := recordAttempt(wctx, t.db(), r.DeliveryID, r.Channel, string(channels.PartChart), at, dur, sres, sendErr); err != nil {
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
func overviewRef(rows []*channelRow, channel string, info ChartInfo) string {
	return channels.JoinNotes(info.Note, "image: deliveries/"+rows[0].DeliveryID+"/chart?fingerprint="+overviewFingerprint(channel))
}

// recordOverview writes the overview outcome into every row of the digest.
func (s *Service) recordOverview(ctx context.Context, rows []*channelRow, o *overviewOutcome, info ChartInfo) error {
	ctx = context.WithoutCancel(ctx)
	done := s.now()
	return withTx(ctx, s.b, func(t txn) error {
		for _, r := range rows {
			var sentAt, lat any
			if o.sent {
				sentAt, lat = done.UnixMilli(), done.Sub(r.ReceivedAt).Milliseconds()
			}
			if _, err := t.db().exec(ctx, `UPDATE alertchart_channel SET chart_state = $1, chart_note = $2, chart_sent_at = $3, chart_latency_ms = $4,
				renderer = $5, fallback_reason = $6 WHERE delivery_id = $7 AND channel = $8`,
				o.state, truncate(o.note, 500), sentAt, lat, info.Renderer, info.FallbackReason, r.DeliveryID, r.Channel); err != nil {
				return err
			}
		}
		return nil
	})
}

// storeOverview keeps the overview image with the digest's first delivery.
func (s *Service) storeOverview(ctx context.Context, id, channel string, res chartResult) {
	if s.ctx.Err() != nil {
		return
	}
	if err := s.storeChart(context.WithoutCancel(ctx), id, overviewFingerprint(channel), res); err != nil {
		s.log.Warn("delivery: could not store the overview chart", "delivery", id, "error", err)
	}
}
