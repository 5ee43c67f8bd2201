//go:build !windows

// The registry's log sink on POSIX systems: a non-blocking pipe (registry_log_unix.go).
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "golane.h"

// The registry's lane_log_fn: one line "<level> <message>\n" written to a
// non-blocking pipe that a goroutine reads (no library thread calls Go). A
// line fits in PIPE_BUF, so it is written whole or, when the pipe is full,
// dropped (never blocking the library). fd < 0: stderr, as liblane does.
void golane_log(int32_t level, const char *message, void *ud) {
  int fd = (int)(intptr_t)ud;
  if (fd < 0) {
    fprintf(stderr, "liblane: %s\n", message);
    return;
  }
  char line[PIPE_BUF];
  int n = snprintf(line, sizeof line, "%d ", (int)level);
  size_t len = (size_t)n;
  for (const char *p = message; *p && len + 1 < sizeof line; p++) line[len++] = (*p == '\n') ? ' ' : *p;
  line[len++] = '\n';
  ssize_t w;
  do {
    w = write(fd, line, len);
  } while (w < 0 && errno == EINTR);
}
