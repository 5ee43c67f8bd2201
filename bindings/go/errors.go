package lane

import (
	"errors"
	"fmt"
)

// Status is a lane_status_t: 0 is OK, negative values are errors. Values are
// stable forever (lane.h).
type Status int32

// The statuses of lane.h.
const (
	StatusOK        Status = 0
	StatusInvalid   Status = -1
	StatusClosed    Status = -2
	StatusBusy      Status = -3
	StatusNotQueued Status = -4
	StatusCancelled Status = -5
	StatusPreempted Status = -6
	StatusDuplicate Status = -7
	StatusQueueFull Status = -8
	StatusDropped   Status = -9
	StatusStale     Status = -10
	StatusCleared   Status = -11
	StatusTimeout   Status = -12
	StatusNoMem     Status = -13
	StatusJobFailed Status = -14
	StatusInternal  Status = -15
	StatusDeadlock  Status = -16
	StatusIO        Status = -17
)

var statusNames = [...]string{
	"LANE_OK", "LANE_ERR_INVALID", "LANE_ERR_CLOSED", "LANE_ERR_BUSY", "LANE_ERR_NOT_QUEUED",
	"LANE_ERR_CANCELLED", "LANE_ERR_PREEMPTED", "LANE_ERR_DUPLICATE", "LANE_ERR_QUEUE_FULL",
	"LANE_ERR_DROPPED", "LANE_ERR_STALE", "LANE_ERR_CLEARED", "LANE_ERR_TIMEOUT", "LANE_ERR_NOMEM",
	"LANE_ERR_JOB_FAILED", "LANE_ERR_INTERNAL", "LANE_ERR_DEADLOCK", "LANE_ERR_IO",
}

// String gives the C name, as lane_status_name does.
func (s Status) String() string {
	if s <= 0 && int(-s) < len(statusNames) {
		return statusNames[-s]
	}
	return "LANE_ERR_UNKNOWN"
}

// Sentinel errors, one per status, for errors.Is. Every error this package
// returns for a status wraps the matching sentinel.
var (
	ErrInvalid   = errors.New("lane: invalid argument")
	ErrClosed    = errors.New("lane: closed")
	ErrBusy      = errors.New("lane: busy")
	ErrNotQueued = errors.New("lane: not queued")
	ErrCancelled = errors.New("lane: cancelled")
	ErrPreempted = errors.New("lane: preempted")
	ErrDuplicate = errors.New("lane: duplicate job id")
	ErrQueueFull = errors.New("lane: queue full")
	ErrDropped   = errors.New("lane: dropped")
	ErrStale     = errors.New("lane: stale")
	ErrCleared   = errors.New("lane: cleared")
	ErrTimeout   = errors.New("lane: timed out")
	ErrNoMem     = errors.New("lane: out of memory")
	ErrJobFailed = errors.New("lane: job failed")
	ErrInternal  = errors.New("lane: internal error")
	ErrDeadlock  = errors.New("lane: deadlock")
	// ErrIO is LANE_ERR_IO: a sampler's sink or the SQLite history failed.
	ErrIO = errors.New("lane: i/o error")
)

var sentinels = [...]error{
	nil, ErrInvalid, ErrClosed, ErrBusy, ErrNotQueued, ErrCancelled, ErrPreempted, ErrDuplicate,
	ErrQueueFull, ErrDropped, ErrStale, ErrCleared, ErrTimeout, ErrNoMem, ErrJobFailed, ErrInternal,
	ErrDeadlock, ErrIO,
}

// Sentinel returns the sentinel error of a status (nil for StatusOK,
// ErrInternal for an unknown one).
func (s Status) Sentinel() error {
	if s <= 0 && int(-s) < len(sentinels) {
		return sentinels[-s]
	}
	return ErrInternal
}

// Error is a refusal or an outcome from liblane: the status, the operation,
// and the library's message (lane_last_error) when there is one. It wraps the
// status's sentinel and, for a job cancelled through its caller's context,
// that context's cause.
type Error struct {
	Status  Status
	Op      string // "submit", "cancel", "job", ...
	Message string
	cause   error
}

func newError(op string, s Status, msg string) *Error {
	return &Error{Status: s, Op: op, Message: msg}
}

func (e *Error) Error() string {
	s := "lane: " + e.Op + ": " + e.Status.String()
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap gives the status's sentinel, and the caller context's cause if any.
func (e *Error) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Status.Sentinel(), e.cause}
	}
	return []error{e.Status.Sentinel()}
}

// PanicError is what SubmitWait (and OnDone) report when Run panicked: the
// job ended failed and the process lives. It matches ErrJobFailed.
type PanicError struct {
	JobID string
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("lane: job %q panicked: %v", e.JobID, e.Value)
}

// Unwrap makes errors.Is(err, ErrJobFailed) hold, and exposes a panicked
// error value.
func (e *PanicError) Unwrap() []error {
	if err, ok := e.Value.(error); ok {
		return []error{ErrJobFailed, err}
	}
	return []error{ErrJobFailed}
}
