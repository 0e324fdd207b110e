package delivery

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"

	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// The robot rate limiter is a sliding window log kept in the queue database
// (see the store), so every replica sharing a PostgreSQL queue counts the
// same sends. A send first reserves slots, one per platform message it
// will cost, under the channel's lock, in every window the platform
// documents (channels.Limits.Rates): its minute limit and, where it has
// one, its short window (Feishu 5 a second, Discord 5 per 2 seconds, Teams
// 4 a second, Slack and Telegram one a second per chat). The minute window
// never holds more than the limit, whether the platform counts per
// calendar minute or per sliding minute, because it is counted over
// Config.RateWindow (default 61 s), at least a minute long; the channel's
// rateLimitPerMinute replaces that limit, never the short window. Failed
// sends keep their slot: WeCom counts them too. A platform-requested pause
// (Retry-After on a refusal, or Result.Pause on a success: Discord's
// X-RateLimit-Remaining 0 with its Reset-After) holds the channel back on
// every replica.
//
// A refusal by the short window alone (store.RateDecision.Short) is
// pacing, not a storm: the text waits its turn — a lane sleeps the few
// hundred milliseconds, a River job snoozes — and goes as its own message.
// Only a full minute window (or a long pause) merges waiting texts into a
// digest, so a burst of a few alerts arrives as a few messages
// Burst.Interval() apart.

// rateDecision says whether a send may go now.
type rateDecision = store.RateDecision

// windows lists the rate windows of a channel's robot, shortest first: the
// platform's short windows (from the notifier's Limits) and the minute
// limit (limit: the channel's rateLimitPerMinute or the platform's
// PerMinute, counted over Config.RateWindow). Empty: no known limit.
func (s *orgRuntime) windows(channel string, limit int) []store.Window {
	var l channels.Limits
	if n := s.notifiers[channel]; n != nil {
		l = n.Limits()
	}
	return windowsOf(l, limit, s.cfg.RateWindow)
}

// paceMargin lengthens a platform's short window, as the extra second of
// Config.RateWindow does the minute: slots are kept in milliseconds, and
// a slot is taken a moment before its request reaches the platform (and
// moved to the send's end only after it).
const paceMargin = 50 * time.Millisecond

func windowsOf(l channels.Limits, limit int, minute time.Duration) []store.Window {
	var ws []store.Window
	for _, r := range l.Rates() {
		if r.Per < time.Minute {
			ws = append(ws, store.Window{Max: r.Messages, Per: r.Per + paceMargin, Pace: true})
		}
	}
	if limit > 0 {
		ws = append(ws, store.Window{Max: limit, Per: minute})
	}
	return ws
}

// paced reports whether the channel's platform has a window shorter than a
// minute: its sends reserve exactly (no lease, see leaseSizeFor).
func (s *orgRuntime) paced(channel string) bool {
	n := s.notifiers[channel]
	if n == nil {
		return false
	}
	for _, r := range n.Limits().Rates() {
		if r.Per < time.Minute {
			return true
		}
	}
	return false
}

// leaseSizeFor is leaseSize for a channel: a paced channel reserves
// exactly, since a block of slots taken at once would break its short
// window.
func (s *orgRuntime) leaseSizeFor(channel string, limit int) int {
	if s.paced(channel) {
		return 0
	}
	return leaseSize(limit)
}

// acquire reserves cost slots of every window of channel's robot when they
// are free. limit is the minute limit (0: none); without any window only
// pauses apply.
func (s *orgRuntime) acquire(ctx context.Context, channel string, cost, limit int) (rateDecision, error) {
	robot := s.robot(channel)
	ws := s.windows(channel, limit)
	if len(ws) == 0 {
		// No slots to reserve: only a platform-requested pause applies.
		return s.st.RateCheckWindows(ctx, robot, cost, nil, s.now(), false)
	}
	var dec rateDecision
	err := s.st.Tx(ctx, func(t *store.Tx) error {
		var err error
		dec, err = t.RateCheckWindows(ctx, robot, cost, ws, s.now(), true)
		return err
	})
	return dec, err
}

// peek reports whether cost slots are free now, reserving nothing.
func (s *orgRuntime) peek(ctx context.Context, channel string, cost, limit int) (rateDecision, error) {
	return s.st.RateCheckWindows(ctx, s.robot(channel), cost, s.windows(channel, limit), s.now(), false)
}

// paceHorizon bounds how long a paced robot's backlog may take at its
// short window's pace before it counts as a storm: more texts waiting than
// the short window sends in that time are merged into digests at once
// instead of trickling out one by one until the minute is full (Slack's
// one a second would take a whole minute to fill its 60).
const paceHorizon = 10 * time.Second

