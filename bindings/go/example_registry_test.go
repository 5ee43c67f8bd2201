package lane_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"liblane.dev/lane"
)

// The README's registry example, kept compiling and passing here.
func ExampleRegistry() {
	reg, err := lane.NewRegistry(
		lane.WithConfig(map[string]int64{"lanes.llm.max_concurrent": 2}),
		lane.WithLane("gpu", lane.WithMaxConcurrent(1), lane.WithMaxQueued(8), lane.WithPreemptMinRuntime(5*time.Second)),
		lane.WithLogger(slog.Default()))
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Close()         // closes its samplers and the binding's lanes first
	llm, _ := reg.Lane("llm") // the same *Lane on every call; no Close needed
	_ = llm.SubmitWait(context.Background(), lane.Job{ID: "q1", Run: func(context.Context) error { return nil }})
	fmt.Println("slots:", llm.Stats().MaxConcurrent)

	_ = reg.SetConfig(map[string]int64{"lanes.llm.max_concurrent": 4}) // merged; checked
	_ = reg.Reload()                                                   // resizes in place
	text, _ := reg.Metrics()
	fmt.Println(strings.Contains(text, `lane_max_concurrent{lane="llm"} 4`))
	fmt.Println(reg.SetConfig(map[string]int64{"lanes.llm.max_concurrent": 0}) != nil) // refused
	gpu, _ := reg.Lane("gpu")
	fmt.Println("gpu slots:", gpu.Stats().MaxConcurrent, "max queued:", reg.Config()["lanes.gpu.max_queued"])

	// Output:
	// slots: 2
	// true
	// true
	// gpu slots: 1 max queued: 8
}

// The occupancy history: one sample written to SQLite and read back.
func ExampleRegistry_NewSampler() {
	reg, err := lane.NewRegistry()
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Close() // closes its samplers first
	llm, _ := reg.Lane("llm")
	_ = llm.SubmitWait(context.Background(), lane.Job{ID: "q1", Run: func(context.Context) error { return nil }})

	dir, _ := os.MkdirTemp("", "lane-history")
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "history.db")
	sampler, err := reg.NewSampler(db, lane.WithInterval(30*time.Second))
	if err != nil {
		log.Fatal(err) // ErrUnsupported: this liblane was built without SQLite
	}
	defer sampler.Close()
	_ = sampler.SampleOnce() // or sampler.Start() for one sample per Interval
	rows, _ := lane.QueryHistory(db, "llm", time.Now().Add(-time.Hour), time.Now().Add(time.Second))
	fmt.Println("rows:", len(rows), "running:", rows[0].Running)
	// Output:
	// rows: 1 running: 0
}
