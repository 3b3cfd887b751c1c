package slackbot

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"taskbot/bot"
)

// Defaults of the Adapter's settings.
const (
	// DefaultAckWithin is how long a request waits for the core's reply
	// before it is acknowledged without one; Slack allows 3 seconds.
	DefaultAckWithin = 2 * time.Second
	// DefaultMaxBody caps request bodies; Slack's are a few kilobytes.
	DefaultMaxBody = 256 << 10
	// jobTimeout bounds work that continues after the acknowledgement,
	// rate-limit waits included.
	jobTimeout = 3 * time.Minute
)

// Share words: in a slash command's text they post the answer to the
// channel instead of only to the user.
var shareWords = []string{"公开", "share"}

// GCPercent is the garbage-collector target `taskbot serve` runs with when
// GOGC is not set. The live heap is a few megabytes while each card
// allocates ~100 KB, so at Go's default of 100 the collector runs hundreds
// of times a second under load; 400 trades a little memory for tail latency.
const GCPercent = 400

// Adapter connects the core to Slack. Create it with New; HTTPHandler and
// RunSocketMode take requests to the same logic.
type Adapter struct {
	// Holder names this process in outbox leases (default "slackbot").
	Holder string
	Bot    *bot.Bot
	Poster *Poster
	Log    *slog.Logger
	// SigningSecret verifies HTTP requests (SLACK_SIGNING_SECRET).
	SigningSecret string
	// AckWithin is how long to wait for a reply before acknowledging
	// without it and delivering it later.
	AckWithin time.Duration
	// MaxBody caps the size of an HTTP request body.
	MaxBody int64
	// Notifier delivers the core's notices and records replies in task
	// threads as progress; nil: neither.
	Notifier *Notifier

	jobs    sync.WaitGroup
	ctx     context.Context // parent of background work; canceled by Shutdown
	cancel  context.CancelFunc
	answers answerCache // encoded slash-command answers (HTTP)
}

// New returns an Adapter answering with b and posting through p.
func New(b *bot.Bot, p *Poster, log *slog.Logger) *Adapter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if p == nil {
		p = newPoster(nil, log)
	}
	if p.Writes == nil && b != nil {
		p.Writes = func(c string) bool { return !b.ReadOnly(c) }
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Adapter{
		Bot: b, Poster: p, Log: log, Holder: "slackbot",
		AckWithin: DefaultAckWithin, MaxBody: DefaultMaxBody,
		ctx: ctx, cancel: cancel, answers: answerCache{Max: bot.MaxCached},
	}
}

// Shutdown waits for replies still being delivered after their
// acknowledgement, until ctx ends; then it cancels them. It returns ctx's
// error when it had to cancel.
func (a *Adapter) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() { a.jobs.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		a.cancel()
		<-done
		return ctx.Err()
	}
}

// wait blocks until background work is done (tests).
func (a *Adapter) wait() { a.jobs.Wait() }

// goJob runs f in the background with its own deadline, outliving the
// request that started it.
func (a *Adapter) goJob(f func(ctx context.Context)) {
	a.jobs.Add(1)
	go func() {
		defer a.jobs.Done()
		ctx, cancel := context.WithTimeout(a.ctx, jobTimeout)
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				a.Log.Error("panic in slack job", "panic", p)
			}
		}()
		f(ctx)
	}()
}

// commandText turns a slash command into the core's command line and
// whether to post the answer in the channel: "/task 6" → "task 6",
// "/task due 30" → "due 30" (due is a core command), "/task 6 公开" →
// "task 6", shared. Only a read-only command can be shared: in
// "/progress 6 信息公开 …" every word is the reporter's.
func (a *Adapter) commandText(slash, text string) (string, bool) {
	name := strings.TrimLeft(strings.TrimSpace(slash), "/")
	line := func(words []string) string {
		if len(words) > 0 && a.Bot.IsCommand(words[0]) || name == "" {
			return strings.Join(words, " ")
		}
		return strings.TrimSpace(name + " " + strings.Join(words, " "))
	}
	// Markup first (it uses literal < >), then the entities Slack sends
	// for what the person typed (&amp; &lt; &gt;).
	words, share := stripShare(text)
	if stripped := line(words); a.Bot.ReadOnly(stripped) {
		return unescaper.Replace(a.readable(stripped)), share
	}
	return unescaper.Replace(a.readable(line(strings.FieldsFunc(text, unicode.IsSpace)))), false
}

// slackMarkup is an escaped mention, channel or link: <@U1|zhang>,
// <#C1|general>, <https://x|label>, <!here>.
var slackMarkup = regexp.MustCompile(`<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>`)

