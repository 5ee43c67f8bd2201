package lane

import (
	"context"
	"sync"
)

// A Permit is one slot of a lane held by code that does not fit in a job
// closure, from Acquire until Release. It is a host-run job of the lane
// like any other: it is queued, ordered, counted and may be preempted
// (Preemptible) or cancelled like one. A Permit is safe for concurrent use.
type Permit struct {
	t       *Ticket
	ctx     context.Context
	release chan struct{}
	once    sync.Once
}

// Acquire waits for a slot of the lane, as a semaphore's Acquire does, and
// returns a Permit holding it. job gives the slot's ID (optional), Tenant,
// Priority, Preemptible, MaxWait and QueueTimeout; its Run must be nil (the
// slot is held until Release) and its OnDone, if set, gets the outcome.
//
// ctx bounds the wait only: when it is done before the slot is granted, the
// request is withdrawn and Acquire returns an error matching ErrCancelled
// and ctx's cause. Refusals (ErrBusy, ErrQueueFull, ErrDuplicate,
// ErrClosed) and outcomes that end the request while queued (ErrTimeout,
// ErrClosed, a Cancel of its id) are returned as they are.
//
// One Acquire is one slot: liblane grants slots to jobs one at a time, so a
// weight of n would be n requests that could each hold a slot while waiting
// for the others (two such callers deadlock); this method has no weight.
func (l *Lane) Acquire(ctx context.Context, job Job) (*Permit, error) {
	if err := l.usable("acquire"); err != nil {
		return nil, err
	}
	if ctx == nil {
		return nil, newError("acquire", StatusInvalid, "nil context")
	}
	if job.Run != nil {
		return nil, newError("acquire", StatusInvalid, "Acquire's job has no Run: the slot is held until Release")
	}
	if ctx.Err() != nil {
		l.refused.Add(1)
		e := newError("acquire", StatusCancelled, "slot not requested: the context is already done")
		e.cause = context.Cause(ctx)
		return nil, e
	}
	granted := make(chan context.Context, 1)
	release := make(chan struct{})
	job.Run = func(rctx context.Context) error {
		granted <- rctx
		<-release
		return nil
	}
	// The held slot must not end with the waiting ctx: submit with its
	// values only, and withdraw by hand while waiting.
	t, err := l.submit(context.WithoutCancel(ctx), &job)
	if err != nil {
		return nil, err
	}
	p := &Permit{t: t, release: release}
	select {
	case rctx := <-granted:
		p.ctx = rctx
		return p, nil
	case <-t.Done():
		return nil, t.Err()
	case <-ctx.Done():
	}
	_ = t.Cancel()
	select {
	case <-granted: // granted in the race: give the slot back
		p.Release()
	case <-t.Done():
	}
	<-t.Done()
	e := newError("acquire", StatusCancelled, "slot request '"+t.ID+"' withdrawn: the context is done")
	e.cause = context.Cause(ctx)
	return nil, e
}

// Context is done when the lane wants the slot back (context.Cause says
// why: ErrPreempted, ErrCancelled, ErrClosed); the holder should then stop
// and Release soon. It carries the values of Acquire's ctx.
func (p *Permit) Context() context.Context { return p.ctx }

// Ticket is the slot's job: its ID, where it was queued, and Cancel.
func (p *Permit) Ticket() *Ticket { return p.t }

// Release gives the slot back and returns the slot's outcome: nil, or an
// error matching ErrPreempted, ErrCancelled or ErrClosed when the lane took
// it back first. Calling it again returns the same outcome.
func (p *Permit) Release() error {
	if p == nil {
		return newError("release", StatusInvalid, "nil *Permit")
	}
	p.once.Do(func() { close(p.release) })
	<-p.t.Done()
	return p.t.Err()
}
