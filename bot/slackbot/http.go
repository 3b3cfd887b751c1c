package slackbot

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"taskbot/bot"
)

// HTTPHandler serves Slack's HTTP endpoints:
//
//	POST /slack/commands       slash commands
//	POST /slack/events         Events API (mentions, DMs, url_verification)
//	POST /slack/interactivity  button clicks
//	GET  /healthz              liveness
//
// Every POST must carry a valid signature over its raw body (401 without
// detail otherwise); bodies over MaxBody get 413 and malformed payloads 400.
func (a *Adapter) HTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /slack/commands", a.verified(a.serveCommand))
	mux.Handle("POST /slack/events", a.verified(a.serveEvent))
	mux.Handle("POST /slack/interactivity", a.verified(a.serveInteraction))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	return a.recoverer(a.logged(mux))
}

// logged logs each request's outcome at debug level (`serve -v`): path,
// status and time; never a body.
func (a *Adapter) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		a.Log.Debug("slack request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"took", time.Since(start).Round(time.Microsecond), "retry", r.Header.Get("X-Slack-Retry-Num"))
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// recoverer turns a panic into a 500 and a log line instead of a dropped
// connection.
func (a *Adapter) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				a.Log.Error("panic serving slack request", "path", r.URL.Path, "panic", p)
				http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type bodyHandler func(w http.ResponseWriter, r *http.Request, body []byte)

// verified reads the raw body (capped at MaxBody) and checks its signature
// before next sees it.
func (a *Adapter) verified(next bodyHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		maxBody := a.MaxBody
		if maxBody <= 0 {
			maxBody = DefaultMaxBody
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				a.Log.Warn("slack request too large", "path", r.URL.Path, "limit", maxBody)
				http.Error(w, http.StatusText(http.StatusRequestEntityTooLarge), http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
			return
		}
		if err := verify(r.Header, body, a.SigningSecret, a.Bot.Clock().WallNow()); err != nil {
			a.Log.Warn("slack request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "reason", err)
			http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
			return
		}
		next(w, r, body)
	})
}

func (a *Adapter) serveCommand(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("command") == "" {
		a.Log.Warn("malformed slash command", "err", err)
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	cmd := slashCommand(form)
	text, share := a.commandText(cmd.Command, cmd.Text)
	req := bot.Request{Text: text, User: cmd.UserID, Now: a.Bot.Clock().Now()}
	// A question asked before, with nothing committed since: the encoded
	// answer as it was sent (see answerCache).
	rk, version, cacheable := a.Bot.ReadKey(req)
	key := answerKey{rk, share}
	if cacheable {
		if b, ok := a.answers.Get(version, key); ok {
			writeBytes(w, b)
			return
		}
	}
	resp, keep := a.answer(cmd, text, share, req, nil)
	if resp == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	// MarshalJSON directly: json.Marshal would re-validate the output,
	// which costs more than encoding it.
	b, err := resp.MarshalJSON()
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	if cacheable && keep {
		a.answers.Put(version, key, b)
	}
	writeBytes(w, b)
}

// slashCommand is slack.SlashCommandParse for a body already read.
func slashCommand(f url.Values) slack.SlashCommand {
	return slack.SlashCommand{
		Token:          f.Get("token"),
		TeamID:         f.Get("team_id"),
		TeamDomain:     f.Get("team_domain"),
		EnterpriseID:   f.Get("enterprise_id"),
		EnterpriseName: f.Get("enterprise_name"),
		ChannelID:      f.Get("channel_id"),
		ChannelName:    f.Get("channel_name"),
		UserID:         f.Get("user_id"),
		UserName:       f.Get("user_name"),
		Command:        f.Get("command"),
		Text:           f.Get("text"),
		ResponseURL:    f.Get("response_url"),
		TriggerID:      f.Get("trigger_id"),
		APIAppID:       f.Get("api_app_id"),
	}
}

func (a *Adapter) serveEvent(w http.ResponseWriter, r *http.Request, body []byte) {
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		a.Log.Warn("malformed event", "err", err)
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	switch ev.Type {
	case slackevents.URLVerification:
		v, ok := ev.Data.(*slackevents.EventsAPIURLVerificationEvent)
		if !ok {
			http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, v.Challenge)
		return
	case slackevents.CallbackEvent:
	case "": // null, [], a string: not an event at all
		a.Log.Warn("malformed event", "err", "no type")
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	default:
		w.WriteHeader(http.StatusOK) // app_rate_limited and the like: nothing to do
		return
	}
	retry, _ := strconv.Atoi(r.Header.Get("X-Slack-Retry-Num"))
	if retry > 0 {
		a.Log.Info("slack retry", "retry", retry, "reason", r.Header.Get("X-Slack-Retry-Reason"))
	}
	done := a.event(ev, retry)
	t := time.NewTimer(a.AckWithin)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			// Not processed: let Slack retry; the event was released.
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
	case <-t.C:
		// Still working: acknowledge; the dedupe entry stops retries from
		// doing the work twice.
	}
	w.WriteHeader(http.StatusOK)
}

func (a *Adapter) serveInteraction(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	var cb slack.InteractionCallback
	if err == nil {
		err = json.Unmarshal([]byte(form.Get("payload")), &cb)
	}
	if err != nil {
		a.Log.Warn("malformed interaction payload", "err", err)
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	if resp := a.interaction(cb); resp != nil {
		b, err := json.Marshal(resp)
		if err != nil {
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(b)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// writeBytes answers with b, encoded JSON.
func writeBytes(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}
