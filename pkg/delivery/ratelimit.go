package delivery

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"

	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// The robot rate limiter is a sliding window log kept in the queue database
// (see the store), so every replica sharing a PostgreSQL queue counts the
// same sends. A send first reserves slots, one per platform message it
// will cost, under the channel's lock. A window never holds more than the
// limit, whether the platform counts per calendar minute or per sliding
// minute, because the window (Config.RateWindow, default 61 s) is at least
// a minute long. Failed sends keep their slot: WeCom counts them too. A
// platform-requested pause (Retry-After, 429) holds the channel back on
// every replica.

// rateDecision says whether a send may go now.
type rateDecision = store.RateDecision

// acquire reserves cost slots of the window of channel's robot when they
// are free. limit 0 means the platform has no known limit (only pauses
// apply).
func (s *orgRuntime) acquire(ctx context.Context, channel string, cost, limit int) (rateDecision, error) {
	robot := s.robot(channel)
	if limit <= 0 {
		// No slots to reserve: only a platform-requested pause applies.
		return s.st.RateCheck(ctx, robot, cost, limit, s.cfg.RateWindow, s.now(), false)
	}
	var dec rateDecision
	err := s.st.Tx(ctx, func(t *store.Tx) error {
		var err error
		dec, err = t.RateCheck(ctx, robot, cost, limit, s.cfg.RateWindow, s.now(), true)
		return err
	})
	return dec, err
}

// peek reports whether cost slots are free now, reserving nothing.
func (s *orgRuntime) peek(ctx context.Context, channel string, cost, limit int) (rateDecision, error) {
	return s.st.RateCheck(ctx, s.robot(channel), cost, limit, s.cfg.RateWindow, s.now(), false)
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
	cost := channels.CostOf(n, msg)
	var dec rateDecision
	refused := ""
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
		if limit <= 0 {
			dec = free
			return nil
		}
		dec, err = t.RateCheck(ctx, robot, cost, limit, rt.cfg.RateWindow, rt.now(), true)
		return err
	})
	if err != nil {
		return nil, err
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
