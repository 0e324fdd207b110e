package delivery

import (
	"context"
	"strconv"
	"sync"
	"time"

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
// replica must be able to take over: a lane row is marked with the replica
// that holds it (holder, its River client id), every replica writes a
// heartbeat every few seconds, and a replica silent for Config.ReplicaTimeout
// is taken over by another one: the rows its lanes held get text jobs and
// join the robot's queue like any waiting text (liveness.go).
//
// Lanes belong to the engine and are keyed by organisation and channel;
// each send uses the organisation's current runtime, so a settings save
// never leaves a lane sending with the old settings. A lane whose channel
// the current settings no longer have hands its texts to River, where they
// wait for the channel (see workText).
//
// Within the process a held row is sent by nobody else: a text job of it
// (one requeued by maintenance) waits until the lane lets go, and
// maintenance does not count it as stranded.

// laneQueueMax bounds the tasks a lane holds; past it, new rows go to River
// at once. Only the first laneDataMax tasks keep their notification in
// memory: the ones queued behind them keep their key and are read back when
// their turn comes (two reads, still much cheaper than River's round trip,
// which a burst would otherwise take: on the development machine about
// twice the CPU per text).
const laneQueueMax = 100000

var laneDataMax = 4000 // a variable for tests

// laneKey names a lane: an organisation's channel.
type laneKey struct {
	org     int64
	channel string
}

func (k laneKey) String() string { return strconv.FormatInt(k.org, 10) + "/" + k.channel }

// laneTask is one row a lane sends: its notification and row, or (queued
// far behind, see laneDataMax) only its key until its turn comes. epoch is
// the engine's epoch when it was accepted: a task of an earlier epoch may
// have been taken over by another replica (see liveness.go) and is read
// back before it is sent.
type laneTask struct {
	k      store.Key
	del    *deliveryRec
	row    *store.Channel
	epoch  int64
	at     time.Time // accepted
	alerts int
}

func (t *laneTask) key() store.Key { return t.k }

// laneLoadBatch is how many tasks queued without their notification a lane
// reads back in one query when the first of them comes up: one round trip
// instead of one per text keeps a lane working off a burst at the pace of
// its sends (on PostgreSQL the read was otherwise half of each text's wait).
const laneLoadBatch = 256

// load reads back the row and notification of a task queued without them,
// and those of the tasks queued without them right behind it (see
// laneLoadBatch); false means the row is no longer the lane's to send.
// A task read back ahead is then like one Accept handed over with its
// notification: checked here, and read again only when the engine's epoch
// moves (see sendFirst).
func (l *lane) load(ctx context.Context, t *laneTask) (bool, error) {
	if t.del != nil {
		return true, nil
	}
	batch := []*laneTask{t}
	l.mu.Lock()
	for _, q := range l.queue {
		if len(batch) == laneLoadBatch {
			break
		}
		if q.del == nil && q.epoch == t.epoch && q.k.Org == t.k.Org {
			batch = append(batch, q)
		}
	}
	l.mu.Unlock()
	ids := make([]string, len(batch))
	for i, q := range batch {
		ids[i] = q.k.DeliveryID
	}
	found, err := l.e.st.ChannelsWithNotifications(ctx, t.k.Channel, ids)
	if err != nil {
		return false, err
	}
	type loaded struct {
		q   *laneTask
		row *store.Channel
		del *deliveryRec
	}
	var ok []loaded
	for _, q := range batch {
		got, there := found[q.k.DeliveryID]
		if !there || got.Row.Org != q.k.Org || got.Row.Status != store.Pending || got.Row.TextSentAt.Valid || got.Row.DigestOwner != q.k.Owner() {
			continue // read again at its turn, which drops it
		}
		del, err := decodeDelivery(got.Notification)
		if err != nil {
			if q == t {
				return false, err
			}
			continue
		}
		ok = append(ok, loaded{q, got.Row, del})
	}
	l.mu.Lock()
	for _, x := range ok {
		x.q.row, x.q.del = x.row, x.del
	}
	l.mu.Unlock()
	return t.del != nil, nil
}

// lane sends the first attempts of one organisation's channel, one at a
// time (see lockChannel), in the order Accept committed them.
type lane struct {
	e       *engine
	k       laneKey
	mu      sync.Mutex
	queue   []*laneTask
	stopped bool
	wake    chan struct{}
	done    chan struct{}
	lease   lease // used by run's goroutine only
	// unsure is set when a sent text could not be recorded (the queue
	// database went away): the next send waits until it answers again,
	// so an outage repeats at most that one message (run's goroutine).
	unsure bool
}

func newLane(e *engine, k laneKey) *lane {
	return &lane{e: e, k: k, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// laneTakes says whether a new row of channel with the given number of
// alerts goes to the channel's lane: not when the lane is full or stopped,
// and not when its text may wait for its chart (one chart on a platform
// that combines text and image: River's job waits up to chart.budget
// without holding up the channel's other texts).
//
// On PostgreSQL a robot with a small limit (reserved exactly, see
// leaseSize) is left to River too: its throughput is the robot's, and
// River's digests gather its backlog across replicas.
func (s *orgRuntime) laneTakes(channel string, alerts int) bool {
	n := s.notifiers[channel]
	if n == nil {
		return false
	}
	if limit := s.perMinute(channel, n.Limits()); !s.st.SQLite() && limit > 0 && s.leaseSizeFor(channel, limit) == 0 {
		return false
	}
	if s.charter != nil && n.Limits().CombinesTextAndImage && min(alerts, s.cfg.MaxChartsPerNotification) == 1 {
		if c, ok := s.s.Channel(channel); !ok || !c.DisableChart {
			return false
		}
	}
	return true
}

// laneFor returns the lane that may take a new row of channel now, or nil.
func (s *orgRuntime) laneFor(channel string) *lane {
	if s.notifiers[channel] == nil {
		return nil
	}
	s.mu.Lock()
	l := s.lanes[laneKey{s.org, channel}]
	s.mu.Unlock()
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

// stop makes the lane finish its current send and hand its queue to River.
func (l *lane) stop() {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
	l.signal()
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
	l.e.handOff(context.Background(), tasks)
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
			l.e.handOff(context.Background(), rest)
			return
		}
		if len(l.queue) == 0 {
			l.mu.Unlock()
			l.endLease(context.Background()) // idle: settle now
			<-l.wake
			continue
		}
		if n := l.catchUpLen(); n > 1 {
			batch := make([]*laneTask, n)
			copy(batch, l.queue)
			clear(l.queue[:n])
			l.queue = l.queue[n:]
			l.mu.Unlock()
			l.e.catchUp(l.e.ctx, batch)
			continue
		}
		t := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		l.mu.Unlock()
		l.sendFirst(l.e.ctx, t)
	}
}

// sendFirst makes a task's first attempt, with the organisation's current
// settings. Whatever it cannot finish goes to River; the task is let go
// when its outcome is recorded.
func (l *lane) sendFirst(ctx context.Context, t *laneTask) {
	e := l.e
	k := t.key()
	defer unhold(k)
	if t.epoch != e.epoch.Load() {
		// Another replica took this one's work over meanwhile (see
		// liveness.go): send it only if the row is still the lane's.
		t.del, t.row = nil, nil
	}
	s := e.current(k.Org)
	var n channels.Notifier
	if s != nil {
		n = s.notifiers[k.Channel]
	}
	if n == nil {
		// The settings changed under it: River holds it for the channel.
		e.handOff(ctx, []*laneTask{t})
		return
	}
	if ok, err := l.load(ctx, t); err != nil || !ok {
		if err != nil {
			e.handOff(ctx, []*laneTask{t})
		}
		return
	}
	limit := s.perMinute(k.Channel, n.Limits())
	data := channelData(t.del.Data, t.row.Fingerprints)
	msg := &channels.Message{Data: data, Part: channels.PartText, GrafanaURL: s.grafanaURL, AlertmanagerURL: data.ExternalURL}
	cost := channels.CostOf(n, msg)
	dec, err := l.take(ctx, s, cost, limit)
	for err == nil && !dec.OK && dec.Short && !s.stormy(k.Channel, dec, l.backlog()) && l.pace(ctx, dec.Wait) {
		// The platform's short window: wait its turn, then go alone
		// (unless so many texts wait that River should merge them).
		dec, err = l.take(ctx, s, cost, limit)
	}
	if err != nil || !dec.OK {
		// No slot (or no answer): River gathers it into the robot's digest.
		if !dec.OK && err == nil {
			s.m.rateWaits.WithLabelValues(k.Channel).Inc()
		}
		e.handOff(ctx, []*laneTask{t})
		return
	}
	if l.unsure {
		if err := e.st.Ping(ctx); err != nil {
			s.settle(ctx, k.Channel, dec)
			e.handOff(ctx, []*laneTask{t}) // queued once the database answers
			return
		}
		l.unsure = false
	}
	chartAlerts := s.chartAlerts(k.Channel, t.del, t.row)
	for _, a := range chartAlerts {
		s.charts.start(s, t.del, a, s.chartLang(k.Channel))
	}
	unlock := s.lockChannel(k.Channel)
	defer unlock()
	at := s.now()
	res, dur, sendErr := s.send(ctx, n, msg)
	if dec.At == 0 {
		l.sent(s.now()) // under the lease: settled when it ends
	}
	if res != nil && res.Pause > 0 {
		l.endLease(ctx) // the platform paused the robot (see send): check again
	}
	o := sendOutcome{self: k, rows: []*store.Channel{t.row}, part: string(channels.PartText), at: at, dur: dur, res: res, err: sendErr, dec: dec, lane: true}
	if sendErr == nil {
		if err := s.textSent(ctx, o, channels.ChartInfo{}, len(chartAlerts) > 0, nil); err != nil {
			l.unsure = true
			s.log.Error("delivery: could not record a sent text; it may be sent again", "delivery", k.DeliveryID, "channel", k.Channel, "error", err)
			e.retryLater(ctx, t, 0)
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
		e.retryLater(ctx, t, delay)
	}
}

// backlog is how many texts wait in the lane, the one being sent included.
func (l *lane) backlog() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.queue)) + 1
}

// pace waits d for the robot's short window (see ratelimit.go), holding
// the lane's turn; false when the lane was stopped or ctx ended meanwhile
// (the task then goes to River).
func (l *lane) pace(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		case <-l.wake:
			// A push or a stop: run looks at the queue again after this
			// task, so the signal is not lost.
			l.mu.Lock()
			stopped := l.stopped
			l.mu.Unlock()
			if stopped {
				l.signal()
				return false
			}
		}
	}
}
