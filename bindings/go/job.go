package lane

import (
	"context"
	"errors"
	"runtime/cgo"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// A Job is a unit of work for a lane. Run executes in a goroutine of this
// package once liblane grants the job a slot; the slot is held until Run
// returns. Run should return soon after its ctx is cancelled; then
// context.Cause(ctx) says why: ErrPreempted, ErrCancelled, ErrClosed or
// ErrTimeout.
type Job struct {
	ID               string // required; unique among the lane's live jobs
	Tenant           string // fair-share key
	Priority         int32  // higher first
	Preemptible      bool   // a higher-priority job may preempt it
	RequeueOnPreempt bool   // preempted: back to the queue (Run runs again later) instead of ended
	// MaxWait > 0 refuses the job with ErrBusy, without queueing it, when its
	// estimated wait exceeds MaxWait.
	MaxWait time.Duration
	// QueueTimeout > 0 ends a job still queued after that long with ErrTimeout.
	QueueTimeout time.Duration
	Run          func(ctx context.Context) error

	// OnDone, if set, is called exactly once with the job's outcome (nil,
	// Run's own error, or an error matching ErrCancelled, ErrPreempted,
	// ErrClosed or ErrTimeout), in a goroutine of its own. The job's ID is
	// free for reuse by then (liblane frees it when the job ends), so OnDone
	// may submit a job with the same ID.
	OnDone func(err error)
}

// liveHandles counts the cgo handles of accepted jobs not yet settled.
var liveHandles atomic.Int64

// strayEvents counts port events whose handle was not live (never expected).
var strayEvents atomic.Int64

var debugStray func(*Lane, *event)

// callerCancelHook, set by a test only, runs in cancelFromCaller just before
// its cancel (to hold it back while a later job takes the id); the function
// it returns, if any, runs just after.
var callerCancelHook atomic.Pointer[func() (after func())]

type runKey struct{}

// jobState is the Go side of one submitted job. Its cgo.Handle travels in
// lane_job_t.user_data and comes back in every port event; the poller
// deletes it when DONE arrives (or Submit does, when liblane refuses).
type jobState struct {
	lane *Lane
	id   string
	// token is the job_token of the job's ticket, set once liblane has
	// accepted the job (0 before). The binding's own cancellations name the
	// job by it, never by id: an id may already belong to a later job once
	// this one has ended, a token never does.
	token    atomic.Uint64
	run      func(context.Context) error
	onDone   func(error)
	valueCtx context.Context // the caller's values, its cancellation removed
	done     chan struct{}   // closed once settled; nil unless SubmitWait waits

	mu          sync.Mutex
	runCancel   context.CancelCauseFunc // the current run's context
	runErr      error
	callerCause error // the caller's ctx was cancelled: why
	stopAfter   func() bool
	settled     bool
	err         error // the outcome, once settled
}

// Submit offers job to the lane. It returns at once: position 0 means the
// job was granted a slot and Run is starting; otherwise it is queued at
// that position with an estimated wait. A refusal (ErrBusy, ErrQueueFull,
// ErrDuplicate, ErrClosed, ErrInvalid) queues nothing; with ErrBusy the
// position and estimate are still given. If ctx is cancelled while the job
// is queued it is removed; while it runs, its context is cancelled (cause
// ErrCancelled). Use Job.OnDone to learn the outcome.
func (l *Lane) Submit(ctx context.Context, job Job) (pos int, eta time.Duration, err error) {
	_, t, err := l.submit(ctx, &job, false)
	return t.position, t.eta, err
}

// SubmitWait submits job and waits for its outcome: nil when Run returned
// nil; Run's own error when it failed (a *PanicError when it panicked);
// otherwise an error matching ErrCancelled, ErrPreempted, ErrClosed or
// ErrTimeout, or the refusal. When ctx is cancelled the job is cancelled
// (queued: removed; running: its context cancelled) and SubmitWait returns,
// once Run has returned, an error matching both ErrCancelled and ctx's
// cause. Called with the ctx of a running job of the same lane (or one
// derived from it) when no slot is free, it returns ErrDeadlock instead of
// waiting for itself.
func (l *Lane) SubmitWait(ctx context.Context, job Job) error {
	inside := ctx.Value(runKey{}) == l
	js, t, err := l.submit(ctx, &job, true)
	if err != nil {
		return err
	}
	if inside && t.position > 0 && l.cancelQueued(js) {
		<-js.done
		return newError("submit wait", StatusDeadlock, "job '"+job.ID+"' submitted from inside a job of lane '"+
			l.name+"' while it has no free slot would wait on itself")
	}
	<-js.done
	return js.err
}

// Cancel removes a queued job (its outcome is ErrCancelled); ErrNotQueued
// if no job with that id is queued.
func (l *Lane) Cancel(id string) error {
	return l.call("cancel", func(c cLane) error { return cCancel(c, id, cancelQueued) })
}

// CancelRunning cancels a job wherever it is: removed if queued, its
// context cancelled (cause ErrCancelled) if running. ErrNotQueued if no such
// job is live.
func (l *Lane) CancelRunning(id string) error {
	return l.call("cancel", func(c cLane) error { return cCancel(c, id, cancelQueued|cancelRunning) })
}

func (l *Lane) submit(ctx context.Context, job *Job, wait bool) (*jobState, ticket, error) {
	if job.ID == "" {
		return nil, ticket{}, newError("submit", StatusInvalid, "job ID is empty")
	}
	if job.Run == nil {
		return nil, ticket{}, newError("submit", StatusInvalid, "job '"+job.ID+"' has no Run")
	}
	if job.MaxWait < 0 || job.QueueTimeout < 0 {
		return nil, ticket{}, newError("submit", StatusInvalid, "job '"+job.ID+"' has a negative MaxWait or QueueTimeout")
	}
	if err := ctx.Err(); err != nil {
		return nil, ticket{}, err
	}
	var flags uint32
	if job.Preemptible {
		flags |= flagPreemptible
	}
	if job.RequeueOnPreempt {
		flags |= flagRequeueOnPreempt
	}
	js := &jobState{
		lane:     l,
		id:       job.ID,
		run:      job.Run,
		onDone:   job.OnDone,
		valueCtx: context.WithValue(context.WithoutCancel(ctx), runKey{}, l),
	}
	if wait {
		js.done = make(chan struct{})
	}

	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		l.refused.Add(1)
		return nil, ticket{}, l.closedErr("submit")
	}
	l.jobs[js] = struct{}{}
	l.mu.Unlock()

	h := cgo.NewHandle(js)
	liveHandles.Add(1)
	var t ticket
	err := errClosedSentinel
	if l.enter() {
		t, err = cSubmit(l.cl(), l.port, job, flags, h)
		l.leave()
	}
	if err != nil {
		// Refused: no event will ever carry this handle.
		h.Delete()
		liveHandles.Add(-1)
		l.mu.Lock()
		l.forgetLocked(js)
		l.mu.Unlock()
		if err == errClosedSentinel {
			err = l.closedErr("submit")
		}
		return nil, t, err
	}

	// Accepted. The job may already be settled; whoever comes second stops
	// the context watch.
	js.token.Store(t.token)
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { l.cancelFromCaller(js, ctx) })
		js.mu.Lock()
		if js.settled {
			js.mu.Unlock()
			stop()
		} else {
			js.stopAfter = stop
			js.mu.Unlock()
		}
	}
	return js, t, nil
}

