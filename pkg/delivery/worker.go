package delivery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/riverqueue/river"

	"github.com/alertchart/alertchart/pkg/channels"
)

type textWorker struct {
	river.WorkerDefaults[textArgs]
	s *Service
}

func (w *textWorker) Work(ctx context.Context, job *river.Job[textArgs]) error {
	return w.s.workText(ctx, job.Args)
}

type chartWorker struct {
	river.WorkerDefaults[chartArgs]
	s *Service
}

func (w *chartWorker) Work(ctx context.Context, job *river.Job[chartArgs]) error {
	return w.s.workChart(ctx, job.Args)
}

type maintenanceWorker struct {
	river.WorkerDefaults[maintenanceArgs]
	s *Service
}

func (w *maintenanceWorker) Work(ctx context.Context, _ *river.Job[maintenanceArgs]) error {
	return w.s.maintain(ctx)
}

// ownerKey names the job that owns (sends) a row: "<delivery id>/<channel>".
// Channel names cannot contain "/" (settings validation).
func ownerKey(id, channel string) string { return id + "/" + channel }

const (
	// Backoff of a failed send: base·2^(n-1), capped, with jitter.
	backoffBase = 500 * time.Millisecond
	backoffCap  = 5 * time.Minute
)

func backoff(attempt int) time.Duration {
	d := backoffBase
	for i := 1; i < attempt && d < backoffCap; i++ {
		d *= 2
	}
	d = min(d, backoffCap)
	// Jitter in [d/2, d] so replicas and channels do not retry in lockstep.
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func (s *Service) perMinute(channel string, l channels.Limits) int {
	if c, ok := s.s.Channel(channel); ok && c.RateLimitPerMinute > 0 {
		return c.RateLimitPerMinute
	}
	return l.PerMinute
}

func (s *Service) horizon() time.Duration { return s.s.Delivery.RetryHorizon.D() }

// chartAlerts are the alerts of a channel delivery that get a chart.
func (s *Service) chartAlerts(channel string, del *deliveryRec, row *channelRow) []template.Alert {
	if s.cfg.Charter == nil {
		return nil
	}
	if c, ok := s.s.Channel(channel); ok && c.DisableChart {
		return nil
	}
	var out []template.Alert
	for _, a := range channelData(del.Data, row.Fingerprints).Alerts {
		if len(out) == s.cfg.MaxChartsPerNotification {
			break
		}
		out = append(out, a)
	}
	return out
}

// send calls the notifier under SendTimeout and turns a panic or a timeout
// into a retryable error.
func (s *Service) send(ctx context.Context, n channels.Notifier, m *channels.Message) (res *channels.Result, err error, dur time.Duration) {
	sctx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	defer cancel()
	t0 := time.Now()
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = &channels.Error{Kind: channels.Retryable, Msg: fmt.Sprintf("notifier panicked: %v", p)}
			}
		}()
		res, err = n.Send(sctx, m)
	}()
	dur = time.Since(t0)
	if err != nil && sctx.Err() != nil && ctx.Err() == nil {
		var ce *channels.Error
		if !errors.As(err, &ce) {
			err = &channels.Error{Kind: channels.Retryable, Msg: fmt.Sprintf("no answer within %s", s.cfg.SendTimeout), Err: err}
		}
	}
	return res, err, dur
}

// ---- text ----

