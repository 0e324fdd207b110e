package chartplan

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alertchart/alertchart/pkg/i18n"
)

// The chart's time range: the window the rule's `for` asks for, placed to
// end now (or just after endsAt) and to reach back past startsAt, the step
// that keeps it under maxPoints, and how the span is written.

// maxSpan bounds a chart whose alert started long ago.
const maxSpan = 30 * 24 * time.Hour

// window is for × multiplier clamped to [MinWindow, MaxWindow].
func (p *Planner) window(forDur time.Duration) time.Duration {
	if forDur <= 0 {
		return p.cfg.MinWindow
	}
	w := time.Duration(float64(forDur) * p.cfg.WindowMultiplier)
	if w < 0 || float64(forDur)*p.cfg.WindowMultiplier > float64(p.cfg.MaxWindow) {
		w = p.cfg.MaxWindow
	}
	return min(max(w, p.cfg.MinWindow), p.cfg.MaxWindow)
}

// placeWindow sets Start/End/Step: firing alerts end now, resolved ones
// shortly after endsAt, and the range always reaches back past startsAt.
func (p *Planner) placeWindow(pl *Plan, window, forDur time.Duration, ruleKnown bool, now time.Time) {
	pl.Window = Duration(window)
	pad := min(max(window/10, 30*time.Second), 10*time.Minute)
	end := now
	if pl.Alert.Status == "resolved" && !pl.Alert.EndsAt.IsZero() && pl.Alert.EndsAt.Before(now) {
		end = pl.Alert.EndsAt.Add(pad)
		if end.After(now) {
			end = now
		}
	}
	start := end.Add(-window)
	if s := pl.Alert.StartsAt; !s.IsZero() && s.Before(end) && s.Add(-window/10).Before(start) {
		start = s.Add(-window / 10)
	}
	capped := false
	if end.Sub(start) > maxSpan {
		start = end.Add(-maxSpan)
		capped = true
		pl.fallback("the alert started %s ago; the chart shows the last %s", end.Sub(pl.Alert.StartsAt).Round(time.Minute), spanLabel(maxSpan, "en"))
	}
	// Whole seconds, rounded outwards so an alert that started a few
	// milliseconds ago is still inside the range.
	pl.Start, pl.End = start.Truncate(time.Second), end.Truncate(time.Second)
	if pl.End.Before(end) {
		pl.End = pl.End.Add(time.Second)
	}
	pl.Step = Duration(max(stepFor(pl.End.Sub(pl.Start)), p.cfg.MinStep))
	if span := pl.End.Sub(pl.Start); titleSpan(window, span) != window {
		ago := end.Sub(pl.Alert.StartsAt).Round(time.Second)
		pl.RangeReason = fmt.Sprintf("widened from the %s window to %s because the alert started %s before the chart's end (startsAt %s)",
			durationText(window), durationText(span), durationText(ago), pl.Alert.StartsAt.UTC().Format("2006-01-02 15:04:05 UTC"))
		if capped {
			pl.RangeReason += fmt.Sprintf("; capped at %s", durationText(maxSpan))
		}
		pl.RangeReason += fmt.Sprintf("; one point every %s keeps it under %d points", durationText(pl.Step.D()), maxPoints)
	}
	if ruleKnown && forDur > 0 && !pl.Alert.StartsAt.IsZero() {
		t := pl.Alert.StartsAt.Add(-forDur)
		pl.PendingAt = &t
	}
}

// titleSpan is the span named in the title: the window, unless the range
// was stretched noticeably to reach startsAt, then the real span rounded
// to whole minutes (seconds for short spans).
func titleSpan(window, span time.Duration) time.Duration {
	if span <= window+window/20+2*time.Second {
		return window
	}
	if span >= 10*time.Minute {
		return span.Round(time.Minute)
	}
	return span.Round(time.Second)
}

// niceSteps are the step sizes charts use; round numbers keep samples aligned.
var niceSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// maxPoints is the most points per series a step may produce. The smallest
// nice step at or above span/maxPoints gives 400–1000 points for any span
// above ~5 minutes (consecutive nice steps differ by at most 2.5×).
const maxPoints = 1000

func stepFor(span time.Duration) time.Duration {
	for _, s := range niceSteps {
		if span/s <= maxPoints {
			return s
		}
	}
	return (span/maxPoints + time.Second - 1).Truncate(time.Second)
}

// durationText renders a duration as "13d 23h 50m" (the three largest non-zero
// units, whole seconds), for plan texts.
func durationText(d time.Duration) string {
	d = d.Round(time.Second)
	if d <= 0 {
		return "0s"
	}
	var parts []string
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.d; n > 0 && len(parts) < 3 {
			parts = append(parts, strconv.FormatInt(int64(n), 10)+u.name)
			d %= u.d
		}
	}
	return strings.Join(parts, " ")
}

// spanLabel renders "最近10分钟" / "last 10m" (i18n.Duration, the one
// duration formatter of the messages and titles).
func spanLabel(d time.Duration, lang string) string {
	return i18n.T(lang, "chart.window", "span", i18n.Duration(lang, d))
}
