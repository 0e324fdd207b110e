package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/oklog/ulid/v2"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
	"github.com/riverqueue/river"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/settings"
)

// Service is the durable delivery pipeline of one plugin instance.
type Service struct {
	cfg       Config
	s         *settings.Settings
	log       log.Logger
	m         *metrics
	b         backend
	d         dialect
	notifiers map[string]channels.Notifier
	charts    *chartCache
	chLocks   sync.Map // channel name → *sync.Mutex, see lockChannel

	dataDir string
	warning string

	closed atomic.Bool
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// AcceptResult is the answer to an accepted webhook.
type AcceptResult struct {
	// ID of the notification (a ULID), shown in the delivery records.
	ID string `json:"id"`
	// Alerts in the notification.
	Alerts int `json:"alerts"`
	// Duplicates is how many of them every channel had already received
	// within delivery.dedupeWindow (they are recorded but not sent again).
	Duplicates int `json:"duplicates"`
}

// Open creates the queue tables if needed, re-queues work interrupted by a
// crash and starts the workers. The caller must Close the Service.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Settings == nil {
		return nil, errors.New("delivery: Config.Settings is required")
	}
	cfg.applyDefaults()
	logger := cfg.Logger
	if logger == nil {
		logger = log.NewNullLogger()
	}
	s := &Service{
		cfg:       cfg,
		s:         cfg.Settings,
		log:       logger,
		m:         newMetrics(cfg.Registerer),
		notifiers: cfg.Notifiers,
	}
	if s.notifiers == nil {
		s.notifiers = map[string]channels.Notifier{}
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.charts = newChartCache(s)

	workers := river.NewWorkers()
	river.AddWorker(workers, &textWorker{s: s})
	river.AddWorker(workers, &chartWorker{s: s})
	river.AddWorker(workers, &maintenanceWorker{s: s})

	var err error
	switch cfg.Settings.Delivery.Queue {
	case "postgres":
		dsn := cfg.Settings.Secrets[settings.SecretPostgresDSN]
		if dsn == "" {
			s.cancel()
			return nil, errors.New("delivery: delivery.queue is postgres but secureJsonData.postgresDsn is empty")
		}
		s.d = postgresDialect
		s.b, err = openPostgres(ctx, &s.cfg, dsn, workers, logger)
	default:
		s.dataDir = cfg.DataDir
		if s.dataDir == "" {
			s.dataDir, s.warning = ChooseDataDir(cfg.Settings)
		}
		s.d = sqliteDialect
		s.b, err = openSQLite(ctx, &s.cfg, s.dataDir, workers, logger)
	}
	if err != nil {
		s.cancel()
		return nil, fmt.Errorf("delivery queue: %w", err)
	}
	if err := s.b.start(s.ctx); err != nil {
		s.b.close()
		s.cancel()
		return nil, fmt.Errorf("delivery queue: start: %w", err)
	}
	s.wg.Add(1)
	go s.gaugeLoop()
	return s, nil
}

// DataDir is the SQLite queue's directory ("" with PostgreSQL).
func (s *Service) DataDir() string { return s.dataDir }

// Warning is a health warning about the queue's durability ("" when fine),
// e.g. when the data directory is a temporary one.
func (s *Service) Warning() string { return s.warning }

// Ping checks that the queue database answers.
func (s *Service) Ping(ctx context.Context) error {
	var one int
	return s.b.plain().queryRow(ctx, `SELECT 1`).Scan(&one)
}

// Close stops taking work and waits for running deliveries until ctx ends;
// then it cancels them, and they are re-queued (a send cut short is sent
// again by the next instance: at least once, never lost).
func (s *Service) Close(ctx context.Context) error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	err := s.b.stop(ctx)
	if err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err = s.b.stopAndCancel(cctx)
		cancel()
	}
	s.cancel()
	s.wg.Wait()
	s.b.close()
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

func (s *Service) now() time.Time { return s.cfg.Now() }