// readable turns Slack's markup into what the person typed, so saved text
// reads "@张三" and "https://…": <@U1|张三> → @张三, <#C1|general> →
// #general, <https://x|x> → https://x. A unit command keeps the markup:
// "unit bind 市城管局 <@U1|张三>" names the person by ID.
func (a *Adapter) readable(line string) string {
	if f := strings.Fields(line); len(f) > 0 && a.Bot.CommandName(f[0]) == "unit" {
		return line
	}
	return slackMarkup.ReplaceAllStringFunc(line, func(m string) string {
		p := slackMarkup.FindStringSubmatch(m)
		switch {
		case (p[1] == "@" || p[1] == "#") && p[3] != "":
			return p[1] + p[3]
		case p[1] == "":
			return p[2] // a link: its URL
		}
		return m
	})
}

// stripShare splits text into words and removes the share words.
func stripShare(text string) ([]string, bool) {
	words := strings.FieldsFunc(text, unicode.IsSpace)
	share := false
	out := words[:0]
	for _, w := range words {
		if isShareWord(w) {
			share = true
			continue
		}
		out = append(out, w)
	}
	return out, share
}

func isShareWord(w string) bool {
	for _, s := range shareWords {
		if strings.EqualFold(w, s) {
			return true
		}
	}
	return false
}

// response is a reply to a slash command or a response_url post.
type response struct {
	ResponseType string        `json:"response_type,omitempty"`
	Text         string        `json:"text"`
	Blocks       []slack.Block `json:"blocks,omitempty"`
}

// pending is shown when the answer is not ready within AckWithin.
var pending = &response{ResponseType: slack.ResponseTypeEphemeral, Text: "⏳ 正在查询，请稍候…"}

// slash answers a slash command and returns what to acknowledge it with:
// the answer when it is ready within AckWithin and fits one message, else a
// short note (late) or nothing (nil, several messages) while the answer goes
// to response_url in the background. fits reports whether a response can
// ride on the acknowledgement (Socket Mode caps its size).
func (a *Adapter) slash(cmd slack.SlashCommand, fits func(*response) bool) *response {
	text, share := a.commandText(cmd.Command, cmd.Text)
	resp, _ := a.answer(cmd, text, share, bot.Request{Text: text, User: cmd.UserID, Now: a.Bot.Clock().Now()}, fits)
	return resp
}

// answer is slash for a command already read: it also reports whether the
// response is the whole answer and one to keep (bot.Keep).
func (a *Adapter) answer(cmd slack.SlashCommand, text string, share bool, req bot.Request, fits func(*response) bool) (*response, bool) {
	log := a.Log.With("command", cmd.Command, "user", cmd.UserID, "channel", cmd.ChannelID)
	opt := renderOptions{Writes: a.Poster.Writes}
	if !share && a.Bot.ReadOnly(text) {
		opt.Share = text // the button re-runs it: never for a command that writes
	}

	type answer struct {
		msgs []Message
		keep bool
	}
	ready := make(chan answer)
	late := make(chan struct{})
	a.goJob(func(ctx context.Context) {
		reply := a.Bot.Handle(ctx, req)
		a.deliver(reply.Notices)
		a.upload(ctx, log, cmd.ChannelID, "", cmd.UserID, reply.Upload)
		msgs := render(reply, opt)
		select {
		case ready <- answer{msgs, bot.Keep(reply)}:
		case <-late:
			a.deliverSlash(ctx, log, cmd.ResponseURL, share, msgs)
		}
	})
	t := time.NewTimer(a.AckWithin)
	defer t.Stop()
	select {
	case ans := <-ready:
		if len(ans.msgs) == 1 {
			resp := &response{ResponseType: slack.ResponseTypeEphemeral, Text: ans.msgs[0].Text, Blocks: ans.msgs[0].Blocks}
			if share {
				resp.ResponseType = slack.ResponseTypeInChannel
			}
			if fits == nil || fits(resp) {
				return resp, ans.keep
			}
		}
		// Several messages go out in order through response_url.
		a.goJob(func(ctx context.Context) { a.deliverSlash(ctx, log, cmd.ResponseURL, share, ans.msgs) })
		return nil, false
	case <-t.C:
		close(late)
		log.Warn("answer not ready in time; delivering through response_url", "after", a.AckWithin)
		return pending, false
	}
}

func (a *Adapter) deliverSlash(ctx context.Context, log *slog.Logger, responseURL string, share bool, msgs []Message) {
	if err := a.Poster.respond(ctx, responseURL, share, msgs); err != nil {
		log.Error("slash command answer not delivered", "err", err)
	}
}

