package delivery

import (
	"context"
	"sync"
	"time"

	"github.com/alertchart/alertchart/pkg/delivery/internal/store"
)

// Which rows the process's lanes hold. Accept marks them, River's text jobs
// and maintenance look them up: more than the lanes use it, so it is apart
// from lane.go.

// held is the process-wide set of rows a lane holds. Its value is closed
// when the lane lets go.
var held = struct {
	sync.Mutex
	m map[store.Key]chan struct{}
}{m: map[store.Key]chan struct{}{}}

func hold(k store.Key) {
	held.Lock()
	held.m[k] = make(chan struct{})
	held.Unlock()
}

func unhold(k store.Key) {
	held.Lock()
	if ch, ok := held.m[k]; ok {
		close(ch)
		delete(held.m, k)
	}
	held.Unlock()
}

func isHeld(k store.Key) bool {
	held.Lock()
	defer held.Unlock()
	return held.m[k] != nil
}

// waitHeld waits (at most a second) for a lane to let go of k; false means
// it still holds it.
func waitHeld(ctx context.Context, k store.Key) bool {
	held.Lock()
	ch := held.m[k]
	held.Unlock()
	if ch == nil {
		return true
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}
