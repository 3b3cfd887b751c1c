// Package slackbot is the Slack adapter: slash commands, mentions, DMs and
// buttons arrive over HTTP (signed requests) or Socket Mode, go to the core
// as bot.Requests, and the core's bot.Replies go back as Block Kit messages.
// It is not named slack so as not to shadow slack-go.
package slackbot

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"taskbot/bot"
)

// Slack's limits, and the tighter budgets taskbot keeps under them. Slack
// counts "characters" in ways that make long Chinese text fail with
// msg_blocks_too_long far below the documented 40,000 (reports put it near
// 13,000 for a whole message), so the budgets leave a wide margin even if
// every character counted as three.
const (
	maxBlocks       = 50   // blocks per message (Slack)
	maxHeaderRunes  = 150  // header block text (Slack)
	maxFields       = 10   // fields per section block (Slack)
	maxContextElems = 10   // elements per context block (Slack)
	maxButtonValue  = 2000 // button value (Slack)
	maxSectionRunes = 1000 // per section text or field; Slack allows 3,000
	maxMessageRunes = 4000 // text across one message's blocks
	maxFallbackRune = 2000 // plain-text fallback of a message
	// maxResponseURL is how many messages one response_url accepts.
	maxResponseURL = 5
)

// Action ids of the buttons made from bot.Action: the value is the command.
const (
	// AskActionID: a command that reads, answered to the presser alone.
	AskActionID = "taskbot_ask"
	// DoActionID: a command that writes, run as the presser; the message
	// then shows the outcome in place of its buttons.
	DoActionID = "taskbot_do"
	// WhyActionID: a command that needs a reason: a form asks for it.
	WhyActionID = "taskbot_why"
)

// ShareActionID is the action_id of the "公开到频道" button; its value is the
// command text to run again and post to the channel.
const ShareActionID = "taskbot_share"

// Message is one Slack message of a rendered reply: Block Kit blocks and
// the plain-text fallback shown in notifications.
type Message struct {
	Text   string
	Blocks []slack.Block
}

// renderOptions change how a reply renders.
type renderOptions struct {
	// Share, when not empty, adds a "公开到频道" button that re-runs this
	// command text and posts the answer to the channel.
	Share string
	// Note is an extra context line at the end, e.g. who shared the answer.
	Note string
	// Writes tells which commands write (their buttons act; the others
	// only ask); nil: every button asks.
	Writes func(command string) bool
}

// piece is a block and the characters it carries, for packing.
type piece struct {
	block slack.Block
	runes int
}

