package lane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// startRedis runs a private redis-server on 127.0.0.1 on a free port (no
// persistence) for one test and stops it after.
func startRedis(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("shared lanes are Linux only (TestClusterBadInputs checks that Windows answers ErrUnsupported)")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" && runtime.GOOS == "linux" {
			t.Fatal("redis-server is not installed (scripts/deps.sh installs it)")
		}
		t.Skip("redis-server is not installed (scripts/deps.sh installs it): the shared-lane tests need one")
	}
	port := freePort(t)
	cmd := exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "redis://" + addr + "/0"
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("redis-server did not start")
	return ""
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Two members of one lane (two clusters in this process stand for two
// processes): the cap holds across both, every job gets a fence, and every
// job ends once.
func TestSharedLaneCapsAcrossMembers(t *testing.T) {
	url := startRedis(t)
	const capSlots = 2
	var holding, over atomic.Int32
	var fences sync.Map
	lanes := make([]*Lane, 2)
	for i := range lanes {
		c, err := NewCluster(ClusterOptions{URL: url, Lease: time.Second})
		if err != nil {
			t.Fatalf("NewCluster: %v", err)
		}
		t.Cleanup(func() {
			if err := c.Close(); err != nil {
				t.Errorf("cluster Close: %v", err)
			}
		})
		l, err := New("go-shared", WithMaxConcurrent(capSlots), WithPolicy(FairShare), WithCluster(c))
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		lanes[i] = l
		// A cluster with a lane cannot close.
		if err := c.Close(); !errors.Is(err, ErrInvalid) {
			t.Fatalf("cluster Close with a lane open: %v, want ErrInvalid", err)
		}
	}
	var done sync.WaitGroup
	var outcomes atomic.Int32
	const jobs = 40
	for n := 0; n < jobs; n++ {
		done.Add(1)
		_, err := lanes[n%2].Submit(context.Background(), Job{
			Tenant: fmt.Sprint("t", n%3),
			Run: func(ctx context.Context) error {
				if holding.Add(1) > capSlots {
					over.Add(1)
				}
				defer holding.Add(-1)
				f, err := Fence(ctx)
				if err != nil || f == 0 {
					return fmt.Errorf("fence %d: %v", f, err)
				}
				if _, dup := fences.LoadOrStore(f, true); dup {
					return fmt.Errorf("fence %d handed out twice", f)
				}
				time.Sleep(2 * time.Millisecond)
				return nil
			},
			OnDone: func(err error) {
				if err != nil {
					t.Errorf("job: %v", err)
				}
				outcomes.Add(1)
				done.Done()
			},
		})
		if err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	done.Wait()
	if over.Load() != 0 {
		t.Fatalf("more than %d jobs held a slot across both members %d times", capSlots, over.Load())
	}
	if outcomes.Load() != jobs {
		t.Fatalf("%d outcomes for %d jobs", outcomes.Load(), jobs)
	}
	if s := lanes[0].Stats(); !s.Shared || !s.Available || s.Completed == 0 {
		t.Fatalf("Stats: %+v", s)
	}
	for _, l := range lanes {
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

func TestClusterBadInputs(t *testing.T) {
	if runtime.GOOS != "linux" {
		// Shared lanes are Linux only: elsewhere the library says so.
		if _, err := NewCluster(ClusterOptions{}); !errors.Is(err, ErrUnsupported) {
			t.Fatalf("NewCluster on %s: %v, want ErrUnsupported", runtime.GOOS, err)
		}
		return
	}
	if _, err := NewCluster(ClusterOptions{URL: fmt.Sprintf("redis://127.0.0.1:%d/0", freePort(t))}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("NewCluster with nothing listening: %v, want ErrUnavailable", err)
	}
	if _, err := NewCluster(ClusterOptions{URL: "http://x"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("NewCluster with a bad url: %v, want ErrInvalid", err)
	}
	if _, err := NewCluster(ClusterOptions{Lease: -1}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("NewCluster with a negative lease: %v, want ErrInvalid", err)
	}
	if _, err := New("x", WithCluster(nil)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("WithCluster(nil): %v, want ErrInvalid", err)
	}
	var closed *Cluster
	if err := closed.Close(); err != nil {
		t.Fatalf("nil Close: %v", err)
	}
	if _, err := Fence(context.Background()); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Fence outside Run: %v, want ErrInvalid", err)
	}
	// A lane of this process only: fence 0.
	l := newLane(t)
	err := l.SubmitWait(context.Background(), Job{Run: func(ctx context.Context) error {
		if f, err := Fence(ctx); err != nil || f != 0 {
			return fmt.Errorf("fence %d, %v; want 0", f, err)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
}

// Two registries on two clusters (two processes, as far as Redis can tell):
// their lanes of one name are members of one shared lane, the cap holds
// across both, metrics say so, and a cluster cannot close under a registry.
func TestRegistryLanesAreMembers(t *testing.T) {
	url := startRedis(t)
	const capSlots = 2
	var holding, over atomic.Int32
	regs := make([]*Registry, 2)
	clusters := make([]*Cluster, 2)
	for i := range regs {
		c, err := NewCluster(ClusterOptions{URL: url, Lease: time.Second})
		if err != nil {
			t.Fatalf("NewCluster: %v", err)
		}
		clusters[i] = c
		r, err := NewRegistry(WithRegistryCluster(c), WithConfig(map[string]int64{"lanes.llm.max_concurrent": capSlots}))
		if err != nil {
			t.Fatalf("NewRegistry: %v", err)
		}
		regs[i] = r
	}
	var done sync.WaitGroup
	const jobs = 30
	var failed atomic.Int32
	for n := 0; n < jobs; n++ {
		l, err := regs[n%2].Lane("llm")
		if err != nil {
			t.Fatalf("Lane: %v", err)
		}
		done.Add(1)
		_, err = l.Submit(context.Background(), Job{
			Run: func(ctx context.Context) error {
				if holding.Add(1) > capSlots {
					over.Add(1)
				}
				defer holding.Add(-1)
				if f, err := Fence(ctx); err != nil || f == 0 {
					return fmt.Errorf("fence %d: %v", f, err)
				}
				time.Sleep(2 * time.Millisecond)
				return nil
			},
			OnDone: func(err error) {
				if err != nil {
					failed.Add(1)
				}
				done.Done()
			},
		})
		if err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	done.Wait()
	if over.Load() != 0 || failed.Load() != 0 {
		t.Fatalf("cap exceeded %d times across the registries, %d jobs failed", over.Load(), failed.Load())
	}
	l, _ := regs[0].Lane("llm")
	if s := l.Stats(); !s.Shared {
		t.Fatalf("a registry lane on a cluster is not shared: %+v", s)
	}
	m, err := regs[0].Metrics()
	if err != nil || !strings.Contains(m, `lane_shared_available{lane="llm"} 1`) {
		t.Fatalf("metrics of a shared registry lane: %v\n%s", err, m)
	}
	if err := clusters[0].Close(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("cluster Close under an open registry: %v, want ErrInvalid", err)
	}
	for i := range regs {
		if err := regs[i].Close(); err != nil {
			t.Fatalf("registry Close: %v", err)
		}
		if err := clusters[i].Close(); err != nil {
			t.Fatalf("cluster Close after its registry: %v", err)
		}
	}
	if _, err := NewRegistry(WithRegistryCluster(nil)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("WithRegistryCluster(nil): %v, want ErrInvalid", err)
	}
	if _, err := NewRegistry(WithRegistryCluster(clusters[0])); !errors.Is(err, ErrInvalid) {
		t.Fatalf("WithRegistryCluster of a closed cluster: %v, want ErrInvalid", err)
	}
}
