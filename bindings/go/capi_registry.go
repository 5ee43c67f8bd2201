package lane

// The C side of the registry and the sampler (capi.go has the lanes). The
// same rules hold: lane_last_error() is copied inside the C helper that
// failed, and Go only ever reads plain integers and C strings.
//
// No library thread ever calls into Go. The registry's config callback is
// golane_cfg_lookup below, pure C, reading a table in C memory guarded by a
// C mutex; the log callback is left NULL (one line on stderr); the sampler
// uses only the library's built-in SQLite sink.

/*
#cgo LDFLAGS: -llane -lpthread
#include <lane/lane.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "golane.h"

// A static config table: n keys (pointers into one blob) and their values.
typedef struct golane_cfg {
  pthread_mutex_t mu;
  size_t n;
  char *blob;
  char **keys;
  int64_t *vals;
} golane_cfg;

static golane_cfg *golane_cfg_new(void) {
  golane_cfg *c = (golane_cfg *)calloc(1, sizeof *c);
  if (c != NULL) pthread_mutex_init(&c->mu, NULL);
  return c;
}

// Replaces the table. blob holds n NUL-terminated keys back to back
// (blob_len bytes in all); vals holds n values. Both are copied. 0 or -1
// (out of memory: the old table stays).
static int golane_cfg_set(golane_cfg *c, const char *blob, size_t blob_len, const int64_t *vals, size_t n) {
  char *nb = NULL;
  char **nk = NULL;
  int64_t *nv = NULL;
  if (n > 0) {
    nb = (char *)malloc(blob_len);
    nk = (char **)malloc(n * sizeof *nk);
    nv = (int64_t *)malloc(n * sizeof *nv);
    if (nb == NULL || nk == NULL || nv == NULL) {
      free(nb);
      free(nk);
      free(nv);
      return -1;
    }
    memcpy(nb, blob, blob_len);
    memcpy(nv, vals, n * sizeof *nv);
    char *p = nb;
    for (size_t i = 0; i < n; i++) {
      nk[i] = p;
      p += strlen(p) + 1;
    }
  }
  pthread_mutex_lock(&c->mu);
  char *ob = c->blob;
  char **ok = c->keys;
  int64_t *ov = c->vals;
  c->blob = nb;
  c->keys = nk;
  c->vals = nv;
  c->n = n;
  pthread_mutex_unlock(&c->mu);
  free(ob);
  free(ok);
  free(ov);
  return 0;
}

// The registry's lane_config_int_fn: runs on whichever thread asks, pure C.
static int64_t golane_cfg_lookup(const char *key, int64_t def, void *ud) {
  golane_cfg *c = (golane_cfg *)ud;
  int64_t v = def;
  pthread_mutex_lock(&c->mu);
  for (size_t i = 0; i < c->n; i++) {
    if (strcmp(c->keys[i], key) == 0) {
      v = c->vals[i];
      break;
    }
  }
  pthread_mutex_unlock(&c->mu);
  return v;
}

static void golane_cfg_free(golane_cfg *c) {
  if (c == NULL) return;
  pthread_mutex_destroy(&c->mu);
  free(c->blob);
  free(c->keys);
  free(c->vals);
  free(c);
}

static golane_result golane_registry_create(golane_cfg *cfg, int32_t policy, uint32_t def_max, int64_t retire_ns,
                                          lane_registry_t **out) {
  lane_registry_options_t o = LANE_REGISTRY_OPTIONS_INIT;
  if (cfg != NULL) {
    o.config_int = golane_cfg_lookup;
    o.config_ud = cfg;
  }
  o.log = NULL;  // stderr: a Go logger would be a library thread calling Go
  o.default_policy = (lane_policy_t)policy;
  o.default_max_concurrent = def_max;
  o.idle_retire_ns = retire_ns;
  return golane_res(lane_registry_create(&o, out));
}

// Borrows (or creates) the lane and makes the binding's port for it.
static golane_result golane_registry_lane(lane_registry_t *r, const char *name, lane_t **out_lane,
                                        lane_port_t **out_port) {
  lane_status_t s = lane_registry_get_or_create(r, name, out_lane);
  if (s != LANE_OK) return golane_res(s);
  return golane_res(lane_port_create(out_port));  // the lane stays in the registry either way
}

// Borrows the lane again (re-creating it if it was retired); NULL on failure.
static lane_t *golane_registry_borrow(lane_registry_t *r, const char *name) {
  lane_t *l = NULL;
  if (lane_registry_get_or_create(r, name, &l) != LANE_OK) return NULL;
  return l;
}

// Every name, copied at once into one malloc'd blob of NUL-terminated
// strings; *count names, *len bytes. NULL (with *count 0) if out of memory.
static char *golane_registry_names(lane_registry_t *r, size_t *count, size_t *len) {
  *count = 0;
  *len = 0;
  size_t cap = lane_registry_names(r, NULL, 0) + 8;
  for (;;) {
    const char **arr = (const char **)malloc(cap * sizeof *arr);
    if (arr == NULL) return NULL;
    size_t n = lane_registry_names(r, arr, cap);
    if (n > cap) {
      free(arr);
      cap = n + 8;
      continue;
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += strlen(arr[i]) + 1;
    char *blob = (char *)malloc(total + 1);
    if (blob == NULL) {
      free(arr);
      return NULL;
    }
    char *p = blob;
    for (size_t i = 0; i < n; i++) {
      size_t k = strlen(arr[i]) + 1;
      memcpy(p, arr[i], k);
      p += k;
    }
    free(arr);
    *count = n;
    *len = total;
    return blob;
  }
}

static golane_result golane_registry_reload(lane_registry_t *r) { return golane_res(lane_registry_reload(r)); }
static golane_result golane_registry_remove(lane_registry_t *r, const char *name) {
  return golane_res(lane_registry_remove(r, name));
}

// The metrics text in a malloc'd buffer (*out, *len bytes), retried with
// the size the library asks for.
static golane_result golane_registry_metrics(lane_registry_t *r, char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  size_t need = 0;
  lane_status_t s = lane_registry_metrics(r, NULL, 0, &need);
  if (s == LANE_OK) {  // cannot fit in 0 bytes, but be safe
    need = 1;
  } else if (s != LANE_ERR_INVALID || need == 0) {
    return golane_res(s);
  }
  for (int tries = 0; tries < 16; tries++) {
    size_t cap = need + need / 4 + 256;
    char *buf = (char *)malloc(cap);
    if (buf == NULL) return golane_res(LANE_ERR_NOMEM);
    size_t n = 0;
    s = lane_registry_metrics(r, buf, cap, &n);
    if (s == LANE_OK) {
      *out = buf;
      *len = n;
      return golane_res(LANE_OK);
    }
    free(buf);
    if (s != LANE_ERR_INVALID || n <= cap) return golane_res(s);
    need = n;
  }
  return golane_res(LANE_ERR_INTERNAL);
}

static golane_result golane_sampler_create(lane_registry_t *r, int64_t interval, int64_t retention, int64_t purge,
                                         const char *path, lane_sampler_t **out) {
  lane_sampler_options_t o = LANE_SAMPLER_OPTIONS_INIT;
  o.interval_ns = interval;
  o.retention_ns = retention;
  o.purge_interval_ns = purge;
  o.sink = NULL;  // the built-in SQLite sink: a Go sink would be a library thread calling Go
  o.sqlite_path = path;
  return golane_res(lane_sampler_create(r, &o, out));
}
static golane_result golane_sampler_start(lane_sampler_t *s) { return golane_res(lane_sampler_start(s)); }
static golane_result golane_sampler_stop(lane_sampler_t *s) { return golane_res(lane_sampler_stop(s)); }
static golane_result golane_sampler_sample_once(lane_sampler_t *s) { return golane_res(lane_sampler_sample_once(s)); }
static golane_result golane_sampler_purge_once(lane_sampler_t *s) { return golane_res(lane_sampler_purge_once(s)); }

// The matching rows in a malloc'd array (*out, *n rows), retried with the total.
static golane_result golane_sqlite_query(const char *path, const char *lane, int64_t from, int64_t to,
                                       lane_sample_t **out, size_t *n) {
  *out = NULL;
  *n = 0;
  size_t total = 0;
  lane_status_t s = lane_sqlite_query(path, lane, from, to, NULL, 0, &total);
  for (int tries = 0; s == LANE_OK && tries < 16; tries++) {
    if (total == 0) return golane_res(LANE_OK);
    size_t cap = total + 64;
    lane_sample_t *rows = (lane_sample_t *)calloc(cap, sizeof *rows);
    if (rows == NULL) return golane_res(LANE_ERR_NOMEM);
    rows[0].struct_size = sizeof *rows;
    s = lane_sqlite_query(path, lane, from, to, rows, cap, &total);
    if (s == LANE_OK && total <= cap) {
      *out = rows;
      *n = total;
      return golane_res(LANE_OK);
    }
    free(rows);
  }
  return golane_res(s == LANE_OK ? LANE_ERR_INTERNAL : s);
}
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

func cConfigNew() cConfig { return C.golane_cfg_new() }

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

func cRegistryCreate(cfg cConfig, policy Policy, defMax uint32, retire int64) (cRegistry, error) {
	var r *C.lane_registry_t
	err := result("new registry", C.golane_registry_create(cfg, C.int32_t(policy), C.uint32_t(defMax), C.int64_t(retire), &r))
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

func cSamplerCreate(r cRegistry, o *SamplerOptions) (cSampler, error) {
	var s *C.lane_sampler_t
	p := cstr(o.SQLitePath)
	err := result("new sampler", C.golane_sampler_create(r, C.int64_t(o.Interval), C.int64_t(o.Retention),
		C.int64_t(o.PurgeInterval), bptr(p), &s))
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
