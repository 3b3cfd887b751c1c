package slackbot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"taskbot/bot"
)

// webAPI is the part of slack-go's client taskbot calls: tests point a real
// client at slacktest.
type webAPI interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
	// UploadFileContext is Slack's current upload flow:
	// files.getUploadURLExternal, the upload, files.completeUploadExternal.
	UploadFileContext(ctx context.Context, params slack.UploadFileParameters) (*slack.FileSummary, error)
	OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error)
	PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error)
	// For looking whether an outbox message was already posted.
	OpenConversationContext(ctx context.Context, params *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error)
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error)
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
}

// Poster sends replies through Slack's Web API and response URLs. On HTTP
// 429 it waits Retry-After and tries again (a bounded number of times, and
// never past ctx); other errors are logged with the channel and returned.
// It is safe for concurrent use; scheduled notices and progress replies in
// task threads go through it too.
type Poster struct {
	api  webAPI       // nil: no bot token, Web API calls fail with ErrNoToken
	hc   *http.Client // for response_url
	log  *slog.Logger
	wait func(ctx context.Context, d time.Duration) error

	// MaxAttempts bounds tries per message, the first included.
	MaxAttempts int
	// MaxWait caps a single Retry-After wait.
	MaxWait time.Duration
	// Writes tells which button commands write (see renderOptions); set
	// by New and NewNotifier from the core's command table.
	Writes func(command string) bool
}

// ErrNoToken is returned by Post when no bot token was configured.
var ErrNoToken = errors.New("slackbot: SLACK_BOT_TOKEN is not set; cannot call the Web API")

// NewPoster returns a Poster over api (a slack-go client built with the bot
// token; nil when there is none: then only response URLs work).
func NewPoster(api *slack.Client, log *slog.Logger) *Poster {
	p := newPoster(nil, log)
	if api != nil {
		p.api = api
	}
	return p
}

