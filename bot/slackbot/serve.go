package slackbot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// NewClient returns the process's one Web API client: the bot token, the
// app-level token when Socket Mode is used (appToken may be empty), and
// apiURL when set (SLACK_API_URL, for tests and proxies). slack-go's own
// logging is discarded: the Poster logs what matters, without secrets.
func NewClient(botToken, appToken, apiURL string) *slack.Client {
	opts := []slack.Option{slack.OptionLog(log.New(io.Discard, "", 0))}
	if apiURL != "" {
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	if appToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(appToken))
	}
	return slack.New(botToken, opts...)
}

// Endpoints are the HTTP paths HTTPHandler serves.
var Endpoints = []string{"/slack/commands", "/slack/events", "/slack/interactivity", "/healthz"}

// ListenAndServe serves Slack's HTTP endpoints on addr until ctx ends, then
// lets requests in flight finish for at most grace. It returns an error
// when addr cannot be listened on or the server fails.
func (a *Adapter) ListenAndServe(ctx context.Context, addr string, grace time.Duration) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--http: %w", err)
	}
	srv := &http.Server{
		Handler:           a.HTTPHandler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	a.Log.Info("serving Slack over HTTP", "addr", ln.Addr().String(), "endpoints", Endpoints)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		a.Log.Warn("http shutdown", "err", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http: %w", err)
	}
	return nil
}

// RunSocket serves Slack over Socket Mode with api (which carries the
// app-level token) until ctx ends; see RunSocketMode.
func (a *Adapter) RunSocket(ctx context.Context, api *slack.Client) error {
	a.Log.Info("serving Slack over Socket Mode")
	c := socketmode.New(api, socketmode.OptionLog(slog.NewLogLogger(a.Log.Handler(), slog.LevelDebug)))
	return a.RunSocketMode(ctx, c)
}
