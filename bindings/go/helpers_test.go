package lane

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestMain checks, after every test, that the binding left nothing behind:
// no live cgo handle, no stray event, no goroutine.
func TestMain(m *testing.M) {
	before := runtime.NumGoroutine()
	debugStray = func(l *Lane, ev *event) {
		fmt.Fprintf(os.Stderr, "STRAY lane %s kind %d status %v token %d handle %d\n", l.name, ev.kind, ev.status, ev.token, ev.handle)
	}
	code := m.Run()
	if code == 0 {
		if err := checkNoLeaks(before); err != nil {
			fmt.Fprintln(os.Stderr, "leak check:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func checkNoLeaks(goroutinesBefore int) error {
	if n := liveHandles.Load(); n != 0 {
		return fmt.Errorf("%d cgo handles still live", n)
	}
	if n := strayEvents.Load(); n != 0 {
		return fmt.Errorf("%d port events named no live job", n)
	}
	return waitGoroutines(goroutinesBefore)
}

// waitGoroutines waits (up to 5 s) for the goroutine count to fall back to n.
func waitGoroutines(n int) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		now := runtime.NumGoroutine()
		if now <= n {
			return nil
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			return fmt.Errorf("%d goroutines, want at most %d:\n%s", now, n, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// needSQLite skips t, saying why, when this liblane has no SQLite history
// (built without SQLite, as the Windows build is): the sampler needs it.
func needSQLite(t *testing.T) {
	t.Helper()
	if !haveSQLite() {
		t.Skip("this liblane was built without the SQLite history (ErrUnsupported), which the sampler writes to")
	}
}

// haveSQLite asks the library itself: a query of a file that cannot exist
// is ErrUnsupported only in a build without SQLite.
func haveSQLite() bool {
	_, err := QueryHistory(filepath.Join(os.TempDir(), "lane-no-such-dir", "probe.db"), "x", time.Time{}, time.Time{})
	return !errors.Is(err, ErrUnsupported)
}

func newLane(t testing.TB, opts ...Option) *Lane {
	t.Helper()
	l, err := New(t.Name(), opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// gate is a job body that signals when it starts and runs until released
// or cancelled; it records the cause it saw.
type gate struct {
	started chan struct{}
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	cause   error
	runs    int
}

func newGate() *gate {
	return &gate{started: make(chan struct{}, 16), release: make(chan struct{})}
}

func (g *gate) run(ctx context.Context) error {
	g.mu.Lock()
	g.runs++
	g.mu.Unlock()
	g.started <- struct{}{}
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		g.cause = context.Cause(ctx)
		g.mu.Unlock()
		return ctx.Err()
	}
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

func (g *gate) waitStarted(t testing.TB) {
	t.Helper()
	select {
	case <-g.started:
	case <-time.After(10 * time.Second):
		t.Fatal("job did not start")
	}
}

func (g *gate) seenCause() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cause
}

func (g *gate) runCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.runs
}

// outcome collects a job's OnDone.
type outcome chan error

func newOutcome() outcome { return make(outcome, 1) }

func (o outcome) onDone(err error) { o <- err }

func (o outcome) wait(t testing.TB) error {
	t.Helper()
	select {
	case err := <-o:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no outcome")
		return nil
	}
}

func noop(context.Context) error { return nil }

func mustSubmit(t testing.TB, l *Lane, j Job) (int, time.Duration) {
	t.Helper()
	tk, err := l.Submit(context.Background(), j)
	if err != nil {
		t.Fatalf("Submit(%s): %v", j.ID, err)
	}
	return tk.Position, tk.ETA
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func wantIs(t testing.TB, err error, targets ...error) {
	t.Helper()
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Fatalf("error %v: errors.Is(%v) is false", err, target)
		}
	}
}

func checkInvariant(t testing.TB, s Stats) {
	t.Helper()
	sum := s.Completed + s.Failed + s.Cancelled + s.Preempted + s.TimedOut + s.Closed + uint64(s.Running) + uint64(s.Queued)
	if s.Submitted != sum {
		t.Fatalf("submitted %d != outcomes+running+queued %d: %+v", s.Submitted, sum, s)
	}
}
