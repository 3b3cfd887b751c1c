package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"taskbot/bot"
	"taskbot/bot/slackbot"
	"taskbot/config"
	"taskbot/scheduler"
	"taskbot/storage"
)

// remindPolicy builds the core's reminder policy from the configuration.
func remindPolicy(cfg config.Config) bot.RemindPolicy {
	s := cfg.Schedule
	p := bot.RemindPolicy{Offsets: s.Offsets, OverdueEvery: s.OverdueEvery, EscalateAfter: s.EscalateAfter,
		NudgeAfter: s.NudgeAfter, Calendar: calendar(cfg), Fallback: or(s.DigestChannel, cfg.Channel)}
	return p
}

func digestPolicy(cfg config.Config) bot.DigestPolicy {
	p := bot.DefaultDigestPolicy()
	p.Calendar, p.Channel = calendar(cfg), or(cfg.Schedule.DigestChannel, cfg.Channel)
	return p
}

func calendar(cfg config.Config) bot.Calendar {
	if cfg.Schedule.Workdays {
		return bot.ChinaCalendar{}
	}
	return bot.EveryDay{}
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// sender delivers notices to Slack when a bot token is set, otherwise
// prints them to out.
func sender(cfg config.Config, store *storage.Store, logger *slog.Logger, out io.Writer) bot.Sender {
	if cfg.SlackBotToken == "" {
		return printSender(out)
	}
	return slackbot.NewNotifier(slackbot.NewPoster(slackAPI(cfg), logger), store, cfg.Channel, logger).Send
}

// printSender writes each notice with its recipient.
func printSender(out io.Writer) bot.Sender {
	return func(ctx context.Context, n bot.Notice) error {
		_, err := fmt.Fprintf(out, "%s\n%s\n", recipientLine(n), strings.TrimRight(n.Reply.Text(), "\n"))
		return err
	}
}

func recipientLine(n bot.Notice) string {
	var to []string
	if n.Channel != "" {
		to = append(to, "频道 "+n.Channel)
	}
	for _, u := range n.UserIDs {
		to = append(to, "私信 "+u)
	}
	if len(to) == 0 {
		to = append(to, "（未配置接收人）")
	}
	return fmt.Sprintf("=== 发送给 %s：%s", n.To, strings.Join(to, "、"))
}

// holder names this process for outbox leases.
func holder() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// openJob parses the flags of a command that runs one job as of a date
// (remind, digest): the common flags and those extra registers. It opens
// the store and returns the bot, the configuration with the flags applied,
// the moment to run as of, and a func that closes the store.
func openJob(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stderr io.Writer,
	name, usage string, extra func(*flag.FlagSet)) (*bot.Bot, config.Config, time.Time, func(), error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	var cf commonFlags
	cf.register(fs, cfg)
	extra(fs)
	if err := parseFlags(fs, args); err != nil {
		return nil, cfg, time.Time{}, nil, err
	}
	if fs.NArg() > 0 {
		return nil, cfg, time.Time{}, nil, usageError{fmt.Sprintf("%s: unexpected argument %q", name, fs.Arg(0))}
	}
	clock, err := cf.apply(&cfg)
	if err != nil {
		return nil, cfg, time.Time{}, nil, err
	}
	store, err := openStore(ctx, cfg, logger)
	if err != nil {
		return nil, cfg, time.Time{}, nil, err
	}
	return bot.New(store, cfg.Location, logger), cfg, clock(), func() { store.Close() }, nil
}

func runRemind(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout, stderr io.Writer) error {
	var dry *bool
	b, cfg, now, closeStore, err := openJob(ctx, cfg, logger, args, stderr, "remind",
		"usage: taskbot remind [--at YYYY-MM-DD] [--dry-run] [--db PATH] [--tz ZONE] [--seed FILE]",
		func(fs *flag.FlagSet) {
			dry = fs.Bool("dry-run", false, "print each message and its recipient; write and send nothing")
		})
	if err != nil {
		return err
	}
	defer closeStore()
	store := b.Store
	p := remindPolicy(cfg)
	if *dry {
		plan, err := b.PlanReminders(ctx, now, p)
		if err != nil {
			return err
		}
		for _, m := range plan.Messages {
			if err := printSender(stdout)(ctx, m.Notice); err != nil {
				return err
			}
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "（试运行）截至 %s：%d 个提醒节点，%d 条消息；未写入、未发送。\n", storage.DateOf(now.In(cfg.Location)), len(plan.Steps), len(plan.Messages))
		return nil
	}
	queued, err := b.RunReminders(ctx, now, p)
	if err != nil {
		return err
	}
	// Only what this pass queued: a reminder, notice or digest another
	// process queued is that process's to send.
	keys := make([]string, len(queued))
	for i, q := range queued {
		keys[i] = q.Key
	}
	sent, failed := 0, 0
	send := sender(cfg, store, logger, stdout)
	for len(keys) > 0 { // Deliver takes a batch at a time
		s, f, err := b.Deliver(ctx, holder(), send, keys...)
		if err != nil {
			return err
		}
		sent, failed = sent+s, failed+f
		if s+f == 0 || f > 0 {
			break // nothing left, or failures: they wait for their backoff
		}
	}
	fmt.Fprintf(stdout, "截至 %s：新排入 %d 条提醒；本次发送 %d 条，失败 %d 条（失败的稍后重试）。\n", storage.DateOf(now.In(cfg.Location)), len(queued), sent, failed)
	if failed > 0 {
		return fmt.Errorf("remind: %d messages failed; they stay queued and are retried by the next pass", failed)
	}
	return nil
}

func runDigest(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout, stderr io.Writer) error {
	var post *bool
	b, cfg, now, closeStore, err := openJob(ctx, cfg, logger, args, stderr, "digest",
		"usage: taskbot digest [--at YYYY-MM-DD] [--post] [--db PATH] [--tz ZONE] [--seed FILE]",
		func(fs *flag.FlagSet) {
			post = fs.Bool("post", false, "also post it (once per day) to TASKBOT_DIGEST_CHANNEL")
		})
	if err != nil {
		return err
	}
	defer closeStore()
	store := b.Store
	p := digestPolicy(cfg)
	if !*post {
		r, err := b.Digest(ctx, now, p)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, strings.TrimRight(r.Text(), "\n"))
		return nil
	}
	if cfg.SlackBotToken != "" && p.Channel == "" {
		return errors.New("digest --post: set TASKBOT_DIGEST_CHANNEL (or TASKBOT_CHANNEL)")
	}
	_, queued, err := b.QueueDigest(ctx, now, p)
	if err != nil {
		return err
	}
	if !queued {
		fmt.Fprintf(stdout, "%s 的日报已排入过，不再重复发送。\n", storage.DateOf(now.In(cfg.Location)))
	}
	_, failed, err := b.Deliver(ctx, holder(), sender(cfg, store, logger, stdout), bot.DigestKey(storage.DateOf(now.In(cfg.Location))))
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("digest: delivery failed; it stays queued and is retried by the next pass")
	}
	return nil
}

