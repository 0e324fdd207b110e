// Package fakelimit is the sliding-window rate limiter every platform fake
// shares, so a fake's rate limit is one line that names the platform's
// documented windows (WeCom 20 a minute, Feishu 5 a second and 100 a
// minute, Discord 5 per 2 seconds, …) instead of a hand-written loop in
// each fake. The fake answers a refused request with the platform's own
// error code or headers; the limiter only decides and says how long to
// wait.
package fakelimit

import (
	"sync"
	"time"
)

// Window is at most Max requests in any span of Per.
type Window struct {
	Max int
	Per time.Duration
}

// Decision is the limiter's answer to one request.
type Decision struct {
	// OK is true when every window admitted the request.
	OK bool
	// Wait is how long until the fullest refusing window admits the next
	// request (0 when OK).
	Wait time.Duration
	// Remaining and ResetAfter describe the first window (the shortest,
	// when windows are given shortest first) after this request: how many
	// more requests it admits now, and when its oldest request leaves it.
	// Discord-style fakes turn them into X-RateLimit-* headers.
	Remaining  int
	ResetAfter time.Duration
}

// Limiter keeps request times per key (a robot, a chat, a webhook).
type Limiter struct {
	windows []Window
	// countRefused: refused requests take a slot too (WeCom and DingTalk
	// count failures against the robot's minute).
	countRefused bool

	mu    sync.Mutex
	calls map[string][]time.Time
}

// New returns a limiter enforcing every window; refused requests do not
// count.
func New(windows ...Window) *Limiter {
	return &Limiter{windows: windows, calls: map[string][]time.Time{}}
}

// CountingRefused returns a limiter whose refused requests count against
// the windows too, as WeCom and DingTalk count every call.
func CountingRefused(windows ...Window) *Limiter {
	l := New(windows...)
	l.countRefused = true
	return l
}

// Windows returns the limiter's windows.
func (l *Limiter) Windows() []Window { return append([]Window(nil), l.windows...) }

// Take records a request for key at now and decides it.
func (l *Limiter) Take(key string, now time.Time) Decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	longest := time.Duration(0)
	for _, w := range l.windows {
		longest = max(longest, w.Per)
	}
	recent := l.calls[key][:0]
	for _, t := range l.calls[key] {
		if now.Sub(t) < longest {
			recent = append(recent, t)
		}
	}
	d := Decision{OK: true}
	for _, w := range l.windows {
		in := inWindow(recent, now, w.Per)
		if len(in) >= w.Max {
			d.OK = false
			if wait := w.Per - now.Sub(in[len(in)-w.Max]); wait > d.Wait {
				d.Wait = wait
			}
		}
	}
	if d.OK || l.countRefused {
		recent = append(recent, now)
	}
	l.calls[key] = recent
	if len(l.windows) > 0 {
		w := l.windows[0]
		in := inWindow(recent, now, w.Per)
		d.Remaining = max(0, w.Max-len(in))
		if len(in) > 0 {
			d.ResetAfter = w.Per - now.Sub(in[0])
		}
	}
	return d
}

// inWindow returns the suffix of times (oldest first) within per of now.
func inWindow(times []time.Time, now time.Time, per time.Duration) []time.Time {
	i := 0
	for i < len(times) && now.Sub(times[i]) >= per {
		i++
	}
	return times[i:]
}
