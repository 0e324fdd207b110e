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
