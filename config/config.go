// Package config is the only place that reads the environment.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	_ "time/tzdata" // the zone must load in a bare container
	"unicode"

	"taskbot/storage"
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
	GOGC     string         // GOGC as set; serve picks its own collector target when empty
	Channel  string         // TASKBOT_CHANNEL: Slack channel ID holding each task's progress thread

	Schedule Schedule // reminders and digest (config/schedule.go)

	SlackBotToken      string // SLACK_BOT_TOKEN (xoxb-…)
	SlackAppToken      string // SLACK_APP_TOKEN (xapp-…)
	SlackSigningSecret string // SLACK_SIGNING_SECRET
	SlackAPIURL        string // SLACK_API_URL: Web API base URL, ending in "/"; "" = slack.com
	HTTPAddr           string // TASKBOT_HTTP_ADDR: serve Slack's HTTP endpoints on this address
	// Lease is TASKBOT_LEASE: how long a process's claim on a message or
	// a scheduled pass lasts before another process takes over the work
	// of one that died (see bot.Bot.Lease); zero means the default.
	Lease time.Duration
}

// Lease bounds: shorter than a send can take would let two processes
// send one message; longer than a day leaves a dead replica's work
// undone for too long.
const (
	MinLease = time.Second
	MaxLease = 24 * time.Hour
)

// Load reads the configuration from getenv. It returns an error naming the
// variable when a value is invalid, never echoing a secret.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		DB:                 or(getenv("TASKBOT_DB"), DefaultDB),
		TZ:                 or(getenv("TASKBOT_TZ"), DefaultTZ),
		Seed:               getenv("TASKBOT_SEED"),
		File:               getenv("TASKBOT_CONFIG"),
		GOGC:               getenv("GOGC"),
		Channel:            getenv("TASKBOT_CHANNEL"),
		SlackBotToken:      getenv("SLACK_BOT_TOKEN"),
		SlackAppToken:      getenv("SLACK_APP_TOKEN"),
		SlackSigningSecret: getenv("SLACK_SIGNING_SECRET"),
		SlackAPIURL:        getenv("SLACK_API_URL"),
		HTTPAddr:           getenv("TASKBOT_HTTP_ADDR"),
	}
	if err := c.SetTZ(c.TZ); err != nil {
		return c, fmt.Errorf("TASKBOT_TZ: %w", err)
	}
	var err error
	if c.Schedule, err = loadSchedule(getenv); err != nil {
		return c, err
	}
	if v := getenv("TASKBOT_LEASE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < MinLease || d > MaxLease {
			return c, fmt.Errorf("TASKBOT_LEASE: %q is not a duration from 1s to 24h (e.g. \"10m\")", v)
		}
		c.Lease = d
	}
	if err := c.checkSlack(); err != nil {
		return c, err
	}
	return c, nil
}

// checkSlack rejects Slack settings of the wrong kind, naming the variable
// and never the value.
func (c Config) checkSlack() error {
	if c.SlackBotToken != "" && !strings.HasPrefix(c.SlackBotToken, "xoxb-") {
		return fmt.Errorf("SLACK_BOT_TOKEN: not a bot token (must start with xoxb-)")
	}
	if c.SlackAppToken != "" && !strings.HasPrefix(c.SlackAppToken, "xapp-") {
		return fmt.Errorf("SLACK_APP_TOKEN: not an app-level token (must start with xapp-)")
	}
	// A pasted secret often carries a space or a newline: Slack would
	// refuse it later with a puzzling error.
	for _, s := range []struct{ name, value string }{{"SLACK_BOT_TOKEN", c.SlackBotToken},
		{"SLACK_APP_TOKEN", c.SlackAppToken}, {"SLACK_SIGNING_SECRET", c.SlackSigningSecret}} {
		if strings.TrimSpace(s.value) != s.value || strings.ContainsFunc(s.value, unicode.IsSpace) {
			return fmt.Errorf("%s: contains spaces or line breaks (copy the value again, without them)", s.name)
		}
	}
	if c.SlackAPIURL != "" {
		u, err := url.Parse(c.SlackAPIURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("SLACK_API_URL: not an http(s) URL")
		}
		if !strings.HasSuffix(c.SlackAPIURL, "/") {
			return fmt.Errorf("SLACK_API_URL: must end with a slash, e.g. https://slack.com/api/")
		}
	}
	return nil
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

// CheckServe says what `taskbot serve` can serve with this configuration:
// Socket Mode (SLACK_APP_TOKEN and SLACK_BOT_TOKEN) and/or HTTP
// (HTTPAddr and SLACK_SIGNING_SECRET). It returns an error, in Chinese,
// naming what is missing when a mode is half set up or none is.
func (c Config) CheckServe() (socket bool, err error) {
	socket = c.SlackAppToken != ""
	switch {
	case socket && c.SlackBotToken == "":
		return false, errors.New("serve：Socket Mode 需要 SLACK_BOT_TOKEN（xoxb-…）（已设置 SLACK_APP_TOKEN）")
	case c.HTTPAddr != "" && c.SlackSigningSecret == "":
		return false, errors.New("serve：以 HTTP 提供服务（--http / TASKBOT_HTTP_ADDR）需要 SLACK_SIGNING_SECRET")
	case !socket && c.HTTPAddr == "":
		return false, errors.New("serve：没有可提供的服务：Socket Mode 请设置 SLACK_APP_TOKEN 和 SLACK_BOT_TOKEN；" +
			"HTTP 请设置 --http ADDR（TASKBOT_HTTP_ADDR）和 SLACK_SIGNING_SECRET")
	}
	return socket, nil
}

// LogValue implements slog.LogValuer: secrets appear only as set/unset.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("db", storage.RedactURL(c.DB)),
		slog.String("tz", c.TZ),
		slog.Bool("slack_bot_token_set", c.SlackBotToken != ""),
		slog.Bool("slack_app_token_set", c.SlackAppToken != ""),
		slog.Bool("slack_signing_secret_set", c.SlackSigningSecret != ""),
		slog.String("slack_api_url", storage.RedactURL(c.SlackAPIURL)),
		slog.String("http_addr", c.HTTPAddr),
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
