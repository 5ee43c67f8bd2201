package lane

import (
	"context"
	"errors"
	"runtime/cgo"
	"runtime/debug"
	"strconv"
	"strings"
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
	// ID is unique among the lane's live jobs; empty: the binding makes one
	// ("go-<n>", see Ticket.ID). It may not contain a NUL byte.
	ID               string
	Tenant           string // fair-share key
	Priority         int32  // higher first
	Preemptible      bool   // a higher-priority job may preempt it
	RequeueOnPreempt bool   // preempted: back to the queue (Run runs again later) instead of ended
	// MaxWait > 0 refuses the job with ErrBusy, without queueing it, when its
	// estimated wait exceeds MaxWait.
	MaxWait time.Duration
	// QueueTimeout > 0 ends a job still queued after that long with ErrTimeout.
	QueueTimeout time.Duration
	// Cost is what the job is expected to cost, in the unit of the lane's
	// cost rate limit (tokens, cents); 0 -> 1. Run may report the real cost
	// with SetCost.
	Cost int64
	// Slots the job holds while it runs (0 -> 1); a lane's cap counts slots.
	Slots uint32
	// RunTimeout > 0 cancels a run still going after that long, with
	// ErrTimeout; the job ends ErrTimeout when Run returns.
	RunTimeout time.Duration
	Run        func(ctx context.Context) error

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

// jobSeq numbers generated job ids.
var jobSeq atomic.Uint64

// A Ticket is the handle of one accepted job: where it was placed, and a
// way to wait for or cancel that job (and no later job that reuses its
// ID). It is safe for concurrent use.
type Ticket struct {
	js *jobState
	// ID is the job's id (the generated one when Job.ID was empty).
	ID string
	// Position is 0 when the job was granted a slot at once; otherwise its
	// place in the queue, in the policy's order.
	Position int
	// ETA is the estimated wait (0 when running now).
	ETA time.Duration
	// BlockedBy says why it waits (BlockedNone when running now).
	BlockedBy BlockedBy
	refused   error // set on the ticket of an ErrBusy refusal
}

// Done is closed once the job's outcome has been delivered (after OnDone
// has returned, if set).
func (t *Ticket) Done() <-chan struct{} {
	if t == nil || t.js == nil {
		return closedChan
	}
	return t.js.done
}

// Err is the job's outcome once Done is closed (nil before, and for
// success): the same value SubmitWait would return.
func (t *Ticket) Err() error {
	if t == nil {
		return newError("ticket", StatusInvalid, "nil *Ticket")
	}
	if t.js == nil {
		return t.refused
	}
	select {
	case <-t.js.done:
		return t.js.err
	default:
		return nil
	}
}

// Wait waits for the job's outcome and returns it, or returns ctx.Err()
// when ctx is done first (the job is not cancelled then: see Cancel).
func (t *Ticket) Wait(ctx context.Context) error {
	if t == nil {
		return newError("ticket wait", StatusInvalid, "nil *Ticket")
	}
	if t.js == nil {
		return t.refused
	}
	select {
	case <-t.js.done:
		return t.js.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Cancel cancels this job wherever it is: removed if queued, its context
// cancelled (cause ErrCancelled) if running; its outcome then says
// ErrCancelled. ErrNotQueued once it has ended. It never reaches a later
// job with the same ID.
func (t *Ticket) Cancel() error {
	if t == nil || t.js == nil {
		return newError("cancel", StatusInvalid, "no job behind this ticket")
	}
	return t.js.lane.cancelJob(t.js, cancelQueued|cancelRunning)
}

var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

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
	token  atomic.Uint64
	run    func(context.Context) error
	onDone func(error)
	// caller is the submitting ctx: Run's ctx carries its values and its
	// deadline, but is cancelled only through liblane (or at the deadline).
	caller context.Context
	done   chan struct{} // closed once settled and OnDone has returned

	mu          sync.Mutex
	runCancel   context.CancelCauseFunc // the current run's context
	runErr      error
	callerCause error // the caller's ctx was cancelled: why
	closing     bool  // cancelled by Close of its registry *Lane: outcome ErrClosed
	stopAfter   func() bool
	settled     bool
	err         error // the outcome, once settled
	// From a run's GRANT until its lane_job_finish: the run's lane_ctx_t
	// (SetCost, Overloaded). A GRANT while inRun is the answer to a
	// Reacquire, delivered on regrant if one still waits.
	inRun   bool
	cctx    cCtx
	regrant chan struct{}
}

// Submit offers job to the lane and returns at once with the job's Ticket:
// Position 0 means the job was granted a slot and Run is starting;
// otherwise it is queued at that position with an estimated wait. A
// refusal (ErrBusy, ErrQueueFull, ErrDuplicate, ErrClosed, ErrInvalid,
// ErrCancelled for a ctx already done) queues nothing and returns a nil
// Ticket, except ErrBusy, whose Ticket gives the Position and ETA that were
// refused (its Wait returns the refusal). If ctx is cancelled while the job
// is queued it is removed; while it runs, its context is cancelled. Either
// way its outcome matches both ErrCancelled and ctx's cause. Wait on the
// Ticket, or use Job.OnDone, to learn the outcome.
func (l *Lane) Submit(ctx context.Context, job Job) (*Ticket, error) {
	if err := l.usable("submit"); err != nil {
		return nil, err
	}
	return l.submit(ctx, &job)
}

// SubmitWait submits job and waits for its outcome: nil when Run returned
// nil; Run's own error when it failed (a *PanicError when it panicked);
// otherwise an error matching ErrCancelled, ErrPreempted, ErrClosed or
// ErrTimeout, or the refusal. When ctx is cancelled (or its deadline
// passes) the job is cancelled (queued: removed; running: its context
// cancelled) and SubmitWait returns, once Run has returned, an error
// matching both ErrCancelled and ctx's cause (context.Canceled,
// context.DeadlineExceeded or the cause given to the CancelCauseFunc).
// Called with the ctx of a running job of the same lane (or one derived
// from it) when no slot is free, it returns ErrDeadlock instead of waiting
// for itself.
func (l *Lane) SubmitWait(ctx context.Context, job Job) error {
	if err := l.usable("submit wait"); err != nil {
		return err
	}
	if ctx == nil {
		return newError("submit wait", StatusInvalid, "nil context")
	}
	inside := ctx.Value(runKey{}) == l
	if inside && l.full() {
		l.refused.Add(1)
		return l.deadlockErr(job.ID)
	}
	t, err := l.submit(ctx, &job)
	if err != nil {
		return err
	}
	// The lane filled up between the look and the submission: take the job
	// back (it then counts as submitted and cancelled in the stats).
	if inside && t.Position > 0 && l.cancelQueued(t.js) {
		<-t.js.done
		return l.deadlockErr(t.ID)
	}
	<-t.js.done
	return t.js.err
}

func (l *Lane) deadlockErr(id string) error {
	return newError("submit wait", StatusDeadlock, "job '"+id+"' submitted from inside a job of lane '"+
		l.name+"' while it has no free slot would wait on itself")
}

// full reports whether a new job would queue now (no free slot, a queue, or
// paused); the deadlock check of SubmitWait.
func (l *Lane) full() bool {
	s := l.Stats()
	return s.Running >= s.MaxConcurrent || s.Queued > 0 || s.Paused
}

// Cancel removes a queued job by id (its outcome is ErrCancelled);
// ErrNotQueued if no job with that id is queued (a running one is not
// touched: see CancelRunning).
func (l *Lane) Cancel(id string) error {
	if err := l.usable("cancel"); err != nil {
		return err
	}
	if err := checkString("cancel", "job id", id); err != nil {
		return err
	}
	return l.call("cancel", func(c cLane) error { return cCancel(c, id, cancelQueued) })
}

// CancelRunning cancels the job with that id wherever it is, despite its
// name: removed if still queued, its context cancelled (cause ErrCancelled)
// if running. ErrNotQueued if no such job is live. An id names whichever
// job holds it at that moment; Ticket.Cancel names one job for good.
func (l *Lane) CancelRunning(id string) error {
	if err := l.usable("cancel"); err != nil {
		return err
	}
	if err := checkString("cancel", "job id", id); err != nil {
		return err
	}
	return l.call("cancel", func(c cLane) error { return cCancel(c, id, cancelQueued|cancelRunning) })
}

// checkString refuses a string that C would cut at a NUL byte.
func checkString(op, what, v string) error {
	if strings.IndexByte(v, 0) >= 0 {
		return newError(op, StatusInvalid, what+" "+strconv.Quote(v)+" contains a NUL byte")
	}
	return nil
}

func (l *Lane) submit(ctx context.Context, job *Job) (*Ticket, error) {
	if ctx == nil {
		return nil, newError("submit", StatusInvalid, "nil context")
	}
	generated := job.ID == ""
	if err := checkString("submit", "job id", job.ID); err != nil {
		return nil, err
	}
	if err := checkString("submit", "tenant", job.Tenant); err != nil {
		return nil, err
	}
	if job.Run == nil {
		return nil, newError("submit", StatusInvalid, "job '"+job.ID+"' has no Run")
	}
	if job.MaxWait < 0 || job.QueueTimeout < 0 || job.RunTimeout < 0 {
		return nil, newError("submit", StatusInvalid, "job '"+job.ID+"' has a negative MaxWait, QueueTimeout or RunTimeout")
	}
	if job.Cost < 0 {
		return nil, newError("submit", StatusInvalid, "job '"+job.ID+"' has a negative Cost")
	}
	if ctx.Err() != nil {
		// Refused before liblane sees it, but counted, and said like a
		// cancellation: ErrCancelled and the ctx's cause.
		l.refused.Add(1)
		e := newError("submit", StatusCancelled, "job '"+job.ID+"' not submitted: its context is already done")
		e.cause = context.Cause(ctx)
		return nil, e
	}
	var flags uint32
	if job.Preemptible {
		flags |= flagPreemptible
	}
	if job.RequeueOnPreempt {
		flags |= flagRequeueOnPreempt
	}
	for tries := 0; ; tries++ {
		if generated {
			job.ID = "go-" + strconv.FormatUint(jobSeq.Add(1), 10)
		}
		t, err := l.submitOnce(ctx, job, flags)
		if generated && tries < 8 && errors.Is(err, ErrDuplicate) {
			continue // a host took that name: the next number
		}
		return t, err
	}
}

func (l *Lane) submitOnce(ctx context.Context, job *Job, flags uint32) (*Ticket, error) {
	js := &jobState{
		lane:   l,
		id:     job.ID,
		run:    job.Run,
		onDone: job.OnDone,
		caller: ctx,
		done:   make(chan struct{}),
	}

	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		l.refused.Add(1)
		return nil, l.closedErr("submit")
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
			return nil, l.closedErr("submit")
		}
		if errors.Is(err, ErrBusy) {
			return &Ticket{ID: job.ID, Position: t.position, ETA: t.eta, BlockedBy: t.blockedBy, refused: err}, err
		}
		return nil, err
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
	return &Ticket{js: js, ID: job.ID, Position: t.position, ETA: t.eta, BlockedBy: t.blockedBy}, nil
}

var errClosedSentinel = errors.New("closed")

// cancelFromCaller runs when a job's submitting ctx is done. It may run
// after the job has ended in liblane and its id has been taken by a later
// job: the cancel names this job's token, which then matches nothing.
func (l *Lane) cancelFromCaller(js *jobState, ctx context.Context) {
	js.mu.Lock()
	settled := js.settled
	js.mu.Unlock()
	if settled {
		return
	}
	if hook := callerCancelHook.Load(); hook != nil {
		if after := (*hook)(); after != nil {
			defer after()
		}
	}
	l.cancelForCaller(js, context.Cause(ctx))
}

// cancelForCaller cancels js (by token) because its caller's ctx is done
// with cause; the run's context, if running, gets ErrCancelled and cause.
func (l *Lane) cancelForCaller(js *jobState, cause error) {
	js.mu.Lock()
	if js.settled {
		js.mu.Unlock()
		return
	}
	if js.callerCause == nil {
		js.callerCause = cause
	}
	runCancel := js.runCancel
	js.mu.Unlock()
	if runCancel != nil {
		runCancel(js.cancelCause())
	}
	_ = l.cancelJob(js, cancelQueued|cancelRunning)
}

// cancelCause is the cause a run's context gets when it is cancelled
// through liblane with LANE_ERR_CANCELLED: ErrCancelled, and the caller's
// cause when the caller's ctx was the reason.
func (js *jobState) cancelCause() error {
	js.mu.Lock()
	caller := js.callerCause
	closing := js.closing
	js.mu.Unlock()
	if closing {
		return ErrClosed
	}
	if caller == nil {
		return ErrCancelled
	}
	e := newError("job", StatusCancelled, "job '"+js.id+"': its caller's context is done")
	e.cause = caller
	return e
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
		js.mu.Lock()
		if js.inRun {
			// The slots of a Reacquire: the same run goes on.
			js.cctx = ev.ctx
			ch := js.regrant
			js.regrant = nil
			js.mu.Unlock()
			if ch != nil {
				ch <- struct{}{}
			}
			return
		}
		js.mu.Unlock()
		ctx, cancel := js.runContext()
		js.mu.Lock()
		js.runCancel = cancel
		js.inRun = true
		js.cctx = ev.ctx
		js.mu.Unlock()
		go l.runJob(js, ctx, cancel, ev.token)
	case eventCancel:
		js.mu.Lock()
		cancel := js.runCancel
		js.mu.Unlock()
		if cancel != nil {
			if ev.status == StatusCancelled {
				cancel(js.cancelCause())
			} else {
				cancel(ev.status.Sentinel())
			}
		}
	case eventDone:
		ev.handle.Delete()
		liveHandles.Add(-1)
		l.settle(js, ev.status)
	default:
		strayEvents.Add(1)
	}
}