// event handles one Events API callback. It reports whether the event is
// done: nil when it was processed, ignored, or a duplicate; the error when
// processing failed (the event is then released for Slack's retry). The
// work runs in the background; done receives its outcome.
func (a *Adapter) event(ev slackevents.EventsAPIEvent, retry int) (done <-chan error) {
	ch := make(chan error, 1)
	cb, _ := ev.Data.(*slackevents.EventsAPICallbackEvent)
	id := ""
	if cb != nil {
		id = cb.EventID
	}
	log := a.Log.With("event_id", id, "event", ev.InnerEvent.Type)
	claimed, err := a.Bot.ClaimEvent(a.ctx, id)
	if err != nil {
		log.Error("event not claimed; a retry will be", "err", err)
		ch <- err
		return ch
	}
	if !claimed {
		log.Info("duplicate event ignored", "retry", retry)
		ch <- nil
		return ch
	}
	if retry > 0 {
		log.Info("processing retried event", "retry", retry)
	}
	a.goJob(func(ctx context.Context) {
		err := a.processEvent(ctx, ev.InnerEvent)
		if ferr := a.Bot.FinishEvent(context.WithoutCancel(ctx), id, err == nil); ferr != nil {
			log.Error("event outcome not recorded", "err", ferr)
		}
		if err != nil {
			log.Error("event not processed; a retry will be", "err", err)
		}
		ch <- err
	})
	return ch
}

// processEvent answers mentions and direct messages in a thread of the
// message. Bots' messages and edits, joins and other subtypes are ignored,
// so that taskbot never answers itself.
func (a *Adapter) processEvent(ctx context.Context, inner slackevents.EventsAPIInnerEvent) error {
	switch e := inner.Data.(type) {
	case *slackevents.AppHomeOpenedEvent:
		if e.Tab != "home" || e.User == "" {
			return nil
		}
		home, err := a.Bot.Home(ctx, e.User, time.Time{})
		if err != nil {
			return err
		}
		return a.Poster.Publish(ctx, e.User, home)
	case *slackevents.AppMentionEvent:
		if e.BotID != "" || e.User == "" || e.Edited != nil {
			return nil
		}
		var files []bot.File
		for _, f := range e.Files {
			files = append(files, bot.File{ID: f.ID, Name: f.Name, Mime: f.Mimetype, Size: int64(f.Size), URL: f.Permalink})
		}
		return a.answerInThread(ctx, e.Channel, e.User, e.TimeStamp, threadOf(e.TimeStamp, e.ThreadTimeStamp), e.Text, files...)
	case *slackevents.MessageEvent:
		if handled, err := a.threadReply(ctx, e); handled {
			return err
		}
		// Channel messages that mention the bot arrive as app_mention too.
		// A DM with files (file_share) keeps them as evidence.
		if e.ChannelType != "im" || (e.SubType != "" && e.SubType != "file_share") || e.BotID != "" || e.User == "" {
			return nil
		}
		return a.answerInThread(ctx, e.Channel, e.User, e.TimeStamp, threadOf(e.TimeStamp, e.ThreadTimeStamp), e.Text, messageFiles(e)...)
	}
	return nil
}

func threadOf(ts, threadTS string) string {
	if threadTS != "" {
		return threadTS
	}
	return ts
}

// answerInThread runs the message's command and answers in its thread. A
// failed answer to a read-only command is returned, so Slack's retry asks
// again; once a command that writes has run, the event is done whatever
// happens to the answer, or the retry would record it twice.
func (a *Adapter) answerInThread(ctx context.Context, channel, user, ts, threadTS, text string, files ...bot.File) error {
	line := a.messageText(text)
	if words, _ := stripShare(line); a.Bot.ReadOnly(strings.Join(words, " ")) {
		line = strings.Join(words, " ") // in a thread every answer is public already
	}
	reply := a.Bot.Handle(ctx, bot.Request{Text: line, User: user, Files: files, Channel: channel, TS: ts})
	a.deliver(reply.Notices)
	a.upload(ctx, a.Log, channel, threadTS, user, reply.Upload)
	_, err := a.Poster.Post(ctx, channel, threadTS, reply)
	if err != nil && !errors.Is(err, ctx.Err()) {
		// Tell the user, if Slack lets us; a failure here is logged by
		// the Poster.
		_ = a.Poster.PostEphemeral(ctx, channel, user, threadTS, errorNote(err))
	}
	if err != nil && !a.Bot.ReadOnly(line) {
		a.Log.Warn("answer not posted; the command ran and is not run again", "channel", channel, "err", err)
		return nil
	}
	return err
}

