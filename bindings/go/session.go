package lane

import (
	"context"
	"runtime/cgo"
	"sync"
)

// A Session is a per-conversation front queue in front of a lane
// (lane_session_t): it decides, per session, what runs now, what waits,
// what is merged, dropped or cancelled, while the lane behind caps the whole
// process. Messages are given with Enqueue; every accepted message gets
// exactly one outcome. A Session is safe for concurrent use. Close it (or
// its lane) when done.
type Session struct {
	lane *Lane
	key  string

	// cmu guards the C handles: calls hold it for reading; Close takes it
	// for writing only to take them away, then destroys without it (the
	// destroy waits for runs, and a run may call into the session).
	cmu       sync.RWMutex
	c         cSession
	tokens    cTokens // nil without WithThrottle
	destroyed bool

	// limMu orders SetMaxConcurrent and SetTokens, which re-applies maxConc
	// to make liblane look at the throttle again.
	limMu   sync.Mutex
	maxConc uint32

	mu       sync.Mutex
	live     int           // accepted messages whose outcome is not yet delivered
	idle     chan struct{} // closed when live falls to 0; nil while nobody waits
	closing  bool
	finished chan struct{} // Close is complete
}

// NewSession creates a session called key (non-empty, at most 256 bytes;
// also the fair-share tenant of its runs unless a message names another)
// in front of l. Several sessions may share a lane. Closing the lane closes
// its sessions first.
func NewSession(l *Lane, key string, opts ...SessionOption) (*Session, error) {
	if err := l.usable("new session"); err != nil {
		return nil, err
	}
	if err := checkString("new session", "session key", key); err != nil {
		return nil, err
	}
	var cfg sessionConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	s := &Session{lane: l, key: key, finished: make(chan struct{}), maxConc: max(cfg.maxConcurrent, 1)}
	if cfg.throttle {
		s.tokens = cTokensNew()
		if s.tokens == nil {
			return nil, newError("new session", StatusNoMem, "out of memory")
		}
	}
	fail := func(err error) (*Session, error) {
		cTokensFree(s.tokens)
		return nil, err
	}

	// The lane's locks in their usual order (cmu, then mu); mu is held
	// across the create so that Close either sees the session or refuses it.
	if !l.enter() {
		return fail(l.closedErr("new session"))
	}
	defer l.leave()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return fail(l.closedErr("new session"))
	}
	c, err := cSessionCreate(l.cl(), key, &cfg, s.tokens)
	if err != nil {
		return fail(err)
	}
	s.c = c
	if l.sessions == nil {
		l.sessions = make(map[*Session]struct{})
	}
	l.sessions[s] = struct{}{}
	return s, nil
}

// Key is the session's key ("" for a nil or zero Session).
func (s *Session) Key() string {
	if s == nil {
		return ""
	}
	return s.key
}

// Lane is the lane behind the session (nil for a nil or zero Session).
func (s *Session) Lane() *Lane {
	if s == nil {
		return nil
	}
	return s.lane
}

// usable is ErrInvalid for a nil *Session and ErrClosed for a zero one
// (not made by NewSession), so that neither panics.
func (s *Session) usable(op string) error {
	if s == nil {
		return newError(op, StatusInvalid, "nil *Session")
	}
	if s.finished == nil {
		return newError(op, StatusClosed, "zero Session: make sessions with NewSession")
	}
	return nil
}

func (s *Session) closedErr(op string) error {
	return newError(op, StatusClosed, "session '"+s.key+"' is closed")
}

// enter holds the C handle alive for one call; false once taken away.
func (s *Session) enter() bool {
	if s.usable("") != nil {
		return false
	}
	s.cmu.RLock()
	if s.destroyed {
		s.cmu.RUnlock()
		return false
	}
	return true
}

func (s *Session) leave() { s.cmu.RUnlock() }

