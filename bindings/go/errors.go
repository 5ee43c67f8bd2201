package lane

import (
	"errors"
	"fmt"
	"strings"
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
	// StatusUnsupported: this build of liblane lacks the feature (the SQLite history).
	StatusUnsupported Status = -18
	// StatusUnavailable: a shared lane's Redis cannot be reached (ABI 0.4).
	StatusUnavailable Status = -19
)

// statusTable is the one table of statuses: the C name (as
// lane_status_name gives it; a test compares them) and the sentinel,
// indexed by -status.
var statusTable = [...]struct {
	name     string
	sentinel error
}{
	{"LANE_OK", nil},
	{"LANE_ERR_INVALID", ErrInvalid},
	{"LANE_ERR_CLOSED", ErrClosed},
	{"LANE_ERR_BUSY", ErrBusy},
	{"LANE_ERR_NOT_QUEUED", ErrNotQueued},
	{"LANE_ERR_CANCELLED", ErrCancelled},
	{"LANE_ERR_PREEMPTED", ErrPreempted},
	{"LANE_ERR_DUPLICATE", ErrDuplicate},
	{"LANE_ERR_QUEUE_FULL", ErrQueueFull},
	{"LANE_ERR_DROPPED", ErrDropped},
	{"LANE_ERR_STALE", ErrStale},
	{"LANE_ERR_CLEARED", ErrCleared},
	{"LANE_ERR_TIMEOUT", ErrTimeout},
	{"LANE_ERR_NOMEM", ErrNoMem},
	{"LANE_ERR_JOB_FAILED", ErrJobFailed},
	{"LANE_ERR_INTERNAL", ErrInternal},
	{"LANE_ERR_DEADLOCK", ErrDeadlock},
	{"LANE_ERR_IO", ErrIO},
	{"LANE_ERR_UNSUPPORTED", ErrUnsupported},
	{"LANE_ERR_UNAVAILABLE", ErrUnavailable},
}

// String gives the C name, as lane_status_name does.
func (s Status) String() string {
	if s <= 0 && int(-s) < len(statusTable) {
		return statusTable[-s].name
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
	// ErrUnsupported is LANE_ERR_UNSUPPORTED: this build lacks the feature
	// (a sqlite_path in a liblane built without SQLite).
	ErrUnsupported = errors.New("lane: unsupported by this build")
	// ErrUnavailable is LANE_ERR_UNAVAILABLE: a shared lane's Redis cannot
	// be reached, so the job was not accepted.
	ErrUnavailable = errors.New("lane: shared lane unavailable")
)

// Sentinel returns the sentinel error of a status (nil for StatusOK,
// ErrInternal for an unknown one).
func (s Status) Sentinel() error {
	if s <= 0 && int(-s) < len(statusTable) {
		return statusTable[-s].sentinel
	}
	return ErrInternal
}

// text is the status in words, for error strings: "busy", "queue full".
func (s Status) text() string {
	if err := s.Sentinel(); err != nil {
		return strings.TrimPrefix(err.Error(), "lane: ")
	}
	return "ok"
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

// newError makes an Error; a message from lane_last_error() loses its
// leading "LANE_ERR_...: " (the status is said once, in words).
func newError(op string, s Status, msg string) *Error {
	msg = strings.TrimPrefix(msg, s.String()+": ")
	return &Error{Status: s, Op: op, Message: msg}
}

// Error reads "lane: <op>: <status in words>: <message>[: <cause>]", for
// example "lane: submit: busy: ...".
func (e *Error) Error() string {
	s := "lane: " + e.Op + ": " + e.Status.text()
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
