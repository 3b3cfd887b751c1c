package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"taskbot/storage"
)

// Sender delivers one notice; an error means it was not accepted and will
// be tried again.
type Sender func(ctx context.Context, n Notice) error

// Lease and retry settings of outbox delivery.
const (
	// DefaultLease outlasts one send, 429 waits included (Poster waits
	// out at most a few Retry-After periods); messages are leased one at a
	// time, so a slow send never holds others past their lease.
	DefaultLease = 10 * time.Minute
	deliverBatch = 100
	maxBackoff   = 30 * time.Minute
	// MaxAttempts is how often a message is tried before it is given up
	// (about a day at the 30-minute cap): a recipient that does not exist
	// (user_not_found, channel_not_found) is not retried forever.
	MaxAttempts = 60
)

// lease is Lease, or DefaultLease.
func (b *Bot) lease() time.Duration {
	if b.Lease <= 0 {
		return DefaultLease
	}
	return b.Lease
}

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

// SendQueued sends the queued messages that are due, at most deliverBatch
// of them: all of them, or only those whose key starts with one of only (a
// command line tool sends what it queued, never another process's). Each
// message is leased at wall-clock time just before it is sent, under a
// name unique to this call, so a slow send never lets another flush send
// it too; it is marked sent only after send returns nil, retried later
// with Backoff, and given up after MaxAttempts.
func (b *Bot) SendQueued(ctx context.Context, holder string, send Sender, only ...string) (SendCounts, error) {
	var c SendCounts
	var run [4]byte
	if _, err := rand.Read(run[:]); err != nil {
		return c, storage.Internal(err)
	}
	holder += "#" + hex.EncodeToString(run[:])
	for range deliverBatch {
		msgs, err := b.Store.Lease(ctx, holder, b.wall(), b.lease(), 1, only)
		if err != nil || len(msgs) == 0 {
			return c, err
		}
		m := msgs[0]
		var n Notice
		err = json.Unmarshal([]byte(m.Payload), &n)
		n.Outbox, n.Uncertain = m.ID, m.Uncertain
		if err == nil && n.Supervisors {
			n, err = b.toSupervisors(ctx, n)
		}
		if err == nil {
			err = send(ctx, n)
		}
		switch {
		case err == nil:
			if err := b.Store.MarkSent(ctx, m.ID, holder, b.wall()); err != nil {
				return c, err
			}
			c.Sent++
			continue
		case m.Attempts+1 >= MaxAttempts:
			b.Log.Error("delivery given up", "key", m.Key, "attempts", m.Attempts+1, "err", err)
			err = b.Store.MarkDead(ctx, m.ID, holder, err.Error())
		default:
			wait := Backoff(m.Attempts + 1)
			if storage.ErrorCode(err) == storage.ECONFLICT {
				// Another process is posting the thread parent this
				// message needs: it is done, or its claim has run out,
				// within ThreadLease.
				wait = min(wait, ThreadLease(b.lease()))
			}
			b.Log.Warn("delivery failed; will retry", "key", m.Key, "attempt", m.Attempts+1, "err", err, "retry_in", wait)
			err = b.Store.MarkFailed(ctx, m.ID, holder, err.Error(), b.wall().Add(wait))
		}
		if err != nil {
			return c, err
		}
		c.Failed++
	}
	return c, nil
}

// SendCounts is what a send run did.
type SendCounts struct {
	Sent, Failed int
}

// SendAllQueued sends batch after batch (SendQueued) until nothing due is
// left or a message fails: failures wait for their backoff.
func (b *Bot) SendAllQueued(ctx context.Context, holder string, send Sender, only ...string) (SendCounts, error) {
	var total SendCounts
	for {
		c, err := b.SendQueued(ctx, holder, send, only...)
		total.Sent, total.Failed = total.Sent+c.Sent, total.Failed+c.Failed
		if err != nil || c.Sent+c.Failed == 0 || c.Failed > 0 {
			return total, err
		}
	}
}

// wall is real time, for leases and retries (never --at's day).
func (b *Bot) wall() time.Time { return b.Clock().WallNow() }

