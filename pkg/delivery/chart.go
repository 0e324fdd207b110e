package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/riverqueue/river"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// chartAlerts are the alerts of a channel delivery that get a chart.
func (s *orgRuntime) chartAlerts(channel string, del *deliveryRec, row *store.Channel) []template.Alert {
	if s.charter == nil {
		return nil
	}
	if c, ok := s.s.Channel(channel); ok && c.DisableChart {
		return nil
	}
	var out []template.Alert
	for _, a := range channelData(del.Data, row.Fingerprints).Alerts {
		if len(out) == s.cfg.MaxChartsPerNotification {
			break
		}
		out = append(out, a)
	}
	return out
}

// workChart sends the charts that missed the text, or one short note saying
// why there is no chart. While the robot has text waiting, charts are
// skipped: images go first when the rate budget is short.
func (s *orgRuntime) workChart(ctx context.Context, k store.Key) error {
	row, err := s.st.Channel(ctx, k)
	if errors.Is(err, store.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if row.ChartState != store.ChartPending {
		return nil
	}
	n := s.notifiers[k.Channel]
	if n == nil {
		return s.chartDone(ctx, row, store.ChartSkipped, fmt.Sprintf("chart unavailable: channel %q is not configured", k.Channel))
	}
	if s.now().Sub(row.ReceivedAt) > s.horizon() {
		return s.chartDone(ctx, row, store.ChartSkipped, "chart unavailable: gave up after delivery.retryHorizon")
	}
	limit := s.perMinute(k.Channel, n.Limits())
	if limit > 0 && !row.ChartSentAt.Valid {
		// A rate-limited robot with text still waiting spends its slots on text.
		backlog, err := s.st.PendingTexts(ctx, k.Org, k.Channel, "")
		if err != nil {
			return err
		}
		if backlog > 0 {
			return s.chartDone(ctx, row, store.ChartSkipped, "chart skipped: the channel is rate limited and alert text goes first")
		}
	}
	del, err := loadDelivery(ctx, s.st.DB, k.DeliveryID)
	if err != nil {
		return err
	}
	alerts := s.chartAlerts(k.Channel, del, row)
	note := row.ChartNote
	for i := row.ChartPartsSent; i < len(alerts); i++ {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.ChartTimeout+5*time.Second)
		res, err := s.charts.get(cctx, s, del, alerts[i])
		cancel()
		if ctx.Err() != nil {
			return river.JobSnooze(0)
		}
		if err != nil {
			res.err = err
		}
		if res.err != nil {
			if note == "" {
				note = "chart unavailable: " + res.err.Error()
			}
			if err := s.st.ChartProgress(context.WithoutCancel(ctx), k, i+1, truncate(note, 500)); err != nil {
				return err
			}
			continue
		}
		dec, err := s.acquire(ctx, k.Channel, 1, limit)
		if err != nil {
			return err
		}
		if !dec.OK {
			s.m.rateWaits.WithLabelValues(k.Channel).Inc()
			return river.JobSnooze(dec.Wait)
		}
		data := channelData(del.Data, []string{alerts[i].Fingerprint})
		msg := &channels.Message{Data: data, Part: channels.PartChart, Chart: res.chart, GrafanaURL: s.grafanaURL, AlertmanagerURL: data.ExternalURL}
		at := s.now()
		sres, sendErr, dur := s.send(ctx, n, msg)
		s.settle(ctx, k.Channel, dec)
		if err := recordAttempt(context.WithoutCancel(ctx), s.st.DB, k, string(channels.PartChart), at, dur, sres, sendErr); err != nil {
			return err
		}
		if sendErr == nil {
			sent := s.now()
			if err := s.st.ChartSent(context.WithoutCancel(ctx), k, i+1, sent, sent.Sub(row.ReceivedAt), res.info.Renderer, res.info.FallbackReason, res.info.Note); err != nil {
				return err
			}
			row.ChartSentAt.Valid = true
			continue
		}
		if wait, giveUp, err := s.chartRetry(ctx, row, sendErr); err != nil || !giveUp {
			return cmpErr(err, river.JobSnooze(wait))
		}
		if note == "" {
			note = "chart unavailable: " + truncate(sendErr.Error(), 300)
		}
		if err := s.st.ChartProgress(context.WithoutCancel(ctx), k, i+1, truncate(note, 500)); err != nil {
			return err
		}
	}
	if row.ChartSentAt.Valid || note == "" {
		return s.chartDone(ctx, row, store.ChartDone, "")
	}
	// No chart could be sent: say so, briefly — unless text waits for the
	// robot (a note never takes a slot alert text needs).
	dec, idle, err := s.acquireImage(ctx, k.Channel, "", 1, limit, true)
	if err != nil {
		return err
	}
	if !idle {
		return s.chartDone(ctx, row, store.ChartSkipped, "chart skipped: the channel is rate limited and alert text goes first; "+note)
	}
	if !dec.OK {
		s.m.rateWaits.WithLabelValues(k.Channel).Inc()
		return river.JobSnooze(dec.Wait)
	}
	data := channelData(del.Data, row.Fingerprints)
	msg := &channels.Message{Data: data, Part: channels.PartChart, ChartNote: note, GrafanaURL: s.grafanaURL, AlertmanagerURL: data.ExternalURL}
	at := s.now()
	sres, sendErr, dur := s.send(ctx, n, msg)
	s.settle(ctx, k.Channel, dec)
	if err := recordAttempt(context.WithoutCancel(ctx), s.st.DB, k, string(channels.PartChart), at, dur, sres, sendErr); err != nil {
		return err
	}
	if sendErr != nil {
		if wait, giveUp, err := s.chartRetry(ctx, row, sendErr); err != nil || !giveUp {
			return cmpErr(err, river.JobSnooze(wait))
		}
	}
	return s.chartDone(ctx, row, store.ChartDone, note)
}

// cmpErr returns err if set, else alt.
func cmpErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// chartRetry applies the retry decision to a failed chart send; while
// shutting down the job is handed to the next instance at once.
func (s *orgRuntime) chartRetry(ctx context.Context, row *store.Channel, sendErr error) (time.Duration, bool, error) {
	if ctx.Err() != nil {
		return 0, false, nil
	}
	ctx = context.WithoutCancel(ctx)
	if channels.KindOf(sendErr) == channels.Retryable {
		row.ChartAttempts++
		if err := s.st.CountChartAttempt(ctx, store.Key{DeliveryID: row.DeliveryID, Channel: row.Channel}); err != nil {
			return 0, false, err
		}
	}
	return s.retry(ctx, row.Channel, string(channels.PartChart), sendErr, row.ChartAttempts, row.ReceivedAt)
}

func (s *orgRuntime) chartDone(ctx context.Context, row *store.Channel, state store.ChartState, note string) error {
	err := s.st.SetChartState(context.WithoutCancel(ctx), store.Key{DeliveryID: row.DeliveryID, Channel: row.Channel}, state, truncate(note, 500))
	if err == nil && strings.HasPrefix(note, "chart skipped") {
		s.m.deliveries.WithLabelValues(row.Channel, "chart_skipped").Inc()
	}
	return err
}
