package lane

// The C side of session queues (capi.go has the lanes and the port). The
// same rules hold: lane_last_error() is copied inside the C helper that
// failed; a message's Go state crosses as a runtime/cgo.Handle stored in
// user_data by C code; Go reads only integers, C strings and opaque C
// pointers.
//
// No library thread ever calls into Go. The token estimate of a throttled
// session is golane_tokens_estimate below, pure C, reading two numbers that
// Session.SetTokens stores in C memory behind a C mutex. Messages are
// host-run (run == NULL): their runs are granted through the lane's port,
// and the GRANT event's lane_ctx_t is read from the run's goroutine with
// the lane_ctx_batch_*, lane_ctx_next_message and lane_ctx_dropped_*
// helpers here, only until the run's lane_job_finish.

/*
#cgo LDFLAGS: -llane -lpthread
#include "golane.h"
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

type cSession = *C.lane_session_t
type cTokens = *C.golane_tokens
type cCtx = *C.lane_ctx_t

func cTokensNew() cTokens { return C.golane_tokens_new() }

func cTokensSet(t cTokens, tokens, window int64) {
	C.golane_tokens_set(t, C.int64_t(tokens), C.int64_t(window))
}

func cTokensFree(t cTokens) { C.golane_tokens_free(t) }

func cSessionCreate(l cLane, key string, c *sessionConfig, tokens cTokens) (cSession, error) {
	o := C.golane_session_options{
		mode:           C.int32_t(c.mode),
		cap:            C.uint32_t(c.cap),
		drop:           C.int32_t(c.drop),
		debounce_ns:    C.int64_t(c.debounce),
		max_concurrent: C.uint32_t(c.maxConcurrent),
		throttle_ratio: C.double(c.throttleRatio),
	}
	var s *C.lane_session_t
	k := cstr(key)
	// &s is a Go pointer to memory holding no Go pointer: allowed.
	err := result("new session", C.golane_session_create(l, bptr(k), o, tokens, &s))
	return s, err
}

func cSessionDestroy(s cSession) { C.lane_session_destroy(s) }

func cSessionEnqueue(s cSession, p cPort, m *Message, flags uint32, h cgo.Handle) error {
	// id and tenant share one allocation: "id\x00tenant\x00".
	buf := make([]byte, len(m.ID)+len(m.Tenant)+2)
	copy(buf, m.ID)
	copy(buf[len(m.ID)+1:], m.Tenant)
	return result("enqueue", C.golane_session_enqueue(s, p, bptr(buf), (*C.char)(unsafe.Pointer(&buf[len(m.ID)+1])),
		C.int32_t(m.Priority), C.uint32_t(flags), C.int64_t(m.MaxWait), C.int64_t(m.QueueTimeout),
		C.int64_t(m.Cost), C.uint32_t(m.Slots), C.int64_t(m.RunTimeout), C.uintptr_t(h)))
}

func cSessionCancelOne(s cSession) bool { return C.lane_session_cancel_one(s) != 0 }

func cSessionCancelAll(s cSession) int { return int(C.lane_session_cancel_all(s)) }

func cSessionReset(s cSession) error { return result("reset", C.golane_session_reset(s)) }

func cSessionActive(s cSession) int { return int(C.lane_session_active(s)) }

func cSessionQueued(s cSession) int { return int(C.lane_session_queued(s)) }

func cSessionSetMaxConcurrent(s cSession, n uint32) error {
	return result("set max concurrent", C.golane_session_set_max_concurrent(s, C.uint32_t(n)))
}

// cBatch reads a granted run's batch: the ids and handles of its messages,
// oldest first.
func cBatch(ctx cCtx) (ids []string, handles []cgo.Handle) {
	n := uint32(C.lane_ctx_batch_count(ctx))
	ids = make([]string, 0, n)
	handles = make([]cgo.Handle, 0, n)
	for i := uint32(0); i < n; i++ {
		var id *C.char
		var h C.uintptr_t
		if C.golane_batch_item(ctx, C.uint32_t(i), &id, &h) != 0 {
			break
		}
		s := ""
		if id != nil {
			s = C.GoString(id)
		}
		ids = append(ids, s)
		handles = append(handles, cgo.Handle(h))
	}
	return ids, handles
}

// cDropped reads the ids dropped (SUMMARIZE) since the previous run started.
func cDropped(ctx cCtx) []string {
	n := uint32(C.lane_ctx_dropped_count(ctx))
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for i := uint32(0); i < n; i++ {
		if id := C.lane_ctx_dropped_id(ctx, C.uint32_t(i)); id != nil {
			out = append(out, C.GoString(id))
		}
	}
	return out
}

// cNextMessage takes the next message of a STEER run's mailbox.
func cNextMessage(ctx cCtx) (id string, h cgo.Handle, ok bool) {
	var cid *C.char
	var ch C.uintptr_t
	if C.golane_next_message(ctx, &cid, &ch) != 1 {
		return "", 0, false
	}
	if cid != nil {
		id = C.GoString(cid)
	}
	return id, cgo.Handle(ch), true
}

// The session constants of lane.h.
const (
	flagSteerable = uint32(C.LANE_JOB_STEERABLE)

	cModeQueue     = int32(C.LANE_SESSION_QUEUE)
	cModeFollowup  = int32(C.LANE_SESSION_FOLLOWUP)
	cModeCollect   = int32(C.LANE_SESSION_COLLECT)
	cModeInterrupt = int32(C.LANE_SESSION_INTERRUPT)
	cModeSteer     = int32(C.LANE_SESSION_STEER)

	cDropOld       = int32(C.LANE_DROP_OLD)
	cDropNew       = int32(C.LANE_DROP_NEW)
	cDropSummarize = int32(C.LANE_DROP_SUMMARIZE)
)
