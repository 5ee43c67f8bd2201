// Shared by the cgo preambles of capi.go and capi_registry.go.
#ifndef GOLANE_H
#define GOLANE_H

#include <lane/lane.h>
#include <stdlib.h>
#include <string.h>

// A status and, on failure, a malloc'd copy of lane_last_error() taken on the
// thread that failed (the caller frees it).
typedef struct golane_result {
  int32_t status;
  char *msg;
} golane_result;

static inline golane_result golane_res(lane_status_t s) {
  golane_result r = {(int32_t)s, NULL};
  if (s != LANE_OK) r.msg = strdup(lane_last_error());
  return r;
}

#endif
