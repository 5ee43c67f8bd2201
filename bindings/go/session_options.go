package lane

import (
	"fmt"
	"math"
	"time"
)

// SessionMode says how a session turns its messages into runs.
type SessionMode int32

// The modes of lane_session_mode_t.
const (
	// ModeQueue runs messages in arrival order, up to the session's
	// max-concurrent runs at once (the default).
	ModeQueue = SessionMode(cModeQueue)
	// ModeFollowup runs messages one after another, whatever the session's
	// max-concurrent says.
	ModeFollowup = SessionMode(cModeFollowup)
	// ModeCollect merges everything queued into the next run (Run.Batch).
	ModeCollect = SessionMode(cModeCollect)
	// ModeInterrupt: a new message cancels the active runs (their context's
	// cause is ErrCancelled) and ends the queued messages ErrCancelled.
	ModeInterrupt = SessionMode(cModeInterrupt)
	// ModeSteer delivers a new message into the mailbox of an active run
	// whose first message is Steerable (Run.NextMessage); without one it
	// queues as in ModeQueue.
	ModeSteer = SessionMode(cModeSteer)
)

func (m SessionMode) String() string {
	switch m {
	case ModeQueue:
		return "Queue"
	case ModeFollowup:
		return "Followup"
	case ModeCollect:
		return "Collect"
	case ModeInterrupt:
		return "Interrupt"
	case ModeSteer:
		return "Steer"
	}
	return fmt.Sprintf("SessionMode(%d)", int32(m))
}

// Drop says what a full session queue does with one more message.
type Drop int32

// The policies of lane_drop_t.
const (
	// DropOld ends the oldest queued message with ErrDropped (the default).
	DropOld = Drop(cDropOld)
	// DropNew refuses the new message: Enqueue returns ErrQueueFull.
	DropNew = Drop(cDropNew)
	// DropSummarize is DropOld, and the next run gets the dropped ids
	// (Run.Dropped).
	DropSummarize = Drop(cDropSummarize)
)

func (d Drop) String() string {
	switch d {
	case DropOld:
		return "Old"
	case DropNew:
		return "New"
	case DropSummarize:
		return "Summarize"
	}
	return fmt.Sprintf("Drop(%d)", int32(d))
}

// sessionConfig mirrors lane_session_options_t with C's "zero means default".
type sessionConfig struct {
	mode          SessionMode
	cap           uint32
	drop          Drop
	debounce      int64 // 0 -> 800 ms; < 0 = off
	maxConcurrent uint32
	throttle      bool
	throttleRatio float64 // 0 -> 0.6
	err           error
}

// A SessionOption configures NewSession.
type SessionOption func(*sessionConfig)

func (c *sessionConfig) invalid(format string, args ...any) {
	if c.err == nil {
		c.err = newError("new session", StatusInvalid, fmt.Sprintf(format, args...))
	}
}

// WithMode sets the session's mode (default ModeQueue).
func WithMode(m SessionMode) SessionOption {
	return func(c *sessionConfig) {
		if m < ModeQueue || m > ModeSteer {
			c.invalid("unknown session mode %d", int32(m))
			return
		}
		c.mode = m
	}
}

// WithCap sets how many messages may wait in the session (default 10);
// Drop says what one more does.
func WithCap(n int) SessionOption {
	return func(c *sessionConfig) {
		if n < 1 || n > math.MaxUint32 {
			c.invalid("WithCap(%d): must be at least 1", n)
			return
		}
		c.cap = uint32(n)
	}
}

// WithDrop sets what a full session does with one more message (default
// DropOld).
func WithDrop(d Drop) SessionOption {
	return func(c *sessionConfig) {
		if d < DropOld || d > DropSummarize {
			c.invalid("unknown drop policy %d", int32(d))
			return
		}
		c.drop = d
	}
}

// WithDebounce makes a run start only once the session has had no new
// message for d. Without this option the debounce is liblane's default,
// 800 ms; WithDebounce(0) turns it off (a message may start at once).
func WithDebounce(d time.Duration) SessionOption {
	return func(c *sessionConfig) {
		switch {
		case d < 0:
			c.invalid("WithDebounce(%v): negative", d)
		case d == 0:
			c.debounce = -1
		default:
			c.debounce = int64(d)
		}
	}
}

// WithSessionMaxConcurrent sets how many of the session's runs may be
// active at once (default 1); the lane behind still caps the whole process.
func WithSessionMaxConcurrent(n int) SessionOption {
	return func(c *sessionConfig) {
		if n < 1 || n > math.MaxUint32 {
			c.invalid("WithSessionMaxConcurrent(%d): must be at least 1", n)
			return
		}
		c.maxConcurrent = uint32(n)
	}
}

// WithThrottle limits the session to one active run at a time while its
// token use is at least ratio (0 < ratio; liblane's default is 0.6, given
// by WithThrottle(0.6)) of its context window. The use is what the host
// last reported with Session.SetTokens; until then (or with a window <= 0)
// it is unknown and nothing is throttled.
//
// liblane asks for the estimate on whichever thread is about to start a
// run, possibly one of its own, so the binding answers from C memory and
// never calls Go from there.
func WithThrottle(ratio float64) SessionOption {
	return func(c *sessionConfig) {
		if !(ratio > 0) || math.IsInf(ratio, 0) {
			c.invalid("WithThrottle(%v): the ratio must be a positive number", ratio)
			return
		}
		c.throttle = true
		c.throttleRatio = ratio
	}
}
