package lane

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// A Lane is a standalone liblane lane: max-concurrent slots plus a queue.
// Every scheduling decision is made by liblane; jobs run in goroutines of
// this package. A Lane is safe for concurrent use by any number of
// goroutines. Close it when done.
type Lane struct {
	name string
	// reg is the registry that owns the C lane; nil for a standalone lane.
	// Close on a registry lane never destroys the C lane (see Close).
	reg *Registry

	// cmu guards the C handles: every call into the lane holds it for
	// reading; Close takes it for writing to destroy them.
	cmu       sync.RWMutex
	c         cLane
	port      cPort
	destroyed bool

	refused atomic.Uint64 // refusals decided by the binding before liblane saw the job

	// mu guards the Go view of live jobs: a job is in jobs from Submit
	// until its outcome has been delivered (WaitIdle and Close wait for
	// that). Ids are not kept here: liblane alone says which are taken, and
	// the binding cancels its jobs by token, so an id is free as soon as
	// liblane has ended its job.
	mu       sync.Mutex
	jobs     map[*jobState]struct{}
	sessions map[*Session]struct{} // open sessions; Close closes them first
	idle     chan struct{}         // closed when jobs becomes empty; nil while nobody waits
	closing  bool
	final    Stats         // the last stats, kept by Close
	closed   chan struct{} // the poller may stop
	pollDone chan struct{} // the poller has stopped
	portWait               // what the poller waits on (poller_unix.go, poller_windows.go)
	finished chan struct{} // Close is complete
}

// New creates a standalone lane named name (FIFO, one slot, preemption on
// with a 30 s guard, unless options say otherwise).
func New(name string, opts ...Option) (*Lane, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	if cfg.cluster != nil {
		// The cluster may not be closed while a lane joins it.
		cfg.cluster.mu.Lock()
		defer cfg.cluster.mu.Unlock()
		if cfg.cluster.c == nil {
			return nil, newError("create", StatusInvalid, "WithCluster: the cluster is closed")
		}
	}
	c, p, err := cCreate(name, &cfg)
	if err != nil {
		return nil, err
	}
	return wrapLane(name, c, p, nil), nil
}

// wrapLane makes the Go lane over a C lane and the binding's port for it,
// and starts its poller.
func wrapLane(name string, c cLane, p cPort, reg *Registry) *Lane {
	l := &Lane{
		name:     name,
		reg:      reg,
		c:        c,
		port:     p,
		jobs:     make(map[*jobState]struct{}),
		closed:   make(chan struct{}),
		pollDone: make(chan struct{}),
		finished: make(chan struct{}),
	}
	l.startPoller()
	return l
}

// cl is the C lane for one call, between enter and leave. A registry with
// WithIdleRetire may retire an idle lane it owns, so such a registry's lanes are
// borrowed again (lane_registry_get_or_create) for every call, as lane.h
// asks, instead of keeping the lane_t.
func (l *Lane) cl() cLane {
	if l.reg != nil && l.reg.retire {
		return l.reg.borrow(l.name)
	}
	return l.c
}

// Name is the lane's name ("" for a nil or zero Lane).
func (l *Lane) Name() string {
	if l == nil {
		return ""
	}
	return l.name
}

// usable is ErrInvalid for a nil *Lane and ErrClosed for a zero Lane (one
// not made by New or Registry.Lane), so that neither panics.
func (l *Lane) usable(op string) error {
	if l == nil {
		return newError(op, StatusInvalid, "nil *Lane")
	}
	if l.finished == nil {
		return newError(op, StatusClosed, "zero Lane: make lanes with New or Registry.Lane")
	}
	return nil
}

// enter holds the C handles alive for one call; false once destroyed (and
// for a nil or zero Lane).
func (l *Lane) enter() bool {
	if l.usable("") != nil {
		return false
	}
	l.cmu.RLock()
	if l.destroyed {
		l.cmu.RUnlock()
		return false
	}
	return true
}

func (l *Lane) leave() { l.cmu.RUnlock() }

func (l *Lane) closedErr(op string) error {
	return newError(op, StatusClosed, "lane '"+l.name+"' is closed")
}

