package delivery

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// Guards are PostgreSQL's safety net for the rows lanes hold (see lane.go).

// guardWindow is the span of acceptance one guard covers, per channel.
const guardWindow = time.Second

// guardJob returns the guard to insert with a lane row of channel accepted
// at, if no guard of this Service committed earlier covers it; done marks it
// covered once the insert committed.
func (s *Service) guardJob(channel string, at time.Time) (job *river.InsertManyParams, done func()) {
	from := at.Truncate(guardWindow)
	if v, ok := s.guarded.Load(channel); ok && v.(int64) == from.UnixMilli() {
		return nil, nil
	}
	to := from.Add(guardWindow)
	return &river.InsertManyParams{Args: guardArgs{Channel: channel, From: from.UnixMilli(), To: to.UnixMilli()},
			InsertOpts: &river.InsertOpts{ScheduledAt: to.Add(s.laneGrace())}},
		func() { s.guarded.Store(channel, from.UnixMilli()) }
}

// guard hands back the rows of a guard's span still claimed by a lane that
// is not in this process: their replica died before sending them.
func (s *Service) guard(ctx context.Context, g guardArgs) error {
	keys, err := s.st.ClaimedBySelf(ctx, g.Channel, time.UnixMilli(g.From), time.UnixMilli(g.To))
	if err != nil {
		return err
	}
	taken := 0
	for _, k := range keys {
		if isHeld(k) {
			continue
		}
		err := s.q.Tx(ctx, func(t *store.Tx) error {
			// The channel's lock (made if need be) serialises guards of the
			// same span, so that the check below sees the job another one
			// just gave the row.
			if err := t.LockRate(ctx, k.Channel); err != nil {
				return err
			}
			// Rows with a live job of their own are that job's.
			if ok, err := t.UnclaimStranded(ctx, k); err != nil || !ok {
				return err
			}
			taken++
			_, err := t.Enqueue(ctx, textJob(k))
			return err
		})
		if err != nil {
			return err
		}
	}
	if taken > 0 {
		s.log.Warn("delivery: took over texts a replica had accepted but not sent", "channel", g.Channel, "texts", taken)
	}
	return nil
}
