package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/riverqueue/river"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
	"github.com/alertchart/alertchart/pkg/i18n"
	"github.com/alertchart/alertchart/pkg/nochart"
)

// chartAlerts are the alerts of a channel delivery that get a chart.
func (s *orgRuntime) chartAlerts(channel string, del *deliveryRec, row *store.Channel) []template.Alert {
	if s.chartless(channel) {
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

// workChart sends the charts that missed the text, or one short note in
// the channel's language saying why there is none (nochart.Note: no URL,
// query or upstream error; the full reason goes into the record). A chart
// is skipped only when the robot's free slots are needed by text waiting
// for it (spareSlot); when there simply is no free slot yet, it waits for
// one. Quiet reasons (no data source, chart_disable) are recorded, never
// sent.
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
		// Nothing can be sent to it, not even a note.
		return s.chartDone(ctx, row, store.ChartSkipped, fmt.Sprintf("chart not sent: channel %q is not in the current settings (%s)",
			k.Channel, nochart.ChannelUnconfigured.Text("en")))
	}
	lang := s.noteLang(k.Channel)
	limit := s.perMinute(k.Channel, n.Limits())
	del, err := loadDelivery(ctx, s.st.DB, k.DeliveryID)
	if err != nil {
		return err
	}
	if s.now().Sub(row.ReceivedAt) > s.horizon() {
		why := fmt.Sprintf("chart given up: delivery.retryHorizon (%s) passed before it could be sent", s.horizon())
		if row.ChartNote != "" {
			why = row.ChartNote + "; " + why
		}
		return s.chartNote(ctx, n, limit, row, del, nochart.GaveUp.Note(lang), why, false)
	}
	alerts := s.chartAlerts(k.Channel, del, row)
	chartLang := s.chartLang(k.Channel)
	note, reason := row.ChartNote, nochart.Reason("")
	if note != "" {
		reason = s.failedBefore(ctx, del, alerts[:min(row.ChartPartsSent, len(alerts))], chartLang)
	}
	for i := row.ChartPartsSent; i < len(alerts); i++ {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.ChartTimeout+5*time.Second)
		res, err := s.charts.get(cctx, s, del, alerts[i], chartLang)
		cancel()
		if ctx.Err() != nil {
			return river.JobSnooze(0)
		}
		if err != nil {
			res.err = &nochart.Error{Reason: nochart.Timeout, Detail: fmt.Sprintf("no chart within %s", s.cfg.ChartTimeout+5*time.Second), Err: err}
		}
		if res.err != nil {
			if note == "" {
				note = "chart unavailable: " + res.err.Error()
			}
			if r := nochart.ReasonOf(res.err); reason == "" || (reason.Quiet() && !r.Quiet()) {
				reason = r
			}
			if err := s.st.ChartProgress(context.WithoutCancel(ctx), k, i+1, truncate(note, 500)); err != nil {
				return err
			}
			continue
		}
		dec, waiting, err := s.spareSlot(ctx, k.Channel, 1, limit)
		if err != nil {
			return err
		}
		if waiting > 0 {
			// The robot's free slots are needed by alert text: the text
			// goes first, and a note would cost the same slot.
			why := fmt.Sprintf("chart skipped: %s; no note sent", textsNeedSlots(waiting, limit))
			if row.ChartSentAt.Valid {
				why = fmt.Sprintf("%d of %d charts sent; the rest skipped: %s", i, len(alerts), textsNeedSlots(waiting, limit))
			}
			return s.chartDone(ctx, row, store.ChartSkipped, why)
		}
		if !dec.OK {
			s.m.rateWaits.WithLabelValues(k.Channel).Inc()
			return river.JobSnooze(dec.Wait)
		}
		data := channelData(del.Data, []string{alerts[i].Fingerprint})
		msg := &channels.Message{Data: data, Part: channels.PartChart, Chart: res.chart, GrafanaURL: s.grafanaURL, AlertmanagerURL: data.ExternalURL}
		at := s.now()
		sres, dur, sendErr := s.send(ctx, n, msg)
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
			note = "chart unavailable: sending the image failed: " + truncate(sendErr.Error(), 300)
		}
		if reason == "" || reason.Quiet() {
			reason = nochart.SendFailed
		}
		if err := s.st.ChartProgress(context.WithoutCancel(ctx), k, i+1, truncate(note, 500)); err != nil {
			return err
		}
	}
	if row.ChartSentAt.Valid || note == "" {
		return s.chartDone(ctx, row, store.ChartDone, "")
	}
	// No chart could be sent: say so, briefly, unless the reason is quiet.
	if reason.Quiet() {
		return s.chartDone(ctx, row, store.ChartDone, note+" (not noted in the chat: "+quietWhy(reason)+")")
	}
	return s.chartNote(ctx, n, limit, row, del, reason.Note(lang), note, true)
}

// textsNeedSlots words, for a record, why an image or a note gave way.
func textsNeedSlots(waiting int64, limit int) string {
	texts := "alert texts were"
	if waiting == 1 {
		texts = "alert text was"
	}
	return fmt.Sprintf("%d %s waiting for the robot's free slots (limit %d a minute)", waiting, texts, limit)
}

// quietWhy says why a quiet reason is not worth a message.
func quietWhy(r nochart.Reason) string {
	if r == nochart.NoDataSource {
		return "health reports it once for every alert"
	}
	return "the rule turns its chart off"
}