// Enqueue gives the session a message. It returns at once: accepted, with
// a *Pending that delivers the message's outcome, or refused (ErrQueueFull
// when the session is full and its drop policy is DropNew, ErrDuplicate
// for an id live in this session, ErrClosed, ErrInvalid), in which case
// there will be no outcome.
//
// ctx is checked before the message is offered, and its values reach the
// context of the run the message starts. Cancelling ctx later does not
// withdraw the message: a session has no per-message cancel (use
// CancelOne, CancelAll or Reset, or stop waiting with Pending.Wait).
func (s *Session) Enqueue(ctx context.Context, m Message) (*Pending, error) {
	if err := s.usable("enqueue"); err != nil {
		return nil, err
	}
	if ctx == nil {
		return nil, newError("enqueue", StatusInvalid, "nil context")
	}
	if err := checkString("enqueue", "message id", m.ID); err != nil {
		return nil, err
	}
	if err := checkString("enqueue", "tenant", m.Tenant); err != nil {
		return nil, err
	}
	if m.ID == "" {
		return nil, newError("enqueue", StatusInvalid, "message ID is empty")
	}
	if m.Run == nil {
		return nil, newError("enqueue", StatusInvalid, "message '"+m.ID+"' has no Run")
	}
	if m.MaxWait < 0 || m.QueueTimeout < 0 || m.RunTimeout < 0 {
		return nil, newError("enqueue", StatusInvalid, "message '"+m.ID+"' has a negative MaxWait, QueueTimeout or RunTimeout")
	}
	if m.Cost < 0 {
		return nil, newError("enqueue", StatusInvalid, "message '"+m.ID+"' has a negative Cost")
	}
	if ctx.Err() != nil {
		e := newError("enqueue", StatusCancelled, "message '"+m.ID+"' not enqueued: its context is already done")
		e.cause = context.Cause(ctx)
		return nil, e
	}
	var flags uint32
	if m.Preemptible {
		flags |= flagPreemptible
	}
	if m.Steerable {
		flags |= flagSteerable
	}
	ms := &msgState{
		session:  s,
		id:       m.ID,
		value:    m.Value,
		run:      m.Run,
		onDone:   m.OnDone,
		valueCtx: context.WithValue(context.WithoutCancel(ctx), runKey{}, s.lane),
		done:     make(chan struct{}),
	}

	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil, s.closedErr("enqueue")
	}
	s.live++
	s.mu.Unlock()

	h := cgo.NewHandle(ms)
	liveHandles.Add(1)
	err := s.closedErr("enqueue")
	if s.enter() {
		// The lane closes its sessions before it stops its port, so the
		// port lives as long as the session does.
		err = cSessionEnqueue(s.c, s.lane.port, &m, flags, h)
		s.leave()
	}
	if err != nil {
		// Refused: no event will ever carry this handle.
		h.Delete()
		liveHandles.Add(-1)
		s.released()
		return nil, err
	}
	return &Pending{m: ms}, nil
}

// EnqueueWait enqueues m and waits for its outcome (see Pending.Wait), or
// returns the refusal. If ctx is done first it returns ctx's error and the
// message goes on without a waiter.
func (s *Session) EnqueueWait(ctx context.Context, m Message) error {
	p, err := s.Enqueue(ctx, m)
	if err != nil {
		return err
	}
	return p.Wait(ctx)
}

// CancelOne cancels the oldest active run (its context's cause is
// ErrCancelled) and reports whether there was one. Its messages end
// ErrCancelled whatever Run returns, nil included (lane.h: a cancelled
// run's outcome is CANCELLED).
func (s *Session) CancelOne() bool {
	if !s.enter() {
		return false
	}
	defer s.leave()
	return cSessionCancelOne(s.c)
}

// CancelAll cancels every active run and drains the session: every message
// enqueued before the call that has not started ends ErrStale (queued, in a
// mailbox, or in a run still waiting in the lane). A run already running
// has its context cancelled (cause ErrCancelled) and its messages end
// ErrCancelled, whatever Run returns. It returns the number of runs it
// cancelled.
func (s *Session) CancelAll() int {
	if !s.enter() {
		return 0
	}
	defer s.leave()
	return cSessionCancelAll(s.c)
}

