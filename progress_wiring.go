package main

import (
	"context"
	"io"
	"log"
	"log/slog"

	"github.com/slack-go/slack"

	"taskbot/bot"
	"taskbot/bot/slackbot"
	"taskbot/config"
	"taskbot/storage"
)

// consoleSlack returns how the console sends notices on to Slack (progress
// posted from the terminal reaches the task's thread too), or nil when
// SLACK_BOT_TOKEN is not set. Emails in the directory are resolved first.
func consoleSlack(ctx context.Context, cfg config.Config, store *storage.Store, logger *slog.Logger) func(context.Context, []bot.Notice) error {
	if cfg.SlackBotToken == "" {
		return nil
	}
	api := slackAPI(cfg)
	if err := slackbot.ResolveEmails(ctx, store, api, logger); err != nil {
		logger.Warn("emails not resolved", "err", err)
	}
	n := slackbot.NewNotifier(slackbot.NewPoster(api, logger), store, cfg.Channel, logger)
	return n.Deliver
}

// slackAPI is a Web API client with the bot token (and SLACK_API_URL).
func slackAPI(cfg config.Config) *slack.Client {
	opts := []slack.Option{slack.OptionLog(log.New(io.Discard, "", 0))}
	if cfg.SlackAPIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.SlackAPIURL))
	}
	return slack.New(cfg.SlackBotToken, opts...)
}
