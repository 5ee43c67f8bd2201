// Package lane is the Go binding of liblane: named concurrency lanes
// (bounded, fair, priority-aware, preemptible job queues) whose every
// scheduling decision is made by the C library, while every job's Run
// executes in a goroutine of this package.
//
// liblane's threads never call into Go: each Lane has one port that one
// goroutine drains (GRANT starts Run, CANCEL cancels the run's context with
// the cause, DONE settles the job), and per-job state crosses to C as a
// runtime/cgo.Handle. Errors match sentinel values with errors.Is
// (ErrBusy, ErrClosed, ErrPreempted, ...).
//
// A Session (NewSession) is a per-conversation front queue in front of a
// lane: QUEUE, FOLLOWUP, COLLECT, INTERRUPT and STEER modes, a cap with a
// drop policy, debounce and a token throttle. Its runs are host-run through
// the same port. See README.md.
package lane
