package delivery

import (
	"context"
	"strconv"
	"time"

	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// A lane that falls behind catches up: it hands what waits at its front to
// River as one digest. Apart from lane.go, which sends one text at a time.

// laneCatchUp is how far a lane may fall behind (the age of the text at its
// front) before it sends what waits as digests.
//
// A lane sends one message at a time, each recorded before the next goes:
// that bounds what a crash can repeat to one message per channel. Over
// HTTP, with the machine busy accepting a flood, that is a few hundred
// messages a second to one channel, and a flood of distinct webhooks to a
// robot without a rate limit can outrun it. Past laneCatchUp, the texts at
// the front go to River as one digest (as a rate-limited robot's backlog
// does): the chat gets every alert within seconds instead of one message
// per alert minutes late, and a crash still repeats at most one message.
// A robot paced by a short window (Slack's one a second) is behind by
// design: its lane merges only a backlog longer than the window sends in
// paceHorizon, as River does (stormy). Channels that send charts keep one
// message per notification (the chart is the point of it; digests carry
// none per alert).
const laneCatchUp = time.Second

// catchUpLen is how many tasks at the front of the lane go out as one
// digest (see laneCatchUp): 0 or 1 when the lane is not behind. It is
// called with l.mu held.
func (l *lane) catchUpLen() int {
	if len(l.queue) < 2 {
		return 0
	}
	s := l.e.current(l.k.org)
	if s == nil || s.s == nil || !s.chartless(l.k.channel) {
		return 0
	}
	head := l.queue[0]
	if head.epoch != l.e.epoch.Load() || s.now().Sub(head.at) < laneCatchUp || len(l.queue) <= s.paceBacklog(l.k.channel) {
		// Not behind; or behind a robot's short window with no more
		// waiting than it sends one by one (see paceHorizon).
		return 0
	}
	n, alerts := 0, 0
	for _, t := range l.queue {
		if t.epoch != head.epoch || (n > 0 && alerts+t.alerts > s.cfg.MaxDigestAlerts) {
			break
		}
		n++
		alerts += t.alerts
	}
	return n
}

// chartless says whether the channel sends no chart with a notification's
// text (no Charter, or the channel disables charts).
func (s *orgRuntime) chartless(channel string) bool {
	if s.charter == nil {
		return true
	}
	c, ok := s.s.Channel(channel)
	return ok && c.DisableChart
}

// catchUp hands the front of a lane that fell behind to River as one
// digest (see laneCatchUp): its oldest row owns the others, and its text
// job sends them (as many messages as the platform needs to name them
// all, see sendDigest).
func (e *engine) catchUp(ctx context.Context, tasks []*laneTask) {
	keys := make([]store.Key, len(tasks))
	for i, t := range tasks {
		keys[i] = t.k
	}
	holder := ""
	if !e.st.SQLite() {
		holder = e.replica
	}
	k0 := keys[0]
	e.untilStored(context.WithoutCancel(ctx), "hand "+strconv.Itoa(len(tasks))+" texts to the queue as a digest", func(ctx context.Context) error {
		return e.q.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.LockDigests(ctx, e.robotOf(k0.Org, k0.Channel)); err != nil {
				return err
			}
			owner, n, err := tx.GatherHeld(ctx, holder, keys)
			if err != nil || n == 0 {
				return err
			}
			return enqueueTexts(ctx, tx, []store.Key{owner})
		})
	}, func() {
		for _, t := range tasks {
			unhold(t.key())
		}
	})
}
