package lane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// startRedis runs a private redis-server on 127.0.0.1 on a free port (no
// persistence) for one test and stops it after.
func startRedis(t *testing.T) string {
	t.Helper()
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
	if runtime.GOOS != "linux" {
		t.Skip("shared lanes are Linux only (TestClusterBadInputs checks that Windows answers ErrUnsupported)")
	}
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
