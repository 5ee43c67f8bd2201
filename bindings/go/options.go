package lane

import (
	"fmt"
	"math"
	"time"
)

// Policy orders a lane's queue.
type Policy int32

const (
	// FIFO is arrival order (the default of New).
	FIFO Policy = 1
	// FairShare is strict priority first, then the tenant with the least
	// slot-time per unit of weight, then FIFO within a tenant.
	FairShare Policy = 2
)

func (p Policy) String() string {
	switch p {
	case FIFO:
		return "FIFO"
	case FairShare:
		return "FairShare"
	}
	return fmt.Sprintf("Policy(%d)", int32(p))
}

// BlockedBy says why a job (or the head of the queue) waits.
type BlockedBy int32

// The reasons of lane_blocked_by_t.
const (
	BlockedNone     BlockedBy = 0
	BlockedFull     BlockedBy = 1 // every slot is taken
	BlockedPaused   BlockedBy = 2 // Pause
	BlockedCooldown BlockedBy = 3 // Cooldown
	BlockedPriority BlockedBy = 4 // behind higher-priority work
	BlockedTenant   BlockedBy = 5 // behind its own tenant's earlier jobs
	BlockedRate     BlockedBy = 6 // the lane's request or cost rate limit
	// BlockedTenantLimit: its tenant already runs its limit of jobs.
	BlockedTenantLimit BlockedBy = 7
)

func (b BlockedBy) String() string {
	switch b {
	case BlockedNone:
		return "none"
	case BlockedFull:
		return "full"
	case BlockedPaused:
		return "paused"
	case BlockedCooldown:
		return "cooldown"
	case BlockedPriority:
		return "priority"
	case BlockedTenant:
		return "tenant"
	case BlockedRate:
		return "rate"
	case BlockedTenantLimit:
		return "tenant-limit"
	}
	return fmt.Sprintf("BlockedBy(%d)", int32(b))
}

// config mirrors lane_options_t with C's "zero means default".
type config struct {
	maxConcurrent     uint32
	policy            Policy
	etaWindow         uint32
	preemptionOff     bool
	preemptMinRuntime int64 // 0 -> 30 s; < 0 = no guard
	overcommit        bool
	maxQueued         uint32
	etaDefaultRuntime int64
	aging             int64
	fairHalfLife      int64
	adaptiveMin       uint32
	adaptiveMax       uint32
	adaptiveCooldown  int64
	clock             *ManualClock
	cluster           *Cluster
	err               error
}

// An Option configures New.
type Option func(*config)

func (c *config) invalid(format string, args ...any) {
	if c.err == nil {
		c.err = newError("new", StatusInvalid, fmt.Sprintf(format, args...))
	}
}

// WithMaxConcurrent sets the number of slots (default 1).
func WithMaxConcurrent(n int) Option {
	return func(c *config) {
		if n < 1 || n > 1<<31 {
			c.invalid("WithMaxConcurrent(%d): must be at least 1", n)
			return
		}
		c.maxConcurrent = uint32(n)
	}
}

// WithPolicy sets the queue order (default FIFO).
func WithPolicy(p Policy) Option {
	return func(c *config) {
		if p != FIFO && p != FairShare {
			c.invalid("unknown policy %d", int32(p))
			return
		}
		c.policy = p
	}
}

// WithETAWindow sets how many recent runtimes the ETA uses (default 16).
func WithETAWindow(n int) Option {
	return func(c *config) {
		if n < 1 || n > 1<<31 {
			c.invalid("WithETAWindow(%d): must be at least 1", n)
			return
		}
		c.etaWindow = uint32(n)
	}
}

// WithoutPreemption turns preemption off (it is on by default).
func WithoutPreemption() Option { return func(c *config) { c.preemptionOff = true } }

