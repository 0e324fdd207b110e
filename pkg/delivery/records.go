package delivery

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertchart/alertchart/pkg/channels"
)

// deliveryRec is one stored notification.
type deliveryRec struct {
	ID         string
	ReceivedAt time.Time
	Receiver   string
	GroupKey   string
	ResentFrom string
	Data       *template.Data
	Alerts     []alertSummary
}

func (s *Service) loadDelivery(ctx context.Context, db dbtx, id string) (*deliveryRec, error) {
	var d deliveryRec
	var at int64
	var payload, alerts string
	if err := db.queryRow(ctx, `SELECT id, received_at, receiver, group_key, resent_from, payload, alerts FROM alertchart_delivery WHERE id = $1`, id).
		Scan(&d.ID, &at, &d.Receiver, &d.GroupKey, &d.ResentFrom, &payload, &alerts); err != nil {
		return nil, err
	}
	d.ReceivedAt = time.UnixMilli(at)
	d.Data = &template.Data{}
	if err := json.Unmarshal([]byte(payload), d.Data); err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(alerts), &d.Alerts)
	return &d, nil
}

// channelRow is one delivery to one channel (alertchart_channel).
type channelRow struct {
	DeliveryID     string
	Channel        string
	Type           string
	ReceivedAt     time.Time
	Status         string
	Fingerprints   []string
	Attempts       int
	LastError      string
	TextPart       string
	TextSentAt     sql.NullInt64
	ChartSentAt    sql.NullInt64
	TextLatencyMs  sql.NullInt64
	ChartLatencyMs sql.NullInt64
	Renderer       string
	FallbackReason string
	ChartNote      string
	ChartState     string
	ChartPartsSent int
	ChartAttempts  int
	NoCombine      bool
	DigestOwner    string
	NAlerts        int
}

const channelCols = `delivery_id, channel, type, received_at, status, fingerprints, attempts, last_error, text_part,
	text_sent_at, chart_sent_at, text_latency_ms, chart_latency_ms, renderer, fallback_reason, chart_note, chart_state,
	chart_parts_sent, chart_attempts, no_combine, digest_owner, n_alerts`

func scanChannel(r interface{ Scan(...any) error }) (*channelRow, error) {
	var c channelRow
	var at int64
	var fps string
	var noCombine int
	if err := r.Scan(&c.DeliveryID, &c.Channel, &c.Type, &at, &c.Status, &fps, &c.Attempts, &c.LastError, &c.TextPart,
		&c.TextSentAt, &c.ChartSentAt, &c.TextLatencyMs, &c.ChartLatencyMs, &c.Renderer, &c.FallbackReason, &c.ChartNote,
		&c.ChartState, &c.ChartPartsSent, &c.ChartAttempts, &noCombine, &c.DigestOwner, &c.NAlerts); err != nil {
		return nil, err
	}
	c.ReceivedAt = time.UnixMilli(at)
	c.NoCombine = noCombine != 0
	_ = json.Unmarshal([]byte(fps), &c.Fingerprints)
	return &c, nil
}

func (s *Service) loadChannel(ctx context.Context, db dbtx, id, channel string) (*channelRow, error) {
	return scanChannel(db.queryRow(ctx, `SELECT `+channelCols+` FROM alertchart_channel WHERE delivery_id = $1 AND channel = $2`, id, channel))
}

func (s *Service) queryChannels(ctx context.Context, db dbtx, q string, args ...any) ([]*channelRow, error) {
	rows, err := db.query(ctx, `SELECT `+channelCols+` FROM alertchart_channel WHERE `+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.close()
	var out []*channelRow
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// recordAttempt stores one send attempt.
func recordAttempt(ctx context.Context, db dbtx, id, channel, part string, at time.Time, dur time.Duration, res *channels.Result, err error) error {
	status := 0
	if res != nil {
		status = res.StatusCode
	}
	msg := ""
	if err != nil {
		msg = err.Error()
		var ce *channels.Error
		if errors.As(err, &ce) && ce.StatusCode != 0 {
			status = ce.StatusCode
		}
	}
	ok := 0
	if err == nil {
		ok = 1
	}
	_, e := db.exec(ctx, `INSERT INTO alertchart_attempt (delivery_id, channel, part, at, ok, error, status_code, duration_ms)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, channel, part, at.UnixMilli(), ok, truncate(msg, 2000), status, dur.Milliseconds())
	return e
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
