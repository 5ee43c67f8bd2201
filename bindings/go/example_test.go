package lane_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"liblane.dev/lane"
)

// The README's example, kept compiling and passing here.
func Example() {
	llm, err := lane.New("llm", lane.WithMaxConcurrent(1), lane.WithPolicy(lane.FairShare))
	if err != nil {
		log.Fatal(err)
	}
	defer llm.Close()
	ctx := context.Background()
	call := func(ctx context.Context) error { // your request; stop early when ctx is cancelled
		select {
		case <-time.After(20 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return context.Cause(ctx) // lane.ErrPreempted, lane.ErrCancelled, lane.ErrClosed...
		}
	}
	a, _ := llm.Submit(ctx, lane.Job{ID: "alice-1", Tenant: "alice", Run: call})
	fmt.Println("alice-1 position", a.Position)                 // 0: running now
	b, _ := llm.Submit(ctx, lane.Job{Tenant: "bob", Run: call}) // no ID: one is made
	fmt.Println("bob's job position", b.Position, "has an ETA:", b.ETA > 0, "blocked by:", b.BlockedBy)
	_, err = llm.Submit(ctx, lane.Job{ID: "carol-1", MaxWait: time.Millisecond, Run: call})
	fmt.Println("carol-1 refused as busy:", errors.Is(err, lane.ErrBusy))
	fmt.Println("bob's job:", b.Wait(ctx)) // waits for that job's outcome
	err = llm.SubmitWait(ctx, lane.Job{ID: "alice-2", Tenant: "alice", Run: call})
	fmt.Println("alice-2:", err, "completed:", llm.Stats().Completed)
	// Output:
	// alice-1 position 0
	// bob's job position 1 has an ETA: true blocked by: full
	// carol-1 refused as busy: true
	// bob's job: <nil>
	// alice-2: <nil> completed: 3
}
