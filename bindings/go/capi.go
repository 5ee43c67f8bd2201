package lane

// This file is the only one that talks to C. Every fallible call goes
// through a small helper that copies lane_last_error() on the same OS thread
// as the call (a goroutine may move between threads between two cgo calls,
// and the message is thread-local). Per-job Go state crosses as a
// runtime/cgo.Handle passed as uintptr_t and stored in user_data by C code,
// so Go never holds an integer disguised as a pointer; events are polled
// into C memory and converted there, so Go reads only plain integers.

/*
#cgo CFLAGS: -Wall -Wextra
#cgo LDFLAGS: -llane
#include "golane.h"
*/
import "C"

import (
	"runtime/cgo"
	"time"
	"unsafe"
)

// cstr returns s as a NUL-terminated byte slice for a call's duration.
func cstr(s string) []byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return b
}

func bptr(b []byte) *C.char { return (*C.char)(unsafe.Pointer(&b[0])) }

// result turns a helper's result into a Go error, freeing the message.
func result(op string, r C.golane_result) error {
	if r.status == 0 {
		return nil
	}
	msg := ""
	if r.msg != nil {
		msg = C.GoString(r.msg)
		C.free(unsafe.Pointer(r.msg))
	}
	return newError(op, Status(r.status), msg)
}

type cLane = *C.lane_t
type cPort = *C.lane_port_t

func cCreate(name string, c *config) (cLane, cPort, error) {
	o := C.golane_options{
		max_concurrent:         C.uint32_t(c.maxConcurrent),
		policy:                 C.int32_t(c.policy),
		eta_window:             C.uint32_t(c.etaWindow),
		preemption_off:         boolInt(c.preemptionOff),
		preempt_min_runtime_ns: C.int64_t(c.preemptMinRuntime),
		preempt_overcommit:     boolInt(c.overcommit),
		max_queued:             C.uint32_t(c.maxQueued),
		eta_default_runtime_ns: C.int64_t(c.etaDefaultRuntime),
		aging_ns:               C.int64_t(c.aging),
		fair_half_life_ns:      C.int64_t(c.fairHalfLife),
		adaptive_min:           C.uint32_t(c.adaptiveMin),
		adaptive_max:           C.uint32_t(c.adaptiveMax),
		adaptive_cooldown_ns:   C.int64_t(c.adaptiveCooldown),
	}
	if c.clock != nil {
		o.manual_clock = c.clock.p
	}
	if c.cluster != nil {
		o.cluster = c.cluster.c
	}
	var l *C.lane_t
	var p *C.lane_port_t
	n := cstr(name)
	// &l and &p are Go pointers to memory holding no Go pointers: allowed.
	err := result("create", C.golane_create(bptr(n), o, &l, &p))
	return l, p, err
}

// cClock is C memory holding a Unix-epoch time in ns (see ManualClock).
type cClock = *C.int64_t

func cClockNew(t int64) cClock    { return C.golane_clock_new(C.int64_t(t)) }
func cClockSet(p cClock, t int64) { C.golane_clock_set(p, C.int64_t(t)) }
func cClockGet(p cClock) int64    { return int64(C.golane_clock_get(p)) }

func boolInt(b bool) C.int32_t {
	if b {
		return 1
	}
	return 0
}

func cDestroy(l cLane) { C.lane_destroy(l) }

func cPortDestroy(p cPort) { C.lane_port_destroy(p) }

func cPortWake(p cPort) { C.lane_port_wake(p) }

func cPortFD(p cPort) int { return int(C.lane_port_fd(p)) }

type ticket struct {
	position  int
	eta       time.Duration
	token     uint64
	blockedBy BlockedBy
}

func cSubmit(l cLane, p cPort, j *Job, flags uint32, h cgo.Handle) (ticket, error) {
	// id and tenant share one allocation: "id\x00tenant\x00".
	buf := make([]byte, len(j.ID)+len(j.Tenant)+2)
	copy(buf, j.ID)
	copy(buf[len(j.ID)+1:], j.Tenant)
	r := C.golane_submit(l, p, bptr(buf), (*C.char)(unsafe.Pointer(&buf[len(j.ID)+1])),
		C.int32_t(j.Priority), C.uint32_t(flags), C.int64_t(j.MaxWait), C.int64_t(j.QueueTimeout),
		C.int64_t(j.Cost), C.uint32_t(j.Slots), C.int64_t(j.RunTimeout), C.uintptr_t(h))
	t := ticket{
		position:  int(r.position),
		eta:       time.Duration(r.eta_ns),
		token:     uint64(r.token),
		blockedBy: BlockedBy(r.blocked_by),
	}
	if r.status == 0 {
		return t, nil
	}
	msg := ""
	if r.msg != nil {
		msg = C.GoString(r.msg)
		C.free(unsafe.Pointer(r.msg))
	}
	return t, newError("submit", Status(r.status), msg)
}

