package slackbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"taskbot/bot"
)

// Notifier sends the core's notices to Slack (it is a bot.Sender through
// Send): a task's entries as replies in its thread in Channel
// (TASKBOT_CHANNEL; the core finds or starts the thread), the rest to
// users' DMs and units' channels.
type Notifier struct {
	Bot     *bot.Bot
	Poster  *Poster
	Channel string
	Log     *slog.Logger
}

// NewNotifier returns a Notifier posting through p, threads in channel.
func NewNotifier(b *bot.Bot, p *Poster, channel string, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if p != nil && p.Writes == nil && b != nil {
		p.Writes = func(c string) bool { return !b.ReadOnly(c) }
	}
	return &Notifier{Bot: b, Poster: p, Channel: channel, Log: log}
}

// Send posts one notice to each of its recipients (a bot.Sender). It keeps
// going after a failure and returns all failures joined. A notice with
// nowhere to go is an error, so it stays queued and visible rather than
// dropped; a thread notice is skipped (and logged) when no tracking
// channel is configured.
func (n *Notifier) Send(ctx context.Context, no bot.Notice) error {
	if no.Channel == "" && len(no.UserIDs) == 0 && no.Thread == nil {
		return errors.New("no recipient: set TASKBOT_DIGEST_CHANNEL or TASKBOT_CHANNEL, or give the unit a channel or members")
	}
	if no.LedgerOnly {
		return n.attachLedger(ctx, no.Channel, no.Ledger)
	}
	if no.Home {
		var errs []error
		for _, u := range no.UserIDs {
			home, err := n.Bot.Home(ctx, u, time.Time{})
			if err == nil {
				err = n.Poster.Publish(ctx, u, home)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("home of %s: %w", u, err))
			}
		}
		return errors.Join(errs...)
	}
	reply, err := n.linkThreads(ctx, no.Reply)
	if err != nil {
		return err
	}
	no.Reply = reply
	// An outbox message is tagged, and looked for before it is posted
	// again after its sender died (see Poster.PostOutbox).
	post := func(channel, threadTS string) (string, error) {
		if no.Outbox == 0 {
			return n.Poster.Post(ctx, channel, threadTS, no.Reply)
		}
		return n.Poster.PostOutbox(ctx, channel, threadTS, no.Reply, no.Outbox, no.Uncertain)
	}
	var errs []error
	if no.Thread != nil {
		if n.Channel == "" {
			n.Log.Warn("TASKBOT_CHANNEL not set; progress not posted to a thread", "task", no.Thread.TaskCode)
		} else if ts, err := n.Bot.TaskThread(ctx, no.Thread, n.Channel, n.Poster.PostParent); err != nil {
			errs = append(errs, fmt.Errorf("thread of %s: %w", no.Thread.TaskCode, err))
		} else if _, err := post(n.Channel, ts); err != nil {
			errs = append(errs, fmt.Errorf("thread of %s: %w", no.Thread.TaskCode, err))
		}
	}
	for _, u := range no.UserIDs {
		if _, err := post(u, ""); err != nil {
			errs = append(errs, fmt.Errorf("user %s: %w", u, err))
		}
	}
	if no.Channel != "" {
		if _, err := post(no.Channel, ""); err != nil {
			errs = append(errs, fmt.Errorf("channel %s: %w", no.Channel, err))
		} else if no.Ledger != "" { // sent directly, not through the outbox
			errs = append(errs, n.attachLedger(ctx, no.Channel, no.Ledger))
		}
	}
	return errors.Join(errs...)
}

// linkThreads adds to every line that asks for it (Item.Thread) the link to
// its task's thread, starting the thread first when the task has none: a
// reminder is the first message about many tasks. Without a tracking
// channel the lines go without links.
func (n *Notifier) linkThreads(ctx context.Context, r bot.Reply) (bot.Reply, error) {
	out := r
	out.Sections = slices.Clone(r.Sections)
	for i := range out.Sections {
		items := slices.Clone(out.Sections[i].Items)
		for j := range items {
			ref := items[j].Thread
			if ref == nil {
				continue
			}
			items[j].Thread = nil
			if n.Channel == "" {
				continue
			}
			ts, err := n.Bot.TaskThread(ctx, ref, n.Channel, n.Poster.PostParent)
			if err != nil {
				return r, fmt.Errorf("thread of %s: %w", ref.TaskCode, err)
			}
			items[j].Text += " — 线程：" + bot.ThreadLink(n.Channel, ts)
		}
		out.Sections[i].Items = items
	}
	return out, nil
}

// attachLedger writes the ledger as of day and uploads it to channel.
func (n *Notifier) attachLedger(ctx context.Context, channel, day string) error {
	up, err := n.Bot.LedgerAsOf(ctx, day)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	if err := n.Poster.Upload(ctx, channel, "", up, ""); err != nil {
		return fmt.Errorf("ledger upload to %s: %w", channel, err)
	}
	return nil
}

