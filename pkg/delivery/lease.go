package delivery

import (
	"context"
	"time"
)

// A lease is a block of rate slots (or, without a limit, a pause check) a
// lane takes at once and spends on its next sends, so that a robot with a
// high limit does not cost a locked reservation per text. It is only used
// where one block is a tiny part of the limit (leaseSize); a robot of 20
// a minute still reserves exactly, per send. A lease lasts leaseTTL at
// most, and slots it did not use stay counted until they leave the window
// (never too few). Its slots keep the time they were taken unless its last
// send ended more than leaseSettleAfter later: then they move to that end
// (settle), so the window never frees them much earlier than the platform
// does; the window's second of margin (Config.RateWindow) covers the rest.
type lease struct {
	robot string    // whose window the slots are in
	at    int64     // the slots' time in the window log (Unix ms); 0: none reserved
	left  int       // messages left
	until time.Time // when it ends
	end   time.Time // the end of its last send
}

const (
	leaseTTL         = 250 * time.Millisecond
	leaseMax         = 64
	leaseSettleAfter = 500 * time.Millisecond
)

// leaseSize is how many messages a lease covers under limit (per minute):
// 1/600 of the limit (so at most 0.2 % of it is held ahead), at most
// leaseMax; 0 means reserve exactly. Without a limit only the pause check
// is leased.
func leaseSize(limit int) int {
	if limit <= 0 {
		return leaseMax
	}
	if n := min(leaseMax, limit/600); n > 1 {
		return n
	}
	return 0
}

// take reserves cost messages for the next send: from the lease when it
// covers them, else by a new lease or an exact reservation. dec.OK false
// means the robot has no slot (or is paused).
func (l *lane) take(ctx context.Context, s *orgRuntime, cost, limit int) (rateDecision, error) {
	now := s.now()
	size := s.leaseSizeFor(l.k.channel, limit)
	if size == 0 {
		return s.acquire(ctx, l.k.channel, cost, limit)
	}
	if now.Before(l.lease.until) && l.lease.left >= cost && l.lease.robot == s.robot(l.k.channel) {
		l.lease.left -= cost
		return rateDecision{OK: true}, nil
	}
	l.endLease(ctx)
	size = max(size, cost)
	dec, err := s.acquire(ctx, l.k.channel, size, limit)
	if err == nil && !dec.OK && size > cost && dec.Wait > 0 {
		// Not a whole lease free: just what this send needs.
		size = cost
		dec, err = s.acquire(ctx, l.k.channel, cost, limit)
	}
	if err != nil || !dec.OK {
		return dec, err
	}
	l.lease = lease{robot: s.robot(l.k.channel), at: dec.At, left: size - cost, until: now.Add(leaseTTL)}
	return rateDecision{OK: true}, nil
}

// sent notes the end of a send made under the lease.
func (l *lane) sent(end time.Time) { l.lease.end = end }

// endLease ends the lease, settling its slots if its last send ended long
// after they were taken (see lease).
func (l *lane) endLease(ctx context.Context) {
	ls := l.lease
	l.lease = lease{}
	if ls.at != 0 && ls.end.Sub(time.UnixMilli(ls.at)) > leaseSettleAfter {
		l.e.settleRobot(ctx, ls.robot, rateDecision{OK: true, At: ls.at})
	}
}

// stopLanes makes every lane finish its current send and hand its queue to
// River, and waits until they did (or ctx ends).
func (e *engine) stopLanes(ctx context.Context) error {
	e.mu.Lock()
	lanes := make([]*lane, 0, len(e.lanes))
	for k, l := range e.lanes {
		lanes = append(lanes, l)
		delete(e.lanes, k)
		l.stop()
	}
	e.stopping = append(e.stopping, lanes...)
	all := append([]*lane(nil), e.stopping...)
	e.mu.Unlock()
	for _, l := range all {
		select {
		case <-l.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
