package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// deliveryRec is one stored notification, its payload decoded.
type deliveryRec struct {
	ID         string
	ReceivedAt time.Time
	Receiver   string
	GroupKey   string
	ResentFrom string
	Data       *template.Data
}

// loadDelivery reads and decodes a stored notification.
func loadDelivery(ctx context.Context, db store.DB, id string) (*deliveryRec, error) {
	n, err := db.Notification(ctx, id)
	if err != nil {
		return nil, err
	}
	return decodeDelivery(n)
}

// loadDeliveries loads the notifications of rows (a digest's) in one query,
// in the order of rows.
func loadDeliveries(ctx context.Context, db store.DB, rows []*store.Channel) ([]*deliveryRec, error) {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.DeliveryID
	}
	found, err := db.NotificationsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*deliveryRec, len(rows))
	for i, id := range ids {
		n := found[id]
		if n == nil {
			return nil, fmt.Errorf("notification %s: %w", id, store.ErrNoRows)
		}
		if out[i], err = decodeDelivery(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeDelivery decodes a stored notification's payload.
func decodeDelivery(n *store.Notification) (*deliveryRec, error) {
	d := &deliveryRec{ID: n.ID, ReceivedAt: n.ReceivedAt, Receiver: n.Receiver, GroupKey: n.GroupKey, ResentFrom: n.ResentFrom,
		Data: &template.Data{}}
	if err := json.Unmarshal([]byte(n.Payload), d.Data); err != nil {
		return nil, err
	}
	return d, nil
}

// recordAttempt stores one send attempt.
func recordAttempt(ctx context.Context, db store.DB, k store.Key, part string, at time.Time, dur time.Duration, res *channels.Result, err error) error {
	return db.InsertAttempt(ctx, attempt(k, part, at, dur, res, err))
}

// attempt is the record of one send attempt.
func attempt(k store.Key, part string, at time.Time, dur time.Duration, res *channels.Result, err error) store.Attempt {
	a := store.Attempt{Key: k, Part: part, At: at, OK: err == nil, Duration: dur}
	if res != nil {
		a.StatusCode = res.StatusCode
	}
	if err != nil {
		a.Error = truncate(err.Error(), 2000)
		var ce *channels.Error
		if errors.As(err, &ce) && ce.StatusCode != 0 {
			a.StatusCode = ce.StatusCode
		}
	}
	return a
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// channelData is the notification narrowed to the alerts going to one channel.
func channelData(d *template.Data, fps []string) *template.Data {
	want := make(map[string]bool, len(fps))
	for _, fp := range fps {
		want[fp] = true
	}
	out := *d
	out.Alerts = nil
	for _, a := range d.Alerts {
		if want[a.Fingerprint] {
			out.Alerts = append(out.Alerts, a)
		}
	}
	out.Status = "resolved"
	for _, a := range out.Alerts {
		if a.Status == "firing" {
			out.Status = "firing"
			break
		}
	}
	return &out
}

// mergeData builds the payload of a digest: every alert of every part, with
// the labels all of them share as common labels.
func mergeData(parts []*template.Data) *template.Data {
	out := &template.Data{Status: "resolved", GroupLabels: template.KV{}, CommonLabels: template.KV{}, CommonAnnotations: template.KV{}}
	for i, p := range parts {
		if i == 0 {
			out.Receiver = p.Receiver
			out.ExternalURL = p.ExternalURL
			out.NotificationReason = p.NotificationReason
			for k, v := range p.CommonLabels {
				out.CommonLabels[k] = v
			}
		} else {
			for k, v := range out.CommonLabels {
				if p.CommonLabels[k] != v {
					delete(out.CommonLabels, k)
				}
			}
		}
		out.Alerts = append(out.Alerts, p.Alerts...)
	}
	for _, a := range out.Alerts {
		if a.Status == "firing" {
			out.Status = "firing"
			break
		}
	}
	return out
}
