package lane

// The C side of the registry and the sampler (capi.go has the lanes). The
// same rules hold: lane_last_error() is copied inside the C helper that
// failed, and Go only ever reads plain integers and C strings.
//
// No library thread ever calls into Go. The registry's config callback is
// golane_cfg_lookup below, pure C, reading a table in C memory guarded by a
// C mutex; the log callback is golane_log, pure C too, which hands the line
// to a goroutine of the registry (registry_log_*.go) or, without
// WithLogger, writes it to stderr; the sampler
// uses only the library's built-in SQLite sink.

/*
#cgo LDFLAGS: -llane -lpthread
#include "golane.h"
*/
import "C"

import (
	"sort"
	"time"
	"unsafe"
)

type cRegistry = *C.lane_registry_t
type cConfig = *C.golane_cfg
type cSampler = *C.lane_sampler_t

// noLog is the log target of a registry without WithLogger (its lines go
// to stderr); logSink.target gives the others.
const noLog = uintptr(C.GOLANE_NO_LOG)

func cConfigNew(envFallback bool, log uintptr) cConfig {
	return C.golane_cfg_new(C.int(boolInt(envFallback)), C.uintptr_t(log))
}

func cConfigFree(c cConfig) { C.golane_cfg_free(c) }

// cConfigSet copies m into the C table (keys sorted, for a stable layout).
func cConfigSet(c cConfig, m map[string]int64) error {
	keys := make([]string, 0, len(m))
	size := 0
	for k := range m {
		keys = append(keys, k)
		size += len(k) + 1
	}
	sort.Strings(keys)
	blob := make([]byte, size+1)
	vals := make([]int64, len(keys)+1)
	off := 0
	for i, k := range keys {
		copy(blob[off:], k)
		off += len(k) + 1
		vals[i] = m[k]
	}
	// blob and vals hold no Go pointers; C copies them.
	if C.golane_cfg_set(c, bptr(blob), C.size_t(size), (*C.int64_t)(unsafe.Pointer(&vals[0])), C.size_t(len(keys))) != 0 {
		return newError("set config", StatusNoMem, "out of memory copying the config")
	}
	return nil
}

func cRegistryCreate(cfg cConfig, policy Policy, defMax uint32, retire int64, log uintptr, cl cCluster) (cRegistry, error) {
	var r *C.lane_registry_t
	err := result("new registry", C.golane_registry_create(cfg, C.int32_t(policy), C.uint32_t(defMax), C.int64_t(retire),
		C.uintptr_t(log), cl, &r))
	return r, err
}

func cRegistryDestroy(r cRegistry) { C.lane_registry_destroy(r) }

func cRegistryLane(r cRegistry, name string) (cLane, cPort, error) {
	var l *C.lane_t
	var p *C.lane_port_t
	n := cstr(name)
	err := result("registry lane", C.golane_registry_lane(r, bptr(n), &l, &p))
	return l, p, err
}

func cRegistryBorrow(r cRegistry, name string) cLane {
	n := cstr(name)
	return C.golane_registry_borrow(r, bptr(n))
}

func cRegistryNames(r cRegistry) []string {
	var count, size C.size_t
	blob := C.golane_registry_names(r, &count, &size)
	if blob == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(blob))
	b := C.GoBytes(unsafe.Pointer(blob), C.int(size))
	names := make([]string, 0, int(count))
	start := 0
	for i, c := range b {
		if c == 0 {
			names = append(names, string(b[start:i]))
			start = i + 1
		}
	}
	return names
}

func cRegistryReload(r cRegistry) error { return result("reload", C.golane_registry_reload(r)) }

func cRegistryRemove(r cRegistry, name string) error {
	n := cstr(name)
	return result("remove", C.golane_registry_remove(r, bptr(n)))
}

func cRegistryMetrics(r cRegistry) (string, error) {
	var buf *C.char
	var n C.size_t
	if err := result("metrics", C.golane_registry_metrics(r, &buf, &n)); err != nil {
		return "", err
	}
	defer C.free(unsafe.Pointer(buf))
	return C.GoStringN(buf, C.int(n)), nil
}

func cSamplerCreate(r cRegistry, path string, o *samplerConfig) (cSampler, error) {
	var s *C.lane_sampler_t
	p := cstr(path)
	err := result("new sampler", C.golane_sampler_create(r, C.int64_t(o.interval), C.int64_t(o.retention),
		C.int64_t(o.purgeInterval), bptr(p), &s))
	return s, err
}

func cSamplerDestroy(s cSampler) { C.lane_sampler_destroy(s) }

func cSamplerStart(s cSampler) error { return result("sampler start", C.golane_sampler_start(s)) }
func cSamplerStop(s cSampler) error  { return result("sampler stop", C.golane_sampler_stop(s)) }
func cSamplerSampleOnce(s cSampler) error {
	return result("sample once", C.golane_sampler_sample_once(s))
}
func cSamplerPurgeOnce(s cSampler) error {
	return result("purge once", C.golane_sampler_purge_once(s))
}

func cSQLiteQuery(path, lane string, from, to int64) ([]Sample, error) {
	// path and lane share one allocation: "path\x00lane\x00".
	buf := make([]byte, len(path)+len(lane)+2)
	copy(buf, path)
	copy(buf[len(path)+1:], lane)
	var rows *C.lane_sample_t
	var n C.size_t
	err := result("query history", C.golane_sqlite_query(bptr(buf), (*C.char)(unsafe.Pointer(&buf[len(path)+1])),
		C.int64_t(from), C.int64_t(to), &rows, &n))
	if err != nil {
		return nil, err
	}
	if rows == nil {
		return []Sample{}, nil
	}
	defer C.free(unsafe.Pointer(rows))
	out := make([]Sample, 0, int(n))
	for _, r := range unsafe.Slice(rows, int(n)) {
		out = append(out, Sample{
			Lane:    lane,
			Running: int(r.running),
			Queued:  int(r.queued),
			At:      time.Unix(0, int64(r.sampled_at_ns)),
		})
	}
	return out, nil
}
