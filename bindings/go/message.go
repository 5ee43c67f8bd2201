package lane

import (
	"context"
	"runtime/cgo"
	"runtime/debug"
	"sync"
	"time"
)

// A Message is one unit of a session's conversation. The session turns
// messages into runs: a run executes the Run of its first message, in a
// goroutine of this package, once the lane grants it a slot; in ModeCollect
// the run also carries the messages merged into it (Run.Batch), in
// ModeSteer the ones it takes from its mailbox (Run.NextMessage). Every
// message a run carries gets the run's outcome.
type Message struct {
	ID     string // required; unique among the session's live messages
	Tenant string // fair-share key of a run it starts; "" = the session's key
	// Priority of a run is the highest of its messages'.
	Priority int32
	// Steerable lets a run this message starts receive later messages in
	// ModeSteer (Run.NextMessage).
	Steerable bool
	// Preemptible lets a higher-priority job preempt a run this message
	// starts (outcome ErrPreempted).
	Preemptible bool
	// MaxWait > 0: a run this message starts is refused (its messages end
	// ErrBusy) when its estimated wait in the lane exceeds MaxWait.
	MaxWait time.Duration
	// QueueTimeout > 0: a run this message starts that is still queued in
	// the lane after that long ends ErrTimeout.
	QueueTimeout time.Duration
	// Cost is what the message is expected to cost, in the unit of the
	// lane's RateCost limit (0 = no estimate). A run that merges several
	// messages (ModeCollect) costs their sum, at most the limit's burst.
	Cost int64
	// Slots a run this message is in holds (0 -> 1): the most any of its
	// messages asks for.
	Slots uint32
	// RunTimeout > 0 cancels a run this message starts that is still going
	// after that long (ErrTimeout).
	RunTimeout time.Duration
	// Value is the message's payload, handed to Run in Run.Batch and
	// Run.NextMessage.
	Value any
	// Run is required: it is called when this message starts a run. It
	// should return soon after ctx is cancelled; context.Cause(ctx) then
	// says why (ErrCancelled, ErrPreempted, ErrClosed,
	// ErrTimeout).
	Run func(ctx context.Context, run *Run) error
	// OnDone, if set, is called exactly once with the outcome (see
	// Pending.Wait), in a goroutine of its own.
	OnDone func(err error)
}

// An Item is a message as a run sees it.
type Item struct {
	ID    string
	Value any
}

// Pending is an accepted message's outcome, delivered once.
type Pending struct {
	m *msgState
}

// ID is the message's id.
func (p *Pending) ID() string { return p.m.id }

// Done is closed once the outcome is known.
func (p *Pending) Done() <-chan struct{} { return p.m.done }

// Err is the outcome once Done is closed (nil before).
func (p *Pending) Err() error {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	return p.m.err
}