// call runs one fallible call on the live lane.
func (l *Lane) call(op string, f func(cLane) error) error {
	if err := l.usable(op); err != nil {
		return err
	}
	if !l.enter() {
		return l.closedErr(op)
	}
	defer l.leave()
	return f(l.cl())
}

// Stats returns the lane's counters. After Close it returns the last
// counters taken before the lane was destroyed.
func (l *Lane) Stats() Stats {
	if l.usable("stats") != nil {
		return Stats{Name: l.Name()}
	}
	if !l.enter() {
		l.mu.Lock()
		s := l.final
		l.mu.Unlock()
		s.Refused += l.refused.Load()
		return s
	}
	s, _ := cStats(l.cl(), l.name)
	l.leave()
	s.Refused += l.refused.Load()
	return s
}

// SetMaxConcurrent resizes the lane: raising dispatches queued work now,
// lowering lets in-flight jobs finish.
func (l *Lane) SetMaxConcurrent(n int) error {
	if n < 1 || n > 1<<31 {
		return newError("set max concurrent", StatusInvalid, "n must be at least 1")
	}
	return l.call("set max concurrent", func(c cLane) error { return cSetMaxConcurrent(c, uint32(n)) })
}

// SetPreemption turns preemption on or off. minRuntime is taken literally:
// 0 means a running job may be preempted at once.
func (l *Lane) SetPreemption(enabled bool, minRuntime time.Duration) error {
	return l.call("set preemption", func(c cLane) error { return cSetPreemption(c, enabled, int64(minRuntime)) })
}

// SetETAWindow sets how many recent runtimes the ETA uses (n >= 1).
func (l *Lane) SetETAWindow(n int) error {
	if n < 1 || n > 1<<31 {
		return newError("set eta window", StatusInvalid, "n must be at least 1")
	}
	return l.call("set eta window", func(c cLane) error { return cSetETAWindow(c, uint32(n)) })
}

// SetTenantWeight gives a tenant a share proportional to weight (>= 1;
// default 1). FairShare lanes only.
func (l *Lane) SetTenantWeight(tenant string, weight int) error {
	if weight < 1 || weight > 1<<31 {
		return newError("set tenant weight", StatusInvalid, "weight must be at least 1")
	}
	return l.call("set tenant weight", func(c cLane) error { return cSetTenantWeight(c, tenant, uint32(weight)) })
}

// Pause stops dispatching; running jobs go on.
func (l *Lane) Pause() error { return l.call("pause", cPause) }

// Resume restarts dispatching.
func (l *Lane) Resume() error { return l.call("resume", cResume) }

// Cooldown dispatches nothing new for d (0 ends a cooldown), for example
// after an HTTP 429 with Retry-After.
func (l *Lane) Cooldown(d time.Duration) error {
	return l.call("cooldown", func(c cLane) error { return cCooldown(c, int64(d)) })
}