// newScheduler validates the cron specs and returns the reminder, digest and
// delivery jobs, to run until a context is done.
func newScheduler(cfg config.Config, b *bot.Bot, send bot.Sender, logger *slog.Logger) (*scheduler.Scheduler, error) {
	who := holder()
	flush := func(ctx context.Context, now time.Time) error {
		_, _, err := b.Deliver(ctx, who, send)
		return err
	}
	rp, dp := remindPolicy(cfg), digestPolicy(cfg)
	s, err := scheduler.New(cfg.Location, logger,
		scheduler.Entry{Name: "TASKBOT_REMIND_CRON", Spec: cfg.Schedule.RemindCron, Job: func(ctx context.Context, now time.Time) error {
			if _, err := b.RunReminders(ctx, now, rp); err != nil {
				return err
			}
			return flush(ctx, now)
		}},
		scheduler.Entry{Name: "TASKBOT_DIGEST_CRON", Spec: cfg.Schedule.DigestCron, Job: func(ctx context.Context, now time.Time) error {
			if !dp.Calendar.Working(storage.DateOf(now)) {
				return nil // no digest on days off
			}
			if dp.Channel == "" {
				logger.Warn("daily digest not posted: TASKBOT_DIGEST_CHANNEL is not set")
				return nil
			}
			if _, _, err := b.QueueDigest(ctx, now, dp); err != nil {
				return err
			}
			return flush(ctx, now)
		}},
		scheduler.Entry{Name: "outbox", Spec: scheduler.DefaultFlushSpec, Job: flush},
	)
	if err != nil {
		return nil, err
	}
	return s, nil
}