// paceBacklog is how many texts may wait for the channel's robot and still
// go one by one at its short window's pace (Slack 10, Teams 40, Feishu
// 50); 0 for a channel without a short window.
func (s *orgRuntime) paceBacklog(channel string) int {
	n := s.notifiers[channel]
	if n == nil {
		return 0
	}
	backlog := 0
	for _, r := range n.Limits().Rates() {
		if r.Per < time.Minute {
			if iv := r.Interval(); iv > 0 {
				backlog = max(backlog, int(paceHorizon/iv))
			}
		}
	}
	return backlog
}

// stormy reports whether a refusal that only paces the robot (dec.Short)
// finds so many texts waiting for it (backlog, this one included) that
// they should be merged into digests rather than wait their turns.
func (s *orgRuntime) stormy(channel string, dec rateDecision, backlog int64) bool {
	return !dec.OK && dec.Short && backlog > int64(s.paceBacklog(channel))
}

// paceSnooze is how long a River job refused by a short window (Short)
// snoozes: the wait plus up to 200 ms of jitter, so jobs waiting for the
// same robot do not all wake at the same millisecond.
func paceSnooze(dec rateDecision) time.Duration {
	return dec.Wait + time.Duration(rand.Int64N(int64(200*time.Millisecond)))
}

// settle moves the slots reserved at dec.At to the end of the send. A
// platform counts a message somewhere between the request's start and its
// answer, so counting the window from the answer keeps a slow send from
// letting the next window start too early.
func (s *orgRuntime) settle(ctx context.Context, channel string, dec rateDecision) {
	s.settleRobot(ctx, s.robot(channel), dec)
}

func (e *engine) settleRobot(ctx context.Context, robot string, dec rateDecision) {
	if !dec.OK || dec.At == 0 {
		return
	}
	end := e.now()
	if end.UnixMilli() <= dec.At {
		return
	}
	if err := e.st.Settle(context.WithoutCancel(ctx), robot, dec.At, end); err != nil {
		e.log.Warn("delivery: could not settle rate-limit slot", "robot", robot, "error", err)
	}
}

// pause holds a channel's robot back until the given time (platform
// Retry-After).
func (s *orgRuntime) pause(ctx context.Context, channel string, until time.Time) error {
	return s.st.Pause(ctx, s.robot(channel), until)
}

// testKeepsFree is the share of a robot's limit a channel test leaves free
// for alerts: a test takes the robot's slots like any send, and is refused
// when it would leave alerts less than this (a dozen clicks on the config
// page's test button must not make the next alert wait, or provoke the
// platform's rate-limit error).
const testKeepsFree = 0.5

// SendTest sends a channel's test message (the config page's button) to
// the robot through its rate limit: it takes the slots the message costs
// in the window every send counts in, and is refused — an error of kind
// channels.Retryable that says when to try again — while the robot is
// paused or when fewer than half of its slots would be left for alerts.
func (s *Service) SendTest(ctx context.Context, name string, n channels.Notifier, msg *channels.Message) (*channels.Result, error) {
	if err := s.e.unavailable(); err != nil {
		return nil, err
	}
	rt := s.rt
	robot := rt.robot(name)
	limit := rt.perMinute(name, n.Limits())
	ws := windowsOf(n.Limits(), limit, rt.cfg.RateWindow)
	cost := channels.CostOf(n, msg)
	var dec rateDecision
	refused := ""
	for try := 0; ; try++ {
		err := rt.st.Tx(ctx, func(t *store.Tx) error {
			if err := t.LockRate(ctx, robot); err != nil {
				return err
			}
			keep := 0
			if limit > 0 {
				keep = int(math.Ceil(float64(limit) * testKeepsFree))
			}
			free, err := t.RateCheck(ctx, robot, cost+keep, limit, rt.cfg.RateWindow, rt.now(), false)
			if err != nil {
				return err
			}
			if !free.OK {
				refused = fmt.Sprintf("the robot's rate limit (%d messages a minute) is kept for alerts now: try the test again in %s", limit,
					max(time.Second, free.Wait).Round(time.Second))
				if limit <= 0 {
					refused = fmt.Sprintf("the platform asked for a pause: try the test again in %s", max(time.Second, free.Wait).Round(time.Second))
				}
				return nil
			}
			if len(ws) == 0 {
				dec = free
				return nil
			}
			dec, err = t.RateCheckWindows(ctx, robot, cost, ws, rt.now(), true)
			return err
		})
		if err != nil {
			return nil, err
		}
		if refused != "" || dec.OK || !dec.Short || try >= 3 {
			break
		}
		// The platform's short window: a moment's wait, not a refusal.
		select {
		case <-time.After(dec.Wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if refused != "" || !dec.OK {
		if refused == "" {
			refused = "the robot has no free slot now: try the test again in a minute"
		}
		return nil, &channels.Error{Kind: channels.Retryable, Msg: refused}
	}
	res, _, sendErr := rt.send(ctx, n, msg)
	rt.settleRobot(ctx, robot, dec)
	if ra := channels.RetryAfterOf(sendErr); ra > 0 {
		_ = rt.st.Pause(context.WithoutCancel(ctx), robot, rt.now().Add(ra))
	}
	return res, sendErr
}
