package delivery

import (
	"context"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/riverqueue/river"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// sendDigest sends one message listing every alert of rows and, when the
// Charter draws overviews, one overview chart: in the same message on
// platforms that combine text and image (if the extra slots are free),
// otherwise as a second message right after the text (if a slot is free and
// no other text waits). The overview may hold the text back for at most
// chart.budget from the start of the send.
func (s *orgRuntime) sendDigest(ctx context.Context, n channels.Notifier, limit int, rows []*store.Channel, self store.Key) error {
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
	if !dec.OK {
		return s.waitForSlot(ctx, channel, self.Owner(), total, dec)
	}
	var picked []*store.Channel
	count := 0
	for _, r := range rows {
		if len(picked) > 0 && count+r.NAlerts > s.cfg.MaxDigestAlerts {
			continue // left for a later message
		}
		count += r.NAlerts
		picked = append(picked, r)
	}
	dels, err := loadDeliveries(ctx, s.st.DB, picked)
	if err != nil {
		return err
	}
	cands := make([]digestRow, len(picked))
	for i, r := range picked {
		cands[i] = digestRow{row: r, receiver: dels[i].Receiver, data: channelData(dels[i].Data, r.Fingerprints)}
	}
	// On a platform that combines text and image, measure the text with
	// the room the overview will take, so a digest that fills its message
	// can still carry its image.
	withImage := n.Limits().CombinesTextAndImage && !rows[0].NoCombine && s.overviewWanted(channel)
	fit := s.fitDigest(n, cands, withImage)
	if len(fit) == 0 {
		// Not even the oldest notification fits a message whole: it goes
		// alone, as its own message would (shrunk to what the platform
		// takes), and the rest pass to the next digest.
		return s.sendSingle(ctx, n, limit, cands[0].row, self, handToOf(rows, cands[:1]))
	}
	included := make([]*store.Channel, len(fit))
	for i, c := range fit {
		included[i] = c.row
	}
	receiver := fit[0].receiver
	data := digestData(fit)
	handTo := handToOf(rows, fit)
	deadline := started.Add(s.overviewBudget())
	ov := s.startOverview(channel, receiver, data.Alerts, deadline)
	lim := n.Limits()
	combine := ov != nil && lim.CombinesTextAndImage && !included[0].NoCombine

	part := channels.PartText
	var chart *channels.Chart
	var info channels.ChartInfo
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
		case !namesAll(n, s.digestMessage(data, channels.PartBoth, res.chart), fit):
			outcome = overviewSkipped("overview chart skipped: the digest text needs the room")
		default:
			s.storeOverview(ctx, included[0].DeliveryID, channel, res)
			cost := channels.CostOf(n, &channels.Message{Data: data, Part: channels.PartBoth, Chart: res.chart, Digest: true})
			// A combined message of one slot costs what the text alone costs;
			// one of several slots must not take them from waiting text.
			var idle bool
			dec, idle, err = s.acquireImage(ctx, channel, self.Owner(), cost, limit, cost > 1)
			if err != nil {
				return err
			}
			switch {
			case dec.OK:
				part, chart, info = channels.PartBoth, res.chart, res.info
				outcome = overviewSent("overview chart sent with the digest", overviewRef(included, channel, res.info))
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
		if !dec.OK {
			return s.waitForSlot(ctx, channel, self.Owner(), total, dec)
		}
	}
	msg := s.digestMessage(data, part, chart)
	unlock := s.lockChannel(channel)
	if still, err := s.stillOwned(ctx, self, included); err != nil || !still {
		// Another job of the same owner sent them meanwhile: what it left
		// to self, if anything, goes back to the queue.
		unlock()
		s.settle(ctx, channel, dec)
		if err != nil {
			return err
		}
		return s.release(ctx, self)
	}
	at := s.now()
	res, dur, sendErr := s.send(ctx, n, msg)
	if sendErr != nil {
		unlock()
		s.settle(ctx, channel, dec)
		return s.textFailed(ctx, sendOutcome{self: self, rows: included, part: partDigest, at: at, dur: dur, res: res, err: sendErr}, part == channels.PartBoth)
	}
	err = s.textSent(ctx, sendOutcome{self: self, rows: included, part: partDigest, at: at, dur: dur, res: res, dec: dec, handTo: handTo}, info, s.charter != nil, outcome)
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

// digestRow is a row a digest may carry, with its alerts.
type digestRow struct {
	row      *store.Channel
	receiver string
	data     *template.Data
}

// digestMessage is the message of a digest: the one its fit is measured
// on is the one sent.
func (s *orgRuntime) digestMessage(data *template.Data, part channels.Part, chart *channels.Chart) *channels.Message {
	return &channels.Message{Data: data, Part: part, Chart: chart, Digest: true, GrafanaURL: s.grafanaURL,
		AlertmanagerURL: data.ExternalURL, ListURL: s.listURL}
}

func digestData(rows []digestRow) *template.Data {
	parts := make([]*template.Data, len(rows))
	for i, r := range rows {
		parts[i] = r.data
	}
	return mergeData(parts)
}

// fitRounds bounds how often fitDigest measures a digest again after
// dropping the rows it did not name whole.
const fitRounds = 4

// fitDigest picks the rows of cands whose every alert the digest message
// names (channels.NamedBy): a message too long for the platform is shrunk,
// and the alerts it leaves out must not be recorded sent. Rows named in
// part are dropped and the rest measured again, since the message changed.
// Empty means not even one row fits whole.
func (s *orgRuntime) fitDigest(n channels.Notifier, cands []digestRow, withImage bool) []digestRow {
	part, chart := channels.PartText, (*channels.Chart)(nil)
	if withImage {
		// Stands for the overview not drawn yet: a Fitter only needs to
		// know an image goes with the text.
		part, chart = channels.PartBoth, &channels.Chart{Image: []byte("overview"), ContentType: "image/png"}
	}
	for range fitRounds {
		if len(cands) == 0 {
			return nil
		}
		data := digestData(cands)
		named, ok, err := channels.NamedBy(n, s.digestMessage(data, part, chart))
		if !ok || err != nil {
			// The channel cannot tell (or its template fails, which the
			// send will report): every alert counts as named, as a
			// message's own alerts do.
			return cands
		}
		keep := wholeRows(cands, named)
		if len(keep) == len(cands) {
			return cands
		}
		cands = keep
	}
	return nil
}

// wholeRows are the rows all of whose alerts are among named.
func wholeRows(rows []digestRow, named []string) []digestRow {
	set := make(map[string]bool, len(named))
	for _, fp := range named {
		set[fp] = true
	}
	var out []digestRow
next:
	for _, r := range rows {
		for _, a := range r.data.Alerts {
			if !set[a.Fingerprint] {
				continue next
			}
		}
		out = append(out, r)
	}
	return out
}

// namesAll reports whether m names every alert of rows (a channel that
// cannot tell is taken to).
func namesAll(n channels.Notifier, m *channels.Message, rows []digestRow) bool {
	named, ok, err := channels.NamedBy(n, m)
	if !ok {
		return true
	}
	return err == nil && len(wholeRows(rows, named)) == len(rows)
}

// handToOf is the oldest row of rows a digest does not carry (sent holds
// the carried ones): the sender's leftover rows pass to it, so the next
// digest goes out as soon as a slot frees. The zero Key when there is none.
func handToOf(rows []*store.Channel, sent []digestRow) store.Key {
	in := make(map[string]bool, len(sent))
	for _, r := range sent {
		in[r.row.DeliveryID] = true
	}
	for _, r := range rows {
		if !in[r.DeliveryID] {
			return store.Key{Org: r.Org, DeliveryID: r.DeliveryID, Channel: r.Channel}
		}
	}
	return store.Key{}
}

// stillOwned reports whether every row of a digest is still pending and
// owned by self, checked under the channel's send lock: two text jobs of
// the same row (a gathered row's own job, and the one a digest handed its
// leftovers to) must not both send them.
func (s *orgRuntime) stillOwned(ctx context.Context, self store.Key, rows []*store.Channel) (bool, error) {
	owned, err := s.st.Owned(ctx, self.Org, self.Owner(), self.Channel)
	if err != nil {
		return false, err
	}
	have := make(map[string]bool, len(owned))
	for _, r := range owned {
		have[r.DeliveryID] = true
	}
	for _, r := range rows {
		if !have[r.DeliveryID] {
			return false, nil
		}
	}
	return true, nil
}
