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
	llm, err := lane.New("llm", lane.MaxConcurrent(1), lane.WithPolicy(lane.FairShare))
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
	pos, _, _ := llm.Submit(ctx, lane.Job{ID: "alice-1", Tenant: "alice", Run: call})
	fmt.Println("alice-1 position", pos) // 0: running now
	pos, eta, _ := llm.Submit(ctx, lane.Job{ID: "bob-1", Tenant: "bob", Run: call})
	fmt.Println("bob-1 position", pos, "has an ETA:", eta > 0)
	_, _, err = llm.Submit(ctx, lane.Job{ID: "carol-1", MaxWait: time.Millisecond, Run: call})
	fmt.Println("carol-1 refused as busy:", errors.Is(err, lane.ErrBusy))
	err = llm.SubmitWait(ctx, lane.Job{ID: "alice-2", Tenant: "alice", Run: call})
	fmt.Println("alice-2:", err, "completed:", llm.Stats().Completed)
	// Output:
	// alice-1 position 0
	// bob-1 position 1 has an ETA: true
	// carol-1 refused as busy: true
	// alice-2: <nil> completed: 3
}