// Reset starts a new generation: queued and mailbox messages end
// ErrCleared and the dropped ids are forgotten. Active runs of the old
// generation run on (their messages get their outcomes) but no longer
// count against the session's limits.
func (s *Session) Reset() error {
	if !s.enter() {
		return s.closedErr("reset")
	}
	defer s.leave()
	return cSessionReset(s.c)
}

// Active is the number of runs of the current generation handed to the
// lane and not yet ended (0 once closed).
func (s *Session) Active() int {
	if !s.enter() {
		return 0
	}
	defer s.leave()
	return cSessionActive(s.c)
}

// Queued is the number of messages waiting in the session, not yet in a
// run (0 once closed).
func (s *Session) Queued() int {
	if !s.enter() {
		return 0
	}
	defer s.leave()
	return cSessionQueued(s.c)
}

// SetMaxConcurrent sets how many runs may be active at once (n >= 1);
// raising starts queued runs now.
func (s *Session) SetMaxConcurrent(n int) error {
	if n < 1 || n > 1<<31 {
		return newError("set max concurrent", StatusInvalid, "n must be at least 1")
	}
	if !s.enter() {
		return s.closedErr("set max concurrent")
	}
	defer s.leave()
	s.limMu.Lock()
	defer s.limMu.Unlock()
	err := cSessionSetMaxConcurrent(s.c, uint32(n))
	if err == nil {
		s.maxConc = uint32(n)
	}
	return err
}

// SetTokens reports the session's token use for WithThrottle: tokens used
// out of a context window of window tokens (window <= 0: unknown, no
// throttle). Queued messages that the throttle held back start now if the
// new use allows. ErrInvalid if the session was created without
// WithThrottle.
func (s *Session) SetTokens(tokens, window int64) error {
	if s.tokens == nil {
		return newError("set tokens", StatusInvalid, "session '"+s.key+"' was created without WithThrottle")
	}
	if !s.enter() {
		return s.closedErr("set tokens")
	}
	defer s.leave()
	cTokensSet(s.tokens, tokens, window)
	// liblane asks for the estimate only when something may start a run
	// (an enqueue, a run's end, a resize): re-applying the same limit is
	// such a moment, so a lowered use lets held-back runs start now
	// instead of after the active run ends.
	s.limMu.Lock()
	defer s.limMu.Unlock()
	return cSessionSetMaxConcurrent(s.c, s.maxConc)
}

// WaitIdle waits until every accepted message has its outcome delivered
// (OnDone returned), or ctx is done.
func (s *Session) WaitIdle(ctx context.Context) error {
	if err := s.usable("wait idle"); err != nil {
		return err
	}
	s.mu.Lock()
	if s.live == 0 {
		s.mu.Unlock()
		return nil
	}
	if s.idle == nil {
		s.idle = make(chan struct{})
	}
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// released counts one message's outcome as delivered.
func (s *Session) released() {
	s.mu.Lock()
	s.live--
	if s.live == 0 && s.idle != nil {
		close(s.idle)
		s.idle = nil
	}
	s.mu.Unlock()
}

// Close ends every queued message (ErrCancelled), cancels the active runs
// (context cause ErrCancelled), waits until each Run has returned and every
// outcome is delivered, and destroys the session. Idempotent and safe to
// call concurrently; every call returns once the session is gone. Do not
// call it from inside a Run or an OnDone of this session: it would wait for
// itself.
func (s *Session) Close() error {
	if s == nil {
		return newError("close", StatusInvalid, "nil *Session")
	}
	if s.finished == nil {
		return nil
	}
	s.mu.Lock()
	first := !s.closing
	s.closing = true
	s.mu.Unlock()
	if !first {
		<-s.finished
		return nil
	}
	s.cmu.Lock()
	c := s.c
	s.c = nil
	s.destroyed = true
	s.cmu.Unlock()
	// Waits for our runs (goroutines that the lane's poller keeps serving)
	// and posts every remaining DONE to the lane's port.
	cSessionDestroy(c)
	_ = s.WaitIdle(context.Background())
	cTokensFree(s.tokens)
	s.lane.forgetSession(s)
	close(s.finished)
	return nil
}
