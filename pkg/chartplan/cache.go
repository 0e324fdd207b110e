package chartplan

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// errorTTL is the longest a failed look-up is remembered, so that an alert
// storm against a rules API that is down makes a handful of requests, not
// thousands, while a recovered one is used again quickly.
const errorTTL = 5 * time.Second

// maxCacheEntries is when expired entries are swept, so the map does not
// grow with every key ever seen.
const maxCacheEntries = 1000

// ttlCache keeps look-up answers (rules API answers per alert name,
// Grafana rules per UID) for a TTL — failures for at most errorTTL — and
// collapses concurrent look-ups of one key into a single request. Many keys
// missing at once can be filled by one batch request (batch).
type ttlCache[V any] struct {
	ttl   time.Duration
	clock func() time.Time
	fetch func(ctx context.Context, key string) (V, error)

	mu      sync.Mutex
	entries map[string]cacheEntry[V]
	flight  singleflight.Group
	// requests counts calls made to the source (observability and tests).
	requests int
}

type cacheEntry[V any] struct {
	v       V
	err     error
	expires time.Time
}

func newTTLCache[V any](ttl time.Duration, clock func() time.Time, fetch func(context.Context, string) (V, error)) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, clock: clock, fetch: fetch, entries: map[string]cacheEntry[V]{}}
}

// get returns key's answer from the cache or from one request shared by
// every concurrent caller.
func (c *ttlCache[V]) get(ctx context.Context, key string) (V, error) {
	if e, ok := c.cached(key); ok {
		return e.v, e.err
	}
	v, err, _ := c.flight.Do(key, func() (any, error) {
		// Detached from one caller's cancellation: the answer serves everybody
		// waiting on it. The source's own timeout still bounds it.
		v, err := c.fetch(context.WithoutCancel(ctx), key)
		c.mu.Lock()
		c.requests++
		c.store(key, v, err)
		c.mu.Unlock()
		return v, err
	})
	if err != nil {
		var zero V
		return zero, err
	}
	return v.(V), nil
}

func (c *ttlCache[V]) cached(key string) (cacheEntry[V], bool) {
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	return e, ok && now.Before(e.expires)
}

// store records an answer; c.mu must be held.
func (c *ttlCache[V]) store(key string, v V, err error) {
	ttl := c.ttl
	if err != nil && ttl > errorTTL {
		ttl = errorTTL
	}
	if ttl <= 0 {
		return
	}
	now := c.clock()
	c.entries[key] = cacheEntry[V]{v: v, err: err, expires: now.Add(ttl)}
	if len(c.entries) > maxCacheEntries {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
	}
}

// missing returns the keys (deduplicated, sorted) with no live answer.
func (c *ttlCache[V]) missing(keys []string) []string {
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		if e, ok := c.entries[k]; !ok || !now.Before(e.expires) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// batch fills every key of keys that has no live answer with one call of
// fetchMany, which returns the answers it found; absent gives the answer
// for a key it did not return. Concurrent batches for the same keys share
// one call; when fetchMany fails, its error is every key's answer (for at
// most errorTTL), as a single look-up's would be. With no TTL nothing can
// be kept, and batch does nothing.
func (c *ttlCache[V]) batch(ctx context.Context, keys []string, fetchMany func(context.Context, []string) (map[string]V, error), absent func(string) (V, error)) {
	if c.ttl <= 0 {
		return
	}
	miss := c.missing(keys)
	if len(miss) < 2 {
		return // one key is a plain get
	}
	_, _, _ = c.flight.Do("\x00batch\x00"+strings.Join(miss, "\x00"), func() (any, error) {
		found, err := fetchMany(context.WithoutCancel(ctx), miss)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.requests++
		for _, k := range miss {
			switch v, ok := found[k]; {
			case err != nil:
				var zero V
				c.store(k, zero, err)
			case ok:
				c.store(k, v, nil)
			default:
				av, aerr := absent(k)
				c.store(k, av, aerr)
			}
		}
		return nil, nil
	})
}

// Requests returns how many calls were made to the source.
func (c *ttlCache[V]) Requests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests
}
