package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Notification is one accepted webhook (alertchart_delivery).
type Notification struct {
	// Org is the Grafana organisation the notification belongs to.
	Org        int64
	ID         string
	ReceivedAt time.Time
	Receiver   string
	GroupKey   string
	ResentFrom string
	// Payload is the notification (Alertmanager's template.Data) as JSON.
	Payload string
	// Alerts is the short form of its alerts for the records, as JSON.
	Alerts string
}

// Channel is one notification's delivery to one channel (alertchart_channel):
// the outbox row whose state drives the text and chart jobs.
type Channel struct {
	Org            int64
	DeliveryID     string
	Channel        string
	Type           string
	ReceivedAt     time.Time
	Status         Status
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
	ChartState     ChartState
	ChartPartsSent int
	ChartAttempts  int
	NoCombine      bool
	// DigestOwner is the key ("<delivery id>/<channel>") of the job that
	// sends this row; "" while nobody has claimed it.
	DigestOwner string
	NAlerts     int
	// Holder is the replica whose lane holds the row (PostgreSQL), "" when
	// none does: a replica found dead gives its held rows back.
	Holder string
}

// Key names one delivery to one channel. Delivery ids are unique across
// organisations; Org says whose channel it is (whose queue its jobs go to,
// whose settings send it).
type Key struct {
	Org        int64
	DeliveryID string
	Channel    string
}

// Owner is the key as stored in digest_owner: "<delivery id>/<channel>".
// Channel names cannot contain "/" (settings validation).
func (k Key) Owner() string { return k.DeliveryID + "/" + k.Channel }

const channelCols = `delivery_id, channel, type, received_at, status, fingerprints, attempts, last_error, text_part,
	text_sent_at, chart_sent_at, text_latency_ms, chart_latency_ms, renderer, fallback_reason, chart_note, chart_state,
	chart_parts_sent, chart_attempts, no_combine, digest_owner, n_alerts, org_id, holder`

// scanChannel scans channelCols, then into extra the columns that follow.
func scanChannel(r interface{ Scan(...any) error }, extra ...any) (*Channel, error) {
	var c Channel
	var at int64
	var fps, status, chartState string
	var noCombine int
	dest := append([]any{&c.DeliveryID, &c.Channel, &c.Type, &at, &status, &fps, &c.Attempts, &c.LastError, &c.TextPart,
		&c.TextSentAt, &c.ChartSentAt, &c.TextLatencyMs, &c.ChartLatencyMs, &c.Renderer, &c.FallbackReason, &c.ChartNote,
		&chartState, &c.ChartPartsSent, &c.ChartAttempts, &noCombine, &c.DigestOwner, &c.NAlerts, &c.Org, &c.Holder}, extra...)
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	c.Status, c.ChartState = Status(status), ChartState(chartState)
	c.ReceivedAt = time.UnixMilli(at)
	c.NoCombine = noCombine != 0
	_ = json.Unmarshal([]byte(fps), &c.Fingerprints)
	return &c, nil
}

func (db DB) queryChannels(ctx context.Context, where string, args ...any) ([]*Channel, error) {
	rows, err := db.x.query(ctx, `SELECT `+channelCols+` FROM alertchart_channel WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.close()
	var out []*Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ---- acceptance ----

// InsertNotification stores an accepted notification and claims its
// idempotency keys until expires, in one go (on PostgreSQL, one round trip).
// fresh[i] reports whether keys[i] was free (absent, or expired at the
// notification's time); a key repeated in keys is fresh once at most.
func (db DB) InsertNotification(ctx context.Context, n Notification, keys []string, expires time.Time) (fresh []bool, err error) {
	stmts := []stmt{{`INSERT INTO alertchart_delivery (id, received_at, receiver, group_key, payload, alerts, resent_from, org_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, []any{n.ID, n.ReceivedAt.UnixMilli(), n.Receiver, n.GroupKey, n.Payload, n.Alerts, n.ResentFrom, n.Org}}}
	fresh = make([]bool, len(keys))
	first := map[string]int{}
	var uniq []string
	for i, k := range keys {
		if _, ok := first[k]; !ok {
			first[k] = i
			uniq = append(uniq, k)
		}
	}
	got := map[string]bool{}
	scan := func(r rowScanner) error {
		var k string
		if err := r.Scan(&k); err != nil {
			return err
		}
		got[k] = true
		return nil
	}
	for len(uniq) > 0 {
		chunk := uniq[:min(len(uniq), 500)]
		uniq = uniq[len(chunk):]
		args := []any{n.ID, expires.UnixMilli(), n.ReceivedAt.UnixMilli()}
		var q strings.Builder
		q.WriteString(`INSERT INTO alertchart_dedupe (key, delivery_id, expires_at) VALUES `)
		for i, k := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			args = append(args, k)
			fmt.Fprintf(&q, "($%d, $1, $2)", len(args))
		}
		q.WriteString(` ON CONFLICT (key) DO UPDATE SET delivery_id = excluded.delivery_id, expires_at = excluded.expires_at
		WHERE alertchart_dedupe.expires_at <= $3 RETURNING key`)
		stmts = append(stmts, stmt{q.String(), args})
		if _, err := db.x.pipeline(ctx, stmts, scan); err != nil {
			return nil, err
		}
		stmts = nil
	}
	if stmts != nil {
		if _, err := db.x.pipeline(ctx, stmts, nil); err != nil {
			return nil, err
		}
	}
	for k, i := range first {
		fresh[i] = got[k]
	}
	return fresh, nil
}

