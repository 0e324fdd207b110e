package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
	"github.com/riverqueue/river"

	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// Accept persists a notification for receiver and queues its deliveries. It
// returns only after the notification is durable.
//
// Whether a notification may be accepted is decided once, by intake: the
// payload is valid (alerts, statuses, labels) and the receiver has a route.
// Accept trusts that and does not check it again. Every error means nothing
// was stored and Alertmanager should retry (503): ErrQueueUnavailable,
// ErrChannelUnavailable (a *ChannelError), ErrClosed, or the database's own.
// ErrQueueUnavailable and *ChannelError say in Public what the webhook's
// caller may read.
func (s *Service) Accept(ctx context.Context, receiver string, data *template.Data) (AcceptResult, error) {
	return s.AcceptGroup(ctx, receiver, "", data)
}

// AcceptGroup is Accept with Alertmanager's groupKey (from the webhook body),
// kept in the delivery records. An empty groupKey is derived from groupLabels.
// The notification is routed with the Service's settings (those the
// webhook was answered under) and belongs to its organisation.
func (s *Service) AcceptGroup(ctx context.Context, receiver, groupKey string, data *template.Data) (AcceptResult, error) {
	if s.closed.Load() {
		return AcceptResult{}, ErrClosed
	}
	if err := s.e.unavailable(); err != nil {
		return AcceptResult{}, queueUnavailable{err}
	}
	return s.rt.accept(ctx, receiver, groupKey, data, "")
}

// queueUnavailable is ErrQueueUnavailable as Accept returns it: the cause
// (which may name the database's address) for logs and health, and a
// public text for the webhook's answer.
type queueUnavailable struct{ err error }

func (e queueUnavailable) Error() string { return e.err.Error() }
func (e queueUnavailable) Unwrap() error { return e.err }

// Public is what the webhook's caller may read: not the database's address.
func (e queueUnavailable) Public() string {
	return "the delivery queue's database cannot be reached (see AlertChart's health check); Alertmanager will retry"
}

// ChannelError is ErrChannelUnavailable for one channel: the settings have
// it, but it could not be built (a missing robot URL…). Err is why.
type ChannelError struct {
	Channel string
	Err     error
}

func (e *ChannelError) Error() string {
	return fmt.Sprintf("channel %q cannot be used (fix its settings; the notification was not stored and Alertmanager will retry): %v", e.Channel, e.Err)
}

func (e *ChannelError) Unwrap() []error { return []error{ErrChannelUnavailable, e.Err} }

// Public is what the webhook's caller may read: the channel, not why it
// is broken (that is in the health report, and may name addresses).
func (e *ChannelError) Public() string {
	return fmt.Sprintf("channel %q cannot be used until its settings are fixed (see AlertChart's health check); Alertmanager will retry", e.Channel)
}

// dedupeKey is the idempotency key of one alert to one organisation's
// channel (the main organisation's keys are those of versions before
// organisations).
func dedupeKey(org int64, receiver, channel, fp, status string, startsAt time.Time) string {
	parts := []string{receiver, channel, fp, status, startsAt.UTC().Format(time.RFC3339Nano)}
	if org != 1 {
		parts = append(parts, strconv.FormatInt(org, 10))
	}
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}

func fingerprintOf(a template.Alert) string {
	if a.Fingerprint != "" {
		return a.Fingerprint
	}
	ls := model.LabelSet{}
	for k, v := range a.Labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls.Fingerprint().String()
}

func groupKeyOf(d *template.Data) string {
	ls := model.LabelSet{}
	for k, v := range d.GroupLabels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return "{}:" + ls.String()
}

// alertSummary is the short form of an alert in delivery records.
type alertSummary struct {
	Fingerprint string `json:"fingerprint"`
	Alertname   string `json:"alertname"`
	Status      string `json:"status"`
	Instance    string `json:"instance,omitempty"`
	Severity    string `json:"severity,omitempty"`
}