// lockChannel serialises, within this process, the texts going to one
// channel from the moment a send starts until its outcome is committed. A
// crash can only repeat a message that was sent but not yet recorded, so
// this keeps a kill -9 from repeating more than one text per channel and
// process. Chat robots gain nothing from parallel sends anyway.
func (s *Service) lockChannel(channel string) func() {
	v, _ := s.chLocks.LoadOrStore(channel, &sync.Mutex{})
	mu := v.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// workText delivers a notification's text to one channel. The job first
// claims its row (or, when the robot has no free slot, joins the digest
// being gathered for that robot); as owner it sends its own text, or a
// digest of every row it owns, as soon as the rate limit allows.
func (s *Service) workText(ctx context.Context, a textArgs) error {
	db := s.b.plain()
	row, err := s.loadChannel(ctx, db, a.DeliveryID, a.Channel)
	if errors.Is(err, errNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if row.Status != "pending" || row.TextSentAt.Valid {
		return nil
	}
	self := ownerKey(a.DeliveryID, a.Channel)
	if row.DigestOwner != "" && row.DigestOwner != self {
		return nil // another job delivers it in a digest
	}
	n := s.notifiers[a.Channel]
	if n == nil {
		return s.failRows(ctx, self, []*channelRow{row}, fmt.Sprintf("channel %q is not configured", a.Channel))
	}
	limit := s.perMinute(a.Channel, n.Limits())
	if row.DigestOwner == "" {
		owner, err := s.claim(ctx, row, self, limit)
		if err != nil {
			return err
		}
		if owner != self {
			return nil
		}
	}
	rows, err := s.queryChannels(ctx, db, `channel = $2 AND status = 'pending' AND digest_owner = $1 AND text_sent_at IS NULL ORDER BY received_at`, self, a.Channel)
	if err != nil {
		return err
	}
	// Own row first: it is the oldest and it carries the job.
	var mine []*channelRow
	var live []*channelRow
	now := s.now()
	for _, r := range rows {
		if now.Sub(r.ReceivedAt) > s.horizon() {
			if err := s.failRows(ctx, self, []*channelRow{r}, "gave up after delivery.retryHorizon "+s.horizon().String()+lastErr(r)); err != nil {
				return err
			}
			continue
		}
		if r.DeliveryID == row.DeliveryID {
			mine = append(mine, r)
		} else {
			live = append(live, r)
		}
	}
	if len(mine) == 0 {
		// Our own row expired; hand the rest back to the queue.
		return s.release(ctx, self)
	}
	rows = append(mine, live...)
	if len(rows) == 1 {
		return s.sendSingle(ctx, n, limit, rows[0], self)
	}
	return s.sendDigest(ctx, n, limit, rows, self)
}

func lastErr(r *channelRow) string {
	if r.LastError == "" {
		return ""
	}
	return "; last error: " + r.LastError
}

// claim makes the job the owner of its row, or adds the row to the open
// digest of a robot that has no free slot. It returns the owner.
func (s *Service) claim(ctx context.Context, row *channelRow, self string, limit int) (string, error) {
	if limit <= 0 {
		// No robot limit, so no digest to join: just take the row.
		n, err := s.b.plain().exec(ctx, `UPDATE alertchart_channel SET digest_owner = $1 WHERE delivery_id = $2 AND channel = $3 AND digest_owner = ''`,
			self, row.DeliveryID, row.Channel)
		if err != nil {
			return "", err
		}
		if n == 1 {
			return self, nil
		}
		var cur string
		err = s.b.plain().queryRow(ctx, `SELECT digest_owner FROM alertchart_channel WHERE delivery_id = $1 AND channel = $2`, row.DeliveryID, row.Channel).Scan(&cur)
		return cur, err
	}
	owner := ""
	err := withTx(ctx, s.b, func(t txn) error {
		db := t.db()
		if _, err := db.exec(ctx, `INSERT INTO alertchart_rate (channel, paused_until) VALUES ($1, 0) ON CONFLICT (channel) DO NOTHING`, row.Channel); err != nil {
			return err
		}
		var paused int64
		if err := db.queryRow(ctx, `SELECT paused_until FROM alertchart_rate WHERE channel = $1`+s.d.forUpdate, row.Channel).Scan(&paused); err != nil {
			return err
		}
		var cur string
		if err := db.queryRow(ctx, `SELECT digest_owner FROM alertchart_channel WHERE delivery_id = $1 AND channel = $2`, row.DeliveryID, row.Channel).Scan(&cur); err != nil {
			return err
		}
		if cur != "" {
			owner = cur
			return nil
		}
		owner = self
		dec, err := s.rateCheck(ctx, db, row.Channel, 1, limit, false)
		if err != nil {
			return err
		}
		if !dec.ok {
			// No slot: join the digest being gathered, if it has room.
			rows, err := db.query(ctx, `SELECT digest_owner, SUM(n_alerts) FROM alertchart_channel
				WHERE channel = $1 AND status = 'pending' AND digest_owner <> '' AND text_sent_at IS NULL
				GROUP BY digest_owner ORDER BY MIN(received_at)`, row.Channel)
			if err != nil {
				return err
			}
			for rows.Next() {
				var o string
				var sum int64
				if err := rows.Scan(&o, &sum); err != nil {
					rows.close()
					return err
				}
				if int(sum)+row.NAlerts <= s.cfg.MaxDigestAlerts {
					owner = o
					break
				}
			}
			rows.close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		_, err = db.exec(ctx, `UPDATE alertchart_channel SET digest_owner = $1 WHERE delivery_id = $2 AND channel = $3 AND digest_owner = ''`,
			owner, row.DeliveryID, row.Channel)
		return err
	})
	return owner, err
}

// waitForSlot gathers the robot's waiting rows into this job's digest and
// snoozes the job until the rate limit frees a slot.
func (s *Service) waitForSlot(ctx context.Context, channel, self string, owned int, wait time.Duration) error {
	s.m.rateWaits.WithLabelValues(channel).Inc()
	room := s.cfg.MaxDigestAlerts - owned
	if room > 0 {
		err := withTx(ctx, s.b, func(t txn) error {
			_, err := t.db().exec(ctx, `UPDATE alertchart_channel SET digest_owner = $1
				WHERE channel = $2 AND status = 'pending' AND digest_owner = '' AND text_sent_at IS NULL AND delivery_id IN (
					SELECT delivery_id FROM alertchart_channel WHERE channel = $2 AND status = 'pending' AND digest_owner = ''
					ORDER BY received_at LIMIT $3)`, self, channel, room)
			return err
		})
		if err != nil {
			return err
		}
	}
	return river.JobSnooze(wait + time.Duration(rand.Int64N(int64(100*time.Millisecond))))
}

func (s *Service) sendSingle(ctx context.Context, n channels.Notifier, limit int, row *channelRow, self string) error {
	del, err := s.loadDelivery(ctx, s.b.plain(), row.DeliveryID)
	if err != nil {
		return err
	}
	if limit > 0 {
		// Do not start charts for a robot that has to wait anyway.
		dec, err := s.peek(ctx, row.Channel, 1, limit)
		if err != nil {
			return err
		}
		if !dec.ok {
			return s.waitForSlot(ctx, row.Channel, self, row.NAlerts, dec.wait)
		}
	}
	data := channelData(del.Data, row.Fingerprints)
	chartAlerts := s.chartAlerts(row.Channel, del, row)
	for _, a := range chartAlerts {
		s.charts.start(del, a)
	}
	part := channels.PartText
	var chart *channels.Chart
	var info ChartInfo
	msg := &channels.Message{Data: data, Part: part, GrafanaURL: s.cfg.GrafanaURL, AlertmanagerURL: data.ExternalURL}
	textCost := channels.CostOf(n, msg)
	cost := textCost
	lim := n.Limits()
	if lim.CombinesTextAndImage && len(chartAlerts) == 1 && !row.NoCombine {
		wctx, cancel := context.WithDeadline(ctx, del.ReceivedAt.Add(s.s.Chart.Budget.D()))
		res, err := s.charts.get(wctx, del, chartAlerts[0])
		cancel()
		if ctx.Err() != nil {
			return river.JobSnooze(0)
		}
		if err == nil && res.err == nil {
			part, chart, info = channels.PartBoth, res.chart, res.info
			cost = channels.CostOf(n, &channels.Message{Data: data, Part: part, Chart: chart})
		}
	}
	dec, err := s.acquire(ctx, row.Channel, cost, limit)
	if err != nil {
		return err
	}
	if !dec.ok && part == channels.PartBoth {
		part, chart, info, cost = channels.PartText, nil, ChartInfo{}, textCost
		if dec, err = s.acquire(ctx, row.Channel, cost, limit); err != nil {
			return err
		}
	}
	if !dec.ok {
		return s.waitForSlot(ctx, row.Channel, self, row.NAlerts, dec.wait)
	}
	msg.Part, msg.Chart = part, chart
	unlock := s.lockChannel(row.Channel)
	defer unlock()
	at := s.now()
	res, sendErr, dur := s.send(ctx, n, msg)
	if sendErr != nil {
		s.settle(ctx, row.Channel, dec)
		return s.textFailed(ctx, self, []*channelRow{row}, string(part), part == channels.PartBoth, at, dur, res, sendErr)
	}
	return s.textSent(ctx, self, []*channelRow{row}, string(part), at, dur, res, info, len(chartAlerts) > 0, dec, nil)
}

// sendDigest sends one message listing every alert of rows and, when the
// Charter draws overviews, one overview chart: in the same message on
// platforms that combine text and image (if the extra slots are free),
// otherwise as a second message right after the text (if a slot is free and
// no other text waits). The overview may hold the text back for at most
// chart.budget from the start of the send.
func (s *Service) sendDigest(ctx context.Context, n channels.Notifier, limit int, rows []*channelRow, self string) error {
	channel := rows[0].Channel
	started := time.Now()
	total := 0
	for _, r := range rows {
		total += r.NAlerts
	}
	// Reserve nothing yet, and start no chart, for a robot that has to wait anyway.
	dec, err := s.peek(ctx, channel, 1, limit)
	if err != nil {
		return err
	}
	if !dec.ok {
		return s.waitForSlot(ctx, channel, self, total, dec.wait)
	}
	parts := make([]*template.Data, 0, len(rows))
	var included []*channelRow
	count := 0
	receiver := ""
	for _, r := range rows {
		del, err := s.loadDelivery(ctx, s.b.plain(), r.DeliveryID)
		if err != nil {
			return err
		}
		if len(included) > 0 && count+r.NAlerts > s.cfg.MaxDigestAlerts {
			continue // released below, sent in a later message
		}
		if receiver == "" {
			receiver = del.Receiver
		}
		count += r.NAlerts
		parts = append(parts, channelData(del.Data, r.Fingerprints))
		included = append(included, r)
	}
	data := mergeData(parts)
	deadline := started.Add(s.overviewBudget())
	ov := s.startOverview(channel, receiver, data.Alerts, deadline)
	lim := n.Limits()
	combine := ov != nil && lim.CombinesTextAndImage && !rows[0].NoCombine

	part := channels.PartText
	var chart *channels.Chart
	var info ChartInfo
	var outcome *overviewOutcome
	dec = rateDecision{}
	if combine {
		res, ok := awaitOverview(ctx, ov, deadline)
		if ctx.Err() != nil {
			return river.JobSnooze(0)
		}
		switch {
		case !ok:
			outcome = overviewSkipped("overview chart skipped: not ready within chart.budget")
		case res.err != nil:
			outcome = overviewSkipped("overview chart unavailable: " + truncate(res.err.Error(), 300))
		default:
			s.storeOverview(ctx, rows[0].DeliveryID, channel, res)
			cost := channels.CostOf(n, &channels.Message{Data: data, Part: channels.PartBoth, Chart: res.chart, Digest: true})
			// A combined message of one slot costs what the text alone costs;
			// one of several slots must not take them from waiting text.
			var idle bool
			dec, idle, err = s.acquireImage(ctx, channel, self, cost, limit, cost > 1)
			if err != nil {
				return err
			}
			switch {
			case dec.ok:
				part, chart, info = channels.PartBoth, res.chart, res.info
				outcome = overviewSent("overview chart sent with the digest", overviewRef(rows, channel, res.info))
			case !idle:
				outcome = overviewSkipped("overview chart skipped: alert text is waiting for the robot")
			default:
				outcome = overviewSkipped("overview chart skipped: robot rate limit")
			}
		}
	}
	if part == channels.PartText {
		textCost := channels.CostOf(n, &channels.Message{Data: data, Part: part, Digest: true})
		if dec, err = s.acquire(ctx, channel, textCost, limit); err != nil {
			return err
		}
		if !dec.ok {
			return s.waitForSlot(ctx, channel, self, total, dec.wait)
		}
	}
	msg := &channels.Message{Data: data, Part: part, Chart: chart, Digest: true, GrafanaURL: s.cfg.GrafanaURL, AlertmanagerURL: data.ExternalURL}
	unlock := s.lockChannel(channel)
	at := s.now()
	res, sendErr, dur := s.send(ctx, n, msg)
	if sendErr != nil {
		unlock()
		s.settle(ctx, channel, dec)
		return s.textFailed(ctx, self, included, "digest", part == channels.PartBoth, at, dur, res, sendErr)
	}
	err = s.textSent(ctx, self, included, "digest", at, dur, res, info, s.cfg.Charter != nil, dec, outcome)
	unlock()
	if err != nil || ov == nil || combine {
		if outcome != nil && !outcome.sent && err == nil {
			s.m.deliveries.WithLabelValues(channel, "chart_skipped").Inc()
		}
		return err
	}
	// The text is out and recorded; the image follows if it may.
	return s.sendOverviewAfter(ctx, n, limit, included, self, data, ov, deadline)
}

// textSent records a successful text (or combined, or digest) send and
// queues the chart follow-up where one is due.
//
// For a digest, ov (when set) is what became of its overview chart.
func (s *Service) textSent(ctx context.Context, self string, rows []*channelRow, part string, at time.Time, dur time.Duration,
	res *channels.Result, info ChartInfo, chartWanted bool, dec rateDecision, ov *overviewOutcome) error {
	// Recording must not be cut short by a shutdown: the message is out.
	ctx = context.WithoutCancel(ctx)
	done := s.now()
	err := withTx(ctx, s.b, func(t txn) error {
		db := t.db()
		if err := s.lockDigests(ctx, db, ownerChannel(self)); err != nil {
			return err
		}
		if len(rows) > 0 {
			if err := s.settleTx(ctx, db, rows[0].Channel, dec); err != nil {
				return err
			}
		}
		var jobs []river.InsertManyParams
		for _, r := range rows {
			lat := done.Sub(r.ReceivedAt).Milliseconds()
			chartState, note := "", ""
			var chartSent any
			var chartLat any
			switch {
			case part == string(channels.PartBoth):
				chartState, chartSent, chartLat = "done", done.UnixMilli(), lat
			case part == "digest" && ov != nil:
				chartState, note = ov.state, ov.note
				if ov.sent {
					chartSent, chartLat = done.UnixMilli(), lat
				}
			case part == "digest" && chartWanted:
				chartState, note = "skipped", "chart skipped: sent in a digest while the channel was rate limited"
			case chartWanted:
				chartState = "pending"
				jobs = append(jobs, river.InsertManyParams{Args: chartArgs{DeliveryID: r.DeliveryID, Channel: r.Channel},
					InsertOpts: &river.InsertOpts{Queue: queueChart, MaxAttempts: maxAttempts}})
			}
			if info.Note != "" && note == "" {
				note = info.Note
			}
			if _, err := db.exec(ctx, `UPDATE alertchart_channel SET status = 'sent', text_sent_at = $1, text_latency_ms = $2, text_part = $3,
				attempts = attempts + 1, last_error = '', chart_state = $4, chart_sent_at = $5, chart_latency_ms = $6,
				renderer = $7, fallback_reason = $8, chart_note = $9 WHERE delivery_id = $10 AND channel = $11`,
				done.UnixMilli(), lat, part, chartState, chartSent, chartLat, info.Renderer, info.FallbackReason, note, r.DeliveryID, r.Channel); err != nil {
				return err
			}
			if err := recordAttempt(ctx, db, r.DeliveryID, r.Channel, part, at, dur, res, nil); err != nil {
				return err
			}
		}
		if err := s.releaseTx(ctx, t, self); err != nil {
			return err
		}
		return t.enqueue(ctx, jobs...)
	})
	if err != nil {
		return err
	}
	outcome := "sent"
	if part == "digest" {
		outcome = "digest"
	}
	for _, r := range rows {
		s.m.deliveries.WithLabelValues(r.Channel, outcome).Inc()
		s.m.textLatency.Observe(done.Sub(r.ReceivedAt).Seconds())
	}
	return nil
}

// textFailed records a failed send and decides: retry later, or give up.
// combined says the message carried the chart too (PartBoth, or a digest
// with its overview): one that is TooBig is retried without the image.
func (s *Service) textFailed(ctx context.Context, self string, rows []*channelRow, part string, combined bool, at time.Time, dur time.Duration,
	res *channels.Result, sendErr error) error {
	shutdown := ctx.Err() != nil
	ctx = context.WithoutCancel(ctx)
	channel := rows[0].Channel
	kind := channels.KindOf(sendErr)
	msg := truncate(sendErr.Error(), 2000)
	err := withTx(ctx, s.b, func(t txn) error {
		for _, r := range rows {
			if err := recordAttempt(ctx, t.db(), r.DeliveryID, r.Channel, part, at, dur, res, sendErr); err != nil {
				return err
			}
			if _, err := t.db().exec(ctx, `UPDATE alertchart_channel SET attempts = attempts + 1, last_error = $1 WHERE delivery_id = $2 AND channel = $3`,
				msg, r.DeliveryID, r.Channel); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if shutdown {
		return river.JobSnooze(0) // the next instance sends it
	}
	switch kind {
	case channels.Permanent, channels.BadCredentials:
		s.log.Warn("delivery: channel refused the message", "channel", channel, "kind", string(kind), "error", msg)
		return s.failRows(ctx, self, rows, msg)
	case channels.TooBig:
		if combined {
			_, err := s.b.plain().exec(ctx, `UPDATE alertchart_channel SET no_combine = 1 WHERE delivery_id = $1 AND channel = $2`, rows[0].DeliveryID, channel)
			if err != nil {
				return err
			}
			return river.JobSnooze(0)
		}
		return s.failRows(ctx, self, rows, msg)
	}
	delay := backoff(rows[0].Attempts + 1)
	if ra := channels.RetryAfterOf(sendErr); ra > 0 {
		if err := s.pause(ctx, channel, s.now().Add(ra)); err != nil {
			return err
		}
		delay = max(delay, ra)
	}
	oldest := rows[0].ReceivedAt
	for _, r := range rows {
		if r.ReceivedAt.Before(oldest) {
			oldest = r.ReceivedAt
		}
	}
	if s.now().Add(delay).Sub(oldest) > s.horizon() {
		return s.failRows(ctx, self, rows, "gave up after delivery.retryHorizon "+s.horizon().String()+"; last error: "+msg)
	}
	s.m.retries.WithLabelValues(channel, part).Inc()
	return river.JobSnooze(delay)
}

// failRows marks rows failed and hands the owner's other rows back.
func (s *Service) failRows(ctx context.Context, self string, rows []*channelRow, reason string) error {
	ctx = context.WithoutCancel(ctx)
	err := withTx(ctx, s.b, func(t txn) error {
		if err := s.lockDigests(ctx, t.db(), ownerChannel(self)); err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := t.db().exec(ctx, `UPDATE alertchart_channel SET status = 'failed', last_error = $1, digest_owner = '' WHERE delivery_id = $2 AND channel = $3`,
				truncate(reason, 2000), r.DeliveryID, r.Channel); err != nil {
				return err
			}
		}
		return s.releaseTx(ctx, t, self)
	})
	if err != nil {
		return err
	}
	for _, r := range rows {
		s.m.deliveries.WithLabelValues(r.Channel, "failed").Inc()
	}
	return nil
}

// release hands rows owned by self back to the queue (see releaseTx).
func (s *Service) release(ctx context.Context, self string) error {
	return withTx(context.WithoutCancel(ctx), s.b, func(t txn) error {
		if err := s.lockDigests(ctx, t.db(), ownerChannel(self)); err != nil {
			return err
		}
		return s.releaseTx(ctx, t, self)
	})
}

func ownerChannel(self string) string { return self[strings.LastIndex(self, "/")+1:] }

// releaseTx un-claims every still pending row owned by self and queues a
// fresh text job for each, so rows that joined a digest but did not fit are
// never stranded. The transaction must hold lockDigests for the channel
// (taken first, before any channel row).
func (s *Service) releaseTx(ctx context.Context, t txn, self string) error {
	channel := ownerChannel(self)
	left, err := s.queryChannels(ctx, t.db(), `channel = $2 AND status = 'pending' AND digest_owner = $1 AND text_sent_at IS NULL`, self, channel)
	if err != nil {
		return err
	}
	if len(left) == 0 {
		return nil
	}
	if _, err := t.db().exec(ctx, `UPDATE alertchart_channel SET digest_owner = '' WHERE channel = $2 AND status = 'pending' AND digest_owner = $1 AND text_sent_at IS NULL`, self, channel); err != nil {
		return err
	}
	jobs := make([]river.InsertManyParams, 0, len(left))
	for _, r := range left {
		jobs = append(jobs, river.InsertManyParams{Args: textArgs{DeliveryID: r.DeliveryID, Channel: r.Channel},
			InsertOpts: &river.InsertOpts{Queue: queueText, MaxAttempts: maxAttempts}})
	}
	return t.enqueue(ctx, jobs...)
}

// lockDigests takes the channel's rate row lock, which claim holds while it
// picks a digest to join. An owner finishing (sent, failed or released)
// takes it before it looks for rows left in its digest, so a row can never
// join a digest whose owner has already looked for the last time: either the
// join commits first and the owner hands the row back, or the owner
// finishes first and the joiner no longer sees it as an open digest. Taken
// first in the transaction, before any channel row, so the two orders cannot
// deadlock. SQLite transactions are exclusive already.
func (s *Service) lockDigests(ctx context.Context, db dbtx, channel string) error {
	if s.d.forUpdate == "" {
		return nil
	}
	var paused int64
	err := db.queryRow(ctx, `SELECT paused_until FROM alertchart_rate WHERE channel = $1`+s.d.forUpdate, channel).Scan(&paused)
	if err == errNoRows {
		return nil // no rate row, so no digest was ever gathered for the channel
	}
	return err
}

// ---- chart ----

// workChart sends the charts that missed the text, or one short note saying
// why there is no chart. While the robot has text waiting, charts are
// skipped: images go first when the rate budget is short.
func (s *Service) workChart(ctx context.Context, a chartArgs) error {
	db := s.b.plain()
	row, err := s.loadChannel(ctx, db, a.DeliveryID, a.Channel)
	if errors.Is(err, errNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if row.ChartState != "pending" {
		return nil
	}
	n := s.notifiers[a.Channel]
	if n == nil {
		return s.chartDone(ctx, row, "skipped", fmt.Sprintf("chart unavailable: channel %q is not configured", a.Channel))
	}
	if s.now().Sub(row.ReceivedAt) > s.horizon() {
		return s.chartDone(ctx, row, "skipped", "chart unavailable: gave up after delivery.retryHorizon")
	}
	limit := s.perMinute(a.Channel, n.Limits())
	if limit > 0 && !row.ChartSentAt.Valid {
		// A rate-limited robot with text still waiting spends its slots on text.
		var backlog int64
		if err := db.queryRow(ctx, `SELECT COUNT(*) FROM alertchart_channel WHERE channel = $1 AND status = 'pending'`, a.Channel).Scan(&backlog); err != nil {
			return err
		}
		if backlog > 0 {
			return s.chartDone(ctx, row, "skipped", "chart skipped: the channel is rate limited and alert text goes first")
		}
	}
	del, err := s.loadDelivery(ctx, db, a.DeliveryID)
	if err != nil {
		return err
	}
	alerts := s.chartAlerts(a.Channel, del, row)
	note := row.ChartNote
	for i := row.ChartPartsSent; i < len(alerts); i++ {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.ChartTimeout+5*time.Second)
		res, err := s.charts.get(cctx, del, alerts[i])
		cancel()
		if ctx.Err() != nil {
			return river.JobSnooze(0)
		}
		if err != nil {
			res.err = err
		}
		if res.err != nil {
			if note == "" {
				note = "chart unavailable: " + res.err.Error()
			}
			if err := s.chartProgress(ctx, row, i+1, nil, ChartInfo{}, note); err != nil {
				return err
			}
			continue
		}
		dec, err := s.acquire(ctx, a.Channel, 1, limit)
		if err != nil {
			return err
		}
		if !dec.ok {
			s.m.rateWaits.WithLabelValues(a.Channel).Inc()
			return river.JobSnooze(dec.wait)
		}
		data := channelData(del.Data, []string{alerts[i].Fingerprint})
		msg := &channels.Message{Data: data, Part: channels.PartChart, Chart: res.chart, GrafanaURL: s.cfg.GrafanaURL, AlertmanagerURL: data.ExternalURL}
		at := s.now()
		sres, sendErr, dur := s.send(ctx, n, msg)
		s.settle(ctx, a.Channel, dec)
		if err := recordAttempt(context.WithoutCancel(ctx), db, row.DeliveryID, row.Channel, string(channels.PartChart), at, dur, sres, sendErr); err != nil {
			return err
		}
		if sendErr == nil {
			sent := s.now()
			if err := s.chartProgress(ctx, row, i+1, &sent, res.info, ""); err != nil {
				return err
			}
			row.ChartSentAt.Valid = true
			continue
		}
		if wait, giveUp := s.chartRetry(ctx, row, sendErr); !giveUp {
			return river.JobSnooze(wait)
		}
		if note == "" {
			note = "chart unavailable: " + truncate(sendErr.Error(), 300)
		}
		if err := s.chartProgress(ctx, row, i+1, nil, ChartInfo{}, note); err != nil {
			return err
		}
	}
	if row.ChartSentAt.Valid || note == "" {
		return s.chartDone(ctx, row, "done", "")
	}
	// No chart could be sent: say so, briefly.
	dec, err := s.acquire(ctx, a.Channel, 1, limit)
	if err != nil {
		return err
	}
	if !dec.ok {
		s.m.rateWaits.WithLabelValues(a.Channel).Inc()
		return river.JobSnooze(dec.wait)
	}
	data := channelData(del.Data, row.Fingerprints)
	msg := &channels.Message{Data: data, Part: channels.PartChart, ChartNote: note, GrafanaURL: s.cfg.GrafanaURL, AlertmanagerURL: data.ExternalURL}
	at := s.now()
	sres, sendErr, dur := s.send(ctx, n, msg)
	s.settle(ctx, a.Channel, dec)
	if err := recordAttempt(context.WithoutCancel(ctx), db, row.DeliveryID, row.Channel, string(channels.PartChart), at, dur, sres, sendErr); err != nil {
		return err
	}
	if sendErr != nil {
		if wait, giveUp := s.chartRetry(ctx, row, sendErr); !giveUp {
			return river.JobSnooze(wait)
		}
	}
	return s.chartDone(ctx, row, "done", note)
}

// chartRetry decides whether a failed chart send is tried again.
func (s *Service) chartRetry(ctx context.Context, row *channelRow, err error) (time.Duration, bool) {
	if ctx.Err() != nil {
		return 0, false
	}
	kind := channels.KindOf(err)
	if kind != channels.Retryable {
		return 0, true
	}
	row.ChartAttempts++
	_, _ = s.b.plain().exec(context.WithoutCancel(ctx), `UPDATE alertchart_channel SET chart_attempts = chart_attempts + 1 WHERE delivery_id = $1 AND channel = $2`,
		row.DeliveryID, row.Channel)
	delay := backoff(row.ChartAttempts)
	if ra := channels.RetryAfterOf(err); ra > 0 {
		_ = s.pause(context.WithoutCancel(ctx), row.Channel, s.now().Add(ra))
		delay = max(delay, ra)
	}
	if s.now().Add(delay).Sub(row.ReceivedAt) > s.horizon() {
		return 0, true
	}
	s.m.retries.WithLabelValues(row.Channel, string(channels.PartChart)).Inc()
	return delay, false
}

func (s *Service) chartProgress(ctx context.Context, row *channelRow, sentParts int, sentAt *time.Time, info ChartInfo, note string) error {
	ctx = context.WithoutCancel(ctx)
	if sentAt == nil {
		_, err := s.b.plain().exec(ctx, `UPDATE alertchart_channel SET chart_parts_sent = $1, chart_note = $2 WHERE delivery_id = $3 AND channel = $4`,
			sentParts, truncate(note, 500), row.DeliveryID, row.Channel)
		return err
	}
	lat := sentAt.Sub(row.ReceivedAt).Milliseconds()
	_, err := s.b.plain().exec(ctx, `UPDATE alertchart_channel SET chart_parts_sent = $1,
		chart_latency_ms = CASE WHEN chart_sent_at IS NULL THEN $2 ELSE chart_latency_ms END,
		chart_sent_at = CASE WHEN chart_sent_at IS NULL THEN $3 ELSE chart_sent_at END,
		renderer = CASE WHEN renderer = '' THEN $4 ELSE renderer END,
		fallback_reason = CASE WHEN fallback_reason = '' THEN $5 ELSE fallback_reason END,
		chart_note = CASE WHEN $6 <> '' THEN $6 ELSE chart_note END
		WHERE delivery_id = $7 AND channel = $8`,
		sentParts, lat, sentAt.UnixMilli(), info.Renderer, info.FallbackReason, info.Note, row.DeliveryID, row.Channel)
	return err
}

func (s *Service) chartDone(ctx context.Context, row *channelRow, state, note string) error {
	ctx = context.WithoutCancel(ctx)
	q := `UPDATE alertchart_channel SET chart_state = $1 WHERE delivery_id = $2 AND channel = $3`
	args := []any{state, row.DeliveryID, row.Channel}
	if note != "" {
		q = `UPDATE alertchart_channel SET chart_state = $1, chart_note = $4 WHERE delivery_id = $2 AND channel = $3`
		args = append(args, truncate(note, 500))
	}
	_, err := s.b.plain().exec(ctx, q, args...)
	if err == nil && strings.HasPrefix(note, "chart skipped") {
		s.m.deliveries.WithLabelValues(row.Channel, "chart_skipped").Inc()
	}
	return err
}
