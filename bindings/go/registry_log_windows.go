package lane

/*
#include "golane.h"
*/
import "C"

import (
	"errors"
	"io"
	"unsafe"
)

// On Windows the sink is a golane_logq, a bounded queue of whole lines in C
// memory (golane_log_windows.c says why not a pipe): golane_log never
// blocks on it, and the reader waits for lines in a cgo call, holding an OS
// thread while the registry is idle, one per registry with a logger.
type logQueue struct{ q *C.golane_logq }

func newLogSink() (io.ReadCloser, logSink, error) {
	q := C.golane_logq_new()
	if q == nil {
		return nil, nil, errors.New("out of memory")
	}
	return &logQueueReader{q: q}, logQueue{q}, nil
}

func (s logQueue) target() uintptr { return uintptr(unsafe.Pointer(s.q)) }
func (s logQueue) closeWrite()     { C.golane_logq_close(s.q) }

// logQueueReader reads the queue; Close frees it (the writer is closed by
// then: readLog closes it after EOF, NewRegistry's failure path after
// closeWrite).
type logQueueReader struct{ q *C.golane_logq }

func (r *logQueueReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	// p is Go memory holding no Go pointers, used only during the call.
	n := C.golane_logq_read(r.q, (*C.char)(unsafe.Pointer(&p[0])), C.size_t(len(p)))
	if n == 0 {
		return 0, io.EOF
	}
	return int(n), nil
}

func (r *logQueueReader) Close() error {
	C.golane_logq_free(r.q)
	r.q = nil
	return nil
}
