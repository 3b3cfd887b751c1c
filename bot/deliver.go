package bot

import (
	"context"
	"encoding/json"
	"time"
)

// Sender delivers one notice; an error means it was not accepted and will
// be tried again.
type Sender func(ctx context.Context, n Notice) error

// Lease and retry settings of outbox delivery.
const (
	leaseTTL     = 5 * time.Minute
	deliverBatch = 100
	maxBackoff   = 30 * time.Minute
)

// Backoff is the wait before attempt n+1 after n failed attempts: one
// minute, doubling, at most 30 minutes — an hour-long outage costs at most
// one extra half hour after recovery.
func Backoff(attempts int) time.Duration {
	d := time.Minute
	for i := 1; i < attempts && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// Deliver sends the queued messages that are due at now, as holder (a name
// unique to this process). Each message is leased before it is sent, so
// two processes never send it together, and marked sent only after send
// returns nil; a failure is retried later with Backoff. It returns how many
// were sent and how many failed.
func (b *Bot) Deliver(ctx context.Context, now time.Time, holder string, send Sender) (sent, failed int, err error) {
	msgs, err := b.Store.Lease(ctx, holder, now, leaseTTL, deliverBatch)
	if err != nil {
		return 0, 0, err
	}
	for _, m := range msgs {
		var n Notice
		if err := json.Unmarshal([]byte(m.Payload), &n); err != nil {
			// Cannot happen for what we wrote; keep it visible, not lost.
			b.Log.Error("undecodable outbox message", "key", m.Key, "err", err)
			if err := b.Store.MarkFailed(ctx, m.ID, holder, err.Error(), now.Add(maxBackoff)); err != nil {
				return sent, failed, err
			}
			failed++
			continue
		}
		if err := send(ctx, n); err != nil {
			failed++
			b.Log.Warn("delivery failed; will retry", "key", m.Key, "attempt", m.Attempts+1, "err", err)
			if err := b.Store.MarkFailed(ctx, m.ID, holder, err.Error(), now.Add(Backoff(m.Attempts+1))); err != nil {
				return sent, failed, err
			}
			continue
		}
		if err := b.Store.MarkSent(ctx, m.ID, holder, now); err != nil {
			return sent, failed, err
		}
		sent++
	}
	return sent, failed, nil
}