// perRecipient splits a notice into one per recipient — its channel, each
// user, its thread — each with its own outbox key, so that one recipient
// that fails is retried alone and the others are not sent it again.
func perRecipient(key string, n Notice) []Planned {
	var out []Planned
	if n.Thread != nil {
		one := n
		one.Channel, one.UserIDs, one.Supervisors = "", nil, false
		// A task's thread posts go out in the order they were queued.
		out = append(out, Planned{Key: key + ":thread", Notice: one, Group: fmt.Sprintf("thread:%d", n.Thread.TaskID)})
	}
	if n.Channel != "" {
		one := n
		one.Thread, one.UserIDs, one.Supervisors, one.Ledger = nil, nil, false, ""
		if n.Ledger == "" {
			out = append(out, Planned{Key: key + ":c:" + n.Channel, Notice: one})
		} else {
			// The post, then the ledger, in that order.
			group := "ledger:" + key
			att := Notice{To: n.To, Channel: n.Channel, Ledger: n.Ledger, LedgerOnly: true}
			out = append(out, Planned{Key: key + ":c:" + n.Channel, Notice: one, Group: group},
				Planned{Key: key + ":c:" + n.Channel + ":ledger", Notice: att, Group: group})
		}
	}
	for _, u := range n.UserIDs {
		one := n
		one.Thread, one.Channel, one.UserIDs, one.Supervisors = nil, "", []string{u}, false
		out = append(out, Planned{Key: key + ":u:" + u, Notice: one})
	}
	if n.Supervisors {
		one := n
		one.Thread, one.Channel, one.UserIDs = nil, "", nil
		out = append(out, Planned{Key: key + ":supervisors", Notice: one})
	}
	if len(out) == 0 {
		// Nowhere to go: queued all the same, so the failure is visible.
		out = append(out, Planned{Key: key, Notice: n})
	}
	return out
}

// queue queues a notice for delivery under key (once: a key already
// queued is not queued again), one outbox message per recipient, due now.
// It reports whether anything was queued.
func (b *Bot) queue(ctx context.Context, key, kind string, n Notice) (bool, error) {
	var msgs []storage.Outbox
	for _, one := range perRecipient(key, n) {
		payload, err := json.Marshal(one.Notice)
		if err != nil {
			return false, storage.Internal(err)
		}
		msgs = append(msgs, storage.Outbox{Key: one.Key, Kind: kind, Group: one.Group, Payload: string(payload), NextAttemptAt: b.wall()})
	}
	queued, err := b.Store.Claim(ctx, nil, msgs)
	return len(queued) > 0, err
}

// KindNotice marks notices from commands (thread posts, supervisors told of
// a request, reporters told of a decision) in the outbox.
const KindNotice = "notice"

// QueueNotices queues a command's notices, one outbox message per
// recipient, so that a failed post is retried instead of lost. It returns
// their keys: the caller sends them (SendQueued) right after, and the
// scheduler's flush retries.
func (b *Bot) QueueNotices(ctx context.Context, notices []Notice) ([]string, error) {
	var keys []string
	for _, n := range notices {
		var id [8]byte
		if _, err := rand.Read(id[:]); err != nil {
			return nil, storage.Internal(err)
		}
		key := "notice:" + hex.EncodeToString(id[:])
		if _, err := b.queue(ctx, key, KindNotice, n); err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// SendNotices queues notices and sends exactly those now, never another
// process's messages (a command line tool's road); what fails stays
// queued for a running `taskbot serve` to retry.
func (b *Bot) SendNotices(ctx context.Context, holder string, send Sender, notices []Notice) (SendCounts, error) {
	keys, err := b.QueueNotices(ctx, notices)
	if err != nil || len(keys) == 0 {
		return SendCounts{}, err
	}
	return b.SendAllQueued(ctx, holder, send, keys...)
}

// resendCmd is `resend`: the messages given up on (too many failed sends)
// are queued again, with their attempts counted afresh.
func (b *Bot) resendCmd(ctx context.Context, req Request, args []string) (Reply, error) {
	if len(args) > 0 {
		return Reply{}, storage.Errorf(storage.EINVALID, "resend 不带参数。")
	}
	w, err := b.whoIs(ctx, req.User)
	if err != nil {
		return Reply{}, err
	}
	if !w.roles.Supervisor {
		return Reply{}, b.onlySupervisors(ctx, "重发消息")
	}
	n, err := b.Store.ReviveDead(ctx, b.wall())
	if err != nil {
		return Reply{}, err
	}
	if n == 0 {
		return Reply{Title: "没有发送失败、已放弃的消息。"}, nil
	}
	return Reply{Title: fmt.Sprintf("✅ 已将 %d 条发送失败的消息重新排队", n),
		Sections: []Section{{Text: "它们由 serve 的定时发送立即重试；仍然失败的，请检查机器人是否在频道中、用户是否存在。"}}}, nil
}