// chartNote sends the short note that says why no chart follows (text,
// in the channel's language) and records why (the full reason), when a
// slot of the robot is free and not needed by waiting text. Otherwise,
// with wait, the job waits for a slot while no text needs it; without,
// only the record says why.
func (s *orgRuntime) chartNote(ctx context.Context, n channels.Notifier, limit int, row *store.Channel, del *deliveryRec, text, why string, wait bool) error {
	k := store.Key{Org: row.Org, DeliveryID: row.DeliveryID, Channel: row.Channel}
	data := channelData(del.Data, row.Fingerprints)
	msg := &channels.Message{Data: data, Part: channels.PartChart, ChartNote: text, GrafanaURL: s.grafanaURL, AlertmanagerURL: data.ExternalURL}
	dec, waiting, err := s.spareSlot(ctx, row.Channel, channels.CostOf(n, msg), limit)
	if err != nil {
		return err
	}
	switch {
	case waiting > 0:
		return s.chartDone(ctx, row, store.ChartSkipped, why+"; no note sent: "+textsNeedSlots(waiting, limit))
	case !dec.OK && wait:
		s.m.rateWaits.WithLabelValues(row.Channel).Inc()
		return river.JobSnooze(dec.Wait)
	case !dec.OK:
		return s.chartDone(ctx, row, store.ChartSkipped, why+"; no note sent: the robot had no free slot")
	}
	at := s.now()
	sres, dur, sendErr := s.send(ctx, n, msg)
	s.settle(ctx, row.Channel, dec)
	if err := recordAttempt(context.WithoutCancel(ctx), s.st.DB, k, string(channels.PartChart), at, dur, sres, sendErr); err != nil {
		return err
	}
	if sendErr != nil && wait {
		if wait, giveUp, err := s.chartRetry(ctx, row, sendErr); err != nil || !giveUp {
			return cmpErr(err, river.JobSnooze(wait))
		}
	}
	if sendErr != nil {
		return s.chartDone(ctx, row, store.ChartSkipped, why+"; the note was not sent either: "+truncate(sendErr.Error(), 200))
	}
	return s.chartDone(ctx, row, store.ChartDone, why)
}

// spareSlot reserves cost slots of the channel's robot for an image or a
// note, unless they are needed by alert text: with text waiting for the
// robot, only when the window has room for all of it and this message
// too. waiting > 0 means that text needs the slots (skip, do not wait);
// otherwise dec.OK false means no slot is free yet (wait dec.Wait).
func (s *orgRuntime) spareSlot(ctx context.Context, channel string, cost, limit int) (dec rateDecision, waiting int64, err error) {
	if limit > 0 {
		backlog, err := s.st.PendingTexts(ctx, s.org, channel, "")
		if err != nil {
			return dec, 0, err
		}
		if backlog > 0 {
			if backlog+int64(cost) > int64(limit) {
				return dec, backlog, nil
			}
			room, err := s.peek(ctx, channel, int(backlog)+cost, limit)
			if err != nil {
				return dec, 0, err
			}
			if !room.OK {
				return dec, backlog, nil
			}
		}
	}
	dec, err = s.acquire(ctx, channel, cost, limit)
	return dec, 0, err
}

// failedBefore is the kind of the first chart failure among alerts whose
// charts an earlier run of the job dealt with without sending any (their
// stored outcome; a chart that was made but not sent failed to send).
func (s *orgRuntime) failedBefore(ctx context.Context, del *deliveryRec, alerts []template.Alert, lang string) nochart.Reason {
	reason := nochart.Reason("")
	for _, a := range alerts {
		r := nochart.SendFailed
		if res, ok, err := s.loadChart(ctx, del.ID, a.Fingerprint, lang); err == nil && ok && res.err != nil {
			r = nochart.ReasonOf(res.err)
		}
		if reason == "" || (reason.Quiet() && !r.Quiet()) {
			reason = r
		}
	}
	return cmpReason(reason, nochart.Internal)
}

func cmpReason(r, alt nochart.Reason) nochart.Reason {
	if r == "" {
		return alt
	}
	return r
}

// noteLang is the language of the channel's messages and notes: its own
// language, else chart.language.
func (s *orgRuntime) noteLang(channel string) string {
	lang := s.s.Chart.Language
	if c, ok := s.s.Channel(channel); ok && c.Language != "" {
		lang = c.Language
	}
	return i18n.Lang(lang)
}

// chartLang is the language the channel's charts are drawn in: its
// messages' (noteLang) when the Charter draws in a given language
// (LanguageCharter), else "" (the Charter chooses).
func (s *orgRuntime) chartLang(channel string) string {
	if _, ok := s.charter.(LanguageCharter); !ok {
		return ""
	}
	return s.noteLang(channel)
}

// overviewLang is the language a digest's overview is asked in for a
// channel of language lang: lang when the Charter draws overviews in a
// given language (LanguageOverviewCharter), else "" (it chooses).
func overviewLang(oc OverviewCharter, lang string) string {
	if _, ok := oc.(LanguageOverviewCharter); !ok {
		return ""
	}
	return lang
}

// overviewIn draws a digest's overview chart in lang ("": the Charter
// chooses, see overviewLang).
func overviewIn(ctx context.Context, oc OverviewCharter, receiver, lang string, alerts []template.Alert) (*channels.Chart, channels.ChartInfo, error) {
	if lc, ok := oc.(LanguageOverviewCharter); ok && lang != "" {
		return lc.OverviewIn(ctx, receiver, lang, alerts)
	}
	return oc.Overview(ctx, receiver, alerts)
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
		return 0, false, nil //nolint:nilerr // shutting down: the next instance retries the job, this is not a failure
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
	if err == nil && state == store.ChartSkipped {
		s.m.deliveries.WithLabelValues(row.Channel, "chart_skipped").Inc()
	}
	return err
}