// Accept persists a notification for receiver and queues its deliveries. It
// returns only after the notification is durable. ErrUnknownReceiver and
// ErrInvalid are client mistakes; any other error means nothing was stored
// and Alertmanager should retry (answer 503).
func (s *Service) Accept(ctx context.Context, receiver string, data *template.Data) (AcceptResult, error) {
	return s.AcceptGroup(ctx, receiver, "", data)
}

// AcceptGroup is Accept with Alertmanager's groupKey (from the webhook body),
// kept in the delivery records. An empty groupKey is derived from groupLabels.
func (s *Service) AcceptGroup(ctx context.Context, receiver, groupKey string, data *template.Data) (AcceptResult, error) {
	if s.closed.Load() {
		return AcceptResult{}, ErrClosed
	}
	if data == nil || len(data.Alerts) == 0 {
		return AcceptResult{}, fmt.Errorf("%w: no alerts", ErrInvalid)
	}
	if receiver == "" {
		receiver = data.Receiver
	}
	if !s.s.ReceiverKnown(receiver) {
		return AcceptResult{}, fmt.Errorf("%w %q", ErrUnknownReceiver, receiver)
	}
	for i, a := range data.Alerts {
		if a.Status != "" && a.Status != "firing" && a.Status != "resolved" {
			return AcceptResult{}, fmt.Errorf("%w: alerts[%d].status must be firing or resolved, not %q", ErrInvalid, i, a.Status)
		}
	}
	return s.accept(ctx, receiver, groupKey, data, "")
}