// WithPreemptMinRuntime sets how long a job must have run before it may be
// preempted (default 30 s). Zero means no guard, as in SetPreemption.
func WithPreemptMinRuntime(d time.Duration) Option {
	return func(c *config) {
		switch {
		case d < 0:
			c.invalid("WithPreemptMinRuntime(%v): negative", d)
		case d == 0:
			c.preemptMinRuntime = -1
		default:
			c.preemptMinRuntime = int64(d)
		}
	}
}

// WithPreemptOvercommit dispatches a preemptor at once instead of waiting for
// its victim to return (the cap is briefly exceeded by one).
func WithPreemptOvercommit() Option { return func(c *config) { c.overcommit = true } }

// WithMaxQueued bounds the queue; a submission beyond it fails with
// ErrQueueFull. Zero (the default) is unbounded.
func WithMaxQueued(n int) Option {
	return func(c *config) {
		if n < 0 || n > 1<<31 {
			c.invalid("WithMaxQueued(%d): negative", n)
			return
		}
		c.maxQueued = uint32(n)
	}
}

// WithETADefaultRuntime is the runtime assumed per slot-round before the lane
// has history (default 1 s).
func WithETADefaultRuntime(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.invalid("WithETADefaultRuntime(%v): must be positive", d)
			return
		}
		c.etaDefaultRuntime = int64(d)
	}
}

// WithAging makes a queued job gain one priority level per d waited (default
// off).
func WithAging(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.invalid("WithAging(%v): negative", d)
			return
		}
		c.aging = int64(d)
	}
}

// A ManualClock is a lane clock that moves only when told to, for tests and
// simulations that must not depend on the machine's speed: liblane reads it
// wherever it would read the time (submit, finish, timeouts, ETA). It lives
// in C memory that is never freed (8 bytes), since a lane may read it until
// it is closed. Safe for concurrent use.
type ManualClock struct{ p cClock }

// NewManualClock returns a clock that reads t.
func NewManualClock(t time.Time) *ManualClock {
	p := cClockNew(t.UnixNano())
	if p == nil {
		panic("lane: NewManualClock: out of memory")
	}
	return &ManualClock{p: p}
}

// Now is the time the clock reads.
func (c *ManualClock) Now() time.Time { return time.Unix(0, cClockGet(c.p)) }

// Set moves the clock to t (a lane never sees its time go backwards).
func (c *ManualClock) Set(t time.Time) { cClockSet(c.p, t.UnixNano()) }

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// WithClock makes the lane read c instead of the real time.
func WithClock(c *ManualClock) Option {
	return func(cfg *config) {
		if c == nil {
			cfg.invalid("WithClock(nil)")
			return
		}
		cfg.clock = c
	}
}

// WithAdaptive makes the lane's width adaptive (AIMD) between min and max
// slots (1 <= min <= max), starting at the lane's max concurrency clamped
// into that range: an overloaded finish (a Run that returns an error
// matching ErrOverloaded, or calls Overloaded) halves it, not below min, and
// each width's worth of successes adds one, up to max. cooldown > 0 also
// closes the lane to new grants that long after an overloaded finish.
func WithAdaptive(min, max int, cooldown time.Duration) Option {
	return func(c *config) {
		if min < 1 || max < min || int64(max) > math.MaxUint32 || cooldown < 0 {
			c.invalid("WithAdaptive(%d, %d, %v): need 1 <= min <= max and cooldown >= 0", min, max, cooldown)
			return
		}
		c.adaptiveMin, c.adaptiveMax, c.adaptiveCooldown = uint32(min), uint32(max), int64(cooldown)
	}
}

// WithFairHalfLife gives a FAIR_SHARE lane usage memory: a tenant's past
// slot-time decays with half-life d, so a tenant that just used the lane
// heavily waits behind one that did not, for a while. 0 (the default)
// forgets a tenant once it has no live job.
func WithFairHalfLife(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.invalid("WithFairHalfLife(%v): negative", d)
			return
		}
		c.fairHalfLife = int64(d)
	}
}