func newPoster(api webAPI, log *slog.Logger) *Poster {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poster{
		api:         api,
		hc:          &http.Client{Timeout: 15 * time.Second},
		log:         log,
		wait:        sleep,
		MaxAttempts: 4,
		MaxWait:     2 * time.Minute,
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Post posts r to channel (in the thread of threadTS when not empty) and
// returns the ts of its first message, which later replies can thread on.
// A long reply continues in further messages. It returns ErrNoToken without
// a bot token, the Slack error (e.g. not_in_channel) when Slack refuses, or
// ctx's error when it ends during a rate-limit wait.
func (p *Poster) Post(ctx context.Context, channel, threadTS string, r bot.Reply) (string, error) {
	return p.post(ctx, channel, threadTS, render(r, renderOptions{Writes: p.Writes}), nil, nil)
}

// post posts msgs in order and returns the first one's ts. extra, when
// set, adds options to message i (its metadata); a message whose index is
// in posted is already in Slack, under that ts, and is not posted again.
func (p *Poster) post(ctx context.Context, channel, threadTS string, msgs []Message, extra func(i int) []slack.MsgOption, posted map[int]string) (string, error) {
	if p.api == nil {
		return "", ErrNoToken
	}
	first := ""
	for i, m := range msgs {
		ts, ok := posted[i]
		if !ok {
			opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}
			if threadTS != "" {
				opts = append(opts, slack.MsgOptionTS(threadTS))
			}
			if extra != nil {
				opts = append(opts, extra(i)...)
			}
			err := p.retry(ctx, "chat.postMessage", channel, func() error {
				var err error
				_, ts, err = p.api.PostMessageContext(ctx, channel, opts...)
				return err
			})
			if err != nil {
				return first, err
			}
		}
		if first == "" {
			first = ts
		}
	}
	return first, nil
}

// PostEphemeral shows r to user only, in channel (and threadTS). Errors are
// as for Post.
func (p *Poster) PostEphemeral(ctx context.Context, channel, user, threadTS string, r bot.Reply) error {
	if p.api == nil {
		return ErrNoToken
	}
	for _, m := range render(r, renderOptions{Writes: p.Writes}) {
		opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}
		if threadTS != "" {
			opts = append(opts, slack.MsgOptionTS(threadTS))
		}
		err := p.retry(ctx, "chat.postEphemeral", channel, func() error {
			_, err := p.api.PostEphemeralContext(ctx, channel, user, opts...)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Upload shares a file in channel (in the thread threadTS when set), with
// comment as its message. The bot must be in the channel (or it is a DM).
func (p *Poster) Upload(ctx context.Context, channel, threadTS string, up *bot.Upload, comment string) error {
	if p.api == nil {
		return ErrNoToken
	}
	return p.retry(ctx, "files.upload", channel, func() error {
		_, err := p.api.UploadFileContext(ctx, slack.UploadFileParameters{
			Reader: bytes.NewReader(up.Data), FileSize: len(up.Data), Filename: up.Name, Title: up.Name,
			Channel: channel, ThreadTimestamp: threadTS, InitialComment: comment,
		})
		// The upload URL is pre-signed: it never reaches a log or the
		// outbox's last error.
		return redactUpload(err)
	})
}

// openView opens a modal for the trigger of an interaction.
func (p *Poster) openView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error {
	if p.api == nil {
		return ErrNoToken
	}
	_, err := p.api.OpenViewContext(ctx, triggerID, view)
	return err
}

// replace puts msgs (the first) in place of the message an interaction came
// from, through its response_url.
func (p *Poster) replace(ctx context.Context, responseURL string, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	wm := webhookMessage(msgs[0], false)
	wm.ReplaceOriginal = true
	wm.ResponseType = ""
	if err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, p.hc, wm); err != nil {
		return redactURL(err)
	}
	return nil
}

// maxViewBlocks is Slack's limit of blocks in a view.
const maxViewBlocks = 100

// Publish shows r as user's Home tab (views.publish), within Slack's block
// limit: a longer view ends with a pointer to the commands.
func (p *Poster) Publish(ctx context.Context, user string, r bot.Reply) error {
	if p.api == nil {
		return ErrNoToken
	}
	view := HomeView(r, p.Writes)
	return p.retry(ctx, "views.publish", user, func() error {
		_, err := p.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view})
		return err
	})
}

// HomeView is r as a Home tab: its messages' blocks in one view, at most
// Slack's 100; a longer one ends with a pointer to the commands. writes
// tells which commands' buttons act (see renderOptions).
func HomeView(r bot.Reply, writes func(string) bool) slack.HomeTabViewRequest {
	var blocks []slack.Block
	for _, m := range render(r, renderOptions{Writes: writes}) {
		blocks = append(blocks, m.Blocks...)
	}
	if len(blocks) > maxViewBlocks {
		blocks = append(blocks[:maxViewBlocks-1], contextBlock("内容较多，未全部显示：/pending、/unit 单位、/overdue"))
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
}

// respond posts msgs to a response_url (at most five, Slack's limit per URL)
// as ephemeral or in_channel messages.
func (p *Poster) respond(ctx context.Context, responseURL string, inChannel bool, msgs []Message) error {
	if responseURL == "" {
		return errors.New("slackbot: no response_url")
	}
	if len(msgs) > maxResponseURL {
		msgs = msgs[:maxResponseURL]
	}
	for _, m := range msgs {
		wm := webhookMessage(m, inChannel)
		err := p.retry(ctx, "response_url", "", func() error {
			return redactURL(slack.PostWebhookCustomHTTPContext(ctx, responseURL, p.hc, wm))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func webhookMessage(m Message, inChannel bool) *slack.WebhookMessage {
	wm := &slack.WebhookMessage{Text: m.Text, Blocks: &slack.Blocks{BlockSet: m.Blocks}, ResponseType: slack.ResponseTypeEphemeral}
	if inChannel {
		wm.ResponseType = slack.ResponseTypeInChannel
	}
	return wm
}

// redactUpload keeps an upload's error (and a 429, which retry reads) but
// without any URL in its text.
func redactUpload(err error) error {
	var rl *slack.RateLimitedError
	if err == nil || errors.As(err, &rl) {
		return err
	}
	return errors.New(urlInText.ReplaceAllString(err.Error(), "<url>"))
}

var urlInText = regexp.MustCompile(`https?://[^\s"']+`)

// redactURL drops the URL from a transport error: a response_url is a
// capability to post, not something for the log.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s response_url: %w", ue.Op, ue.Err)
	}
	return err
}

// retry runs call, waiting out 429s. Failures are logged with the channel.
func (p *Poster) retry(ctx context.Context, op, channel string, call func() error) error {
	attempts := max(p.MaxAttempts, 1)
	for i := 1; ; i++ {
		err := call()
		if err == nil {
			return nil
		}
		var rl *slack.RateLimitedError
		if errors.As(err, &rl) && i < attempts {
			d := max(rl.RetryAfter, time.Second)
			if p.MaxWait > 0 {
				d = min(d, p.MaxWait)
			}
			p.log.Warn("slack rate limited; waiting", "op", op, "channel", channel, "retry_after", d, "attempt", i)
			if werr := p.wait(ctx, d); werr != nil {
				p.log.Error("slack call abandoned during rate-limit wait", "op", op, "channel", channel, "err", werr)
				return werr
			}
			continue
		}
		p.log.Error("slack call failed", "op", op, "channel", channel, "err", err, "slack_error", slackError(err))
		return err
	}
}

// slackError is Slack's error code (e.g. not_in_channel), or "".
func slackError(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return "ratelimited"
	}
	return ""
}

// errorNote is what the user reads when an answer could not be delivered.
func errorNote(err error) bot.Reply {
	msg := "⚠️ 回复发送失败，请稍后重试。"
	switch slackError(err) {
	case "not_in_channel":
		msg = "⚠️ taskbot 不在此频道，无法在此回复：请先邀请它（/invite @taskbot）。"
	case "channel_not_found":
		msg = "⚠️ taskbot 无法访问此频道（私有频道需先邀请 taskbot）。"
	case "is_archived":
		msg = "⚠️ 此频道已归档，无法回复。"
	case "ratelimited":
		msg = "⚠️ Slack 限流，回复未能发出，请稍后重试。"
	}
	return bot.Reply{Title: msg, Error: true}
}

// outboxEvent is the message metadata event type of taskbot's outbox posts:
// its payload names the outbox message ("id") and the part of a long reply
// ("part").
const outboxEvent = "taskbot_outbox"

// PostOutbox posts r like Post, each message tagged with message metadata
// naming outbox message id and its part. With recheck (an earlier sender
// may have posted it, then died before recording so) it first looks for
// those tags among the conversation's latest 100 messages (the thread's,
// when threadTS is set) and posts only the parts not found: what Slack
// accepted once is not posted again. When the look fails (no history
// scope, say), it posts, and logs why: a message twice is better than none.
func (p *Poster) PostOutbox(ctx context.Context, channel, threadTS string, r bot.Reply, id uint, recheck bool) (string, error) {
	if p.api == nil {
		return "", ErrNoToken
	}
	msgs := render(r, renderOptions{Writes: p.Writes})
	var found map[int]string
	if recheck {
		var err error
		if found, err = p.postedParts(ctx, channel, threadTS, id); err != nil {
			p.log.Warn("could not check whether an outbox message was already posted; posting it", "outbox", id, "channel", channel, "err", err)
		}
	}
	tag := func(i int) []slack.MsgOption {
		return []slack.MsgOption{slack.MsgOptionMetadata(slack.SlackMetadata{EventType: outboxEvent, EventPayload: map[string]any{"id": id, "part": i}})}
	}
	return p.post(ctx, channel, threadTS, msgs, tag, found)
}

// postedParts finds the parts of outbox message id already in the
// conversation, by their metadata: part number → ts.
func (p *Poster) postedParts(ctx context.Context, channel, threadTS string, id uint) (map[int]string, error) {
	return p.tagged(ctx, channel, threadTS, outboxEvent, func(payload map[string]any) (int, bool) {
		got, ok := payload["id"].(float64)
		part, _ := payload["part"].(float64)
		return int(part), ok && uint(got) == id
	})
}

// tagged finds the messages among the latest 100 of the conversation (a
// thread's replies when threadTS is set) whose metadata is of eventType
// and matches: part number → ts.
func (p *Poster) tagged(ctx context.Context, channel, threadTS, eventType string, match func(payload map[string]any) (part int, ok bool)) (map[int]string, error) {
	if strings.HasPrefix(channel, "U") || strings.HasPrefix(channel, "W") {
		// A user: their DM with the bot is the conversation.
		var im *slack.Channel
		err := p.retry(ctx, "conversations.open", channel, func() error {
			var err error
			im, _, _, err = p.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{channel}, ReturnIM: true})
			return err
		})
		if err != nil {
			return nil, err
		}
		channel = im.ID
	}
	var msgs []slack.Message
	err := p.retry(ctx, "conversations.history", channel, func() error {
		if threadTS != "" {
			got, _, _, err := p.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
				ChannelID: channel, Timestamp: threadTS, Limit: 100, IncludeAllMetadata: true})
			msgs = got
			return err
		}
		res, err := p.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: channel, Limit: 100, IncludeAllMetadata: true})
		if res != nil {
			msgs = res.Messages
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	found := map[int]string{}
	for _, m := range msgs {
		if m.Metadata.EventType != eventType {
			continue
		}
		if part, ok := match(m.Metadata.EventPayload); ok {
			found[part] = m.Timestamp
		}
	}
	return found, nil
}

