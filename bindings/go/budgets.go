package lane

import (
	"context"
	"errors"
	"math"
	"time"
)

// RateKind says what a rate limit counts (flags: both may be set at once).
type RateKind uint32

const (
	// RateRequests counts grants: every start, and every Reacquire.
	RateRequests RateKind = 1 << 0
	// RateCost counts the jobs' cost (Job.Cost, corrected by SetCost).
	RateCost RateKind = 1 << 1
)

// OverloadedCode is the job code of a run that says its provider is
// overloaded (HTTP 429): a Run returning an error that matches
// ErrOverloaded ends with it.
const OverloadedCode = 429

// ErrOverloaded, returned by Run (or wrapped in its error), says the
// provider behind the lane is overloaded: on an adaptive lane (WithAdaptive)
// the width halves. The job's outcome is Run's error, as for any failure.
var ErrOverloaded = errors.New("lane: the provider is overloaded")

type runJobKey struct{}

// SetRateLimit puts a GCRA rate limit on the lane: amount units per `per`,
// with up to burst units at once (< 1 -> 1); 500 requests a minute is
// SetRateLimit(RateRequests, 500, time.Minute, 500). A job the limits hold
// back waits at the front of the queue (BlockedRate), and its ETA includes
// that wait, so Job.MaxWait refuses what would wait too long. amount 0
// turns the kinds off; setting a limit again starts a fresh bucket.
func (l *Lane) SetRateLimit(kinds RateKind, amount int64, per time.Duration, burst int64) error {
	if kinds == 0 || kinds&^(RateRequests|RateCost) != 0 {
		return newError("set rate limit", StatusInvalid, "kinds must be RateRequests, RateCost or both")
	}
	if amount < 0 || per < 0 || burst < 0 || (amount > 0 && per == 0) {
		return newError("set rate limit", StatusInvalid, "need amount >= 0, per > 0 and burst >= 0")
	}
	return l.call("set rate limit", func(c cLane) error { return cSetRateLimit(c, kinds, amount, per, burst) })
}

// SetTenantLimit lets at most max jobs of tenant run at once (0 removes the
// limit). Its other jobs wait (BlockedTenantLimit) without holding up other
// tenants.
func (l *Lane) SetTenantLimit(tenant string, max int) error {
	if max < 0 || int64(max) > math.MaxUint32 {
		return newError("set tenant limit", StatusInvalid, "max must be in [0, 4294967295]")
	}
	if err := checkString("set tenant limit", "tenant", tenant); err != nil {
		return err
	}
	return l.call("set tenant limit", func(c cLane) error { return cSetTenantLimit(c, tenant, uint32(max)) })
}

// TenantRunning is the number of the tenant's running jobs, counted for a
// tenant with a limit (else 0).
func (l *Lane) TenantRunning(tenant string) (int, error) {
	if err := checkString("tenant running", "tenant", tenant); err != nil {
		return 0, err
	}
	var n int
	err := l.call("tenant running", func(c cLane) error {
		var err error
		n, err = cTenantRunning(c, tenant)
		return err
	})
	return n, err
}

func runJobOf(op string, ctx context.Context) (*jobState, error) {
	if ctx != nil {
		if js, ok := ctx.Value(runJobKey{}).(*jobState); ok {
			return js, nil
		}
	}
	return nil, newError(op, StatusInvalid, "not the context of a running lane job (call it from Run)")
}

// withRunCtx calls f with the run's lane_ctx_t while the run holds it.
func withRunCtx(op string, ctx context.Context, f func(cCtx) error) error {
	js, err := runJobOf(op, ctx)
	if err != nil {
		return err
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	if !js.inRun || js.cctx == nil {
		return newError(op, StatusInvalid, "job '"+js.id+"' is not running")
	}
	return f(js.cctx)
}

// SetCost reports the run's real cost so far (> 0), from inside Run: the
// lane's cost rate limit is corrected by it (more at once, or a refund) and
// Stats.CostUsed counts it instead of Job.Cost.
func SetCost(ctx context.Context, cost int64) error {
	if cost <= 0 {
		return newError("set cost", StatusInvalid, "cost must be > 0")
	}
	return withRunCtx("set cost", ctx, func(c cCtx) error { return cCtxSetCost(c, cost) })
}

// Overloaded marks the run, from inside Run, as having met an overloaded
// provider: when it ends, an adaptive lane halves its width. Its outcome
// is unchanged.
func Overloaded(ctx context.Context) error {
	return withRunCtx("overloaded", ctx, cCtxOverloaded)
}

// Release gives the run's slots back while it waits for something outside
// the lane (a tool, a human), from inside Run; the job keeps running and
// gets its one outcome as usual. Reacquire takes them again.
func Release(ctx context.Context) error {
	js, err := runJobOf("release", ctx)
	if err != nil {
		return err
	}
	token := js.token.Load()
	return js.lane.call("release", func(c cLane) error { return cJobRelease(c, token) })
}

// Reacquire waits, from inside Run, until a released run holds its slots
// again (nil), or ctx is done (its cause; the run stays released), or the
// run is cancelled (the cause too: return soon). A reacquirer goes ahead
// of queued jobs of its priority submitted after it.
func Reacquire(ctx context.Context) error {
	js, err := runJobOf("reacquire", ctx)
	if err != nil {
		return err
	}
	ch := make(chan struct{}, 1)
	js.mu.Lock()
	if js.regrant != nil {
		js.mu.Unlock()
		return newError("reacquire", StatusInvalid, "job '"+js.id+"' is already reacquiring")
	}
	js.regrant = ch
	js.mu.Unlock()
	forget := func() {
		js.mu.Lock()
		if js.regrant == ch {
			js.regrant = nil
		}
		js.mu.Unlock()
	}
	token := js.token.Load()
	if err := js.lane.call("reacquire", func(c cLane) error { return cJobReacquire(c, token) }); err != nil {
		forget()
		return err
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		forget()
		select {
		case <-ch:
			return nil // granted just before
		default:
		}
		// Leave the line (or, if the grant came after forget, give the
		// slots back again): the run stays released.
		_ = js.lane.call("release", func(c cLane) error { return cJobRelease(c, token) })
		return context.Cause(ctx)
	}
}
