// The C side of capi_registry.go, compiled by cgo with the package (see golane.h).
#include <lane/lane.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "golane.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#ifdef _WIN32
#include <windows.h>
#endif

golane_cfg *golane_cfg_new(int env_fallback, uintptr_t log) {
  golane_cfg *c = (golane_cfg *)calloc(1, sizeof *c);
  if (c != NULL) {
    pthread_mutex_init(&c->mu, NULL);
    c->env_fallback = env_fallback;
    c->log = log;
  }
  return c;
}

// Replaces the table. blob holds n NUL-terminated keys back to back
// (blob_len bytes in all); vals holds n values. Both are copied. 0 or -1
// (out of memory: the old table stays).
int golane_cfg_set(golane_cfg *c, const char *blob, size_t blob_len, const int64_t *vals, size_t n) {
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

// Reads key from the environment as liblane does without a callback:
// lanes.gpu.max_queued is LANE_GPU_MAX_QUEUED, an optional '-' and digits.
// Absent: def. Not a number: def, and one line to the log.
static int64_t golane_env_parse(const golane_cfg *c, const char *key, const char *var, const char *s, int64_t def);

#ifdef _WIN32
// A malloc'd copy of the process environment's variable, NULL if it is not
// set. Not getenv: the C runtime keeps its own copy of the environment,
// made at start-up, and a host that sets a variable through the Win32 API
// (Go's os.Setenv does) changes only the process's; _putenv changes both.
static char *golane_getenv_copy(const char *name) {
  for (;;) {
    DWORD need = GetEnvironmentVariableA(name, NULL, 0);
    if (need == 0) return NULL;
    char *v = (char *)malloc(need);
    if (v == NULL) return NULL;
    SetLastError(0);
    DWORD got = GetEnvironmentVariableA(name, v, need);
    if (got < need) {
      if (got == 0 && GetLastError() == ERROR_ENVVAR_NOT_FOUND) {  // removed meanwhile
        free(v);
        return NULL;
      }
      return v;
    }
    free(v);  // it grew meanwhile: ask again
  }
}
#endif

static int64_t golane_env_lookup(const golane_cfg *c, const char *key, int64_t def) {
  const char *k = strncmp(key, "lanes.", 6) == 0 ? key + 6 : key;
  char var[320];
  size_t n = (size_t)snprintf(var, sizeof var, "LANE_");
  for (; *k && n + 1 < sizeof var; k++, n++) {
    char ch = *k;
    var[n] = (ch == '.' || ch == '-' || ch == ':') ? '_' : (char)toupper((unsigned char)ch);
  }
  var[n] = '\0';
#ifdef _WIN32
  char *s = golane_getenv_copy(var);
  int64_t v = golane_env_parse(c, key, var, s, def);
  free(s);
  return v;
#else
  return golane_env_parse(c, key, var, getenv(var), def);
#endif
}

// The value s of var (NULL: not set) as the key's value.
static int64_t golane_env_parse(const golane_cfg *c, const char *key, const char *var, const char *s, int64_t def) {
  if (s == NULL) return def;
  const char *p = s;
  int neg = *p == '-';
  if (neg) p++;
  int ok = *p != '\0';
  uint64_t mag = 0;
  const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (; *p && ok; p++) {
    if (*p < '0' || *p > '9') {
      ok = 0;
    } else {
      uint64_t d = (uint64_t)(*p - '0');
      if (mag > (limit - d) / 10) ok = 0;
      else mag = mag * 10 + d;
    }
  }
  if (!ok) {
    char line[768];
    snprintf(line, sizeof line, "config %.320s (%.320s) = '%.64s' is not an integer; using the default", key, var, s);
    golane_log(LANE_LOG_WARN, line, (void *)c->log);
    return def;
  }
  return neg ? (int64_t)(0 - mag) : (int64_t)mag;
}

// The registry's lane_config_int_fn: runs on whichever thread asks, pure C.
// The table first; then, for a table that falls back to it, the environment.
int64_t golane_cfg_lookup(const char *key, int64_t def, void *ud) {
  golane_cfg *c = (golane_cfg *)ud;
  int64_t v = def;
  int found = 0;
  pthread_mutex_lock(&c->mu);
  for (size_t i = 0; i < c->n; i++) {
    if (strcmp(c->keys[i], key) == 0) {
      v = c->vals[i];
      found = 1;
      break;
    }
  }
  pthread_mutex_unlock(&c->mu);
  if (!found && c->env_fallback) v = golane_env_lookup(c, key, def);
  return v;
}

void golane_cfg_free(golane_cfg *c) {
  if (c == NULL) return;
  pthread_mutex_destroy(&c->mu);
  free(c->blob);
  free(c->keys);
  free(c->vals);
  free(c);
}

golane_result golane_registry_create(golane_cfg *cfg, int32_t policy, uint32_t def_max, int64_t retire_ns,
                                     uintptr_t log, lane_cluster_t *cluster, lane_registry_t **out) {
  lane_registry_options_t o = LANE_REGISTRY_OPTIONS_INIT;
  if (cfg != NULL) {
    o.config_int = golane_cfg_lookup;
    o.config_ud = cfg;
  }
  if (log != GOLANE_NO_LOG) {
    o.log = golane_log;
    o.log_ud = (void *)log;
  }
  o.default_policy = (lane_policy_t)policy;
  o.default_max_concurrent = def_max;
  o.idle_retire_ns = retire_ns;
  o.cluster = cluster;
  return golane_res(lane_registry_create(&o, out));
}

// Borrows (or creates) the lane and makes the binding's port for it.
golane_result golane_registry_lane(lane_registry_t *r, const char *name, lane_t **out_lane,
                                        lane_port_t **out_port) {
  lane_status_t s = lane_registry_get_or_create(r, name, out_lane);
  if (s != LANE_OK) return golane_res(s);
  return golane_res(lane_port_create(out_port));  // the lane stays in the registry either way
}

// Borrows the lane again (re-creating it if it was retired); NULL on failure.
lane_t *golane_registry_borrow(lane_registry_t *r, const char *name) {
  lane_t *l = NULL;
  if (lane_registry_get_or_create(r, name, &l) != LANE_OK) return NULL;
  return l;
}

// Every name, copied at once into one malloc'd blob of NUL-terminated
// strings; *count names, *len bytes. NULL (with *count 0) if out of memory.
char *golane_registry_names(lane_registry_t *r, size_t *count, size_t *len) {
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

golane_result golane_registry_reload(lane_registry_t *r) { return golane_res(lane_registry_reload(r)); }
golane_result golane_registry_remove(lane_registry_t *r, const char *name) {
  return golane_res(lane_registry_remove(r, name));
}

// The metrics text in a malloc'd buffer (*out, *len bytes), retried with
// the size the library asks for.
golane_result golane_registry_metrics(lane_registry_t *r, char **out, size_t *len) {
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

golane_result golane_sampler_create(lane_registry_t *r, int64_t interval, int64_t retention, int64_t purge,
                                         const char *path, lane_sampler_t **out) {
  lane_sampler_options_t o = LANE_SAMPLER_OPTIONS_INIT;
  o.interval_ns = interval;
  o.retention_ns = retention;
  o.purge_interval_ns = purge;
  o.sink = NULL;  // the built-in SQLite sink: a Go sink would be a library thread calling Go
  o.sqlite_path = path;
  return golane_res(lane_sampler_create(r, &o, out));
}
golane_result golane_sampler_start(lane_sampler_t *s) { return golane_res(lane_sampler_start(s)); }
golane_result golane_sampler_stop(lane_sampler_t *s) { return golane_res(lane_sampler_stop(s)); }
golane_result golane_sampler_sample_once(lane_sampler_t *s) { return golane_res(lane_sampler_sample_once(s)); }
golane_result golane_sampler_purge_once(lane_sampler_t *s) { return golane_res(lane_sampler_purge_once(s)); }

// The matching rows in a malloc'd array (*out, *n rows), retried with the total.
golane_result golane_sqlite_query(const char *path, const char *lane, int64_t from, int64_t to,
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