// NewChannel is a channel delivery created by Accept.
type NewChannel struct {
	Key
	Type         string
	ReceivedAt   time.Time
	Status       Status
	Fingerprints []string
	// Owner claims the row for a sender at once ("" leaves it to the text job).
	Owner string
	// Holder is the replica whose lane holds the row (see Channel.Holder).
	Holder string
}

// InsertChannels stores channel deliveries (on PostgreSQL, in one round trip).
func (db DB) InsertChannels(ctx context.Context, cs []NewChannel) error {
	stmts := make([]stmt, len(cs))
	for i, c := range cs {
		fps := c.Fingerprints
		if fps == nil {
			fps = []string{}
		}
		fpJSON, _ := json.Marshal(fps)
		stmts[i] = stmt{`INSERT INTO alertchart_channel (delivery_id, channel, type, received_at, status, fingerprints, n_alerts, digest_owner, org_id, holder)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, []any{c.DeliveryID, c.Channel, c.Type, c.ReceivedAt.UnixMilli(), string(c.Status), string(fpJSON), len(fps), c.Owner, c.Org, c.Holder}}
	}
	_, err := db.x.pipeline(ctx, stmts, nil)
	return err
}

// ---- reading ----

const notificationCols = `id, received_at, receiver, group_key, resent_from, org_id`

// Notification loads one stored notification, whatever its organisation
// (ErrNoRows if there is none). The pipeline's own reads use it; what an
// organisation asks for goes through NotificationOf.
func (db DB) Notification(ctx context.Context, id string) (*Notification, error) {
	list, err := db.notifications(ctx, `SELECT `+notificationCols+`, payload, alerts FROM alertchart_delivery WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, ErrNoRows
	}
	return &list[0], nil
}

// NotificationOf loads one stored notification of org (ErrNoRows if org
// has none with that id: another organisation's is not there for it).
func (db DB) NotificationOf(ctx context.Context, org int64, id string) (*Notification, error) {
	list, err := db.notifications(ctx, `SELECT `+notificationCols+`, payload, alerts FROM alertchart_delivery WHERE id = $1 AND org_id = $2`, id, org)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, ErrNoRows
	}
	return &list[0], nil
}

// Notifications lists org's stored notifications newest first, starting
// after (before, beforeID) and optionally only those of receiver, at most
// limit, without their payload.
func (db DB) Notifications(ctx context.Context, org int64, before time.Time, beforeID, receiver string, limit int) ([]Notification, error) {
	q := `SELECT ` + notificationCols + `, '', alerts FROM alertchart_delivery
		WHERE org_id = $1 AND (received_at < $2 OR (received_at = $2 AND id < $3))`
	args := []any{org, before.UnixMilli(), beforeID}
	if receiver != "" {
		q += ` AND receiver = $4`
		args = append(args, receiver)
	}
	q += ` ORDER BY received_at DESC, id DESC LIMIT ` + strconv.Itoa(limit)
	return db.notifications(ctx, q, args...)
}

func (db DB) notifications(ctx context.Context, q string, args ...any) ([]Notification, error) {
	rows, err := db.x.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.close()
	var out []Notification
	for rows.Next() {
		var n Notification
		var at int64
		if err := rows.Scan(&n.ID, &at, &n.Receiver, &n.GroupKey, &n.ResentFrom, &n.Org, &n.Payload, &n.Alerts); err != nil {
			return nil, err
		}
		n.ReceivedAt = time.UnixMilli(at)
		out = append(out, n)
	}
	return out, rows.Err()
}

// inList is the placeholders $first, $first+1, … for ids, and ids as
// arguments: an IN list for both drivers.
func inList(first int, ids []string) (string, []any) {
	var b strings.Builder
	args := make([]any, len(ids))
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("$" + strconv.Itoa(first+i))
		args[i] = id
	}
	return b.String(), args
}

