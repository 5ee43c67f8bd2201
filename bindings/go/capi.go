package lane

// This file is the only one that talks to C. Every fallible call goes
// through a small helper that copies lane_last_error() on the same OS thread
// as the call (a goroutine may move between threads between two cgo calls,
// and the message is thread-local). Per-job Go state crosses as a
// runtime/cgo.Handle passed as uintptr_t and stored in user_data by C code,
// so Go never holds an integer disguised as a pointer; events are polled
// into C memory and converted there, so Go reads only plain integers.

/*
#cgo LDFLAGS: -llane
#include <lane/lane.h>
#include <stdlib.h>
#include <string.h>

#include "golane.h"

typedef struct golane_options {
  uint32_t max_concurrent;
  int32_t policy;
  uint32_t eta_window;
  int32_t preemption_off;
  int64_t preempt_min_runtime_ns;
  int32_t preempt_overcommit;
  uint32_t max_queued;
  int64_t eta_default_runtime_ns;
  int64_t aging_ns;
  int64_t fair_half_life_ns;
  int64_t *manual_clock; // NULL: real time; else C memory read by golane_manual_now
} golane_options;

static int64_t golane_manual_now(void *ud) { return __atomic_load_n((int64_t *)ud, __ATOMIC_SEQ_CST); }
static int64_t *golane_clock_new(int64_t t) {
  int64_t *p = (int64_t *)malloc(sizeof *p);
  if (p) __atomic_store_n(p, t, __ATOMIC_SEQ_CST);
  return p;
}
static void golane_clock_set(int64_t *p, int64_t t) { __atomic_store_n(p, t, __ATOMIC_SEQ_CST); }
static int64_t golane_clock_get(int64_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

static golane_result golane_create(const char *name, golane_options o, lane_t **out_lane, lane_port_t **out_port) {
  lane_options_t opts = LANE_OPTIONS_INIT;
  opts.max_concurrent = o.max_concurrent;
  opts.policy = (lane_policy_t)o.policy;
  opts.eta_window = o.eta_window;
  opts.preemption_off = o.preemption_off;
  opts.preempt_min_runtime_ns = o.preempt_min_runtime_ns;
  opts.preempt_overcommit = o.preempt_overcommit;
  opts.max_queued = o.max_queued;
  opts.eta_default_runtime_ns = o.eta_default_runtime_ns;
  opts.aging_ns = o.aging_ns;
  opts.fair_half_life_ns = o.fair_half_life_ns;
  if (o.manual_clock) {
    opts.clock = golane_manual_now;
    opts.clock_ud = o.manual_clock;
  }
  lane_status_t s = lane_create(name, &opts, out_lane);
  if (s != LANE_OK) return golane_res(s);
  s = lane_port_create(out_port);
  if (s != LANE_OK) {
    golane_result r = golane_res(s);
    lane_destroy(*out_lane);
    *out_lane = NULL;
    return r;
  }
  return golane_res(LANE_OK);
}

typedef struct golane_submitted {
  int32_t status;
  int32_t position;
  int64_t eta_ns;
  uint64_t token;
  int32_t blocked_by;
  char *msg;
} golane_submitted;

// id and tenant point into one Go byte slice (NUL-terminated strings, no Go
// pointers inside); the library copies them before returning.
static golane_submitted golane_submit(lane_t *lane, lane_port_t *port, const char *id, const char *tenant,
                                      int32_t priority, uint32_t flags, int64_t max_wait_ns,
                                      int64_t queue_timeout_ns, uintptr_t handle) {
  lane_job_t job = LANE_JOB_INIT;
  job.id = id;
  job.tenant = tenant;
  job.priority = priority;
  job.flags = flags;
  job.max_wait_ns = max_wait_ns;
  job.queue_timeout_ns = queue_timeout_ns;
  job.run = NULL;  // host-run: granted through the port, run by a goroutine
  job.user_data = (void *)handle;
  job.port = port;
  lane_ticket_t t = LANE_TICKET_INIT;
  lane_status_t s = lane_submit(lane, &job, &t);
  golane_submitted r = {(int32_t)s, t.position, t.eta_ns, t.job_token, (int32_t)t.blocked_by, NULL};
  if (s != LANE_OK) r.msg = strdup(lane_last_error());
  return r;
}

static golane_result golane_cancel(lane_t *lane, const char *id, uint32_t flags) {
  return golane_res(lane_cancel(lane, id, flags));
}
static golane_result golane_cancel_token(lane_t *lane, uint64_t token, uint32_t flags) {
  return golane_res(lane_cancel_token(lane, token, flags));
}
static golane_result golane_stats(lane_t *lane, lane_stats_t *out) {
  out->struct_size = sizeof *out;
  return golane_res(lane_stats(lane, out));
}
static golane_result golane_set_max_concurrent(lane_t *lane, uint32_t n) {
  return golane_res(lane_set_max_concurrent(lane, n));
}
static golane_result golane_set_preemption(lane_t *lane, int32_t enabled, int64_t min_runtime_ns) {
  return golane_res(lane_set_preemption(lane, enabled, min_runtime_ns));
}
static golane_result golane_set_eta_window(lane_t *lane, uint32_t n) {
  return golane_res(lane_set_eta_window(lane, n));
}
static golane_result golane_set_tenant_weight(lane_t *lane, const char *tenant, uint32_t w) {
  return golane_res(lane_set_tenant_weight(lane, tenant, w));
}
static golane_result golane_pause(lane_t *lane) { return golane_res(lane_pause(lane)); }
static golane_result golane_resume(lane_t *lane) { return golane_res(lane_resume(lane)); }
static golane_result golane_cooldown(lane_t *lane, int64_t d) { return golane_res(lane_cooldown(lane, d)); }
static golane_result golane_close(lane_t *lane, int32_t mode) {
  return golane_res(lane_close(lane, (lane_close_mode_t)mode));
}
static golane_result golane_job_finish(lane_t *lane, uint64_t token, int32_t code) {
  return golane_res(lane_job_finish(lane, token, code));
}

// One event as Go sees it: integers only.
typedef struct golane_event {
  int32_t kind;
  int32_t status;
  int32_t job_code;
  int32_t pad;
  uint64_t token;
  uintptr_t handle;
  lane_ctx_t *ctx;  // GRANT only: the run's context until lane_job_finish
} golane_event;

// Polls into raw (C memory, max elements) and converts into out (C memory).
static int32_t golane_poll(lane_port_t *port, lane_event_t *raw, golane_event *out, int32_t max, int64_t timeout_ns) {
  raw[0].struct_size = sizeof(lane_event_t);
  int32_t n = lane_port_poll(port, raw, max, timeout_ns);
  for (int32_t i = 0; i < n; i++) {
    out[i].kind = (int32_t)raw[i].kind;
    out[i].status = (int32_t)raw[i].status;
    out[i].job_code = raw[i].job_code;
    out[i].pad = 0;
    out[i].token = raw[i].job_token;
    out[i].handle = (uintptr_t)raw[i].user_data;
    out[i].ctx = raw[i].kind == LANE_EVENT_GRANT ? raw[i].ctx : NULL;
  }
  return n;
}
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
	}
	if c.clock != nil {
		o.manual_clock = c.clock.p
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
		C.uintptr_t(h))
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
		Name:           name,
		MaxConcurrent:  int(s.max_concurrent),
		Running:        int(s.running),
		Queued:         int(s.queued),
		OldestQueuedAt: unixTime(int64(s.oldest_queued_at_ns)),
		Throughput1m:   int(s.throughput_1m),
		Submitted:      uint64(s.submitted),
		Completed:      uint64(s.completed),
		Failed:         uint64(s.failed),
		Cancelled:      uint64(s.cancelled),
		Preempted:      uint64(s.preempted),
		TimedOut:       uint64(s.timed_out),
		Closed:         uint64(s.closed),
		Refused:        uint64(s.refused),
		WaitP50:        time.Duration(s.wait_p50_ns),
		WaitP99:        time.Duration(s.wait_p99_ns),
		RunP50:         time.Duration(s.run_p50_ns),
		RunP99:         time.Duration(s.run_p99_ns),
		Paused:         s.paused != 0,
		CooldownUntil:  unixTime(int64(s.cooldown_until_ns)),
		BlockedBy:      BlockedBy(s.blocked_by),
		Preemptions:    uint64(s.preemptions),
		ETAWindow:      int(s.eta_window),
		MeanRuntime:    time.Duration(s.mean_runtime_ns),
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
