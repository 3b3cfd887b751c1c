package bot

import (
	"context"
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
func (b *Bot) Jobs(rp RemindPolicy, dp DigestPolicy, wp ReportPolicy, holder string, send Sender) Jobs {
	flush := func(ctx context.Context, now time.Time) error {
		_, err := b.SendQueued(ctx, holder, send)
		return err
	}
	return Jobs{
		Remind: func(ctx context.Context, now time.Time) error {
			if _, err := b.RunReminders(ctx, now, rp); err != nil {
				return err
			}
			return flush(ctx, now)
		},
		Digest: func(ctx context.Context, now time.Time) error {
			if dp.Channel == "" {
				b.Log.Warn("daily digest not posted: TASKBOT_DIGEST_CHANNEL is not set")
				return nil
			}
			if _, err := b.QueueDigest(ctx, now, dp); err != nil {
				return err
			}
			return flush(ctx, now)
		},
		Report: func(ctx context.Context, now time.Time) error {
			if wp.Channel == "" {
				b.Log.Warn("weekly report not posted: TASKBOT_DIGEST_CHANNEL is not set")
				return nil
			}
			if _, err := b.QueueReport(ctx, now, wp); err != nil {
				return err
			}
			return flush(ctx, now)
		},
		Flush: flush,
	}
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
