package main

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"taskbot/bot/slackbot"
)

// shutdownGrace is how long in-flight requests and deliveries may take to
// finish after SIGINT/SIGTERM.
const shutdownGrace = 10 * time.Second

// runServe connects the bot to Slack: Socket Mode when SLACK_APP_TOKEN and
// SLACK_BOT_TOKEN are set, HTTP endpoints with --http and
// SLACK_SIGNING_SECRET, or both, plus the scheduler when a bot token lets
// it post. It returns when ctx ends and everything in flight has finished
// (or the grace period ran out), or when one side fails.
func runServe(ctx context.Context, e env, args []string) error {
	f := newFlags(e, "serve", "[--http ADDR] [--db PATH] [--tz ZONE] [--seed FILE] [--at DATE] [-v]\n"+
		"Socket Mode runs when SLACK_APP_TOKEN (xapp-) and SLACK_BOT_TOKEN (xoxb-) are set;\n"+
		"HTTP runs with --http and SLACK_SIGNING_SECRET (SLACK_BOT_TOKEN to answer mentions and DMs).\n"+
		"--at rehearses a day: answers as of it, and the scheduler's jobs run on it.", true)
	addr := f.String("http", e.cfg.HTTPAddr, "serve Slack's HTTP endpoints on `addr`, e.g. :8080 (env TASKBOT_HTTP_ADDR)")
	verbose := f.Bool("v", false, "log every request outcome (debug level)")
	cfg := e.cfg
	if err := f.parse(args, &cfg, 0); err != nil {
		return err
	}
	cfg.HTTPAddr = *addr
	socket, err := cfg.CheckServe()
	if err != nil {
		return err
	}
	if cfg.GOGC == "" {
		debug.SetGCPercent(slackbot.GCPercent) // see GCPercent
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	log.Info("starting", "config", cfg, "socket_mode", socket, "http", cfg.HTTPAddr != "")

	clock, err := f.clock(cfg)
	if err != nil {
		return err
	}
	p, err := build(ctx, cfg, clock, log, e.stdout)
	if err != nil {
		return err
	}
	defer p.Close()
	// The search index is built in the background: the first search
	// after start does not pay for it, and the start does not wait. It
	// is stopped and waited for before the store closes.
	warmCtx, stopWarm := context.WithCancel(ctx)
	var warm sync.WaitGroup
	warm.Go(func() {
		if err := p.store.WarmSearch(warmCtx); err != nil && warmCtx.Err() == nil {
			log.Warn("search index not built at start; the first search builds it", "err", err)
		}
	})
	defer warm.Wait()
	defer stopWarm()
	a := slackbot.New(p.bot, slackbot.NewPoster(p.api, log), log)
	a.SigningSecret, a.Holder, a.Notifier = cfg.SlackSigningSecret, holder(), p.notifier
	sched, err := p.scheduler() // specs are validated before anything runs
	if err != nil {
		return err
	}

	var sides []func(context.Context) error
	if p.api != nil {
		sides = append(sides, func(ctx context.Context) error {
			log.Info("scheduler started", "remind", cfg.Schedule.RemindCron, "digest", cfg.Schedule.DigestCron,
				"digest_channel", cfg.Schedule.DigestChannel, "tz", cfg.TZ)
			sched.Run(ctx)
			return nil
		})
	} else {
		log.Warn("SLACK_BOT_TOKEN not set: slash commands work; mentions, DMs, reminders and the digest do not")
	}
	if cfg.HTTPAddr != "" {
		sides = append(sides, func(ctx context.Context) error { return a.ListenAndServe(ctx, cfg.HTTPAddr, shutdownGrace) })
	}
	if socket {
		sides = append(sides, func(ctx context.Context) error { return a.RunSocket(ctx, p.api) })
	}
	err = runAll(ctx, sides)
	log.Info("shutting down", "grace", shutdownGrace)
	grace, stop := context.WithTimeout(context.Background(), shutdownGrace)
	defer stop()
	if err := a.Shutdown(grace); err != nil {
		log.Warn("replies still in flight were cancelled", "err", err)
	}
	log.Info("stopped")
	return err
}

// runAll runs every side until ctx ends or one of them returns; then it
// stops the others, waits for them, and returns the first error.
func runAll(ctx context.Context, sides []func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(sides))
	for _, side := range sides {
		go func() { errc <- side(ctx) }()
	}
	var errs []error
	for range sides {
		errs = append(errs, <-errc)
		cancel()
	}
	return errors.Join(errs...)
}