// runContext makes the context of one run: the caller's values and
// deadline, cancelled by liblane's CANCEL events (through cancel) or when
// the caller's deadline passes (cause: ErrCancelled and
// context.DeadlineExceeded; ctx.Err() is DeadlineExceeded then), not by the
// caller's cancellation directly: that goes through liblane, so the lane
// counts it.
func (js *jobState) runContext() (context.Context, context.CancelCauseFunc) {
	base := context.WithValue(context.WithValue(context.WithoutCancel(js.caller), runKey{}, js.lane), runJobKey{}, js)
	ctx, cancel := context.WithCancelCause(base)
	d, ok := js.caller.Deadline()
	if !ok {
		return ctx, cancel
	}
	cause := newError("job", StatusCancelled, "job '"+js.id+"': its caller's deadline passed")
	cause.cause = context.DeadlineExceeded
	dctx, stop := context.WithDeadlineCause(ctx, d, cause)
	return dctx, func(err error) {
		cancel(err)
		stop()
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
		// Run may have returned because the caller's deadline passed (its
		// own timer) before the caller's ctx watch reached liblane: ask for
		// the cancel first, so that the outcome says cancelled, not failed.
		if js.caller.Err() != nil {
			l.cancelForCaller(js, context.Cause(js.caller))
		} else if ctx.Err() == context.DeadlineExceeded {
			l.cancelForCaller(js, context.DeadlineExceeded) // our timer beat the caller's
		}
		cancel(nil)
		js.mu.Lock()
		js.runErr = err
		js.inRun = false // the ctx is gone once finished
		js.cctx = nil
		js.regrant = nil
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
	} else if errors.Is(err, ErrOverloaded) {
		code = OverloadedCode
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

// release drops the job from the Go view, then wakes its waiters.
func (l *Lane) release(js *jobState) {
	l.mu.Lock()
	l.forgetLocked(js)
	l.mu.Unlock()
	close(js.done)
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
		if js.closing {
			return newError("job", StatusClosed, "job '"+js.id+"' ended because lane '"+js.lane.name+"' was closed")
		}
		e := newError("job", s, "job '"+js.id+"' was cancelled")
		e.cause = js.callerCause
		return e
	case StatusPreempted:
		return newError("job", s, "job '"+js.id+"' was preempted")
	case StatusClosed:
		return newError("job", s, "job '"+js.id+"' ended because lane '"+js.lane.name+"' closed")
	case StatusTimeout:
		return newError("job", s, "job '"+js.id+"' timed out (in the queue, or running past its RunTimeout)")
	}
	return newError("job", s, "job '"+js.id+"' ended")
}
