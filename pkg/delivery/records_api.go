package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// statusPartial is the overall status of a notification that reached some
// of its channels and was given up for others.
const statusPartial = "partial"

// Statuses are the overall statuses a stored notification can have, the
// values Deliveries filters by.
var Statuses = []string{string(store.Pending), string(store.Sent), statusPartial, string(store.Failed)}

// Delivery is one accepted notification as shown by GET deliveries.
type Delivery struct {
	ID         string            `json:"id"`
	ReceivedAt time.Time         `json:"receivedAt"`
	Receiver   string            `json:"receiver"`
	Status     string            `json:"status"`
	GroupKey   string            `json:"groupKey"`
	ResentFrom string            `json:"resentFrom,omitempty"`
	Alerts     []alertSummary    `json:"alerts"`
	Channels   []ChannelDelivery `json:"channels"`
	HasChart   bool              `json:"hasChart"`
	Attempts   []Attempt         `json:"attempts,omitempty"`
}

// ChannelDelivery is a notification's delivery to one channel.
type ChannelDelivery struct {
	Channel        string     `json:"channel"`
	Type           string     `json:"type"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	LastError      string     `json:"lastError"`
	Part           string     `json:"part,omitempty"`
	TextSentAt     *time.Time `json:"textSentAt"`
	ChartSentAt    *time.Time `json:"chartSentAt"`
	TextLatencyMs  *int64     `json:"textLatencyMs"`
	ChartLatencyMs *int64     `json:"chartLatencyMs"`
	Renderer       string     `json:"renderer"`
	FallbackReason string     `json:"fallbackReason"`
	ChartNote      string     `json:"chartNote"`
}

// Attempt is one send attempt.
type Attempt struct {
	Channel    string    `json:"channel"`
	Part       string    `json:"part"`
	At         time.Time `json:"at"`
	OK         bool      `json:"ok"`
	Error      string    `json:"error"`
	StatusCode int       `json:"statusCode"`
	DurationMs int64     `json:"durationMs"`
}

// ChartImage returns a delivery's stored chart image and its content type:
// the image of the alert with fingerprint fp, or, when fp is empty, the
// first one stored. ErrNotFound when there is none (or the delivery is
// another organisation's).
func (s *Service) ChartImage(ctx context.Context, id, fp string) (contentType string, image []byte, err error) {
	if err := s.e.unavailable(); err != nil {
		return "", nil, err
	}
	if _, err := s.e.st.NotificationOf(ctx, s.rt.org, id); errors.Is(err, store.ErrNoRows) {
		return "", nil, ErrNotFound
	} else if err != nil {
		return "", nil, err
	}
	ct, img, err := s.e.st.ChartImage(ctx, id, fp)
	if errors.Is(err, store.ErrNoRows) {
		return "", nil, ErrNotFound
	}
	return ct, img, err
}

// Resend queues a stored notification of the organisation again as a new
// delivery to the channels its receiver routes to now, bypassing the
// dedupe window.
func (s *Service) Resend(ctx context.Context, id string) (string, error) {
	if s.closed.Load() {
		return "", ErrClosed
	}
	if err := s.e.unavailable(); err != nil {
		return "", err
	}
	n, err := s.e.st.NotificationOf(ctx, s.rt.org, id)
	if errors.Is(err, store.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	del, err := decodeDelivery(n)
	if err != nil {
		return "", err
	}
	res, err := s.rt.accept(ctx, del.Receiver, del.GroupKey, del.Data, id)
	if err != nil {
		return "", err
	}
	return res.ID, nil
}

// Deliveries lists the organisation's deliveries newest first, optionally
// filtered by status (pending|sent|partial|failed) and receiver.
func (s *Service) Deliveries(ctx context.Context, limit int, status, receiver string) ([]Delivery, error) {
	if err := s.e.unavailable(); err != nil {
		return nil, err
	}
	out := []Delivery{}
	const page = 200
	before := time.UnixMilli(1<<63 - 1)
	beforeID := "~"
	for scanned := 0; len(out) < limit && scanned < 20000; scanned += page {
		list, err := s.e.st.Notifications(ctx, s.rt.org, before, beforeID, receiver, page)
		if err != nil {
			return nil, err
		}
		batch, err := s.e.deliveries(ctx, list)
		if err != nil {
			return nil, err
		}
		for i := range batch {
			if status == "" || batch[i].Status == status {
				out = append(out, batch[i])
				if len(out) == limit {
					break
				}
			}
		}
		if len(list) < page {
			break
		}
		last := list[len(list)-1]
		before, beforeID = last.ReceivedAt, last.ID
	}
	return out, nil
}

// Delivery returns one of the organisation's deliveries with its attempts
// (ErrNotFound if it has no such delivery).
func (s *Service) Delivery(ctx context.Context, id string) (*Delivery, error) {
	if err := s.e.unavailable(); err != nil {
		return nil, err
	}
	n, err := s.e.st.NotificationOf(ctx, s.rt.org, id)
	if errors.Is(err, store.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	list, err := s.e.deliveries(ctx, []store.Notification{*n})
	if err != nil {
		return nil, err
	}
	d := &list[0]
	attempts, err := s.e.st.Attempts(ctx, id)
	if err != nil {
		return nil, err
	}
	d.Attempts = make([]Attempt, len(attempts))
	for i, a := range attempts {
		d.Attempts[i] = Attempt{Channel: a.Channel, Part: a.Part, At: a.At.UTC(), OK: a.OK, Error: a.Error,
			StatusCode: a.StatusCode, DurationMs: a.Duration.Milliseconds()}
	}
	return d, nil
}

// RecentAlert is one alert of a notification the organisation received,
// as GET /recent shows it for the config page's previews.
type RecentAlert struct {
	Receiver   string         `json:"receiver"`
	ReceivedAt time.Time      `json:"receivedAt"`
	Alert      template.Alert `json:"alert"`
	// ExternalURL is the Alertmanager's URL from the payload.
	ExternalURL string `json:"externalURL,omitempty"`
}

// recentScan caps the notifications Recent reads to find its alerts.
const recentScan = 1000

// Recent returns the last n alerts the organisation received (50 when n
// <= 0), newest first. They are read from the stored notifications in the
// queue database, so every replica answers the same and a settings save
// (a new Service) keeps them; they last as long as the delivery records
// (delivery.retention). Resends are not received alerts and are left out.
// Payloads are read one notification at a time: a notification may hold
// thousands of alerts, and only n are kept.
func (s *Service) Recent(ctx context.Context, n int) ([]RecentAlert, error) {
	if err := s.e.unavailable(); err != nil {
		return nil, err
	}
	if n <= 0 {
		n = 50
	}
	out := []RecentAlert{}
	const page = 50
	before := time.UnixMilli(1<<63 - 1)
	beforeID := "~"
	for scanned := 0; len(out) < n && scanned < recentScan; scanned += page {
		list, err := s.e.st.Notifications(ctx, s.rt.org, before, beforeID, "", page)
		if err != nil {
			return nil, err
		}
		for _, head := range list {
			if head.ResentFrom != "" {
				continue
			}
			rec, err := s.e.st.NotificationOf(ctx, s.rt.org, head.ID)
			if errors.Is(err, store.ErrNoRows) {
				continue // pruned meanwhile
			}
			if err != nil {
				return nil, err
			}
			var d template.Data
			if err := json.Unmarshal([]byte(rec.Payload), &d); err != nil {
				s.rt.log.Warn("delivery: a stored notification cannot be read back", "id", rec.ID, "error", err)
				continue
			}
			for _, a := range d.Alerts {
				if len(out) == n {
					return out, nil
				}
				out = append(out, RecentAlert{Receiver: rec.Receiver, ReceivedAt: rec.ReceivedAt.UTC(), Alert: a, ExternalURL: d.ExternalURL})
			}
		}
		if len(list) < page {
			break
		}
		last := list[len(list)-1]
		before, beforeID = last.ReceivedAt, last.ID
	}
	return out, nil
}

// deliveries completes stored notifications with their channels and status.
func (s *engine) deliveries(ctx context.Context, list []store.Notification) ([]Delivery, error) {
	out := make([]Delivery, len(list))
	for i, n := range list {
		d := &out[i]
		*d = Delivery{ID: n.ID, ReceivedAt: n.ReceivedAt.UTC(), Receiver: n.Receiver, GroupKey: n.GroupKey, ResentFrom: n.ResentFrom,
			Alerts: []alertSummary{}}
		_ = json.Unmarshal([]byte(n.Alerts), &d.Alerts)
		chs, err := s.st.ChannelsOf(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		d.Channels = make([]ChannelDelivery, 0, len(chs))
		for _, c := range chs {
			d.Channels = append(d.Channels, channelView(c))
		}
		d.Status = overallStatus(d.Channels)
		if d.HasChart, err = s.st.HasChart(ctx, d.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func channelView(c *store.Channel) ChannelDelivery {
	v := ChannelDelivery{Channel: c.Channel, Type: c.Type, Status: string(c.Status), Attempts: c.Attempts, LastError: c.LastError,
		Part: c.TextPart, Renderer: c.Renderer, FallbackReason: c.FallbackReason, ChartNote: c.ChartNote}
	if c.TextSentAt.Valid {
		t := time.UnixMilli(c.TextSentAt.Int64).UTC()
		v.TextSentAt = &t
	}
	if c.ChartSentAt.Valid {
		t := time.UnixMilli(c.ChartSentAt.Int64).UTC()
		v.ChartSentAt = &t
	}
	if c.TextLatencyMs.Valid {
		v.TextLatencyMs = &c.TextLatencyMs.Int64
	}
	if c.ChartLatencyMs.Valid {
		v.ChartLatencyMs = &c.ChartLatencyMs.Int64
	}
	return v
}

// overallStatus: pending while any channel waits; sent when every channel
// got it (or had it already); failed when none did; partial otherwise.
func overallStatus(chs []ChannelDelivery) string {
	sent, failed := 0, 0
	for _, c := range chs {
		switch store.Status(c.Status) {
		case store.Pending:
			return string(store.Pending)
		case store.Failed:
			failed++
		default:
			sent++
		}
	}
	switch {
	case failed == 0:
		return string(store.Sent)
	case sent == 0:
		return string(store.Failed)
	default:
		return statusPartial
	}
}
