package lane

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestProbeRunIDCollision(t *testing.T) {
	l := newLane(t, MaxQueued(0))
	_ = l.Pause()
	for i := 0; i < 2000; i++ {
		mustSubmit(t, l, Job{ID: fmt.Sprint("k#", i), Run: noop})
	}
	s := newSessionNamed(t, l, "k")
	p := mustEnqueue(t, s, Message{ID: "m", Run: noopRun})
	_ = l.Resume()
	err := p.result(t)
	t.Logf("message outcome: %v", err)
	_ = l.Pause()
	// and the other way round: a user job that takes a run's id
	g := newGate()
	p2 := mustEnqueue(t, s, Message{ID: "m2", Run: gateRun(g)})
	time.Sleep(10 * time.Millisecond)
	var found string
	for i := 0; i < 5000; i++ {
		id := fmt.Sprint("k#", i)
		if _, _, err := l.Submit(context.Background(), Job{ID: id, Run: noop}); err != nil {
			found = fmt.Sprint(id, ": ", err)
			break
		}
	}
	t.Logf("user job refused: %s", found)
	_ = l.Resume()
	g.open()
	t.Logf("m2: %v", p2.result(t))
}

func TestProbeThrottleReevaluate(t *testing.T) {
	l := newLane(t, MaxConcurrent(3))
	s := newSession(t, l, WithSessionMaxConcurrent(3), WithThrottle(0.5))
	_ = s.SetTokens(80, 100)
	g := newGate()
	var ps []*Pending
	for i := 0; i < 3; i++ {
		ps = append(ps, mustEnqueue(t, s, Message{ID: fmt.Sprint("m", i), Run: gateRun(g)}))
	}
	g.waitStarted(t)
	time.Sleep(50 * time.Millisecond)
	t.Logf("throttled: active %d queued %d", s.Active(), s.Queued())
	_ = s.SetTokens(10, 100)
	time.Sleep(200 * time.Millisecond)
	t.Logf("after SetTokens(10,100): active %d queued %d", s.Active(), s.Queued())
	g.open()
	for _, p := range ps {
		_ = p.result(t)
	}
}