var errClosedSentinel = errors.New("closed")

// cancelFromCaller runs when a job's submitting ctx is done. It may run
// after the job has ended in liblane and its id has been taken by a later
// job: the cancel names this job's token, which then matches nothing.
func (l *Lane) cancelFromCaller(js *jobState, ctx context.Context) {
	js.mu.Lock()
	settled := js.settled
	if !settled {
		js.callerCause = context.Cause(ctx)
	}
	js.mu.Unlock()
	if settled {
		return
	}
	if hook := callerCancelHook.Load(); hook != nil {
		if after := (*hook)(); after != nil {
			defer after()
		}
	}
	_ = l.cancelJob(js, cancelQueued|cancelRunning)
}

// cancelQueued removes js if it is still queued; true if it was.
func (l *Lane) cancelQueued(js *jobState) bool {
	return l.cancelJob(js, cancelQueued) == nil
}

// cancelJob cancels js itself (by its token), never another job with its
// id. ErrNotQueued once js has ended, or before liblane has accepted it.
func (l *Lane) cancelJob(js *jobState, flags uint32) error {
	token := js.token.Load()
	if token == 0 {
		return newError("cancel", StatusNotQueued, "job '"+js.id+"' is not accepted yet")
	}
	return l.call("cancel", func(c cLane) error { return cCancelToken(c, token, flags) })
}

