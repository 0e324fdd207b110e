package charter

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// An alert's charts are kept this long after the first was asked for, for
// the channels of the notification that ask later (delivery asks each
// channel's chart when it sends; a text that waited for its chart and the
// chart follow-up of another channel are seconds apart) …
const cacheTTL = time.Minute

// … and at most this many alerts' charts are kept: an entry holds the data
// and an image per language (a few hundred KB), and delivery makes at most
// a handful of charts at once, so a storm only evicts charts nobody waits
// for any more.
const cacheAlerts = 32

// cache shares the making of an alert's charts: one drawing (plan and
// data) per alert, one future per (alert, language).
type cache struct {
	mu    sync.Mutex
	m     map[string]*entry
	order []string // keys, oldest first
}

type entry struct {
	at    time.Time
	d     *drawing
	langs map[string]*future
}

// future is one (alert, language) chart being made or made.
type future struct {
	done chan struct{}
	res  Result
	err  error
}

func newCache() *cache { return &cache{m: map[string]*entry{}} }

// alertKey identifies an alert's chart: the same alert in another state
// (resolved, or firing again) is charted anew. Alerts without a
// fingerprint are not cached.
func alertKey(a template.Alert) string {
	if a.Fingerprint == "" {
		return ""
	}
	return a.Fingerprint + "|" + a.Status + "|" + strconv.FormatInt(a.StartsAt.UnixNano(), 36) + "|" + strconv.FormatInt(a.EndsAt.UnixNano(), 36)
}

// get returns alert's chart in lang, making it unless it is made or being
// made; a caller whose context ends stops waiting.
func (k *cache) get(ctx context.Context, c *Charter, alert template.Alert, lang string) (Result, error) {
	key := alertKey(alert)
	if key == "" {
		return c.draw(ctx, &drawing{}, alert, lang)
	}
	for {
		f, d, owner := k.future(key, lang, c.now())
		if owner {
			f.res, f.err = c.draw(ctx, d, alert, lang)
			if ctx.Err() != nil {
				// Cut short by this caller: neither the chart nor the plan
				// (made with rules look-ups that may have been cut short
				// too) is the alert's.
				k.forget(key, lang, f, d)
			}
			close(f.done)
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
		if !owner && f.err != nil && ctx.Err() == nil && k.forgotten(key, lang, f) {
			// The caller that made it gave up; make it for this one.
			continue
		}
		return f.res, f.err
	}
}

// future returns the future of (key, lang) and the alert's drawing;
// owner is true when the caller must make the chart.
func (k *cache) future(key, lang string, now time.Time) (f *future, d *drawing, owner bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.m[key]
	if e == nil || now.Sub(e.at) > cacheTTL {
		k.evict(now)
		e = &entry{at: now, d: &drawing{}, langs: map[string]*future{}}
		k.m[key] = e
		k.order = append(k.order, key)
	}
	if f := e.langs[lang]; f != nil {
		return f, e.d, false
	}
	f = &future{done: make(chan struct{})}
	e.langs[lang] = f
	return f, e.d, true
}

// evict drops expired entries and, beyond cacheAlerts, the oldest; the
// caller holds mu and is about to add one.
func (k *cache) evict(now time.Time) {
	keep := k.order[:0]
	for i, key := range k.order {
		e := k.m[key]
		if e == nil {
			continue
		}
		if now.Sub(e.at) > cacheTTL || len(k.order)-i >= cacheAlerts {
			delete(k.m, key)
			continue
		}
		keep = append(keep, key)
	}
	clear(k.order[len(keep):])
	k.order = keep
}

// forget drops f and drawing d so that the next caller plans and makes
// the chart again.
func (k *cache) forget(key, lang string, f *future, d *drawing) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.m[key]
	if e == nil {
		return
	}
	if e.langs[lang] == f {
		delete(e.langs, lang)
	}
	if e.d == d {
		e.d = &drawing{}
	}
}

// forgotten reports whether f was dropped by forget.
func (k *cache) forgotten(key, lang string, f *future) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.m[key]
	return e == nil || e.langs[lang] != f
}

// len is the number of alerts kept (tests).
func (k *cache) len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}
