package delivery

import (
	"context"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// First attempts go through lanes, not River's fetch loop.
//
// Profiled at the side-by-side load (thousands of one-alert webhooks a
// second to a sink that answers at once), River's job round trip was most of
// a text's cost on SQLite: the job's insert, its fetch, its completion and
// reading back the row and notification Accept had just written, each a
// statement on the one connection, several of them commits. A lane is one
// goroutine per channel that Accept hands its new rows to, with the
// notification still in memory: it reserves the rate slots, sends, and
// records the outcome in one transaction, and only what it cannot finish at
// once becomes a River job — a robot without a free slot (River then merges
// the backlog into digests), a failed send (River retries it with backoff),
// a notification whose text waits for its chart, a Service closing.
//
// Durability is the same as through River. The row is committed, claimed by
// the lane's key, before Alertmanager gets its 200. On SQLite, one process
// owns the file: when it starts, rows a dead process held in a lane (pending,
// no live job) get a text job at once (recoverLanes). On PostgreSQL another
// replica must be able to take over: Accept makes sure a guard job covers
// each lane row — one per channel and second of acceptance (guardArgs), due
// laneGrace after that second. A lane hands to River at once any task older
// than laneMaxAge, so a guard never comes due while a live lane may still be
// sending one of its rows; when it does, a row still claimed by its lane
// belongs to a replica that died, and the guard hands it back to the queue
// unclaimed (merged into the robot's digest like any other waiting text).
//
// Within the process a held row is sent by nobody else: a text job of it
// (one requeued by maintenance) waits until the lane lets go, and neither
// maintenance nor a guard counts it as stranded.

// laneQueueMax bounds the tasks a lane holds; past it, new rows go to River
// at once. Only the first laneDataMax tasks keep their notification in
// memory: the ones queued behind them keep their key and are read back when
// their turn comes (two reads, still much cheaper than River's round trip,
// which a burst would otherwise take: on the development machine about
// twice the CPU per text). On PostgreSQL what a dead replica's lanes held
// is taken over after laneGrace, like River's running jobs.
const laneQueueMax = 100000

var laneDataMax = 4000 // a variable for tests

// laneGrace is how long after a second of acceptance its guard comes due on
// PostgreSQL: a replica that died holding rows of it is taken over then, as
// River takes over the running jobs of a dead replica (Config.RescueAfter).
func (s *Service) laneGrace() time.Duration {
	return max(s.cfg.RescueAfter, s.cfg.SendTimeout+20*time.Second)
}

// laneMaxAge is how old a task may be when the lane starts its send: it must
// be sent and recorded (15 s of margin) before its guard comes due.
func (s *Service) laneMaxAge() time.Duration {
	return s.laneGrace() - s.cfg.SendTimeout - 15*time.Second
}

// laneTask is one row a lane sends: its notification and row, or (queued
// far behind, see laneDataMax) only its key until its turn comes.
type laneTask struct {
	k   store.Key
	del *deliveryRec
	row *store.Channel
}

func (t *laneTask) key() store.Key { return t.k }

// load reads back the row and notification of a task queued without them;
// false means the row is no longer the lane's to send.
func (s *Service) load(ctx context.Context, t *laneTask) (bool, error) {
	if t.del != nil {
		return true, nil
	}
	row, n, err := s.st.ChannelWithNotification(ctx, t.k)
	if err != nil {
		return false, err
	}
	if row.Status != store.Pending || row.TextSentAt.Valid || row.DigestOwner != t.k.Owner() {
		return false, nil
	}
	del, err := decodeDelivery(n)
	if err != nil {
		return false, err
	}
	t.row, t.del = row, del
	return true, nil
}

// held is the process-wide set of rows a lane holds. Its value is closed
// when the lane lets go.
var held = struct {
	sync.Mutex
	m map[store.Key]chan struct{}
}{m: map[store.Key]chan struct{}{}}

func hold(k store.Key) {
	held.Lock()
	held.m[k] = make(chan struct{})
	held.Unlock()
}

func unhold(k store.Key) {
	held.Lock()
	if ch, ok := held.m[k]; ok {
		close(ch)
		delete(held.m, k)
	}
	held.Unlock()
}

func isHeld(k store.Key) bool {
	held.Lock()
	defer held.Unlock()
	return held.m[k] != nil
}

// waitHeld waits (at most a second) for a lane to let go of k; false means
// it still holds it.
func waitHeld(ctx context.Context, k store.Key) bool {
	held.Lock()
	ch := held.m[k]
	held.Unlock()
	if ch == nil {
		return true
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// lane sends the first attempts of one channel, one at a time (see
// lockChannel), in the order Accept committed them.
type lane struct {
	s       *Service
	channel string
	mu      sync.Mutex
	queue   []*laneTask
	stopped bool
	wake    chan struct{}
	done    chan struct{}
	lease   lease // used by run's goroutine only
}

// laneTakes says whether a new row of channel with the given number of
// alerts goes to the channel's lane: not when the lane is full or stopped,
// and not when its text may wait for its chart (one chart on a platform
// that combines text and image: River's job waits up to chart.budget
// without holding up the channel's other texts).
//
// On PostgreSQL a robot with a small limit (reserved exactly, see
// leaseSize) is left to River too: its throughput is the robot's, a lane
// would only add the wait for laneGrace when a replica dies.
func (s *Service) laneTakes(channel string, alerts int) bool {
	if s.laneFor(channel) == nil {
		return false
	}
	if limit := s.perMinute(channel, s.notifiers[channel].Limits()); !s.st.SQLite() && limit > 0 && leaseSize(limit) == 0 {
		return false
	}
	if s.cfg.Charter != nil && s.notifiers[channel].Limits().CombinesTextAndImage && min(alerts, s.cfg.MaxChartsPerNotification) == 1 {
		if c, ok := s.s.Channel(channel); !ok || !c.DisableChart {
			return false
		}
	}
	return true
}

// laneFor returns the lane that may take a new row of channel now, or nil.
func (s *Service) laneFor(channel string) *lane {
	l := s.lanes[channel]
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped || len(l.queue) >= laneQueueMax {
		return nil
	}
	return l
}

func (l *lane) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// push hands committed tasks to the lane; a stopped lane hands them to River.
func (l *lane) push(tasks []*laneTask) {
	l.mu.Lock()
	if !l.stopped {
		for _, t := range tasks {
			if len(l.queue) >= laneDataMax {
				t.del, t.row = nil, nil // read back when its turn comes
			}
			l.queue = append(l.queue, t)
		}
		l.mu.Unlock()
		l.signal()
		return
	}
	l.mu.Unlock()
	l.s.handOff(context.Background(), tasks)
}

func (l *lane) run() {
	defer close(l.done)
	for {
		l.mu.Lock()
		if l.stopped {
			rest := l.queue
			l.queue = nil
			l.mu.Unlock()
			l.endLease(context.Background())
			l.s.handOff(context.Background(), rest)
			return
		}
		if len(l.queue) == 0 {
			l.mu.Unlock()
			l.endLease(context.Background()) // idle: settle now
			<-l.wake
			continue
		}
		t := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		l.mu.Unlock()
		l.sendFirst(l.s.ctx, t)
	}
}

// sendFirst makes a task's first attempt. Whatever it cannot finish goes to
// River; the task is let go when its outcome is recorded.
func (l *lane) sendFirst(ctx context.Context, t *laneTask) {
	s := l.s
	k := t.key()
	defer unhold(k)
	if ok, err := s.load(ctx, t); err != nil || !ok {
		if err != nil {
			s.handOff(ctx, []*laneTask{t})
		}
		return
	}
	if !s.st.SQLite() && time.Since(t.del.ReceivedAt) > s.laneMaxAge() {
		// Too old to finish surely before its guard comes due.
		s.handOff(ctx, []*laneTask{t})
		return
	}
	n := s.notifiers[k.Channel]
	limit := s.perMinute(k.Channel, n.Limits())
	data := channelData(t.del.Data, t.row.Fingerprints)
	msg := &channels.Message{Data: data, Part: channels.PartText, GrafanaURL: s.cfg.GrafanaURL, AlertmanagerURL: data.ExternalURL}
	dec, err := l.take(ctx, channels.CostOf(n, msg), limit)
	if err != nil || !dec.OK {
		// No slot (or no answer): River gathers it into the robot's digest.
		if !dec.OK && err == nil {
			s.m.rateWaits.WithLabelValues(k.Channel).Inc()
		}
		s.handOff(ctx, []*laneTask{t})
		return
	}
	chartAlerts := s.chartAlerts(k.Channel, t.del, t.row)
	for _, a := range chartAlerts {
		s.charts.start(t.del, a)
	}
	unlock := s.lockChannel(k.Channel)
	defer unlock()
	at := s.now()
	res, sendErr, dur := s.send(ctx, n, msg)
	if dec.At == 0 {
		l.sent(s.now()) // under the lease: settled when it ends
	}
	o := sendOutcome{self: k, rows: []*store.Channel{t.row}, part: string(channels.PartText), at: at, dur: dur, res: res, err: sendErr, dec: dec, lane: true}
	if sendErr == nil {
		if err := s.textSent(ctx, o, ChartInfo{}, len(chartAlerts) > 0, nil); err != nil {
			s.log.Error("delivery: could not record a sent text; it may be sent again", "delivery", k.DeliveryID, "channel", k.Channel, "error", err)
			s.retryLater(ctx, t, 0)
		}
		return
	}
	s.settle(ctx, k.Channel, dec)
	l.endLease(ctx) // a failed send may have paused the channel: check again
	delay, retry, err := s.textFailure(ctx, o, false)
	if err != nil {
		s.log.Error("delivery: could not record a failed send", "delivery", k.DeliveryID, "channel", k.Channel, "error", err)
	}
	if retry || err != nil {
		s.retryLater(ctx, t, delay)
	}
}

// retryLater gives a task to River, still claimed by its key, to be tried
// again after delay.
func (s *Service) retryLater(ctx context.Context, t *laneTask, delay time.Duration) {
	ctx = context.WithoutCancel(ctx)
	k := t.key()
	err := s.q.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.Enqueue(ctx, river.InsertManyParams{Args: textArgs{DeliveryID: k.DeliveryID, Channel: k.Channel,
			NotBefore: time.Now().Add(delay).UnixMilli()}})
		return err
	})
	if err != nil {
		s.log.Error("delivery: could not queue a retry; maintenance will find the text", "delivery", k.DeliveryID, "channel", k.Channel, "error", err)
	}
}

// handOff gives tasks to River unclaimed, each with a text job due now, so
// River's claim decides (send, or join the robot's digest).
func (s *Service) handOff(ctx context.Context, tasks []*laneTask) {
	if len(tasks) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	err := s.q.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.LockDigests(ctx, tasks[0].k.Channel); err != nil {
			return err
		}
		var left []store.Key
		for _, t := range tasks {
			// Rows that joined the task's digest go back too (see releaseIn).
			keys, err := tx.Unclaim(ctx, t.k.Owner(), t.k.Channel)
			if err != nil {
				return err
			}
			left = append(left, keys...)
		}
		return enqueueTexts(ctx, tx, left)
	})
	if err != nil {
		s.log.Error("delivery: could not hand texts to the queue; maintenance will find them", "texts", len(tasks), "error", err)
	}
	for _, t := range tasks {
		unhold(t.key())
	}
}

// recoverLanes gives a text job to every pending row no job will send: on
// the first open of a SQLite file in a process, those are the rows a dead
// process held in its lanes.
func (s *Service) recoverLanes(ctx context.Context) error {
	n := 0
	for {
		keys, err := s.st.Stranded(ctx, s.now().Add(time.Hour), 1000, isHeld)
		if err != nil || len(keys) == 0 {
			if n > 0 {
				s.log.Info("delivery: queued the texts a previous process had accepted but not sent", "texts", n)
			}
			return err
		}
		queued := 0
		err = s.q.Tx(ctx, func(t *store.Tx) error {
			jobs := make([]river.InsertManyParams, 0, len(keys))
			for _, k := range keys {
				// Checked again: a job may have appeared since.
				if ok, err := t.UnclaimStranded(ctx, k); err != nil {
					return err
				} else if ok {
					jobs = append(jobs, textJob(k))
				}
			}
			queued = len(jobs)
			_, err := t.Enqueue(ctx, jobs...)
			return err
		})
		if err != nil || queued == 0 {
			return err
		}
		n += queued
	}
}
