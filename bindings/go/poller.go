package lane

import "time"

// The one goroutine per lane that drains its port. It never blocks on Go
// work: GRANT starts a goroutine, CANCEL cancels a context, DONE settles the
// job. Library threads never call into Go; they only post events.
//
// The goroutine waits for the port's readiness signal and then takes the
// events with a non-blocking lane_port_poll: on Linux the eventfd through
// Go's netpoller (poller_unix.go), on Windows the port's event handle
// (poller_windows.go). Where neither is available, the goroutine blocks in
// lane_port_poll instead and Close wakes it with lane_port_wake.

const pollBatch = 64

// useNetpoller is switched off by a test to cover the blocking poller.
var useNetpoller = true

func (l *Lane) startPoller() {
	if useNetpoller && l.startReadinessPoller() {
		return
	}
	go l.blockingPollLoop()
}

func (l *Lane) stopPoller() {
	close(l.closed)
	l.stopReadinessPoller()
	cPortWake(l.port) // ends a blocking lane_port_poll (Windows: and a wait on the port's event)
	<-l.pollDone
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
