// Package bot is taskbot's core: a request in, a reply out. It knows the
// store but no transport (no slack-go, no cron, no config): adapters turn
// lines of a terminal or Slack payloads into Requests and render Replies.
package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"taskbot/storage"
)

// Bot answers requests from the store. Its clock is the store's
// (Store.Clock): the zone days are counted in, the "as of" moment and
// real time for outbox bookkeeping.
type Bot struct {
	Store *storage.Store
	Log   *slog.Logger

	// Ledger writes the Excel ledger as of now (package ledger; wired by
	// main, since the ledger builds on the core). Nil: export is not
	// available.
	Ledger func(ctx context.Context, now time.Time) (*Upload, error)
	// Lease is how long this process's claim on an outbox message or a
	// scheduled pass lasts: when it dies mid-way, another process takes
	// the work over after this long (TASKBOT_LEASE). Zero means
	// DefaultLease.
	Lease time.Duration
	// NoCache turns the read model off: every answer is computed afresh
	// (benchmarks of the uncached path).
	NoCache bool

	commands []*command // the command table: parsing, help, usage, access
	threadMu sync.Mutex // one thread parent per task within this process
	instance string     // this process's name in leases (random)
	stats    statsCache // Statistics under the database's data version
	replies  replyCache // read-only answers under the data version
}

// New returns a Bot over store, logging to log (nil: discard).
func New(store *storage.Store, log *slog.Logger) *Bot {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var id [6]byte
	rand.Read(id[:])
	b := &Bot{Store: store, Log: log, instance: "bot-" + hex.EncodeToString(id[:])}
	b.replies.Max = MaxCached
	b.commands = newCommands()
	return b
}

// Clock is the program's one clock (the store's).
func (b *Bot) Clock() storage.Clock { return b.Store.Clock }

// Request is one command from a user.
type Request struct {
	// Text is the command line, e.g. "task 6"; a leading "/" is optional.
	Text string
	// User identifies who asks (a Slack user ID, or the console's --as).
	User string
	// Now is the moment the request is answered "as of"; zero means the
	// clock's (Clock().Now()).
	Now time.Time
	// Files are files shared with the message (a DM to the bot): a
	// progress entry keeps them as evidence.
	Files []File
	// Channel and TS name the chat message the command came in, when it
	// did (a mention, a DM): an entry keeps them, unique, so a message
	// delivered twice is recorded once.
	Channel, TS string
}

// Handle answers one request. It never panics on user input and always
// returns a reply: bad input gets a Chinese message with the usage.
func (b *Bot) Handle(ctx context.Context, req Request) (reply Reply) {
	defer func() {
		if p := recover(); p != nil {
			b.Log.Error("panic handling request", "text", req.Text, "panic", p)
			reply = b.errorReply(storage.Internal(fmt.Errorf("panic: %v", p)), nil)
		}
	}()
	// Only valid UTF-8 is stored, and the reply shows what was.
	req.Text = storage.CleanText(req.Text)
	fields := splitArgs(req.Text)
	if len(fields) == 0 {
		return b.errorReply(storage.Errorf(storage.EINVALID, "请输入命令。"), nil)
	}
	if req.Now.IsZero() {
		req.Now = b.Clock().Now()
	}
	cmd, args := b.resolve(fields)
	if cmd == nil {
		return b.errorReply(storage.Errorf(storage.EINVALID, "不认识的命令“%s”。", clip(fields[0], 20)), nil)
	}
	start := time.Now()
	r, err := b.cached(ctx, req, fields, cmd, args, func() (Reply, error) { return cmd.run(b, ctx, req, args) })
	if err != nil {
		r = b.errorReply(err, cmd)
	}
	// The outcome, for `serve -v`: the command's name, never its text.
	b.Log.Debug("request handled", "command", cmd.name, "user", req.User, "error", r.Error,
		"code", storage.ErrorCode(err), "took", time.Since(start).Round(time.Microsecond))
	return r
}

// Explain is what a user reads for err: its Chinese message, or a generic
// one for an internal error, whose detail only the log sees. Every road
// (chat, console, command line) shows errors through it.
func Explain(err error) string { return storage.ErrorMessage(err) }

// errorReply is the one place an error becomes what the user reads. Internal
// errors show a generic message; their detail goes to the log only. The
// usage line follows only input that may be mistyped (invalid, or naming
// nothing that exists): a refusal (forbidden) says who may, and a conflict
// says what stands in the way, neither how to type.
func (b *Bot) errorReply(err error, cmd *command) Reply {
	code := storage.ErrorCode(err)
	if code == storage.EINTERNAL || code == storage.EUNAVAILABLE {
		b.Log.Error("request failed", "err", err)
	}
	r := Reply{Title: "⚠️ " + Explain(err), Error: true, Unavailable: code == storage.EUNAVAILABLE}
	switch {
	case code != storage.EINVALID && code != storage.ENOTFOUND:
	case cmd != nil:
		r.Footnotes = append(r.Footnotes, "用法："+cmd.usage()+"  例如："+cmd.example)
	default:
		r.Footnotes = append(r.Footnotes, "可用命令："+b.commandNames()+"。输入 /help 查看说明。")
	}
	return r
}

// today is the calendar day of now in the clock's zone.
func (b *Bot) today(now time.Time) storage.Date { return b.Clock().Day(now) }

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