// Wait waits for the outcome: nil when the run that carried the message
// returned nil; that Run's own error when it failed (a *PanicError when it
// panicked); otherwise an error matching ErrDropped, ErrStale, ErrCleared,
// ErrCancelled, ErrClosed, ErrPreempted, ErrTimeout, ErrBusy, or another
// refusal of its run by the lane (ErrQueueFull for a lane's MaxQueued). If
// ctx is done first, it returns ctx's error and the message goes on.
func (p *Pending) Wait(ctx context.Context) error {
	select {
	case <-p.m.done:
		return p.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// A Run is one run of a session: the messages it carries and, for a STEER
// run, its mailbox. Its methods may be called from any goroutine, but only
// while Run executes; afterwards Batch and Dropped still answer and
// NextMessage reports none.
type Run struct {
	first   *msgState
	batch   []Item
	dropped []string
	cancel  context.CancelCauseFunc

	mu  sync.Mutex
	ctx cCtx  // the GRANT's lane_ctx_t; nil once the run has ended
	err error // what Run returned (or its panic)
}

// Batch is the messages merged into this run, oldest first; the first one
// started the run (ModeCollect merges; in other modes it has one item).
func (r *Run) Batch() []Item { return append([]Item(nil), r.batch...) }

// Dropped is the ids of the messages dropped by DropSummarize since the
// previous run started (nil if none).
func (r *Run) Dropped() []string { return append([]string(nil), r.dropped...) }

// NextMessage takes the next message delivered into this run's mailbox
// (ModeSteer, when the run's first message is Steerable); false when the
// mailbox is empty. A taken message gets this run's outcome; the ones left
// when the run ends are queued again for the next run (beyond the cap, the
// drop policy may end some ErrDropped).
func (r *Run) NextMessage() (Item, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx == nil {
		return Item{}, false
	}
	id, h, ok := cNextMessage(r.ctx)
	if !ok {
		return Item{}, false
	}
	ms, found := lookupMsg(h)
	if !found { // never expected: a mailbox message's handle is live until its DONE
		strayEvents.Add(1)
		return Item{ID: id}, true
	}
	ms.carry(r)
	return Item{ID: id, Value: ms.value}, true
}

// msgState is the Go side of one accepted message. Its cgo.Handle travels
// in lane_job_t.user_data and comes back in the GRANT and CANCEL events of
// the runs it starts and in its own DONE event, where the poller deletes it.
type msgState struct {
	session  *Session
	id       string
	value    any
	run      func(context.Context, *Run) error
	onDone   func(error)
	valueCtx context.Context
	done     chan struct{}

	mu  sync.Mutex
	cur *Run  // the run that carries it (its outcome is that run's)
	err error // the outcome, once settled
}

func (ms *msgState) carry(r *Run) {
	ms.mu.Lock()
	ms.cur = r
	ms.mu.Unlock()
}

func lookupMsg(h cgo.Handle) (*msgState, bool) {
	v, ok := lookupAny(h)
	if !ok {
		return nil, false
	}
	ms, ok := v.(*msgState)
	return ms, ok
}

// dispatchMessage handles one port event of a session message on the
// poller goroutine.
func (l *Lane) dispatchMessage(ms *msgState, ev *event) {
	switch ev.kind {
	case eventGrant:
		r := &Run{first: ms, ctx: ev.ctx}
		// The batch's handles are live: their DONE comes only after this
		// run's lane_job_finish.
		ids, handles := cBatch(ev.ctx)
		r.batch = make([]Item, len(ids))
		for i, h := range handles {
			r.batch[i].ID = ids[i]
			if m, ok := lookupMsg(h); ok {
				r.batch[i].Value = m.value
				m.carry(r)
			} else {
				strayEvents.Add(1)
			}
		}
		ms.carry(r)
		r.dropped = cDropped(ev.ctx)
		ctx, cancel := context.WithCancelCause(ms.valueCtx)
		r.cancel = cancel
		go l.runMessage(r, ctx, ev.token)
	case eventCancel:
		ms.mu.Lock()
		r := ms.cur
		ms.mu.Unlock()
		if r != nil {
			r.cancel(ev.status.Sentinel())
		}
	case eventDone:
		ev.handle.Delete()
		liveHandles.Add(-1)
		ms.settle(ev.status)
	default:
		strayEvents.Add(1)
	}
}

// runMessage runs one grant of a session run and gives the slot back,
// whatever Run does (returns, panics, or calls runtime.Goexit).
func (l *Lane) runMessage(r *Run, ctx context.Context, token uint64) {
	var err error
	code := int32(1)
	returned := false
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{JobID: r.first.id, Value: v, Stack: debug.Stack()}
			code = 2
		} else if !returned {
			err = &PanicError{JobID: r.first.id, Value: "runtime.Goexit called in Run"}
			code = 3
		}
		r.cancel(nil)
		// The context is valid until lane_job_finish: forget it first.
		r.mu.Lock()
		r.ctx = nil
		r.err = err
		r.mu.Unlock()
		if l.enter() { // always true: the lane closes its sessions first
			_ = cJobFinish(l.cl(), token, code)
			l.leave()
		}
	}()
	err = r.first.run(ctx, r)
	returned = true
	if err == nil {
		code = 0
	}
}

// settle records the message's outcome (its DONE event) and delivers it.
func (ms *msgState) settle(status Status) {
	// Never ms.mu and r.mu at once here: NextMessage holds r.mu while it
	// takes ms.mu.
	ms.mu.Lock()
	r := ms.cur
	ms.mu.Unlock()
	var runErr error
	if r != nil {
		r.mu.Lock()
		runErr = r.err
		r.mu.Unlock()
	}
	err := ms.outcomeErr(status, runErr)
	ms.mu.Lock()
	ms.err = err
	ms.mu.Unlock()
	close(ms.done)
	if ms.onDone == nil {
		ms.session.released()
		return
	}
	go func() {
		defer ms.session.released()
		ms.onDone(err)
	}()
}

// outcomeErr maps a DONE status to what Pending and OnDone report; runErr
// is what the run that carried the message returned.
func (ms *msgState) outcomeErr(s Status, runErr error) error {
	what := "message '" + ms.id + "' of session '" + ms.session.key + "'"
	switch s {
	case StatusOK:
		return nil
	case StatusJobFailed:
		if runErr != nil {
			return runErr
		}
		return newError("message", s, what+" failed")
	case StatusDropped:
		return newError("message", s, what+" was dropped: the session was full")
	case StatusStale:
		return newError("message", s, what+" went stale: the session was cancelled")
	case StatusCleared:
		return newError("message", s, what+" was cleared by a reset")
	case StatusCancelled:
		return newError("message", s, what+" was cancelled")
	case StatusPreempted:
		return newError("message", s, what+" was preempted")
	case StatusClosed:
		return newError("message", s, what+" ended because lane '"+ms.session.lane.name+"' closed")
	case StatusTimeout:
		return newError("message", s, what+" timed out in the lane's queue")
	case StatusBusy:
		return newError("message", s, what+" ended: its run's estimated wait exceeded MaxWait")
	}
	// Any other status is the lane's refusal of the message's run.
	return newError("message", s, what+" ended: lane '"+ms.session.lane.name+"' refused its run")
}
