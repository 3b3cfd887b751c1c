package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"taskbot/bot"
	"taskbot/bot/slackbot"
	"taskbot/config"
)

// shutdownGrace is how long in-flight requests and deliveries may take to
// finish after SIGINT/SIGTERM.
const shutdownGrace = 10 * time.Second

// runServe connects the bot to Slack: Socket Mode when SLACK_APP_TOKEN and
// SLACK_BOT_TOKEN are set, HTTP endpoints with --http and
// SLACK_SIGNING_SECRET, or both. It returns when ctx ends and everything in
// flight has finished (or the grace period ran out).
func runServe(ctx context.Context, cfg config.Config, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("http", cfg.HTTPAddr, "serve Slack's HTTP endpoints on `addr`, e.g. :8080 (env TASKBOT_HTTP_ADDR)")
	db := fs.String("db", cfg.DB, "SQLite database `path` (env TASKBOT_DB)")
	tz := fs.String("tz", cfg.TZ, "time `zone` days are counted in (env TASKBOT_TZ)")
	seed := fs.String("seed", cfg.Seed, "task-list `file` to seed from instead of the embedded list (env TASKBOT_SEED)")
	verbose := fs.Bool("v", false, "log every request outcome (debug level)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: taskbot serve [--http ADDR] [--db PATH] [--tz ZONE] [--seed FILE] [-v]")
		fmt.Fprintln(stderr, "Socket Mode runs when SLACK_APP_TOKEN (xapp-) and SLACK_BOT_TOKEN (xoxb-) are set;")
		fmt.Fprintln(stderr, "HTTP runs with --http and SLACK_SIGNING_SECRET (SLACK_BOT_TOKEN to answer mentions and DMs).")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0))}
	}
	cfg.DB, cfg.Seed, cfg.HTTPAddr = *db, *seed, *addr
	if err := cfg.SetTZ(*tz); err != nil {
		return usageError{"--tz: " + err.Error()}
	}

	socket := cfg.SlackAppToken != ""
	if socket && cfg.SlackBotToken == "" {
		return errors.New("serve: SLACK_BOT_TOKEN (xoxb-…) is required for Socket Mode (SLACK_APP_TOKEN is set)")
	}
	if cfg.HTTPAddr != "" && cfg.SlackSigningSecret == "" {
		return errors.New("serve: SLACK_SIGNING_SECRET is required to serve HTTP (--http / TASKBOT_HTTP_ADDR)")
	}
	if !socket && cfg.HTTPAddr == "" {
		return errors.New("serve: nothing to serve: set SLACK_APP_TOKEN and SLACK_BOT_TOKEN for Socket Mode, " +
			"or --http ADDR (TASKBOT_HTTP_ADDR) and SLACK_SIGNING_SECRET for HTTP")
	}

	if cfg.GOGC == "" {
		debug.SetGCPercent(slackbot.GCPercent) // see GCPercent
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	logger.Info("starting", "config", cfg, "socket_mode", socket, "http", cfg.HTTPAddr != "")

	store, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer store.Close()

	var api *slack.Client
	if cfg.SlackBotToken != "" {
		opts := []slack.Option{slack.OptionLog(log.New(io.Discard, "", 0))}
		if cfg.SlackAPIURL != "" {
			opts = append(opts, slack.OptionAPIURL(cfg.SlackAPIURL))
		}
		if socket {
			opts = append(opts, slack.OptionAppLevelToken(cfg.SlackAppToken))
		}
		api = slack.New(cfg.SlackBotToken, opts...)
	} else {
		logger.Warn("SLACK_BOT_TOKEN not set: slash commands work, mentions and DMs cannot be answered")
	}
	a := slackbot.New(bot.New(store, cfg.Location, logger), slackbot.NewPoster(api, logger), logger)
	a.SigningSecret = cfg.SlackSigningSecret
	notifier := slackbot.NewNotifier(a.Poster, store, cfg.Channel, logger)
	if api != nil {
		// Without a bot token nothing can be posted: notices are not
		// queued to fail until they are given up.
		a.Notifier = notifier
	}
	if api != nil {
		if err := slackbot.ResolveEmails(ctx, store, api, logger); err != nil {
			logger.Warn("emails not resolved", "err", err)
		}
	}

	// Reminders and the digest: specs are validated before anything runs.
	a.Holder = holder()
	sched, err := newScheduler(cfg, a.Bot, notifier.Send, logger)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 3)
	running := 0

	if api != nil {
		running++
		go func() {
			logger.Info("scheduler started", "remind", cfg.Schedule.RemindCron, "digest", cfg.Schedule.DigestCron,
				"digest_channel", cfg.Schedule.DigestChannel, "tz", cfg.TZ)
			sched.Run(ctx)
			errc <- nil
		}()
	} else {
		logger.Warn("SLACK_BOT_TOKEN not set: reminders and the digest are not sent")
	}

	var srv *http.Server
	if cfg.HTTPAddr != "" {
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("serve: --http: %w", err)
		}
		srv = &http.Server{
			Handler:           a.HTTPHandler(),
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
		logger.Info("serving Slack over HTTP", "addr", ln.Addr().String(),
			"endpoints", strings.Join([]string{"/slack/commands", "/slack/events", "/slack/interactivity", "/healthz"}, " "))
		running++
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve: http: %w", err)
				return
			}
			errc <- nil
		}()
	}
	if socket {
		client := socketmode.New(api, socketmode.OptionLog(slog.NewLogLogger(logger.Handler(), slog.LevelDebug)))
		logger.Info("serving Slack over Socket Mode")
		running++
		go func() {
			if err := a.RunSocketMode(ctx, client); err != nil {
				errc <- fmt.Errorf("serve: socket mode: %w", err)
				return
			}
			errc <- nil
		}()
	}

	// Run until a signal, or until one side fails.
	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
		running--
	}
	cancel()
	logger.Info("shutting down", "grace", shutdownGrace)
	grace, stop := context.WithTimeout(context.Background(), shutdownGrace)
	defer stop()
	if srv != nil {
		if err := srv.Shutdown(grace); err != nil {
			logger.Warn("http shutdown", "err", err)
		}
	}
	for ; running > 0; running-- {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	if err := a.Shutdown(grace); err != nil {
		logger.Warn("replies still in flight were cancelled", "err", err)
	}
	logger.Info("stopped")
	return first
}
