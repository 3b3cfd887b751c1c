package slackbot

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"taskbot/bot"
)

// ReasonCallbackID is the callback_id of the form that asks for a reason.
const ReasonCallbackID = "taskbot_reason"

// reasonBlock is the form's input block (and its action).
const reasonBlock = "reason"

// reasonForm is what the form carries from the button to its submission.
type reasonForm struct {
	Command string `json:"c"`
	origin
}

// origin is where a button was pressed, so the outcome shows there.
type origin struct {
	// ResponseURL answers in the conversation of the message (none on
	// the Home tab).
	ResponseURL string `json:"u,omitempty"`
	// Home: the button was on the presser's Home tab, which is published
	// again with the outcome on top.
	Home bool `json:"h,omitempty"`
	// Item: the button was beside one line of a list; the list stays and
	// the outcome comes as a message of its own.
	Item bool `json:"i,omitempty"`
}

func originOf(cb slack.InteractionCallback, act *slack.BlockAction) origin {
	return origin{ResponseURL: cb.ResponseURL, Home: cb.View.Type == slack.VTHomeTab,
		Item: strings.Contains(act.ActionID, "_item")}
}

// do runs a button's command that writes, as the presser: the message it
// came from then shows the outcome in place of its buttons, so a second
// press has nothing to press; a refusal goes to the presser alone.
func (a *Adapter) do(cb slack.InteractionCallback, act *slack.BlockAction) {
	text, user := act.Value, cb.User.ID
	log := a.Log.With("action", act.ActionID, "user", user, "channel", cb.Channel.ID)
	a.goJob(func(ctx context.Context) {
		reply := a.Bot.Handle(ctx, bot.Request{Text: text, User: user})
		a.deliver(reply.Notices)
		if err := a.outcome(ctx, originOf(cb, act), user, reply); err != nil {
			log.Error("button outcome not shown", "err", err)
		}
	})
}

// outcome shows what a decision did, or why nothing was done, where the
// button was: on the Home tab, published again with the outcome on top; as
// a message of its own for a line of a list; otherwise in place of the
// message, so its buttons cannot be pressed twice. A refusal goes to the
// presser alone.
func (a *Adapter) outcome(ctx context.Context, o origin, user string, reply bot.Reply) error {
	if o.Home {
		return a.homeWith(ctx, user, reply)
	}
	if reply.Error {
		return a.Poster.respond(ctx, o.ResponseURL, false, render(reply, renderOptions{}))
	}
	done := bot.Reply{Title: strings.TrimPrefix(reply.Title, "✅ 已保存："), Sections: reply.Sections,
		Footnotes: []string{"✅ 由 <@" + user + "> 处理"}}
	if o.Item {
		return a.Poster.respond(ctx, o.ResponseURL, false, render(done, renderOptions{}))
	}
	return a.Poster.replace(ctx, o.ResponseURL, render(done, renderOptions{}))
}

// homeWith publishes user's Home tab again, what they just did (or asked,
// or why it was refused) on top: the Home tab has no conversation to
// answer in.
func (a *Adapter) homeWith(ctx context.Context, user string, outcome bot.Reply) error {
	home, err := a.Bot.Home(ctx, user, time.Time{})
	if err != nil {
		return err
	}
	if outcome.Short != nil {
		outcome = *outcome.Short
	}
	top := []bot.Section{{Heading: "刚才：" + outcome.Title}}
	top = append(top, outcome.Sections...)
	home.Sections = append(top, home.Sections...)
	return a.Poster.Publish(ctx, user, home)
}

// why opens the form that asks the presser for a reason (views.open, inside
// Slack's 3-second window of the trigger).
func (a *Adapter) why(cb slack.InteractionCallback, act *slack.BlockAction) {
	label, command, ok := strings.Cut(act.Value, "\x1f")
	if !ok {
		return
	}
	meta, _ := json.Marshal(reasonForm{Command: command, origin: originOf(cb, act)})
	view := slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: ReasonCallbackID, PrivateMetadata: string(meta),
		Title: plain("填写理由"), Submit: plain("提交"), Close: plain("取消"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(mrkdwn(escape("/"+command)), nil, nil),
			slack.NewInputBlock(reasonBlock, plain(label), nil, multiline(reasonBlock)),
		}},
	}
	log := a.Log.With("action", act.ActionID, "user", cb.User.ID)
	a.goJob(func(ctx context.Context) {
		if err := a.Poster.openView(ctx, cb.TriggerID, view); err != nil {
			log.Error("reason form not opened", "err", err)
		}
	})
}

func multiline(actionID string) *slack.PlainTextInputBlockElement {
	el := slack.NewPlainTextInputBlockElement(plain("写明理由，审核记录中可见"), actionID)
	el.Multiline = true
	return el
}

// submitReason runs the command of a reason form with the reason, as the
// person submitting. It answers at once: errors shown in the form (a
// missing reason, a refusal), or nil to close it; the message the button
// was on then shows the outcome.
func (a *Adapter) submitReason(cb slack.InteractionCallback) *slack.ViewSubmissionResponse {
	var form reasonForm
	if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &form); err != nil || form.Command == "" {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{reasonBlock: "表单已失效，请重新点击按钮。"})
	}
	reason := ""
	if v, ok := cb.View.State.Values[reasonBlock][reasonBlock]; ok {
		reason = strings.Join(strings.Fields(v.Value), " ")
	}
	if reason == "" {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{reasonBlock: "请写明理由。"})
	}
	user := cb.User.ID
	ctx, cancel := context.WithTimeout(a.ctx, DefaultAckWithin)
	defer cancel()
	reply := a.Bot.Handle(ctx, bot.Request{Text: form.Command + " " + reason, User: user})
	if reply.Error {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{reasonBlock: strings.TrimPrefix(reply.Title, "⚠️ ")})
	}
	a.deliver(reply.Notices)
	log := a.Log.With("user", user, "command", form.Command)
	a.goJob(func(ctx context.Context) {
		if err := a.outcome(ctx, form.origin, user, reply); err != nil {
			log.Error("form outcome not shown", "err", err)
		}
	})
	return nil
}
