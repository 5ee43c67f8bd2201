package lane

import (
	"syscall"
	"time"
)

// On Windows the port signals a manual-reset event while events wait
// (lane_port_handle), and Go's netpoller cannot wait on an event. So the
// poller goroutine waits on the handle itself with WaitForSingleObject: the
// runtime parks one OS thread in that call per idle lane, as it would in a
// blocking lane_port_poll, but the wait is a plain system call rather than
// a cgo call, and the events are taken, as on Linux, with a non-blocking
// lane_port_poll (which is what resets the event once the port is empty).
// Close ends the wait with lane_port_wake, which signals the event.

type portWait struct {
	portEvent syscall.Handle // the port's event; 0: blocking poll
}

func (l *Lane) startReadinessPoller() bool {
	h := cPortHandle(l.port)
	if h == 0 {
		return false
	}
	l.portEvent = syscall.Handle(h)
	go l.eventPollLoop()
	return true
}

// stopReadinessPoller has nothing to do: stopPoller's lane_port_wake
// signals the event the loop waits on.
func (l *Lane) stopReadinessPoller() {}

// pollsReadiness says whether the lane's poller waits for the port's
// readiness signal (not in a blocking lane_port_poll).
func (l *Lane) pollsReadiness() bool { return l.portEvent != 0 }

func (l *Lane) eventPollLoop() {
	defer close(l.pollDone)
	buf := newPollBuf(pollBatch)
	defer buf.free()
	events := make([]event, 0, pollBatch)
	for {
		// Take what waits first: the event stays signalled while a batch
		// is left in the port, and an event posted after an empty poll
		// signals it again, so no event is missed between poll and wait.
		var err error
		events, err = buf.poll(l.port, 0, events[:0])
		for i := range events {
			l.dispatchEvent(&events[i])
		}
		select {
		case <-l.closed: // stopPoller's wake came after this close
			return
		default:
		}
		if len(events) > 0 {
			continue
		}
		if err != nil {
			// Only a bad port could fail, and the port lives until this
			// loop has returned; back off rather than spin.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if ev, werr := syscall.WaitForSingleObject(l.portEvent, syscall.INFINITE); ev == syscall.WAIT_FAILED || werr != nil {
			time.Sleep(10 * time.Millisecond) // cannot happen while the port lives; never spin
		}
	}
}
