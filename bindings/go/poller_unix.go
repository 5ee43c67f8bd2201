//go:build !windows

package lane

import (
	"os"
	"syscall"
	"time"
)

// The port's eventfd (readable while events wait) is waited on through Go's
// netpoller, so an idle lane holds no OS thread and a wake-up is a plain
// goroutine wake-up; the events themselves are read with a non-blocking
// lane_port_poll, never by reading the fd.

type portWait struct {
	portFile *os.File // a dup of the port's eventfd in Go's netpoller; nil: blocking poll
}

// startReadinessPoller starts netPollLoop if the port's fd can join the
// netpoller.
func (l *Lane) startReadinessPoller() bool {
	l.portFile = pollableFile(cPortFD(l.port))
	if l.portFile == nil {
		return false
	}
	go l.netPollLoop()
	return true
}

func (l *Lane) stopReadinessPoller() {
	if l.portFile != nil {
		_ = l.portFile.Close() // ends the wait for readability
	}
}

// pollsReadiness says whether the lane's poller waits for the port's
// readiness signal (not in a blocking lane_port_poll).
func (l *Lane) pollsReadiness() bool { return l.portFile != nil }

// pollableFile returns a dup of fd registered with the netpoller, or nil.
// The dup is ours to close; the original belongs to the port.
func pollableFile(fd int) *os.File {
	if fd < 0 {
		return nil
	}
	syscall.ForkLock.RLock()
	dup, err := syscall.Dup(fd)
	if err == nil {
		syscall.CloseOnExec(dup)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil
	}
	f := os.NewFile(uintptr(dup), "lane-port")
	// Only a file in the netpoller supports deadlines.
	if f.SetReadDeadline(time.Time{}) != nil {
		_ = f.Close()
		return nil
	}
	return f
}

func (l *Lane) netPollLoop() {
	defer close(l.pollDone)
	buf := newPollBuf(pollBatch)
	defer buf.free()
	events := make([]event, 0, pollBatch)
	rc, err := l.portFile.SyscallConn()
	if err != nil {
		l.blockingPollFrom(buf, events)
		return
	}
	for {
		// Read calls the function before it waits, and waits (edge
		// triggered) only when it returns false: so a batch left in the
		// port is taken at once, and an event posted after an empty poll
		// makes the fd readable again.
		// Read may fail (file closed) without calling the function: the
		// last batch must not be handled twice.
		events = events[:0]
		err := rc.Read(func(uintptr) bool {
			events, _ = buf.poll(l.port, 0, events[:0])
			return len(events) > 0
		})
		for i := range events {
			l.dispatchEvent(&events[i])
		}
		if err != nil { // the file was closed by stopPoller
			return
		}
	}
}
