package delivery

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// Recording a text's send: sent, failed or given up, and the rows its
// sender hands back. Lanes, single sends and digests all end here, so it
// is apart from each of them.

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
