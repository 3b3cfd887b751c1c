package bot

import (
	"context"
	"time"
)

// EventMemory is how long a processed Events API event_id is remembered:
// Slack retries over about 6 minutes and asks for at least 10.
const EventMemory = 15 * time.Minute

// ClaimEvent reports whether the caller should process the Slack event id,
// across restarts and replicas (the database remembers): false while
// another delivery of it is in flight or once it was processed. An empty
// id is always processed.
func (b *Bot) ClaimEvent(ctx context.Context, id string) (bool, error) {
	if id == "" {
		return true, nil
	}
	return b.Store.ClaimEvent(ctx, id, b.Clock().WallNow(), EventMemory)
}

// FinishEvent records the outcome of a claim: processed, or released so
// that Slack's retry is processed.
func (b *Bot) FinishEvent(ctx context.Context, id string, processed bool) error {
	if id == "" {
		return nil
	}
	return b.Store.FinishEvent(ctx, id, processed, b.Clock().WallNow(), EventMemory)
}