// WaitIdle waits until no job of this lane is queued or running and every
// outcome has been delivered, or ctx is done.
func (l *Lane) WaitIdle(ctx context.Context) error {
	if err := l.usable("wait idle"); err != nil {
		return err
	}
	l.mu.Lock()
	if len(l.jobs) == 0 {
		l.mu.Unlock()
		return nil
	}
	if l.idle == nil {
		l.idle = make(chan struct{})
	}
	idle := l.idle
	l.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// forgetLocked drops a job from the Go view; l.mu is held.
func (l *Lane) forgetLocked(js *jobState) {
	delete(l.jobs, js)
	if len(l.jobs) == 0 && l.idle != nil {
		close(l.idle)
		l.idle = nil
	}
}

// Close cancels every queued and running job (their contexts get cause
// ErrClosed), waits until each has returned from Run and been settled, and
// destroys the lane. It is idempotent and safe to call concurrently; every
// call returns once the lane is gone. Do not call it from inside a Run of
// the same lane: it would wait for itself.
//
// On a lane borrowed from a Registry, Close does not destroy or close the C
// lane (its registry owns it, and other hosts may use it): it cancels this
// *Lane's own queued and running jobs (outcome ErrClosed, context cause
// ErrClosed, as on a standalone lane; liblane's stats count them as
// cancelled), waits for them, and stops this *Lane's poller and port. The
// *Lane stays closed: reg.Lane(name) keeps returning it (its methods return
// ErrClosed) until reg.Remove(name) removes the lane.
//
// Close of a nil *Lane is ErrInvalid; of a zero Lane, a no-op.
func (l *Lane) Close() error {
	if l == nil {
		return newError("close", StatusInvalid, "nil *Lane")
	}
	if l.finished == nil {
		return nil
	}
	return l.shutdown(closeCancel, nil)
}

// Shutdown closes the lane for new jobs and lets queued and running ones
// finish (drain). If ctx is done first, it cancels what is left as Close
// does and returns ctx.Err(). Either way the lane is destroyed on return.
func (l *Lane) Shutdown(ctx context.Context) error {
	if l == nil {
		return newError("shutdown", StatusInvalid, "nil *Lane")
	}
	if l.finished == nil {
		return nil
	}
	return l.shutdown(closeDrain, ctx)
}

func (l *Lane) shutdown(mode int32, ctx context.Context) error {
	l.mu.Lock()
	first := !l.closing
	l.closing = true
	l.mu.Unlock()
	if !first {
		<-l.finished
		return nil
	}

	var ret error
	if l.reg == nil && l.enter() {
		_ = cClose(l.c, mode)
		l.leave()
	}
	if mode == closeDrain {
		if err := l.drainSessions(ctx); err != nil {
			ret = err
			if l.reg == nil && l.enter() {
				_ = cClose(l.c, closeCancel)
				l.leave()
			}
		}
	}
	// A session must go before its lane (lane_destroy refuses a lane that
	// has sessions), and its runs need this lane's poller.
	l.closeSessions()
	if l.reg != nil {
		// A registry's lane is not ours to close: cancel our jobs only.
		l.cancelAll()
	}
	// Every job either ends now (queued: DONE at once) or when its Run
	// returns; the poller keeps settling them until none is left.
	_ = l.WaitIdle(context.Background())

	l.cmu.Lock()
	if !l.destroyed { // a registry's Remove may have been first
		final, _ := cStats(l.cl(), l.name)
		if l.reg == nil {
			cDestroy(l.c) // nothing in flight: returns at once
		}
		l.c = nil
		l.destroyed = true
		l.mu.Lock()
		l.final = final
		l.mu.Unlock()
	}
	l.cmu.Unlock()

	l.stopPoller()
	cPortDestroy(l.port)
	l.port = nil
	close(l.finished)
	return ret
}

// cancelAll cancels (queued or running) every job this *Lane has live, until
// none is left. New jobs are already refused (closing is set); a job caught
// between the Go view and lane_submit (no token yet) is cancelled on the
// next round. By token: another host's job that took the id of one of ours
// that has just ended is not touched.
func (l *Lane) cancelAll() {
	for {
		l.mu.Lock()
		live := make([]*jobState, 0, len(l.jobs))
		for js := range l.jobs {
			live = append(live, js)
		}
		l.mu.Unlock()
		if len(live) == 0 {
			return
		}
		for _, js := range live {
			js.mu.Lock()
			js.closing = true
			js.mu.Unlock()
			_ = l.cancelJob(js, cancelQueued|cancelRunning)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		err := l.WaitIdle(ctx)
		cancel()
		if err == nil {
			return
		}
	}
}

// sessionList is a snapshot of the open sessions.
func (l *Lane) sessionList() []*Session {
	l.mu.Lock()
	defer l.mu.Unlock()
	list := make([]*Session, 0, len(l.sessions))
	for s := range l.sessions {
		list = append(list, s)
	}
	return list
}

// drainSessions waits until the lane's jobs and every session's messages
// have their outcomes, or ctx is done. The lane is closed for new work, so
// messages still waiting in a session end ErrClosed when their run would
// start.
func (l *Lane) drainSessions(ctx context.Context) error {
	if err := l.WaitIdle(ctx); err != nil {
		return err
	}
	for _, s := range l.sessionList() {
		if err := s.WaitIdle(ctx); err != nil {
			return err
		}
	}
	return l.WaitIdle(ctx)
}

// closeSessions closes every session of the lane (new ones are refused:
// closing is set).
func (l *Lane) closeSessions() {
	for _, s := range l.sessionList() {
		_ = s.Close()
	}
}

func (l *Lane) forgetSession(s *Session) {
	l.mu.Lock()
	delete(l.sessions, s)
	l.mu.Unlock()
}
