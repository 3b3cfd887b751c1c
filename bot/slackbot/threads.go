package slackbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"taskbot/bot"
	"taskbot/storage"
)

// Notifier delivers the core's notices to Slack: a task's entries as
// replies in its thread in Channel (TASKBOT_CHANNEL; the parent message is
// posted the first time and remembered in the store), the rest to users'
// DMs and units' channels.
type Notifier struct {
	Poster  *Poster
	Store   *storage.Store
	Channel string
	Log     *slog.Logger

	mu sync.Mutex // one parent message per task, even under concurrent notices
}

// NewNotifier returns a Notifier posting through p, threads in channel.
func NewNotifier(p *Poster, store *storage.Store, channel string, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{Poster: p, Store: store, Channel: channel, Log: log}
}

// Deliver posts every notice. It keeps going after a failure and returns
// all failures joined; thread notices are skipped (and logged) when no
// tracking channel is configured.
func (n *Notifier) Deliver(ctx context.Context, notices []bot.Notice) error {
	var errs []error
	for _, no := range notices {
		if no.Thread != nil {
			if n.Channel == "" {
				n.Log.Warn("TASKBOT_CHANNEL not set; progress not posted to a thread", "task", no.Thread.TaskCode)
			} else if ts, err := n.thread(ctx, no.Thread); err != nil {
				errs = append(errs, fmt.Errorf("thread of %s: %w", no.Thread.TaskCode, err))
			} else if _, err := n.Poster.Post(ctx, n.Channel, ts, no.Reply); err != nil {
				errs = append(errs, fmt.Errorf("thread of %s: %w", no.Thread.TaskCode, err))
			}
		}
		for _, u := range no.UserIDs {
			if _, err := n.Poster.Post(ctx, u, "", no.Reply); err != nil {
				errs = append(errs, fmt.Errorf("user %s: %w", u, err))
			}
		}
		if no.Channel != "" {
			if _, err := n.Poster.Post(ctx, no.Channel, "", no.Reply); err != nil {
				errs = append(errs, fmt.Errorf("channel %s: %w", no.Channel, err))
			}
		}
	}
	return errors.Join(errs...)
}

// thread returns the ts of the task's parent message, posting it first
// when the task has none yet.
func (n *Notifier) thread(ctx context.Context, ref *bot.ThreadRef) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	th, err := n.Store.FindThread(ctx, ref.TaskID)
	if err == nil {
		return th.TS, nil
	}
	if storage.ErrorCode(err) != storage.ENOTFOUND {
		return "", err
	}
	ts, err := n.Poster.Post(ctx, n.Channel, "", ref.Parent)
	if err != nil {
		return "", err
	}
	th, err = n.Store.CreateThread(ctx, storage.Thread{TaskID: ref.TaskID, Channel: n.Channel, TS: ts})
	if err != nil {
		return "", err
	}
	return th.TS, nil
}

// deliver sends notices in the background, after the user has the reply.
// deliver queues the notices in the outbox and sends them at once; what
// fails is retried by the scheduler's flush, so nothing is lost.
func (a *Adapter) deliver(notices []bot.Notice) {
	if a.Notifier == nil || len(notices) == 0 {
		return
	}
	if _, err := a.Bot.Notify(context.Background(), notices); err != nil {
		a.Log.Error("notices not queued", "err", err)
		return
	}
	a.goJob(func(ctx context.Context) {
		if _, failed, err := a.Bot.Deliver(ctx, a.Holder, a.Notifier.Send); err != nil || failed > 0 {
			a.Log.Warn("notices not all delivered; queued for retry", "failed", failed, "err", err)
		}
	})
}

// Send delivers one notice (a bot.Sender). A notice with nowhere to go is
// an error, so it stays queued and visible rather than dropped.
func (n *Notifier) Send(ctx context.Context, no bot.Notice) error {
	if no.Channel == "" && len(no.UserIDs) == 0 && no.Thread == nil {
		return errors.New("no recipient: set TASKBOT_DIGEST_CHANNEL or TASKBOT_CHANNEL, or give the unit a channel or members")
	}
	return n.Deliver(ctx, []bot.Notice{no})
}

// threadReply records a reply in a task's tracking thread as progress. It
// reports whether the message was such a reply. Edits and deletions
// (message_changed, message_deleted) are never handled: entries are
// append-only. An unauthorized or malformed reply is not recorded and its
// author gets an ephemeral note why.
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
	th, err := a.Notifier.Store.FindThreadByTS(ctx, e.Channel, e.ThreadTimeStamp)
	if storage.ErrorCode(err) == storage.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	var files []string
	if e.Message != nil {
		for _, f := range e.Message.Files {
			if f.Permalink != "" {
				files = append(files, f.Permalink)
			}
		}
	}
	reply, ok := a.Bot.RecordThreadReply(ctx, bot.ThreadMessage{
		TaskID: th.TaskID, User: e.User, Text: messageText(e.Text), Channel: e.Channel, TS: e.TimeStamp,
		Files: files, Now: a.Now(),
	})
	if !ok {
		if reply.Title != "" {
			_ = a.Poster.PostEphemeral(ctx, e.Channel, e.User, e.ThreadTimeStamp, reply)
		}
		return true, nil
	}
	a.deliver(reply.Notices)
	return true, nil
}

// userLookup is the slack-go call that resolves emails.
type userLookup interface {
	GetUserByEmailContext(ctx context.Context, email string) (*slack.User, error)
}

// ResolveEmails looks up, once, the Slack ID of every person the directory
// knows only by email (users.lookupByEmail) and stores it. People Slack
// does not know are logged and left for the next start.
func ResolveEmails(ctx context.Context, store *storage.Store, api userLookup, log *slog.Logger) error {
	ps, err := store.UnresolvedEmails(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		u, err := api.GetUserByEmailContext(ctx, p.Email)
		if err != nil {
			log.Warn("email not found in Slack", "person", p.Label(), "err", err)
			continue
		}
		if err := store.SetSlackID(ctx, p.ID, u.ID); err != nil {
			log.Warn("slack id not stored", "person", p.Label(), "err", err)
		}
	}
	return nil
}