// dedupeKey is the idempotency key of one alert to one channel.
func dedupeKey(receiver, channel, fp, status string, startsAt time.Time) string {
	h := sha256.Sum256([]byte(strings.Join([]string{receiver, channel, fp, status, startsAt.UTC().Format(time.RFC3339Nano)}, "\x00")))
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

func (s *Service) accept(ctx context.Context, receiver, groupKey string, in *template.Data, resentFrom string) (AcceptResult, error) {
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
		return AcceptResult{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	sumJSON, _ := json.Marshal(summaries)
	nowMs := now.UnixMilli()
	window := s.s.Delivery.DedupeWindow.D()

	type chanPlan struct {
		name string
		fps  []string
		seen bool
	}
	var order []*chanPlan
	plans := map[string]*chanPlan{}
	duplicates := 0
	// The webhook is waiting: its transaction takes the SQLite connection
	// before any queued background work (see sqlitegate.go).
	ctx = withPriority(ctx)
	err = withTx(ctx, s.b, func(t txn) error {
		db := t.db()
		if _, err := db.exec(ctx, `INSERT INTO alertchart_delivery (id, received_at, receiver, group_key, payload, alerts, resent_from)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, nowMs, receiver, groupKey, string(payload), string(sumJSON), resentFrom); err != nil {
			return err
		}
		for _, a := range data.Alerts {
			chs := s.s.ChannelsFor(receiver, a.Labels)
			fresh := 0
			for _, ch := range chs {
				p := plans[ch]
				if p == nil {
					p = &chanPlan{name: ch}
					plans[ch] = p
					order = append(order, p)
				}
				p.seen = true
				isNew := true
				if resentFrom == "" && window > 0 {
					n, err := db.exec(ctx, `INSERT INTO alertchart_dedupe (key, delivery_id, expires_at) VALUES ($1, $2, $3)
						ON CONFLICT (key) DO UPDATE SET delivery_id = excluded.delivery_id, expires_at = excluded.expires_at
						WHERE alertchart_dedupe.expires_at <= $4`,
						dedupeKey(receiver, ch, a.Fingerprint, a.Status, a.StartsAt), id, nowMs+window.Milliseconds(), nowMs)
					if err != nil {
						return err
					}
					isNew = n > 0
				}
				if isNew {
					p.fps = append(p.fps, a.Fingerprint)
					fresh++
				}
			}
			if len(chs) > 0 && fresh == 0 {
				duplicates++
			}
		}
		var jobs []river.InsertManyParams
		for _, p := range order {
			typ := ""
			if n := s.notifiers[p.name]; n != nil {
				typ = n.Type()
			} else if c, ok := s.s.Channel(p.name); ok {
				typ = c.Type
			}
			status := "pending"
			if len(p.fps) == 0 {
				status = "deduplicated"
			}
			fpJSON, _ := json.Marshal(p.fps)
			if _, err := db.exec(ctx, `INSERT INTO alertchart_channel (delivery_id, channel, type, received_at, status, fingerprints, n_alerts)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, p.name, typ, nowMs, status, string(fpJSON), len(p.fps)); err != nil {
				return err
			}
			if status == "pending" {
				jobs = append(jobs, river.InsertManyParams{Args: textArgs{DeliveryID: id, Channel: p.name},
					InsertOpts: &river.InsertOpts{Queue: queueText, MaxAttempts: maxAttempts}})
			}
		}
		return t.enqueue(ctx, jobs...)
	})
	if err != nil {
		s.log.Error("delivery: could not persist a notification; Alertmanager will retry", "receiver", receiver, "error", err)
		return AcceptResult{}, fmt.Errorf("persist notification: %w", err)
	}
	s.m.accepted.WithLabelValues(receiver).Inc()
	s.m.alerts.WithLabelValues("new").Add(float64(len(data.Alerts) - duplicates))
	s.m.alerts.WithLabelValues("duplicate").Add(float64(duplicates))
	for _, p := range order {
		if len(p.fps) == 0 {
			s.m.deliveries.WithLabelValues(p.name, "deduplicated").Inc()
		}
	}
	if len(order) == 0 {
		s.log.Warn("delivery: no channel matches this notification", "receiver", receiver, "id", id)
	}
	return AcceptResult{ID: id, Alerts: len(data.Alerts), Duplicates: duplicates}, nil
}

// RecentAlert is one alert of a recently received notification.
type RecentAlert struct {
	Receiver   string         `json:"receiver"`
	ReceivedAt time.Time      `json:"receivedAt"`
	Alert      template.Alert `json:"alert"`
}

// Recent returns the last n alerts received, newest first (GET recent).
func (s *Service) Recent(ctx context.Context, n int) ([]RecentAlert, error) {
	if n <= 0 {
		n = 50
	}
	rows, err := s.b.plain().query(ctx, `SELECT receiver, received_at, payload FROM alertchart_delivery
		ORDER BY received_at DESC, id DESC LIMIT $1`, n)
	if err != nil {
		return nil, err
	}
	defer rows.close()
	out := []RecentAlert{}
	for rows.Next() && len(out) < n {
		var recv, payload string
		var at int64
		if err := rows.Scan(&recv, &at, &payload); err != nil {
			return nil, err
		}
		var d template.Data
		if err := json.Unmarshal([]byte(payload), &d); err != nil {
			continue
		}
		for _, a := range d.Alerts {
			if len(out) == n {
				break
			}
			out = append(out, RecentAlert{Receiver: recv, ReceivedAt: time.UnixMilli(at).UTC(), Alert: a})
		}
	}
	return out, rows.Err()
}

// gaugeLoop refreshes the queue-depth gauge.
func (s *Service) gaugeLoop() {
	defer s.wg.Done()
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		s.updateDepth()
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) updateDepth() {
	ctx, cancel := context.WithTimeout(s.ctx, 2*time.Second)
	defer cancel()
	var text, chart int64
	if err := s.b.plain().queryRow(ctx, `SELECT
		COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN chart_state = 'pending' THEN 1 ELSE 0 END), 0)
		FROM alertchart_channel WHERE status = 'pending' OR chart_state = 'pending'`).Scan(&text, &chart); err == nil {
		s.m.queueDepth.WithLabelValues("text").Set(float64(text))
		s.m.queueDepth.WithLabelValues("chart").Set(float64(chart))
	}
}

// maintain deletes records older than delivery.retention and expired
// idempotency keys and rate-limit slots.
func (s *Service) maintain(ctx context.Context) error {
	now := s.now().UnixMilli()
	// Never delete what may still be retried.
	keep := max(s.s.Delivery.Retention.D(), s.horizon()+time.Hour)
	cut := now - keep.Milliseconds()
	db := s.b.plain()
	stmts := []struct {
		q    string
		args []any
	}{
		{`DELETE FROM alertchart_attempt WHERE delivery_id IN (SELECT id FROM alertchart_delivery WHERE received_at < $1)`, []any{cut}},
		{`DELETE FROM alertchart_chart WHERE delivery_id IN (SELECT id FROM alertchart_delivery WHERE received_at < $1)`, []any{cut}},
		{`DELETE FROM alertchart_channel WHERE received_at < $1`, []any{cut}},
		{`DELETE FROM alertchart_delivery WHERE received_at < $1`, []any{cut}},
		{`DELETE FROM alertchart_dedupe WHERE expires_at < $1`, []any{now}},
		{`DELETE FROM alertchart_rate_slot WHERE at < $1`, []any{now - s.cfg.RateWindow.Milliseconds()}},
	}
	for _, st := range stmts {
		if _, err := db.exec(ctx, st.q, st.args...); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
	}
	return s.requeueStranded(ctx)
}

// strandedAfter is how old a pending text must be before maintenance looks
// for a job that will send it.
const strandedAfter = 2 * time.Minute

// requeueStranded is the safety net behind "an accepted alert is never
// lost": every pending text must have a live River job that will send it,
// either its own or the job of the digest it joined. Accept, release and
// the digest hand-over create rows and jobs in one transaction, so finding
// a row without one means a bug; rather than let that lose an alert, the
// row gets a fresh text job and the incident is logged.
func (s *Service) requeueStranded(ctx context.Context) error {
	d, c := s.d.jsonText("j.args", "d"), s.d.jsonText("j.args", "c")
	live := `j.kind = 'alertchart_text' AND j.state IN ('available', 'pending', 'retryable', 'running', 'scheduled') AND ` + c + ` = r.channel`
	orphan := `r.status = 'pending' AND r.text_sent_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM river_job j WHERE ` + live + ` AND ` + d + ` = r.delivery_id)
		AND (r.digest_owner = '' OR NOT EXISTS (SELECT 1 FROM river_job j WHERE ` + live + ` AND ` + d + ` || '/' || r.channel = r.digest_owner))`
	rows, err := s.b.plain().query(ctx, `SELECT r.delivery_id, r.channel FROM alertchart_channel r
		WHERE r.received_at < $1 AND `+orphan+` ORDER BY r.received_at LIMIT 1000`, s.now().Add(-strandedAfter).UnixMilli())
	if err != nil {
		return fmt.Errorf("look for stranded deliveries: %w", err)
	}
	type key struct{ id, channel string }
	var stranded []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.id, &k.channel); err != nil {
			rows.close()
			return err
		}
		stranded = append(stranded, k)
	}
	rows.close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range stranded {
		err := withTx(ctx, s.b, func(t txn) error {
			if err := s.lockDigests(ctx, t.db(), k.channel); err != nil {
				return err
			}
			// Checked again under the lock: a job may have appeared since.
			n, err := t.db().exec(ctx, `UPDATE alertchart_channel SET digest_owner = '' WHERE delivery_id = $1 AND channel = $2 AND EXISTS (
				SELECT 1 FROM alertchart_channel r WHERE r.delivery_id = $1 AND r.channel = $2 AND `+orphan+`)`, k.id, k.channel)
			if err != nil || n == 0 {
				return err
			}
			return t.enqueue(ctx, river.InsertManyParams{Args: textArgs{DeliveryID: k.id, Channel: k.channel},
				InsertOpts: &river.InsertOpts{Queue: queueText, MaxAttempts: maxAttempts}})
		})
		if err != nil {
			return fmt.Errorf("requeue stranded delivery %s: %w", k.id, err)
		}
		s.log.Error("delivery: a pending text had no job that would send it; queued it again", "delivery", k.id, "channel", k.channel)
	}
	return nil
}
