//go:build !windows

package lane

import (
	"io"
	"os"
	"syscall"
)

// On POSIX systems the sink is a non-blocking pipe: golane_log writes each
// line whole (it fits in PIPE_BUF) or, when the pipe is full, drops it, and
// the read end is an *os.File in Go's netpoller.
type logPipe struct{ w int }

func newLogSink() (io.ReadCloser, logSink, error) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), "liblane-log"), logPipe{fds[1]}, nil
}

func (p logPipe) target() uintptr { return uintptr(p.w) }
func (p logPipe) closeWrite()     { syscall.Close(p.w) }
