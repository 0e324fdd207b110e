package delivery

import "github.com/alertchart/alertchart/pkg/delivery/internal/store"

// Organisations register their runtimes with the engine; the newest one is
// current and gets River queues and lanes. Apart from engine.go, which
// opens, connects and closes the engine itself.

// register makes rt the organisation's current runtime.
func (e *engine) register(rt *orgRuntime) {
	e.mu.Lock()
	e.regs[rt.org] = append(e.regs[rt.org], rt)
	e.cur.Store(rt.org, rt)
	ready := e.ready.Load()
	if ready {
		e.activateLocked(rt.org)
	}
	e.mu.Unlock()
	if ready {
		e.ensureQueues(rt.org)
	}
}

// unregister removes rt; the organisation's newest remaining registration,
// if any, becomes current again.
func (e *engine) unregister(rt *orgRuntime) {
	e.mu.Lock()
	defer e.mu.Unlock()
	regs := e.regs[rt.org]
	for i, r := range regs {
		if r == rt {
			regs = append(regs[:i:i], regs[i+1:]...)
			break
		}
	}
	if len(regs) == 0 {
		delete(e.regs, rt.org)
		e.cur.Delete(rt.org)
	} else {
		e.regs[rt.org] = regs
		e.cur.Store(rt.org, regs[len(regs)-1])
	}
	if e.ready.Load() {
		e.activateLocked(rt.org)
	}
}

// robotOf is the robot key of an organisation's channel under its current
// settings.
func (e *engine) robotOf(org int64, channel string) string {
	if rt := e.current(org); rt != nil {
		return rt.robot(channel)
	}
	return fallbackRobot(org, channel)
}

// current is the organisation's runtime, nil when none is registered.
func (e *engine) current(org int64) *orgRuntime {
	if v, ok := e.cur.Load(org); ok {
		return v.(*orgRuntime)
	}
	return nil
}

// ensureQueues makes the River client work the queues of an organisation
// that has a runtime. It must not be called with e.mu held (see qmu).
func (e *engine) ensureQueues(org int64) {
	e.qmu.Lock()
	defer e.qmu.Unlock()
	e.mu.Lock()
	need := !e.queues[org] && e.current(org) != nil
	e.mu.Unlock()
	if !need {
		return
	}
	textQ, chartQ := queueConfigs(&e.cfg, e.st.SQLite())
	if err := e.q.AddQueue(store.QueueText(org), textQ); err != nil {
		e.log.Error("delivery: could not work the organisation's text queue", "org", org, "error", err)
		return
	}
	if err := e.q.AddQueue(store.QueueChart(org), chartQ); err != nil {
		e.log.Error("delivery: could not work the organisation's chart queue", "org", org, "error", err)
		return
	}
	e.mu.Lock()
	e.queues[org] = true
	e.mu.Unlock()
}

// activateLocked gives each channel of the organisation's current runtime a
// lane (stopping the lanes of channels it no longer has); ensureQueues, after
// e.mu is released, makes the River client work its queues. e.mu is held.
func (e *engine) activateLocked(org int64) {
	rt := e.current(org)
	for k, l := range e.lanes {
		if k.org != org {
			continue
		}
		if rt == nil || rt.notifiers[k.channel] == nil {
			delete(e.lanes, k)
			l.stop()
			e.stopping = append(e.stopping, l)
		}
	}
	live := e.stopping[:0]
	for _, l := range e.stopping {
		select {
		case <-l.done:
		default:
			live = append(live, l)
		}
	}
	e.stopping = live
	if rt == nil {
		return
	}
	for name := range rt.notifiers {
		k := laneKey{org, name}
		if e.lanes[k] == nil {
			l := newLane(e, k)
			e.lanes[k] = l
			go l.run()
		}
	}
}
