//go:build windows

// The registry's log sink on Windows: a bounded queue of whole lines in C
// memory that a goroutine drains (registry_log_windows.go). An anonymous
// pipe cannot take the Linux design: its writes block when it is full, and
// in PIPE_NOWAIT mode a write may be cut short, leaving half a line. Here a
// line goes in whole or, when the queue is full (a stalled logger), is
// dropped, and the library thread only ever takes a short mutex.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golane.h"

enum { GOLANE_LOGQ_CAP = 64 * 1024, GOLANE_LOG_LINE = 4096 };  // the Linux pipe's sizes

struct golane_logq {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  size_t len;  // bytes waiting in buf
  int closed;  // no more lines: golane_logq_read returns 0 once buf is empty
  char buf[GOLANE_LOGQ_CAP];
};

golane_logq *golane_logq_new(void) {
  golane_logq *q = (golane_logq *)calloc(1, sizeof *q);
  if (q == NULL) return NULL;
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->cv, NULL);
  return q;
}

// The registry's lane_log_fn: one line "<level> <message>\n" into the queue
// (no library thread calls Go). ud GOLANE_NO_LOG: stderr, as liblane does.
void golane_log(int32_t level, const char *message, void *ud) {
  if ((uintptr_t)ud == GOLANE_NO_LOG) {
    fprintf(stderr, "liblane: %s\n", message);
    return;
  }
  golane_logq *q = (golane_logq *)ud;
  char line[GOLANE_LOG_LINE];
  int n = snprintf(line, sizeof line, "%d ", (int)level);
  size_t len = (size_t)n;
  for (const char *p = message; *p && len + 1 < sizeof line; p++) line[len++] = (*p == '\n') ? ' ' : *p;
  line[len++] = '\n';
  pthread_mutex_lock(&q->mu);
  if (!q->closed && q->len + len <= sizeof q->buf) {
    memcpy(q->buf + q->len, line, len);
    q->len += len;
    pthread_cond_signal(&q->cv);
  }
  pthread_mutex_unlock(&q->mu);
}

// Moves up to cap waiting bytes to out, waiting until there are some. 0:
// the queue is closed and empty.
size_t golane_logq_read(golane_logq *q, char *out, size_t cap) {
  pthread_mutex_lock(&q->mu);
  while (q->len == 0 && !q->closed) pthread_cond_wait(&q->cv, &q->mu);
  size_t n = q->len < cap ? q->len : cap;
  memcpy(out, q->buf, n);
  memmove(q->buf, q->buf + n, q->len - n);
  q->len -= n;
  pthread_mutex_unlock(&q->mu);
  return n;
}

// No more lines will be taken; a waiting golane_logq_read returns.
void golane_logq_close(golane_logq *q) {
  pthread_mutex_lock(&q->mu);
  q->closed = 1;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

void golane_logq_free(golane_logq *q) {
  if (q == NULL) return;
  pthread_cond_destroy(&q->cv);
  pthread_mutex_destroy(&q->mu);
  free(q);
}
