// Package config is the only place that reads the environment.
package config

import (
	"fmt"
	"log/slog"
	"time"
	_ "time/tzdata" // the zone must load in a bare container
)

// Defaults.
const (
	DefaultDB = "taskbot.db"
	DefaultTZ = "Asia/Shanghai"
)

// Config is taskbot's configuration. Secrets are kept here and nowhere else;
// LogValue redacts them so that logging a Config cannot leak them.
type Config struct {
	DB       string         // TASKBOT_DB: SQLite path
	TZ       string         // TASKBOT_TZ: IANA zone days are counted in
	Location *time.Location // TZ, loaded
	Seed     string         // TASKBOT_SEED: task-list file; "" = the embedded list
	File     string         // TASKBOT_CONFIG: organisation file; "" = the embedded example

	SlackBotToken      string // SLACK_BOT_TOKEN (xoxb-…)
	SlackAppToken      string // SLACK_APP_TOKEN (xapp-…)
	SlackSigningSecret string // SLACK_SIGNING_SECRET
}

// Load reads the configuration from getenv. It returns an error naming the
// variable when a value is invalid, never echoing a secret.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		DB:                 or(getenv("TASKBOT_DB"), DefaultDB),
		TZ:                 or(getenv("TASKBOT_TZ"), DefaultTZ),
		Seed:               getenv("TASKBOT_SEED"),
		File:               getenv("TASKBOT_CONFIG"),
		SlackBotToken:      getenv("SLACK_BOT_TOKEN"),
		SlackAppToken:      getenv("SLACK_APP_TOKEN"),
		SlackSigningSecret: getenv("SLACK_SIGNING_SECRET"),
	}
	if err := c.SetTZ(c.TZ); err != nil {
		return c, fmt.Errorf("TASKBOT_TZ: %w", err)
	}
	return c, nil
}

// SetTZ sets the zone by IANA name.
func (c *Config) SetTZ(name string) error {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return fmt.Errorf("unknown time zone %q", name)
	}
	c.TZ, c.Location = name, loc
	return nil
}

// SlackConfigured reports whether any Slack credential is set, in which case
// plain `taskbot` serves Slack instead of running the console.
func (c Config) SlackConfigured() bool {
	return c.SlackBotToken != "" || c.SlackAppToken != "" || c.SlackSigningSecret != ""
}

// LogValue implements slog.LogValuer: secrets appear only as set/unset.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("db", c.DB),
		slog.String("tz", c.TZ),
		slog.Bool("slack_bot_token_set", c.SlackBotToken != ""),
		slog.Bool("slack_app_token_set", c.SlackAppToken != ""),
		slog.Bool("slack_signing_secret_set", c.SlackSigningSecret != ""),
	)
}

// String redacts secrets, like LogValue.
func (c Config) String() string { return c.LogValue().String() }

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
