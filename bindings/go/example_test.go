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

// An LLM provider lane: 3 calls at once, 500 requests and 90 000 tokens a
// minute, 2 running calls per user, and a width that adapts between 1 and
// 8 to the provider's 429s. Each call says what it expects to use and
// reports what it used.
func Example_providerLane() {
	llm, err := lane.New("provider", lane.WithMaxConcurrent(3), lane.WithAdaptive(1, 8, 0),
		lane.WithPolicy(lane.FairShare))
	if err != nil {
		log.Fatal(err)
	}
	defer llm.Close()
	_ = llm.SetRateLimit(lane.RateRequests, 500, time.Minute, 500)
	_ = llm.SetRateLimit(lane.RateCost, 90_000, time.Minute, 90_000)
	for _, user := range []string{"alice", "bob"} {
		_ = llm.SetTenantLimit(user, 2)
	}
	ctx := context.Background()
	call := func(used int64, overloaded bool) func(context.Context) error {
		return func(ctx context.Context) error {
			if overloaded {
				return fmt.Errorf("HTTP 429: %w", lane.ErrOverloaded)
			}
			return lane.SetCost(ctx, used) // input + output tokens, as the provider billed them
		}
	}
	fmt.Println("width", llm.Stats().Width)
	_ = llm.SubmitWait(ctx, lane.Job{ID: "a1", Tenant: "alice", Cost: 1_000, Run: call(1_200, false)})
	_ = llm.SubmitWait(ctx, lane.Job{ID: "b1", Tenant: "bob", Cost: 2_000, Run: call(1_800, false)})
	err = llm.SubmitWait(ctx, lane.Job{ID: "a2", Tenant: "alice", Cost: 1_000, Run: call(0, true)})
	fmt.Println("a2 overloaded:", errors.Is(err, lane.ErrOverloaded))
	s := llm.Stats()
	fmt.Println("width", s.Width, "tokens used", s.CostUsed, "overloads", s.Overloads)
	// Output:
	// width 3
	// a2 overloaded: true
	// width 1 tokens used 4000 overloads 1
}