func (s *orgRuntime) accept(ctx context.Context, receiver, groupKey string, in *template.Data, resentFrom string) (AcceptResult, error) {
	now := s.now()
	id := ulid.MustNew(ulid.Timestamp(now), ulid.DefaultEntropy()).String()
	data := *in
	data.Alerts = make(template.Alerts, len(in.Alerts))
	copy(data.Alerts, in.Alerts)
	if data.Receiver == "" {
		data.Receiver = receiver
	}
	summaries := make([]alertSummary, len(data.Alerts))
	for i := range data.Alerts {
		a := &data.Alerts[i]
		a.Fingerprint = fingerprintOf(*a)
		if a.Status == "" {
			a.Status = data.Status
		}
		summaries[i] = alertSummary{Fingerprint: a.Fingerprint, Alertname: a.Labels["alertname"], Status: a.Status,
			Instance: a.Labels["instance"], Severity: a.Labels["severity"]}
	}
	if groupKey == "" {
		groupKey = groupKeyOf(&data)
	}
	payload, err := json.Marshal(&data)
	if err != nil {
		return AcceptResult{}, fmt.Errorf("encoding the notification: %w", err)
	}
	sumJSON, _ := json.Marshal(summaries)
	window := s.s.Delivery.DedupeWindow.D()

	type chanPlan struct {
		name string
		fps  []string
	}
	var order []*chanPlan
	plans := map[string]*chanPlan{}
	duplicates := 0
	at := time.UnixMilli(now.UnixMilli()) // as stored
	del := &deliveryRec{ID: id, ReceivedAt: at, Receiver: receiver, GroupKey: groupKey, ResentFrom: resentFrom, Data: &data}
	var tasks []*laneTask
	var lanes []*lane
	// Refused before anything is stored: a channel that cannot be built.
	for _, a := range data.Alerts {
		for _, ch := range s.s.ChannelsFor(receiver, a.Labels) {
			if s.notifiers[ch] == nil {
				why := s.broken[ch]
				if why == nil {
					why = errors.New("it has no notifier")
				}
				return AcceptResult{}, &ChannelError{Channel: ch, Err: why}
			}
		}
	}
	holder := ""
	if !s.st.SQLite() {
		holder = s.replica
	}
	epoch := s.epoch.Load()
	err = s.q.Batch(ctx, func(t *store.Tx) error {
		// Which alerts go where, and their idempotency keys.
		type route struct {
			plan *chanPlan
			fp   string
		}
		var routes []route
		var keys []string
		perAlert := make([]int, len(data.Alerts))
		for ai, a := range data.Alerts {
			chs := s.s.ChannelsFor(receiver, a.Labels)
			perAlert[ai] = len(chs)
			for _, ch := range chs {
				p := plans[ch]
				if p == nil {
					p = &chanPlan{name: ch}
					plans[ch] = p
					order = append(order, p)
				}
				routes = append(routes, route{p, a.Fingerprint})
				keys = append(keys, dedupeKey(s.org, receiver, ch, a.Fingerprint, a.Status, a.StartsAt))
			}
		}
		if resentFrom != "" || window <= 0 {
			keys = nil // a resend bypasses the window
		}
		fresh, err := t.InsertNotification(ctx, store.Notification{Org: s.org, ID: id, ReceivedAt: at, Receiver: receiver, GroupKey: groupKey,
			Payload: string(payload), Alerts: string(sumJSON), ResentFrom: resentFrom}, keys, now.Add(window))
		if err != nil {
			return err
		}
		i := 0
		for _, n := range perAlert {
			sent := 0
			for _, r := range routes[i : i+n] {
				if keys == nil || fresh[i] {
					r.plan.fps = append(r.plan.fps, r.fp)
					sent++
				}
				i++
			}
			if n > 0 && sent == 0 {
				duplicates++
			}
		}
		var rows []store.NewChannel
		var jobs []river.InsertManyParams
		tasks, lanes = tasks[:0], lanes[:0]
		for _, p := range order {
			typ := ""
			if n := s.notifiers[p.name]; n != nil {
				typ = n.Type()
			} else if c, ok := s.s.Channel(p.name); ok {
				typ = c.Type
			}
			k := store.Key{Org: s.org, DeliveryID: id, Channel: p.name}
			row := store.NewChannel{Key: k, Type: typ, ReceivedAt: at, Status: store.Pending, Fingerprints: p.fps}
			var l *lane
			switch {
			case len(p.fps) == 0:
				row.Status = store.Deduplicated
			case s.laneTakes(p.name, len(p.fps)):
				// The lane sends it: claimed by its key, held in this process
				// (and, on PostgreSQL, marked as this replica's).
				l = s.laneFor(p.name)
			}
			if l == nil && row.Status == store.Pending {
				jobs = append(jobs, textJob(k))
			}
			if l != nil {
				row.Owner, row.Holder = k.Owner(), holder
				task := &laneTask{k: k, del: del, epoch: epoch, at: at, alerts: len(p.fps), row: &store.Channel{Org: s.org, DeliveryID: id, Channel: p.name, Type: typ, ReceivedAt: at,
					Status: store.Pending, Fingerprints: p.fps, NAlerts: len(p.fps), DigestOwner: row.Owner, Holder: holder}}
				hold(k)
				tasks, lanes = append(tasks, task), append(lanes, l)
			}
			rows = append(rows, row)
		}
		if err := t.InsertChannels(ctx, rows); err != nil {
			return err
		}
		return t.EnqueueBatched(ctx, nil, jobs...)
	})
	if err != nil {
		for _, t := range tasks {
			unhold(t.key())
		}
		s.log.Error("delivery: could not persist a notification; Alertmanager will retry", "receiver", receiver, "error", err)
		return AcceptResult{}, fmt.Errorf("persist notification: %w", err)
	}
	for i, t := range tasks {
		lanes[i].push([]*laneTask{t})
	}
	s.m.accepted.WithLabelValues(receiver).Inc()
	s.m.alerts.WithLabelValues("new").Add(float64(len(data.Alerts) - duplicates))
	s.m.alerts.WithLabelValues("duplicate").Add(float64(duplicates))
	for _, p := range order {
		if len(p.fps) == 0 {
			s.m.deliveries.WithLabelValues(p.name, string(store.Deduplicated)).Inc()
		}
	}
	if len(order) == 0 {
		s.log.Warn("delivery: no channel matches this notification", "receiver", receiver, "id", id)
	}
	return AcceptResult{ID: id, Alerts: len(data.Alerts), Duplicates: duplicates}, nil
}
