package lane_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"liblane.dev/lane"
)

// The README's session example: a chat session in COLLECT mode answers
// every message that arrived while it was busy (or quiet for less than the
// debounce) in one run.
func ExampleNewSession() {
	llm, err := lane.New("llm", lane.WithMaxConcurrent(2))
	if err != nil {
		log.Fatal(err)
	}
	defer llm.Close() // closes its sessions first
	chat, err := lane.NewSession(llm, "chat-42",
		lane.WithMode(lane.ModeCollect), lane.WithDebounce(50*time.Millisecond), lane.WithCap(20))
	if err != nil {
		log.Fatal(err)
	}
	defer chat.Close()

	answer := func(ctx context.Context, run *lane.Run) error {
		var texts []string
		for _, m := range run.Batch() {
			texts = append(texts, m.Value.(string))
		}
		fmt.Printf("one run answers %d messages: %s\n", len(texts), strings.Join(texts, " / "))
		return nil
	}
	ctx := context.Background()
	var pending []*lane.Pending
	for i, text := range []string{"hi", "are you there?", "what is a lane?"} {
		p, err := chat.Enqueue(ctx, lane.Message{ID: fmt.Sprint("m", i), Value: text, Run: answer})
		if err != nil {
			log.Fatal(err)
		}
		pending = append(pending, p)
	}
	for _, p := range pending {
		fmt.Println(p.ID(), "->", p.Wait(ctx))
	}
	// The id is free again; CancelAll catches it still waiting out the
	// debounce, so it never runs.
	again, err := chat.Enqueue(ctx, lane.Message{ID: "m0", Value: "never mind", Run: answer})
	if err != nil {
		log.Fatal(err)
	}
	chat.CancelAll()
	fmt.Println("m0 again -> stale:", errors.Is(again.Wait(ctx), lane.ErrStale))
	// Output:
	// one run answers 3 messages: hi / are you there? / what is a lane?
	// m0 -> <nil>
	// m1 -> <nil>
	// m2 -> <nil>
	// m0 again -> stale: true
}