// deliver queues the notices in the outbox and sends them in the
// background, after the user has the reply; what fails is retried by the
// scheduler's flush, so nothing is lost.
func (a *Adapter) deliver(notices []bot.Notice) {
	if a.Notifier == nil || len(notices) == 0 {
		return
	}
	if _, err := a.Bot.QueueNotices(context.Background(), notices); err != nil {
		a.Log.Error("notices not queued", "err", err)
		return
	}
	a.goJob(func(ctx context.Context) {
		if c, err := a.Bot.SendQueued(ctx, a.Holder, a.Notifier.Send); err != nil || c.Failed > 0 {
			a.Log.Warn("notices not all delivered; queued for retry", "failed", c.Failed, "err", err)
		}
	})
}

// threadReply records a reply in a task's tracking thread as progress. It
// reports whether the message was such a reply. Edits and deletions
// (message_changed, message_deleted) are never handled: entries are
// append-only. The author of a recorded reply gets an ephemeral note of
// what was saved (the core's answer, as to /progress); of an unauthorized
// or malformed one, a note why it was not.
func (a *Adapter) threadReply(ctx context.Context, e *slackevents.MessageEvent) (bool, error) {
	if a.Notifier == nil || e.ThreadTimeStamp == "" || e.ThreadTimeStamp == e.TimeStamp ||
		e.BotID != "" || e.User == "" {
		return false, nil
	}
	switch e.SubType {
	case "", "file_share", "thread_broadcast":
	default:
		return false, nil
	}
	// A message addressed to the bot is a command, answered as a mention.
	if strings.HasPrefix(strings.TrimSpace(e.Text), "<@") {
		return false, nil
	}
	reply, outcome, err := a.Bot.RecordThreadReply(ctx, bot.ThreadMessage{
		User: e.User, Text: a.messageText(e.Text), Channel: e.Channel, ThreadTS: e.ThreadTimeStamp, TS: e.TimeStamp,
		Files: messageFiles(e),
	})
	switch outcome {
	case bot.NotTaskThread:
		return err != nil, err
	case bot.Recorded:
		// Only after the entry committed (RecordThreadReply returned it).
		// A lost note loses nothing: the entry is saved and in the thread.
		if err := a.Poster.PostEphemeral(ctx, e.Channel, e.User, e.ThreadTimeStamp, recordedNote(reply)); err != nil {
			a.Log.Warn("thread reply recorded; note to its author not posted", "user", e.User, "err", err)
		}
		a.deliver(reply.Notices)
	case bot.Refused:
		if reply.Title != "" {
			_ = a.Poster.PostEphemeral(ctx, e.Channel, e.User, e.ThreadTimeStamp, reply)
		}
	}
	return true, err
}

// maxNoteText is how much of the recorded entry a note echoes: the author
// has just written it, the note only has to show how it was read.
const maxNoteText = 80

// recordedNote is the note for the author of a recorded thread reply: the
// core's answer (task, kind and entry number; the entry with its unit,
// milestone and percentage; what follows from it) without the notices,
// which are for other people, and with the entry's text cut short.
func recordedNote(r bot.Reply) bot.Reply {
	note := bot.Reply{Title: r.Title, Footnotes: r.Footnotes}
	for _, s := range r.Sections {
		s.Items = slices.Clone(s.Items)
		for i, it := range s.Items {
			if rs := []rune(it.Text); len(rs) > maxNoteText {
				s.Items[i].Text = string(rs[:maxNoteText]) + "…"
			}
		}
		note.Sections = append(note.Sections, s)
	}
	return note
}

// userLookup is the slack-go call that resolves emails.
type userLookup interface {
	GetUserByEmailContext(ctx context.Context, email string) (*slack.User, error)
}

// ResolveEmails looks up, once, the Slack ID of every person the directory
// knows only by email (users.lookupByEmail), through the core.
func ResolveEmails(ctx context.Context, b *bot.Bot, api userLookup) error {
	return b.ResolveEmails(ctx, func(ctx context.Context, email string) (string, error) {
		u, err := api.GetUserByEmailContext(ctx, email)
		if err != nil {
			return "", err
		}
		return u.ID, nil
	})
}

// messageFiles are the files shared with a message, as the core keeps them
// for evidence.
func messageFiles(e *slackevents.MessageEvent) []bot.File {
	if e.Message == nil {
		return nil
	}
	var out []bot.File
	for _, f := range e.Message.Files {
		if f.Permalink == "" && f.ID == "" {
			continue
		}
		name := f.Title
		if f.Name != "" {
			name = f.Name
		}
		out = append(out, bot.File{ID: f.ID, Name: name, Mime: f.Mimetype, Size: int64(f.Size), URL: f.Permalink})
	}
	return out
}
