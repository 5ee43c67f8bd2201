package lane

import (
	"os"
	"syscall"
	"time"
)

// The one goroutine per lane that drains its port. It never blocks on Go
// work: GRANT starts a goroutine, CANCEL cancels a context, DONE settles the
// job. Library threads never call into Go; they only post events.
//
// The port's eventfd (readable while events wait) is waited on through Go's
// netpoller, so an idle lane holds no OS thread and a wake-up is a plain
// goroutine wake-up; the events themselves are read with a non-blocking
// lane_port_poll, never by reading the fd. Where the fd cannot join the
// netpoller, the goroutine blocks in lane_port_poll instead and Close wakes
// it with lane_port_wake.

const pollBatch = 64

// useNetpoller is switched off by a test to cover the blocking poller.
var useNetpoller = true

func (l *Lane) startPoller() {
	if useNetpoller {
		l.portFile = pollableFile(cPortFD(l.port))
	}
	if l.portFile != nil {
		go l.netPollLoop()
	} else {
		go l.blockingPollLoop()
	}
}

func (l *Lane) stopPoller() {
	close(l.closed)
	if l.portFile != nil {
		_ = l.portFile.Close() // ends the wait for readability
	}
	cPortWake(l.port) // ends a blocking lane_port_poll
	<-l.pollDone
}

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

func (l *Lane) blockingPollLoop() {
	defer close(l.pollDone)
	buf := newPollBuf(pollBatch)
	defer buf.free()
	l.blockingPollFrom(buf, make([]event, 0, pollBatch))
}

func (l *Lane) blockingPollFrom(buf *pollBuf, events []event) {
	for {
		var err error
		events, err = buf.poll(l.port, -1, events[:0])
		for i := range events {
			l.dispatchEvent(&events[i])
		}
		select {
		case <-l.closed:
			return
		default:
		}
		if err != nil {
			// Only a bad port could fail, and the port lives until this
			// loop has returned; back off rather than spin.
			time.Sleep(10 * time.Millisecond)
		}
	}
}
