package bot

import (
	"context"
	"strings"
	"time"
)

// Job is a scheduled pass as of an explicit moment; a scheduler only
// triggers it.
type Job = func(ctx context.Context, now time.Time) error

// Jobs are the scheduled passes of `taskbot serve`.
type Jobs struct {
	// Remind runs a reminder pass and sends what is due.
	Remind Job
	// Digest queues the day's digest (working days only, once a day) and
	// sends it; without a channel it logs a warning and does nothing.
	Digest Job
	// Report queues the weekly report (working days, once a week) with
	// the ledger and sends it; without a channel it logs and does nothing.
	Report Job
	// Flush sends whatever is due in the outbox: retries, and messages
	// other roads queued.
	Flush Job
}

// Jobs returns the scheduled passes, sending through send under holder.
// Remind, Digest and Report run once per tick however many replicas fire
// it: the first to take the tick's lease runs it, the others skip; if it
// dies mid-run, the next Flush of any replica takes the tick over once the
// lease expired. Flush runs on every replica (the outbox leases each
// message).
func (b *Bot) Jobs(rp RemindPolicy, dp DigestPolicy, wp ReportPolicy, holder string, send Sender) Jobs {
	send1 := func(ctx context.Context) error {
		_, err := b.SendQueued(ctx, holder, send)
		return err
	}
	passes := map[string]Job{
		"remind": func(ctx context.Context, now time.Time) error {
			if _, err := b.RunReminders(ctx, now, rp); err != nil {
				return err
			}
			return send1(ctx)
		},
		"digest": func(ctx context.Context, now time.Time) error {
			if dp.Channel == "" {
				b.Log.Warn("daily digest not posted: TASKBOT_DIGEST_CHANNEL is not set")
				return nil
			}
			if _, err := b.QueueDigest(ctx, now, dp); err != nil {
				return err
			}
			return send1(ctx)
		},
		"report": func(ctx context.Context, now time.Time) error {
			if wp.Channel == "" {
				b.Log.Warn("weekly report not posted: TASKBOT_DIGEST_CHANNEL is not set")
				return nil
			}
			if _, err := b.QueueReport(ctx, now, wp); err != nil {
				return err
			}
			return send1(ctx)
		},
	}
	flush := func(ctx context.Context, now time.Time) error {
		if err := b.takeOverTicks(ctx, passes); err != nil {
			b.Log.Error("taking over unfinished scheduled passes", "err", err)
		}
		return send1(ctx)
	}
	return Jobs{
		Remind: b.oncePerTick("remind", passes["remind"]),
		Digest: b.oncePerTick("digest", passes["digest"]),
		Report: b.oncePerTick("report", passes["report"]),
		Flush:  flush,
	}
}

// tickLease names a pass's tick: the same on every replica firing it.
func tickLease(name string, now time.Time) string {
	return "job:" + name + ":" + now.UTC().Truncate(time.Minute).Format(time.RFC3339)
}

// oncePerTick runs job for the replica that takes the tick's lease first.
func (b *Bot) oncePerTick(name string, job Job) Job {
	return func(ctx context.Context, now time.Time) error {
		lease := tickLease(name, now)
		ok, _, err := b.Store.Acquire(ctx, lease, b.instance, b.wall(), b.lease())
		if err != nil || !ok {
			if err == nil {
				b.Log.Debug("scheduled pass run by another replica", "job", name, "tick", now)
			}
			return err
		}
		return b.runTick(ctx, lease, job, now)
	}
}

func (b *Bot) runTick(ctx context.Context, lease string, job Job, now time.Time) error {
	if err := job(ctx, now); err != nil {
		_ = b.Store.Release(ctx, lease, b.instance) // the next tick tries again
		return err
	}
	return b.Store.Finish(ctx, lease, b.instance)
}

// takeOverTicks runs the scheduled passes whose replica died mid-run
// (their lease expired unfinished), as of their tick, forgets finished
// ticks older than a week, trims the log of planned tasks and gives the
// shares an older version wrote their task's list (SettleShareLists).
func (b *Bot) takeOverTicks(ctx context.Context, passes map[string]Job) error {
	names, err := b.Store.ExpiredLeases(ctx, "job:", b.wall())
	if err != nil {
		return err
	}
	for _, lease := range names {
		rest := strings.TrimPrefix(lease, "job:")
		i := strings.Index(rest, ":")
		if i < 0 {
			continue
		}
		job, ok := passes[rest[:i]]
		tick, err := time.Parse(time.RFC3339, rest[i+1:])
		if !ok || err != nil {
			continue
		}
		got, _, err := b.Store.Acquire(ctx, lease, b.instance, b.wall(), b.lease())
		if err != nil || !got {
			continue // another replica took it first
		}
		b.Log.Warn("taking over a scheduled pass left unfinished", "job", rest[:i], "tick", tick)
		if err := b.runTick(ctx, lease, job, tick); err != nil {
			return err
		}
	}
	if err := b.Store.TrimPlanLog(ctx); err != nil {
		return err
	}
	if err := b.Store.SettleShareLists(ctx); err != nil {
		return err
	}
	return b.Store.ForgetLeases(ctx, b.wall().Add(-7*24*time.Hour))
}

// PostReport queues the weekly report as of now (see QueueReport) and
// sends it, unless it is a day off.
func (b *Bot) PostReport(ctx context.Context, now time.Time, p ReportPolicy, holder string, send Sender) (ReportOutcome, SendCounts, error) {
	outcome, err := b.QueueReport(ctx, now, p)
	if err != nil || outcome == ReportDayOff {
		return outcome, SendCounts{}, err
	}
	today := b.today(now)
	sent, err := b.SendQueued(ctx, holder, send, ReportKey(today.WeekStart()))
	return outcome, sent, err
}

// RemindAndSend runs one reminder pass as of now and sends the reminders
// due: those it queued, and earlier ones still unsent whose sender is gone
// (a crash, a killed `remind`: their lease expired) or whose retry is due,
// so a failure is truly retried by the next pass. A reminder another live
// process holds is left to it and counted in Held; notices, digests and
// reports are not a reminder pass's to send.
func (b *Bot) RemindAndSend(ctx context.Context, now time.Time, p RemindPolicy, holder string, send Sender) (RemindOutcome, error) {
	var o RemindOutcome
	queued, err := b.RunReminders(ctx, now, p)
	if err != nil {
		return o, err
	}
	o.Queued = len(queued)
	o.Sent, err = b.SendAllQueued(ctx, holder, send, ReminderKeyPrefixes...)
	if err != nil {
		return o, err
	}
	o.Held, o.Waiting, err = b.Store.UnsentOutbox(ctx, b.wall(), ReminderKeyPrefixes)
	return o, err
}

// RemindOutcome is what a reminder pass did.
type RemindOutcome struct {
	Queued int        // messages this pass queued
	Sent   SendCounts // sends, this pass's and earlier ones'
	// Held: unsent reminders another live process is sending; Waiting:
	// unsent ones whose retry is not due yet.
	Held, Waiting int
}

// PostDigest queues the digest as of now (see QueueDigest) and sends it,
// unless it is a day off.
func (b *Bot) PostDigest(ctx context.Context, now time.Time, p DigestPolicy, holder string, send Sender) (DigestOutcome, SendCounts, error) {
	outcome, err := b.QueueDigest(ctx, now, p)
	if err != nil || outcome == DigestDayOff {
		return outcome, SendCounts{}, err
	}
	sent, err := b.SendQueued(ctx, holder, send, DigestKey(b.today(now)))
	return outcome, sent, err
}
