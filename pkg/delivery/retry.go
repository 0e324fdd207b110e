package delivery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
)

// Sending and the one retry decision shared by texts, digests and charts.

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

func (s *orgRuntime) horizon() time.Duration { return s.s.Delivery.RetryHorizon.D() }

// retry decides what follows a failed send of part (attempt is its number,
// 1-based; oldest is when the oldest notification in the message was
// accepted): give up, or try again after the returned delay. Only
// Retryable errors are retried; the platform's Retry-After is a floor for
// the delay and pauses the whole channel, for every replica; nothing is
// retried past delivery.retryHorizon.
func (s *orgRuntime) retry(ctx context.Context, channel, part string, sendErr error, attempt int, oldest time.Time) (delay time.Duration, giveUp bool, err error) {
	if channels.KindOf(sendErr) != channels.Retryable {
		return 0, true, nil
	}
	delay = backoff(attempt)
	if ra := channels.RetryAfterOf(sendErr); ra > 0 {
		if err := s.pause(ctx, channel, s.now().Add(ra)); err != nil {
			return 0, false, err
		}
		delay = max(delay, ra)
	}
	if s.now().Add(delay).Sub(oldest) > s.horizon() {
		return 0, true, nil
	}
	s.m.retries.WithLabelValues(channel, part).Inc()
	return delay, false, nil
}

// gaveUp is the record of a delivery given up at the retry horizon.
func (s *orgRuntime) gaveUp(lastErr string) string {
	r := "gave up after delivery.retryHorizon " + s.horizon().String()
	if lastErr != "" {
		r += "; last error: " + lastErr
	}
	return r
}

// send calls the notifier under SendTimeout and turns a panic or a timeout
// into a retryable error. A successful answer's Result.Pause pauses the
// channel's robot (see ratelimit.go).
func (s *orgRuntime) send(ctx context.Context, n channels.Notifier, m *channels.Message) (res *channels.Result, dur time.Duration, err error) {
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
	if err == nil && res != nil && res.Pause > 0 {
		// The platform said the destination's window is spent (Discord's
		// X-RateLimit-Remaining 0): its next send waits that long, on
		// every replica.
		if perr := s.pause(context.WithoutCancel(ctx), n.Name(), s.now().Add(res.Pause)); perr != nil {
			s.log.Warn("delivery: could not record the platform's pause", "channel", n.Name(), "error", perr)
		}
	}
	if err != nil && sctx.Err() != nil && ctx.Err() == nil {
		var ce *channels.Error
		if !errors.As(err, &ce) {
			err = &channels.Error{Kind: channels.Retryable, Msg: fmt.Sprintf("no answer within %s", s.cfg.SendTimeout), Err: err}
		}
	}
	return res, dur, err
}

// lockChannel serialises, within this process, the texts going to one
// channel from the moment a send starts until its outcome is committed. A
// crash can only repeat a message that was sent but not yet recorded, so
// this keeps a kill -9 from repeating more than one text per channel and
// process. Chat robots gain nothing from parallel sends anyway.
func (s *orgRuntime) lockChannel(channel string) func() {
	v, _ := s.chLocks.LoadOrStore(channel, &sync.Mutex{})
	mu := v.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

func (s *orgRuntime) perMinute(channel string, l channels.Limits) int {
	if c, ok := s.s.Channel(channel); ok && c.RateLimitPerMinute > 0 {
		return c.RateLimitPerMinute
	}
	return l.PerMinute
}