func cCancel(l cLane, id string, flags uint32) error {
	b := cstr(id)
	return result("cancel", C.golane_cancel(l, bptr(b), C.uint32_t(flags)))
}

// cCancelToken cancels the one job that token names: unlike an id, a token
// never names a later job.
func cCancelToken(l cLane, token uint64, flags uint32) error {
	return result("cancel", C.golane_cancel_token(l, C.uint64_t(token), C.uint32_t(flags)))
}

func cStats(l cLane, name string) (Stats, error) {
	var s C.lane_stats_t // no Go pointers; C writes a C pointer (name) into it, which is allowed
	if err := result("stats", C.golane_stats(l, &s)); err != nil {
		return Stats{Name: name}, err
	}
	return Stats{
		Name:            name,
		MaxConcurrent:   int(s.max_concurrent),
		Running:         int(s.running),
		Queued:          int(s.queued),
		OldestQueuedAt:  unixTime(int64(s.oldest_queued_at_ns)),
		Throughput1m:    int(s.throughput_1m),
		Submitted:       uint64(s.submitted),
		Completed:       uint64(s.completed),
		Failed:          uint64(s.failed),
		Cancelled:       uint64(s.cancelled),
		Preempted:       uint64(s.preempted),
		TimedOut:        uint64(s.timed_out),
		Closed:          uint64(s.closed),
		Refused:         uint64(s.refused),
		WaitP50:         time.Duration(s.wait_p50_ns),
		WaitP99:         time.Duration(s.wait_p99_ns),
		RunP50:          time.Duration(s.run_p50_ns),
		RunP99:          time.Duration(s.run_p99_ns),
		Paused:          s.paused != 0,
		CooldownUntil:   unixTime(int64(s.cooldown_until_ns)),
		BlockedBy:       BlockedBy(s.blocked_by),
		Preemptions:     uint64(s.preemptions),
		ETAWindow:       int(s.eta_window),
		MeanRuntime:     time.Duration(s.mean_runtime_ns),
		Width:           int(s.width),
		SlotsInUse:      int(s.slots_in_use),
		Released:        int(s.released),
		Reacquiring:     int(s.reacquiring),
		RateWaits:       uint64(s.rate_waits),
		RateReadyAt:     unixTime(int64(s.rate_ready_at_ns)),
		CostUsed:        int64(s.cost_used),
		Overloads:       uint64(s.overloads),
		Shared:          s.shared != 0,
		Available:       s.available != 0,
		GlobalRunning:   int(s.global_running),
		GlobalQueued:    int(s.global_queued),
		LeasesLost:      uint64(s.leases_lost),
		ReleasesRefused: uint64(s.releases_refused),
	}, nil
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

func cSetMaxConcurrent(l cLane, n uint32) error {
	return result("set max concurrent", C.golane_set_max_concurrent(l, C.uint32_t(n)))
}

func cSetPreemption(l cLane, enabled bool, minRuntime int64) error {
	return result("set preemption", C.golane_set_preemption(l, boolInt(enabled), C.int64_t(minRuntime)))
}

func cSetETAWindow(l cLane, n uint32) error {
	return result("set eta window", C.golane_set_eta_window(l, C.uint32_t(n)))
}

func cSetTenantWeight(l cLane, tenant string, w uint32) error {
	b := cstr(tenant)
	return result("set tenant weight", C.golane_set_tenant_weight(l, bptr(b), C.uint32_t(w)))
}

func cPause(l cLane) error  { return result("pause", C.golane_pause(l)) }
func cResume(l cLane) error { return result("resume", C.golane_resume(l)) }
func cCooldown(l cLane, d int64) error {
	return result("cooldown", C.golane_cooldown(l, C.int64_t(d)))
}

const (
	closeDrain  = 0
	closeCancel = 1
)

func cClose(l cLane, mode int32) error { return result("close", C.golane_close(l, C.int32_t(mode))) }

func cJobFinish(l cLane, token uint64, code int32) error {
	return result("job finish", C.golane_job_finish(l, C.uint64_t(token), C.int32_t(code)))
}

func cSetRateLimit(l cLane, kinds RateKind, amount int64, per time.Duration, burst int64) error {
	return result("set rate limit", C.golane_set_rate_limit(l, C.uint32_t(kinds), C.int64_t(amount), C.int64_t(per),
		C.int64_t(burst)))
}

func cSetTenantLimit(l cLane, tenant string, max uint32) error {
	t := cstr(tenant)
	return result("set tenant limit", C.golane_set_tenant_limit(l, bptr(t), C.uint32_t(max)))
}

func cTenantRunning(l cLane, tenant string) (int, error) {
	t := cstr(tenant)
	var n C.uint32_t // Go memory holding no Go pointers: allowed
	err := result("tenant running", C.golane_tenant_running(l, bptr(t), &n))
	return int(n), err
}

func cCtxSetCost(c cCtx, cost int64) error {
	return result("set cost", C.golane_ctx_set_cost(c, C.int64_t(cost)))
}

func cCtxOverloaded(c cCtx) error { return result("overloaded", C.golane_ctx_overloaded(c)) }

type cCluster = *C.lane_cluster_t

func cClusterCreate(o ClusterOptions) (cCluster, error) {
	url, prefix := cstr(o.URL), cstr(o.KeyPrefix)
	var c *C.lane_cluster_t
	err := result("cluster create", C.golane_cluster_create(bptr(url), bptr(prefix), C.int64_t(o.Lease),
		C.int64_t(o.Timeout), C.uint32_t(o.FallbackSlots), &c))
	return c, err
}

func cClusterDestroy(c cCluster) error { return result("cluster close", C.golane_cluster_destroy(c)) }

func cCtxFence(c cCtx) uint64 { return uint64(C.lane_ctx_fence(c)) }

func cJobRelease(l cLane, token uint64) error {
	return result("release", C.golane_job_release(l, C.uint64_t(token)))
}

func cJobReacquire(l cLane, token uint64) error {
	return result("reacquire", C.golane_job_reacquire(l, C.uint64_t(token)))
}

// Event kinds and the cancel flags of lane.h.
const (
	eventGrant  = int32(C.LANE_EVENT_GRANT)
	eventCancel = int32(C.LANE_EVENT_CANCEL)
	eventDone   = int32(C.LANE_EVENT_DONE)

	flagPreemptible      = uint32(C.LANE_JOB_PREEMPTIBLE)
	flagRequeueOnPreempt = uint32(C.LANE_JOB_REQUEUE_ON_PREEMPT)
	cancelQueued         = uint32(C.LANE_CANCEL_QUEUED)
	cancelRunning        = uint32(C.LANE_CANCEL_RUNNING)
)

type event struct {
	kind   int32
	status Status
	code   int32
	token  uint64
	handle cgo.Handle
	ctx    *C.lane_ctx_t // GRANT: the run's context (sessions read their batch from it)
}

// pollBuf is C memory for one poller: the raw events and their conversion.
type pollBuf struct {
	raw *C.lane_event_t
	out *C.golane_event
	max int
}

func newPollBuf(max int) *pollBuf {
	return &pollBuf{
		raw: (*C.lane_event_t)(C.calloc(C.size_t(max), C.sizeof_lane_event_t)),
		out: (*C.golane_event)(C.calloc(C.size_t(max), C.sizeof_golane_event)),
		max: max,
	}
}

func (b *pollBuf) free() {
	C.free(unsafe.Pointer(b.raw))
	C.free(unsafe.Pointer(b.out))
}

// poll blocks in C (timeout < 0: until an event or lane_port_wake) and
// appends the events to dst.
func (b *pollBuf) poll(p cPort, timeout time.Duration, dst []event) ([]event, error) {
	n := C.golane_poll(p, b.raw, b.out, C.int32_t(b.max), C.int64_t(timeout))
	if n < 0 {
		return dst, newError("port poll", Status(n), "")
	}
	for _, e := range unsafe.Slice(b.out, int(n)) {
		dst = append(dst, event{
			kind:   int32(e.kind),
			status: Status(e.status),
			code:   int32(e.job_code),
			token:  uint64(e.token),
			handle: cgo.Handle(e.handle),
			ctx:    e.ctx,
		})
	}
	return dst, nil
}

// Version is the linked library's version string.
func Version() string { return C.GoString(C.lane_version_string()) }

// cStatusName is lane_status_name(s), for the test that checks the status
// table against the library.
func cStatusName(s Status) string { return C.GoString(C.lane_status_name(C.lane_status_t(s))) }
