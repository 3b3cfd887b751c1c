package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"

	"github.com/slack-go/slack"

	"taskbot/bot"
	"taskbot/bot/slackbot"
	"taskbot/config"
)

// consoleSlack returns how the console sends notices on to Slack (progress
// posted from the terminal reaches the task's thread too), or nil when
// SLACK_BOT_TOKEN is not set. Emails in the directory are resolved first.
// Notices go through the outbox: what fails to post now stays queued and a
// running `taskbot serve` retries it.
func consoleSlack(ctx context.Context, cfg config.Config, b *bot.Bot, logger *slog.Logger) func(context.Context, []bot.Notice) error {
	if cfg.SlackBotToken == "" {
		return nil
	}
	api := slackAPI(cfg)
	if err := slackbot.ResolveEmails(ctx, b.Store, api, logger); err != nil {
		logger.Warn("emails not resolved", "err", err)
	}
	n := slackbot.NewNotifier(slackbot.NewPoster(api, logger), b.Store, cfg.Channel, logger)
	return func(ctx context.Context, notices []bot.Notice) error {
		keys, err := b.Notify(ctx, notices)
		if err != nil {
			return err
		}
		_, failed, err := b.Deliver(ctx, holder(), n.Send, keys...) // only these: never another process's
		if err == nil && failed > 0 {
			err = fmt.Errorf("%d 条未送达，已排队，taskbot serve 会重试", failed)
		}
		return err
	}
}

// slackAPI is a Web API client with the bot token (and SLACK_API_URL).
func slackAPI(cfg config.Config) *slack.Client {
	opts := []slack.Option{slack.OptionLog(log.New(io.Discard, "", 0))}
	if cfg.SlackAPIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.SlackAPIURL))
	}
	return slack.New(cfg.SlackBotToken, opts...)
}
