package delivery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
	"github.com/alertchart/alertchart/pkg/nochart"
)

// partDigest is the text_part of rows sent in a digest message.
const partDigest = "digest"

// workText delivers a notification's text to one channel. The job first
// claims its row (or, when the robot has no free slot, joins the digest
// being gathered for that robot); as owner it sends its own text, or a
// digest of every row it owns, as soon as the rate limit allows.
func (s *orgRuntime) workText(ctx context.Context, k store.Key) error {
	row, err := s.st.Channel(ctx, k)
	if errors.Is(err, store.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if row.Status != store.Pending || row.TextSentAt.Valid {
		return nil
	}
	self := k.Owner()
	if row.DigestOwner != "" && row.DigestOwner != self {
		return nil // another job delivers it in a digest
	}
	n := s.notifiers[k.Channel]
	if n == nil {
		return s.holdForChannel(ctx, k, row)
	}
	limit := s.perMinute(k.Channel, n.Limits())
	if row.DigestOwner == "" {
		owner, err := s.claim(ctx, row, self, limit)
		if err != nil {
			return err
		}
		if owner != self {
			return nil
		}
	}
	rows, err := s.st.Owned(ctx, k.Org, self, k.Channel)
	if err != nil {
		return err
	}
	// Own row first: it is the oldest and it carries the job.
	var mine, live []*store.Channel
	now := s.now()
	for _, r := range rows {
		if now.Sub(r.ReceivedAt) > s.horizon() {
			if err := s.failRows(ctx, k, []*store.Channel{r}, s.gaveUp(r.LastError)); err != nil {
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
		return s.release(ctx, k)
	}
	rows = append(mine, live...)
	if len(rows) == 1 {
		return s.sendSingle(ctx, n, limit, rows[0], k, store.Key{})
	}
	return s.sendDigest(ctx, n, limit, rows, k)
}

// claim makes the job the owner of its row, or adds the row to the open
// digest of a robot that has no free slot in its minute. It returns the
// owner. A robot only paced by its short window leaves the row unclaimed
// and the job snoozes its turn (a river.JobSnooze error): if the minute
// fills meanwhile, a digest can still gather the row.
func (s *orgRuntime) claim(ctx context.Context, row *store.Channel, self string, limit int) (string, error) {
	k := store.Key{Org: row.Org, DeliveryID: row.DeliveryID, Channel: row.Channel}
	if limit <= 0 {
		// No robot limit, so no digest to join: just take the row.
		return s.st.Claim(ctx, k, self)
	}
	owner := ""
	var paced rateDecision
	robot := s.robot(row.Channel)
	err := s.st.Tx(ctx, func(t *store.Tx) error {
		if err := t.LockRate(ctx, robot); err != nil {
			return err
		}
		cur, err := t.OwnerOf(ctx, k)
		if err != nil {
			return err
		}
		if cur != "" {
			owner = cur
			return nil
		}
		owner = self
		dec, err := t.RateCheckWindows(ctx, robot, 1, s.windows(row.Channel, limit), s.now(), false)
		if err != nil {
			return err
		}
		if !dec.OK && dec.Short {
			backlog, err := t.PendingTexts(ctx, row.Org, row.Channel, "")
			if err != nil {
				return err
			}
			if !s.stormy(row.Channel, dec, backlog) {
				// Only the robot's short window is full: wait a moment,
				// unclaimed, so that a digest can still gather the row
				// if a storm builds meanwhile; else it goes on its own.
				paced = dec
				return nil
			}
		}
		if !dec.OK {
			// No slot in the minute: join the digest being gathered, if it
			// has room.
			open, err := t.OpenDigests(ctx, row.Org, row.Channel)
			if err != nil {
				return err
			}
			for _, d := range open {
				if d.Alerts+row.NAlerts <= s.cfg.MaxDigestAlerts {
					owner = d.Owner
					break
				}
			}
		}
		_, err = t.Claim(ctx, k, owner)
		return err
	})
	if err == nil && paced.Short {
		s.m.rateWaits.WithLabelValues(row.Channel).Inc()
		return "", river.JobSnooze(paceSnooze(paced))
	}
	return owner, err
}

// waitForSlot gathers the robot's waiting rows into this job's digest and
// snoozes the job until the rate limit frees a slot. A refusal that only
// paces the robot (dec.Short: its per-second window) gathers nothing while
// few texts wait (see stormy): the job snoozes its turn and sends its own
// text (see ratelimit.go).
func (s *orgRuntime) waitForSlot(ctx context.Context, channel, self string, owned int, dec rateDecision) error {
	s.m.rateWaits.WithLabelValues(channel).Inc()
	if dec.Short {
		backlog, err := s.st.PendingTexts(ctx, s.org, channel, "")
		if err != nil {
			return err
		}
		if !s.stormy(channel, dec, backlog) {
			return river.JobSnooze(paceSnooze(dec))
		}
	}
	wait := dec.Wait
	if room := s.cfg.MaxDigestAlerts - owned; room > 0 {
		if err := s.st.Tx(ctx, func(t *store.Tx) error { return t.Gather(ctx, s.org, self, channel, room) }); err != nil {
			return err
		}
	}
	return river.JobSnooze(wait + time.Duration(rand.Int64N(int64(100*time.Millisecond))))
}

// sendSingle sends one notification's text, combined with its chart when
// the platform allows and the chart is ready within chart.budget. handTo,
// when set, is where the sender's other rows pass once it is sent (a
// digest whose oldest notification fits no message whole sends it alone).
func (s *orgRuntime) sendSingle(ctx context.Context, n channels.Notifier, limit int, row *store.Channel, k, handTo store.Key) error {
	del, err := loadDelivery(ctx, s.st.DB, row.DeliveryID)
	if err != nil {
		return err
	}
	if limit > 0 {
		// Do not start charts for a robot that has to wait anyway.
		dec, err := s.peek(ctx, row.Channel, 1, limit)
		if err != nil {
			return err
		}
		if !dec.OK {
			return s.waitForSlot(ctx, row.Channel, k.Owner(), row.NAlerts, dec)
		}
	}
	data := channelData(del.Data, row.Fingerprints)
	chartAlerts := s.chartAlerts(row.Channel, del, row)
	chartLang := s.chartLang(row.Channel)
	for _, a := range chartAlerts {
		s.charts.start(s, del, a, chartLang)
	}
	part := channels.PartText
	var chart *channels.Chart
	var info channels.ChartInfo
	chartWanted := len(chartAlerts) > 0
	msg := &channels.Message{Data: data, Part: part, GrafanaURL: s.grafanaURL, AlertmanagerURL: data.ExternalURL}
	textCost := channels.CostOf(n, msg)
	cost := textCost
	if n.Limits().CombinesTextAndImage && len(chartAlerts) == 1 && !row.NoCombine {
		wctx, cancel := context.WithDeadline(ctx, del.ReceivedAt.Add(s.s.Chart.Budget.D()))
		res, err := s.charts.get(wctx, s, del, chartAlerts[0], chartLang)
		cancel()
		if ctx.Err() != nil {
			return river.JobSnooze(0)
		}
		switch {
		case err == nil && res.err == nil:
			part, chart, info = channels.PartBoth, res.chart, res.info
			cost = channels.CostOf(n, &channels.Message{Data: data, Part: part, Chart: chart})
		case err == nil:
			// Known already that there is no chart: the text says so
			// itself (no message of its own) and no chart job follows.
			msg.ChartNote = nochart.Note(s.noteLang(row.Channel), res.err)
			info.Note, chartWanted = truncate("chart unavailable: "+res.err.Error(), 500), false
			textCost = channels.CostOf(n, msg)
			cost = textCost
		}
	}
	dec, err := s.acquire(ctx, row.Channel, cost, limit)
	if err != nil {
		return err
	}
	if !dec.OK && part == channels.PartBoth {
		part, chart, info, cost = channels.PartText, nil, channels.ChartInfo{}, textCost
		if dec, err = s.acquire(ctx, row.Channel, cost, limit); err != nil {
			return err
		}
	}
	if !dec.OK {
		return s.waitForSlot(ctx, row.Channel, k.Owner(), row.NAlerts, dec)
	}
	msg.Part, msg.Chart = part, chart
	unlock := s.lockChannel(row.Channel)
	defer unlock()
	// Jobs prepare in parallel and take their turns here: look again
	// that the row is still this job's to send, and that the queue
	// database answers. Should it have gone away meanwhile, the text is
	// not sent (nothing could record it): a database outage repeats at
	// most the one message in flight, not every job that was waiting.
	if cur, err := s.st.Channel(ctx, store.Key{Org: row.Org, DeliveryID: row.DeliveryID, Channel: row.Channel}); err != nil {
		s.settle(ctx, row.Channel, dec)
		return err
	} else if cur.Status != store.Pending || cur.TextSentAt.Valid || cur.DigestOwner != k.Owner() {
		s.settle(ctx, row.Channel, dec)
		return nil
	}
	at := s.now()
	res, dur, sendErr := s.send(ctx, n, msg)
	o := sendOutcome{self: k, rows: []*store.Channel{row}, part: string(part), at: at, dur: dur, res: res, err: sendErr, dec: dec, handTo: handTo}
	if sendErr != nil {
		s.settle(ctx, row.Channel, dec)
		return s.textFailed(ctx, o, part == channels.PartBoth)
	}
	return s.textSent(ctx, o, info, chartWanted, nil)
}

// sendOutcome is one text (or combined, or digest) send to record.
type sendOutcome struct {
	self store.Key        // the sender's key (its job, or the lane task)
	rows []*store.Channel // the rows the message carried
	part string           // channels.Part or partDigest
	at   time.Time        // when the send started
	dur  time.Duration
	res  *channels.Result
	err  error
	dec  rateDecision // the slots the send reserved
	lane bool         // a lane's first attempt
	// handTo, when set, is the row the sender's leftover rows pass to (a
	// digest that could not name them all): they stay claimed, by its
	// key, and it gets the one text job that sends them next.
	handTo store.Key
}

// textSent records a successful send and queues the chart follow-up where
// one is due. info is the chart that went with the text (PartBoth);
// chartWanted says the rows get charts; for a digest, ov (when set) is what
// became of its overview chart.
func (s *orgRuntime) textSent(ctx context.Context, o sendOutcome, info channels.ChartInfo, chartWanted bool, ov *overviewOutcome) error {
	// Recording must not be cut short by a shutdown: the message is out.
	ctx = context.WithoutCancel(ctx)
	done := s.now()
	rec := store.Sending{Org: o.self.Org, Channel: o.self.Channel, Robot: s.robot(o.self.Channel), Owner: o.self.Owner(),
		Held: o.lane && len(o.rows) == 1 && o.rows[0].Holder != ""}
	if o.handTo.DeliveryID != "" {
		rec.HandTo = o.handTo.Owner()
	}
	if o.dec.OK && o.dec.At != 0 {
		rec.SettleAt, rec.SettleTo = o.dec.At, done
	}
	var jobs []river.InsertManyParams
	for _, r := range o.rows {
		k := store.Key{Org: r.Org, DeliveryID: r.DeliveryID, Channel: r.Channel}
		lat := done.Sub(r.ReceivedAt)
		row := store.TextSent{Key: k, At: done, Latency: lat, Part: o.part, Renderer: info.Renderer, Fallback: info.FallbackReason}
		switch {
		case o.part == string(channels.PartBoth):
			row.Chart, row.ChartSent, row.ChartLat = store.ChartDone, &done, &lat
		case o.part == partDigest && ov != nil:
			row.Chart, row.Note = ov.state, ov.note
			if ov.sent {
				row.ChartSent, row.ChartLat = &done, &lat
			}
		case o.part == partDigest && chartWanted:
			row.Chart, row.Note = store.ChartSkipped, "chart skipped: sent in a digest while the channel was rate limited"
		case chartWanted:
			row.Chart = store.ChartPending
			jobs = append(jobs, river.InsertManyParams{Args: chartArgs{Org: r.Org, DeliveryID: r.DeliveryID, Channel: r.Channel}})
		}
		if info.Note != "" && row.Note == "" {
			row.Note = info.Note
		}
		rec.Rows = append(rec.Rows, row)
		rec.Attempts = append(rec.Attempts, attempt(k, o.part, o.at, o.dur, o.res, nil))
	}
	var err error
	if o.lane && len(jobs) == 0 {
		// A lane's text: one round trip on PostgreSQL (see RecordSentNow).
		var left []store.Key
		if left, err = s.st.RecordSentNow(ctx, rec); err == nil && len(left) > 0 {
			err = s.q.Tx(ctx, func(t *store.Tx) error { return enqueueTexts(ctx, t, left) })
		}
	} else {
		err = s.q.Tx(ctx, func(t *store.Tx) error {
			// Rows that joined the sender's digest but were not in the
			// message are released, each with a text job of its own (see
			// releaseIn).
			left, err := t.RecordSent(ctx, rec)
			if err != nil {
				return err
			}
			if _, err := t.Enqueue(ctx, jobs...); err != nil {
				return err
			}
			if rec.HandTo != "" && len(left) > 0 {
				return s.handedTo(ctx, t, o.handTo, left)
			}
			return enqueueTexts(ctx, t, left)
		})
	}
	if err != nil {
		return err
	}
	outcome := string(store.Sent)
	if o.part == partDigest {
		outcome = partDigest
	}
	for _, r := range o.rows {
		s.m.deliveries.WithLabelValues(r.Channel, outcome).Inc()
		s.m.textLatency.Observe(done.Sub(r.ReceivedAt).Seconds())
	}
	return nil
}

// handedTo gives the rows a digest passed to handTo (left, as RecordSent
// returned them) the one job that sends them: handTo's. Should handTo not
// be among them (given up meanwhile), they are released instead, each with
// a job of its own.
func (s *orgRuntime) handedTo(ctx context.Context, t *store.Tx, handTo store.Key, left []store.Key) error {
	for _, k := range left {
		if k.DeliveryID == handTo.DeliveryID {
			return enqueueTexts(ctx, t, []store.Key{handTo})
		}
	}
	keys, err := t.Unclaim(ctx, handTo.Org, handTo.Owner(), handTo.Channel)
	if err != nil {
		return err
	}
	return enqueueTexts(ctx, t, keys)
}

// textFailed is textFailure for a River job: a retry snoozes the job.
func (s *orgRuntime) textFailed(ctx context.Context, o sendOutcome, combined bool) error {
	delay, retry, err := s.textFailure(ctx, o, combined)
	if err != nil || !retry {
		return err
	}
	return river.JobSnooze(delay)
}

// textFailure records a failed send and decides: retry after delay, or
// (retry false) the rows were given up. combined says the message carried
// the chart too (PartBoth, or a digest with its overview): one that is
// TooBig is retried without the image. A send cut short by a shutdown is
// retried at once, by the next instance.
func (s *orgRuntime) textFailure(ctx context.Context, o sendOutcome, combined bool) (delay time.Duration, retry bool, err error) {
	shutdown := ctx.Err() != nil
	ctx = context.WithoutCancel(ctx)
	channel := o.self.Channel
	kind := channels.KindOf(o.err)
	msg := truncate(o.err.Error(), 2000)
	err = s.st.Tx(ctx, func(t *store.Tx) error {
		for _, r := range o.rows {
			k := store.Key{Org: r.Org, DeliveryID: r.DeliveryID, Channel: r.Channel}
			if err := recordAttempt(ctx, t.DB, k, o.part, o.at, o.dur, o.res, o.err); err != nil {
				return err
			}
			if err := t.RecordFailure(ctx, k, msg); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	if shutdown {
		return 0, true, nil //nolint:nilerr // the failure is recorded; a send cut short by a shutdown is retried at once
	}
	if kind == channels.TooBig && combined {
		return 0, true, s.st.SetNoCombine(ctx, store.Key{Org: o.self.Org, DeliveryID: o.rows[0].DeliveryID, Channel: channel})
	}
	oldest := o.rows[0].ReceivedAt
	for _, r := range o.rows {
		if r.ReceivedAt.Before(oldest) {
			oldest = r.ReceivedAt
		}
	}
	delay, giveUp, err := s.retry(ctx, channel, o.part, o.err, o.rows[0].Attempts+1, oldest)
	switch {
	case err != nil:
		return 0, false, err
	case !giveUp:
		return delay, true, nil
	case kind == channels.Permanent || kind == channels.BadCredentials:
		s.log.Warn("delivery: channel refused the message", "channel", channel, "kind", string(kind), "error", msg)
		return 0, false, s.failRows(ctx, o.self, o.rows, msg)
	case kind == channels.TooBig:
		return 0, false, s.failRows(ctx, o.self, o.rows, msg)
	}
	return 0, false, s.failRows(ctx, o.self, o.rows, s.gaveUp(msg))
}

// failRows marks rows failed and hands the owner's other rows back.
func (s *orgRuntime) failRows(ctx context.Context, self store.Key, rows []*store.Channel, reason string) error {
	ctx = context.WithoutCancel(ctx)
	err := s.q.Tx(ctx, func(t *store.Tx) error {
		if err := t.LockDigests(ctx, s.robot(self.Channel)); err != nil {
			return err
		}
		for _, r := range rows {
			if err := t.MarkFailed(ctx, store.Key{Org: r.Org, DeliveryID: r.DeliveryID, Channel: r.Channel}, truncate(reason, 2000)); err != nil {
				return err
			}
		}
		return s.releaseIn(ctx, t, self)
	})
	if err != nil {
		return err
	}
	for _, r := range rows {
		s.m.deliveries.WithLabelValues(r.Channel, string(store.Failed)).Inc()
	}
	return nil
}

// release hands rows owned by self back to the queue (see releaseIn).
func (s *orgRuntime) release(ctx context.Context, self store.Key) error {
	ctx = context.WithoutCancel(ctx)
	return s.q.Tx(ctx, func(t *store.Tx) error {
		if err := t.LockDigests(ctx, s.robot(self.Channel)); err != nil {
			return err
		}
		return s.releaseIn(ctx, t, self)
	})
}

// releaseIn un-claims every still pending row owned by self and queues a
// fresh text job for each, so rows that joined a digest but did not fit are
// never stranded. The transaction must hold LockDigests for the channel
// (taken first, before any channel row): an owner finishing takes it before
// it looks for rows left in its digest, so a row can never join a digest
// whose owner has already looked for the last time — either the join
// commits first and the owner hands the row back, or the owner finishes
// first and the joiner no longer sees it as an open digest.
func (s *orgRuntime) releaseIn(ctx context.Context, t *store.Tx, self store.Key) error {
	left, err := t.Unclaim(ctx, self.Org, self.Owner(), self.Channel)
	if err != nil {
		return err
	}
	return enqueueTexts(ctx, t, left)
}

// enqueueTexts gives each row a text job of its own.
func enqueueTexts(ctx context.Context, t *store.Tx, keys []store.Key) error {
	if len(keys) == 0 {
		return nil
	}
	jobs := make([]river.InsertManyParams, len(keys))
	for i, k := range keys {
		jobs[i] = textJob(k)
	}
	_, err := t.Enqueue(ctx, jobs...)
	return err
}

// heldFor is how often a text whose channel the organisation's settings do
// not have (any more) looks for it again.
const heldFor = 15 * time.Second

// holdForChannel keeps a text whose channel the current settings do not
// have — a settings save renamed or removed it while the text waited, or
// the job runs before the settings that name it are back — pending, and
// says so in its record, until delivery.retryHorizon: a settings fix (or
// the new instance) sends it. Only then is it failed.
func (s *orgRuntime) holdForChannel(ctx context.Context, k store.Key, row *store.Channel) error {
	if s.now().Sub(row.ReceivedAt) > s.horizon() {
		return s.failRows(ctx, k, []*store.Channel{row}, s.gaveUp(fmt.Sprintf("channel %q is not in the settings of organisation %d", k.Channel, k.Org)))
	}
	why := fmt.Sprintf("waiting: channel %q is not in the current settings of organisation %d; sent once it is, given up after delivery.retryHorizon", k.Channel, k.Org)
	if row.LastError != why {
		if err := s.st.SetLastError(context.WithoutCancel(ctx), k, why); err != nil {
			return err
		}
	}
	return river.JobSnooze(heldFor)
}