// render turns a reply into one or more Slack messages that each respect
// Slack's limits (50 blocks, 3,000 characters per text, total size). A reply
// that fits is one message; a long one continues in the next messages.
func render(r bot.Reply, opt renderOptions) []Message {
	if r.Short != nil {
		r = *r.Short // chat leads with what changes; 全文 has the rest
	}
	var ps []piece
	add := func(b slack.Block, runes int) { ps = append(ps, piece{b, runes}) }
	mrkdwnSection := func(text string) {
		add(slack.NewSectionBlock(mrkdwn(text), nil, nil), utf8.RuneCountInString(text))
	}

	title := strings.TrimSpace(r.Title)
	switch n := utf8.RuneCountInString(title); {
	case n == 0:
	case n <= maxHeaderRunes && !strings.Contains(title, "\n"):
		add(slack.NewHeaderBlock(plain(title)), n)
	default:
		// Long task titles do not fit a header; keep them whole, in bold.
		for i, chunk := range splitText(title, maxSectionRunes-4) {
			if i == 0 {
				chunk = "*" + escape(chunk) + "*"
			} else {
				chunk = escape(chunk)
			}
			mrkdwnSection(chunk)
		}
	}
	if !r.AsOf.IsZero() {
		add(contextBlock("截至 "+r.AsOf.String()), 20)
	}
	itemN := 0 // item buttons so far: their action ids must differ
	for _, s := range r.Sections {
		heading := ""
		if s.Heading != "" {
			heading = "*" + escape(s.Heading) + "*\n"
		}
		if s.Text != "" {
			for _, chunk := range splitText(s.Text, maxSectionRunes-utf8.RuneCountInString(heading)) {
				mrkdwnSection(heading + escape(chunk))
				heading = ""
			}
		}
		if len(s.Fields) > 0 {
			if heading != "" && fieldsFit(s.Fields) {
				mrkdwnSection(strings.TrimSuffix(heading, "\n"))
				heading = ""
			}
			if fieldsFit(s.Fields) {
				for i := 0; i < len(s.Fields); i += maxFields {
					var fs []*slack.TextBlockObject
					n := 0
					for _, f := range s.Fields[i:min(i+maxFields, len(s.Fields))] {
						t := "*" + escape(f.Label) + "*\n" + escape(f.Value)
						fs = append(fs, mrkdwn(t))
						n += utf8.RuneCountInString(t)
					}
					add(slack.NewSectionBlock(nil, fs, nil), n)
				}
			} else {
				// A field too long for a field box reads as text lines.
				var lines []string
				for _, f := range s.Fields {
					lines = append(lines, f.Label+"："+f.Value)
				}
				for _, chunk := range splitText(strings.Join(lines, "\n"), maxSectionRunes-utf8.RuneCountInString(heading)) {
					mrkdwnSection(heading + escape(chunk))
					heading = ""
				}
			}
		}
		if hasActions(s.Items) {
			// A list of things to act on: a line per item, its button
			// beside it (a section's accessory).
			if heading != "" {
				mrkdwnSection(strings.TrimSuffix(heading, "\n"))
				heading = ""
			}
			for _, it := range s.Items {
				text := escape(clip(itemLine(it), maxSectionRunes))
				var acc *slack.Accessory
				if it.Action != nil {
					if btn := actionButton(*it.Action, fmt.Sprintf("item%d", itemN), opt); btn != nil {
						acc = slack.NewAccessory(btn)
						itemN++
					}
				}
				add(slack.NewSectionBlock(mrkdwn(text), nil, acc), utf8.RuneCountInString(text)+10)
			}
		} else if len(s.Items) > 0 {
			lines := make([]string, len(s.Items))
			for i, it := range s.Items {
				lines[i] = itemLine(it)
			}
			for _, chunk := range splitText(strings.Join(lines, "\n"), maxSectionRunes-utf8.RuneCountInString(heading)) {
				mrkdwnSection(heading + escape(chunk))
				heading = ""
			}
		}
		if heading != "" { // a heading with nothing under it
			mrkdwnSection(strings.TrimSuffix(heading, "\n"))
		}
		if s.More > 0 {
			add(contextBlock(s.MoreLine()), 16)
		}
	}
	notes := make([]string, 0, len(r.Footnotes)+1)
	for _, f := range r.Footnotes {
		notes = append(notes, escape(clip(f, maxSectionRunes)))
	}
	if opt.Note != "" {
		notes = append(notes, opt.Note) // our own mrkdwn, e.g. a mention
	}
	for i := 0; i < len(notes); i += maxContextElems {
		var els []slack.MixedElement
		n := 0
		for _, f := range notes[i:min(i+maxContextElems, len(notes))] {
			els = append(els, mrkdwn(f))
			n += utf8.RuneCountInString(f)
		}
		add(slack.NewContextBlock("", els...), n)
	}
	if len(ps) == 0 {
		// Slack refuses an empty message.
		add(slack.NewSectionBlock(plain("（无内容）"), nil, nil), 5)
	}

	// Pack pieces into messages, keeping one block free for the button.
	var msgs []Message
	var cur []slack.Block
	runes := 0
	for _, p := range ps {
		if len(cur) > 0 && (len(cur)+1 > maxBlocks-1 || runes+p.runes > maxMessageRunes) {
			msgs = append(msgs, Message{Blocks: cur})
			cur, runes = nil, 0
		}
		cur = append(cur, p.block)
		runes += p.runes
	}
	msgs = append(msgs, Message{Blocks: cur})
	var buttons []slack.BlockElement
	for i, a := range r.Actions {
		if btn := actionButton(a, strconv.Itoa(i), opt); btn != nil {
			buttons = append(buttons, btn)
		}
	}
	if opt.Share != "" && !r.Error && utf8.RuneCountInString(opt.Share) <= maxButtonValue {
		buttons = append(buttons, slack.NewButtonBlockElement(ShareActionID, opt.Share, plain("公开到频道")))
	}
	if len(buttons) > 0 {
		last := &msgs[len(msgs)-1]
		last.Blocks = append(last.Blocks, slack.NewActionBlock("", buttons...))
	}

	fallback := strings.TrimSpace(r.Text())
	if fallback == "" {
		fallback = "（无内容）"
	}
	msgs[0].Text = clip(fallback, maxFallbackRune)
	for i := 1; i < len(msgs); i++ {
		msgs[i].Text = clip(title, 100) + "（续 " + strconv.Itoa(i+1) + "/" + strconv.Itoa(len(msgs)) + "）"
	}
	return msgs
}

