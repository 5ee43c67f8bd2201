package lane

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// goPool is the pure-Go baseline: a mutex+cond semaphore of max slots that
// runs each job in a goroutine of its own and signals its completion, which
// is the work the binding does around liblane's decision.
type goPool struct {
	mu      sync.Mutex
	cond    sync.Cond
	running int
	max     int
}

func newGoPool(max int) *goPool {
	p := &goPool{max: max}
	p.cond.L = &p.mu
	return p
}

func (p *goPool) submitWait(ctx context.Context, run func(context.Context) error) error {
	p.mu.Lock()
	for p.running >= p.max {
		p.cond.Wait()
	}
	p.running++
	p.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		err := run(ctx)
		p.mu.Lock()
		p.running--
		p.cond.Signal()
		p.mu.Unlock()
		done <- err
	}()
	return <-done
}

const benchSlots = 4

var benchSeq atomic.Uint64

func benchID() string { return strconv.FormatUint(benchSeq.Add(1), 10) }

// BenchmarkSubmitWait: one caller, one no-op job at a time, submit to
// completion (latency of the whole round trip).
func BenchmarkSubmitWait(b *testing.B) {
	ctx := context.Background()
	b.Run("liblane", func(b *testing.B) {
		l := newLane(b, WithMaxConcurrent(benchSlots))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := l.SubmitWait(ctx, Job{ID: benchID(), Run: noop}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gopool", func(b *testing.B) {
		p := newGoPool(benchSlots)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := p.submitWait(ctx, noop); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSubmitToCompletion: many concurrent callers (RunParallel, 16 per
// P) contend for benchSlots slots; each submits a no-op job and waits for
// it (throughput under contention).
func BenchmarkSubmitToCompletion(b *testing.B) {
	ctx := context.Background()
	b.Run("liblane", func(b *testing.B) {
		l := newLane(b, WithMaxConcurrent(benchSlots))
		b.ReportAllocs()
		b.SetParallelism(16)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := l.SubmitWait(ctx, Job{ID: benchID(), Run: noop}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("gopool", func(b *testing.B) {
		p := newGoPool(benchSlots)
		b.ReportAllocs()
		b.SetParallelism(16)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := p.submitWait(ctx, noop); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