// NotificationsByID loads stored notifications by id (a digest's, in one
// query); an id without one is missing from the answer.
func (db DB) NotificationsByID(ctx context.Context, ids []string) (map[string]*Notification, error) {
	out := make(map[string]*Notification, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList(1, ids)
	list, err := db.notifications(ctx, `SELECT `+notificationCols+`, payload, alerts FROM alertchart_delivery WHERE id IN (`+in+`)`, args...)
	if err != nil {
		return nil, err
	}
	for i := range list {
		out[list[i].ID] = &list[i]
	}
	return out, nil
}

// Channel loads one channel delivery (ErrNoRows if there is none).
func (db DB) Channel(ctx context.Context, k Key) (*Channel, error) {
	return scanChannel(db.x.queryRow(ctx, `SELECT `+channelCols+` FROM alertchart_channel WHERE delivery_id = $1 AND channel = $2`, k.DeliveryID, k.Channel))
}

// ChannelWithNotification loads a channel delivery and its notification in
// one query (ErrNoRows if there is none).
func (db DB) ChannelWithNotification(ctx context.Context, k Key) (*Channel, *Notification, error) {
	var n Notification
	var at int64
	cols := "c." + strings.Join(strings.Fields(strings.ReplaceAll(channelCols, ",", " ")), ", c.")
	c, err := scanChannel(db.x.queryRow(ctx, `SELECT `+cols+`, d.received_at, d.receiver, d.group_key, d.resent_from, d.payload
		FROM alertchart_channel c JOIN alertchart_delivery d ON d.id = c.delivery_id WHERE c.delivery_id = $1 AND c.channel = $2`,
		k.DeliveryID, k.Channel), &at, &n.Receiver, &n.GroupKey, &n.ResentFrom, &n.Payload)
	if err != nil {
		return nil, nil, err
	}
	n.ID, n.ReceivedAt, n.Org = k.DeliveryID, time.UnixMilli(at), c.Org
	return c, &n, nil
}

// Loaded is a channel delivery read back with its notification.
type Loaded struct {
	Row          *Channel
	Notification *Notification
}

// ChannelsWithNotifications is ChannelWithNotification for many deliveries
// of one channel in one query (a lane reading back the rows queued behind
// it, see the delivery package): the rows found, by delivery id.
func (db DB) ChannelsWithNotifications(ctx context.Context, channel string, ids []string) (map[string]Loaded, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cols := "c." + strings.Join(strings.Fields(strings.ReplaceAll(channelCols, ",", " ")), ", c.")
	in, args := inList(2, ids)
	rows, err := db.x.query(ctx, `SELECT `+cols+`, d.received_at, d.receiver, d.group_key, d.resent_from, d.payload
		FROM alertchart_channel c JOIN alertchart_delivery d ON d.id = c.delivery_id WHERE c.channel = $1 AND c.delivery_id IN (`+in+`)`,
		append([]any{channel}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.close()
	out := make(map[string]Loaded, len(ids))
	for rows.Next() {
		var n Notification
		var at int64
		c, err := scanChannel(rows, &at, &n.Receiver, &n.GroupKey, &n.ResentFrom, &n.Payload)
		if err != nil {
			return nil, err
		}
		n.ID, n.ReceivedAt, n.Org = c.DeliveryID, time.UnixMilli(at), c.Org
		out[c.DeliveryID] = Loaded{Row: c, Notification: &n}
	}
	return out, rows.Err()
}

// ChannelsOf lists a notification's channel deliveries by channel name.
func (db DB) ChannelsOf(ctx context.Context, id string) ([]*Channel, error) {
	return db.queryChannels(ctx, `delivery_id = $1 ORDER BY channel`, id)
}

// ---- gauges ----

// PendingCounts counts channel deliveries waiting for their text and for
// their follow-up chart, of every organisation.
func (db DB) PendingCounts(ctx context.Context) (text, chart int64, err error) {
	// Both counts read a partial index of the rows concerned (schema.go).
	if err = db.x.queryRow(ctx, `SELECT COUNT(*) FROM alertchart_channel WHERE `+isPending).Scan(&text); err != nil {
		return 0, 0, err
	}
	err = db.x.queryRow(ctx, `SELECT COUNT(*) FROM alertchart_channel WHERE `+isChartPending).Scan(&chart)
	return text, chart, err
}

// Backlog is how many of org's texts wait and since when the oldest does
// (zero time when none waits).
func (db DB) Backlog(ctx context.Context, org int64) (n int64, oldest time.Time, err error) {
	var at sql.NullInt64
	if err = db.x.queryRow(ctx, `SELECT COUNT(*), MIN(received_at) FROM alertchart_channel WHERE org_id = $1 AND `+isPending, org).Scan(&n, &at); err != nil {
		return 0, time.Time{}, err
	}
	if at.Valid {
		oldest = time.UnixMilli(at.Int64)
	}
	return n, oldest, nil
}

// ---- raw access for tests ----

// Exec runs a raw statement. The pipeline uses the named methods; this is
// for tests that forge a state (a lost job, a paused robot) and for
// diagnostics.
func (db DB) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	return db.x.exec(ctx, q, args...)
}

// QueryInt runs a raw query that returns one integer (tests, diagnostics).
func (db DB) QueryInt(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	err := db.x.queryRow(ctx, q, args...).Scan(&n)
	return n, err
}