// threadEvent is the message metadata event type of a task's thread
// parent; its payload names the task ("task", the task's ID).
const threadEvent = "taskbot_thread"

// PostParent posts the parent message of task taskID's thread, tagged
// with message metadata. With recheck (a process that died may have posted
// it) it first looks for the tagged parent in the channel's latest
// messages and returns that one instead.
func (p *Poster) PostParent(ctx context.Context, channel string, taskID uint, r bot.Reply, recheck bool) (string, error) {
	if p.api == nil {
		return "", ErrNoToken
	}
	var found map[int]string
	if recheck {
		var err error
		found, err = p.tagged(ctx, channel, "", threadEvent, func(payload map[string]any) (int, bool) {
			got, ok := payload["task"].(float64)
			part, _ := payload["part"].(float64)
			return int(part), ok && uint(got) == taskID
		})
		if err != nil {
			p.log.Warn("could not check whether a thread parent was already posted; posting it", "task", taskID, "channel", channel, "err", err)
		}
	}
	tag := func(i int) []slack.MsgOption {
		return []slack.MsgOption{slack.MsgOptionMetadata(slack.SlackMetadata{EventType: threadEvent, EventPayload: map[string]any{"task": taskID, "part": i}})}
	}
	return p.post(ctx, channel, "", render(r, renderOptions{Writes: p.Writes}), tag, found)
}