// messageText turns a Slack message's text into a command line: the
// mentions of the bot that start it ("<@U123> 6") dropped and Slack's HTML
// escapes undone. Mentions later in the text stay: "unit bind 市城管局
// <@U456>" names a person.
func (a *Adapter) messageText(s string) string {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	for strings.HasPrefix(s, "<@") {
		j := strings.IndexByte(s, '>')
		if j < 0 {
			break
		}
		s = strings.TrimLeftFunc(s[j+1:], unicode.IsSpace)
	}
	return unescaper.Replace(a.readable(s))
}

var unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// interaction handles a click on a "公开到频道" button: the command runs
// again and its answer goes to the channel through the response_url. It
// runs in the background; the click is acknowledged at once.
func (a *Adapter) interaction(cb slack.InteractionCallback) *slack.ViewSubmissionResponse {
	if cb.Type == slack.InteractionTypeViewSubmission {
		switch cb.View.CallbackID {
		case ReasonCallbackID:
			return a.submitReason(cb)
		case ProgressCallbackID:
			return a.submitProgress(cb)
		}
		return nil
	}
	if cb.Type != slack.InteractionTypeBlockActions {
		return nil
	}
	for _, act := range cb.ActionCallback.BlockActions {
		switch {
		case act == nil:
			continue
		case strings.HasPrefix(act.ActionID, AskActionID):
			a.ask(cb, act)
			continue
		case strings.HasPrefix(act.ActionID, DoActionID):
			a.do(cb, act)
			continue
		case strings.HasPrefix(act.ActionID, WhyActionID):
			a.why(cb, act)
			continue
		case strings.HasPrefix(act.ActionID, FormActionID):
			a.openForm(cb, act)
			continue
		}
		if act == nil || act.ActionID != ShareActionID {
			continue
		}
		// Only read-only answers carry the button; a forged or old payload
		// must not record anything twice.
		a.runReadOnly(cb, act, "share of a command that writes refused", func(ctx context.Context, log *slog.Logger, reply bot.Reply) {
			msgs := render(reply, renderOptions{Note: "由 <@" + cb.User.ID + "> 公开"})
			if err := a.Poster.respond(ctx, cb.ResponseURL, true, msgs); err != nil {
				log.Error("shared answer not delivered", "err", err)
				note := render(errorNote(err), renderOptions{})
				_ = a.Poster.respond(ctx, cb.ResponseURL, false, note)
			}
		})
	}
	return nil
}

// runReadOnly runs a button's command (its value) as the presser, in the
// background, and hands the answer to deliver. Only a command that reads
// is run: a forged or old payload naming one that writes is refused and
// logged as refused says.
func (a *Adapter) runReadOnly(cb slack.InteractionCallback, act *slack.BlockAction, refused string, deliver func(ctx context.Context, log *slog.Logger, reply bot.Reply)) {
	text, user := act.Value, cb.User.ID
	log := a.Log.With("action", act.ActionID, "user", user, "channel", cb.Channel.ID)
	if !a.Bot.ReadOnly(text) {
		log.Warn(refused, "text", text)
		return
	}
	a.goJob(func(ctx context.Context) {
		deliver(ctx, log, a.Bot.Handle(ctx, bot.Request{Text: text, User: user}))
	})
}

// upload shares a reply's file in the conversation it was asked in; a
// failure is told to the asker only.
func (a *Adapter) upload(ctx context.Context, log *slog.Logger, channel, threadTS, user string, up *bot.Upload) {
	if up == nil {
		return
	}
	if err := a.Poster.Upload(ctx, channel, threadTS, up, ""); err != nil {
		log.Error("file not uploaded", "file", up.Name, "err", err)
		_ = a.Poster.PostEphemeral(ctx, channel, user, threadTS, bot.Reply{Title: "⚠️ 文件未能上传到本会话（机器人需在频道中，并有 files:write 权限）：" + up.Name, Error: true})
	}
}

// ask answers a follow-up button (AskActionID) to the presser alone:
// through the response_url, or on their Home tab when pressed there.
func (a *Adapter) ask(cb slack.InteractionCallback, act *slack.BlockAction) {
	a.runReadOnly(cb, act, "button naming a command that writes refused", func(ctx context.Context, log *slog.Logger, reply bot.Reply) {
		var err error
		if originOf(cb, act).Home {
			err = a.homeWith(ctx, cb.User.ID, reply)
		} else {
			err = a.Poster.respond(ctx, cb.ResponseURL, false, render(reply, renderOptions{Share: act.Value}))
		}
		if err != nil {
			log.Error("button answer not delivered", "err", err)
		}
	})
}