// lookupAny resolves an event's handle (a *jobState or a session's
// *msgState); false for a handle that is not live.
func lookupAny(h cgo.Handle) (v any, ok bool) {
	defer func() {
		if recover() != nil {
			v, ok = nil, false
		}
	}()
	return h.Value(), true
}

// dispatchEvent handles one port event on the poller goroutine.
func (l *Lane) dispatchEvent(ev *event) {
	v, _ := lookupAny(ev.handle)
	if ms, ok := v.(*msgState); ok {
		l.dispatchMessage(ms, ev)
		return
	}
	js, ok := v.(*jobState)
	if !ok {
		strayEvents.Add(1)
		if debugStray != nil {
			debugStray(l, ev)
		}
		return
	}
	switch ev.kind {
	case eventGrant:
		ctx, cancel := context.WithCancelCause(js.valueCtx)
		js.mu.Lock()
		js.runCancel = cancel
		js.mu.Unlock()
		go l.runJob(js, ctx, cancel, ev.token)
	case eventCancel:
		js.mu.Lock()
		cancel := js.runCancel
		js.mu.Unlock()
		if cancel != nil {
			cancel(ev.status.Sentinel())
		}
	case eventDone:
		ev.handle.Delete()
		liveHandles.Add(-1)
		l.settle(js, ev.status)
	default:
		strayEvents.Add(1)
	}
}

// runJob runs one grant of a job and gives the slot back, whatever Run
// does (returns, panics, or calls runtime.Goexit).
func (l *Lane) runJob(js *jobState, ctx context.Context, cancel context.CancelCauseFunc, token uint64) {
	var err error
	code := int32(1)
	returned := false
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{JobID: js.id, Value: r, Stack: debug.Stack()}
			code = 2
		} else if !returned {
			err = &PanicError{JobID: js.id, Value: "runtime.Goexit called in Run"}
			code = 3
		}
		cancel(nil)
		js.mu.Lock()
		js.runErr = err
		js.mu.Unlock()
		if l.enter() { // always true: Close waits for every job to settle
			_ = cJobFinish(l.cl(), token, code)
			l.leave()
		}
	}()
	err = js.run(ctx)
	returned = true
	if err == nil {
		code = 0
	}
}

// settle records a job's outcome (its DONE event) and releases whoever
// waits for it.
func (l *Lane) settle(js *jobState, status Status) {
	js.mu.Lock()
	js.settled = true
	js.err = js.outcomeErr(status)
	err := js.err
	stop := js.stopAfter
	js.stopAfter = nil
	js.mu.Unlock()
	if stop != nil {
		stop()
	}
	if js.onDone == nil {
		l.release(js)
		return
	}
	go func() {
		defer l.release(js)
		js.onDone(err)
	}()
}

// release drops the job from the Go view, then wakes SubmitWait.
func (l *Lane) release(js *jobState) {
	l.mu.Lock()
	l.forgetLocked(js)
	l.mu.Unlock()
	if js.done != nil {
		close(js.done)
	}
}

// outcomeErr maps a DONE status to what SubmitWait and OnDone report;
// js.mu is held.
func (js *jobState) outcomeErr(s Status) error {
	switch s {
	case StatusOK:
		return nil
	case StatusJobFailed:
		if js.runErr != nil {
			return js.runErr
		}
		return newError("job", s, "job '"+js.id+"' failed")
	case StatusCancelled:
		e := newError("job", s, "job '"+js.id+"' was cancelled")
		e.cause = js.callerCause
		return e
	case StatusPreempted:
		return newError("job", s, "job '"+js.id+"' was preempted")
	case StatusClosed:
		return newError("job", s, "job '"+js.id+"' ended because lane '"+js.lane.name+"' closed")
	case StatusTimeout:
		return newError("job", s, "job '"+js.id+"' timed out in the queue")
	}
	return newError("job", s, "job '"+js.id+"' ended")
}