func fieldsFit(fs []bot.Field) bool {
	for _, f := range fs {
		if utf8.RuneCountInString(f.Label)+utf8.RuneCountInString(f.Value)+4 > maxSectionRunes {
			return false
		}
	}
	return true
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func contextBlock(s string) *slack.ContextBlock {
	return slack.NewContextBlock("", mrkdwn(escape(s)))
}

// escape makes text literal in mrkdwn: Slack requires &, < and > escaped.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escape(s string) string { return escaper.Replace(s) }

// splitText cuts s into pieces of at most n runes, preferring line breaks,
// then the end of a Chinese or Western sentence, then any rune.
func splitText(s string, n int) []string {
	s = strings.TrimRight(s, "\n")
	if utf8.RuneCountInString(s) <= n {
		return []string{s}
	}
	var out []string
	for utf8.RuneCountInString(s) > n {
		// Byte offset of the n-th rune.
		end := 0
		for i := 0; i < n; i++ {
			_, size := utf8.DecodeRuneInString(s[end:])
			end += size
		}
		cut := strings.LastIndexByte(s[:end], '\n')
		if cut <= 0 {
			cut = lastSentenceEnd(s[:end])
		}
		if cut <= 0 {
			cut = end
		}
		out = append(out, strings.TrimRight(s[:cut], "\n"))
		s = strings.TrimLeft(s[cut:], "\n")
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

// lastSentenceEnd is the byte offset just after the last sentence end in s,
// or 0 when there is none past its first half.
func lastSentenceEnd(s string) int {
	best := 0
	for _, p := range []string{"。", "；", "！", "？", ". "} {
		if i := strings.LastIndex(s, p); i >= 0 && i+len(p) > best {
			best = i + len(p)
		}
	}
	if best < len(s)/2 {
		return 0
	}
	return best
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// actionButton is the button of a, its action id the kind's (ask, do, why,
// form) followed by "_" and suffix; nil when the command is too long for a
// button's value.
func actionButton(a bot.Action, suffix string, opt renderOptions) *slack.ButtonBlockElement {
	if utf8.RuneCountInString(a.Command)+utf8.RuneCountInString(a.Reason)+1 > maxButtonValue {
		return nil
	}
	id := AskActionID
	switch {
	case a.Form != "":
		id = FormActionID + "_" + a.Form
	case a.Reason != "":
		id = WhyActionID
	case opt.Writes != nil && opt.Writes(a.Command):
		id = DoActionID
	}
	value := a.Command
	if a.Reason != "" {
		value = a.Reason + "\x1f" + a.Command
	}
	btn := slack.NewButtonBlockElement(id+"_"+suffix, value, plain(clip(a.Label, 75)))
	if id != AskActionID {
		btn.Style = slack.StylePrimary
	}
	return btn
}

// itemLine is an item as a line of text, its status marker first.
func itemLine(it bot.Item) string {
	if it.Status != bot.StatusNone {
		return it.Status.Marker() + " " + it.Text
	}
	return it.Text
}

// hasActions reports whether any item carries a button.
func hasActions(items []bot.Item) bool {
	for _, it := range items {
		if it.Action != nil {
			return true
		}
	}
	return false
}
