package slackbot

import (
	"context"
	"encoding/json"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"taskbot/bot"
	"taskbot/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func TestRenderTask6Golden(t *testing.T) {
	b := newBot(t)
	msgs := render(b.Handle(t.Context(), botReq("task 6")), renderOptions{Share: "task 6"})
	got, err := json.MarshalIndent(msgs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, filepath.Join("testdata", "task6.json"), got, *update)
}

// TestRenderSplitsLongReplies feeds a reply far over Slack's limits and
// checks every message respects them and nothing is lost.
func TestRenderSplitsLongReplies(t *testing.T) {
	long := strings.Repeat("督察发现渗滤液积存、处理不力，渗漏风险突出。", 400) // 8,800 runes, no newline
	r := bot.Reply{Title: strings.Repeat("标题", 100), Sections: []bot.Section{{Heading: "问题", Text: long}}, Footnotes: []string{"a < b & c"}}
	for i := range 300 {
		r.Sections = append(r.Sections, bot.Section{Items: []bot.Item{{Status: bot.StatusRed, Text: "节点 " + strings.Repeat("很", i%50)}}})
	}
	msgs := render(r, renderOptions{Share: "task 6"})
	if len(msgs) < 3 {
		t.Fatalf("%d messages; want the reply split", len(msgs))
	}
	var all strings.Builder
	for i, m := range msgs {
		if len(m.Blocks) > maxBlocks {
			t.Errorf("message %d: %d blocks; Slack allows %d", i, len(m.Blocks), maxBlocks)
		}
		total := 0
		for _, b := range m.Blocks {
			for _, txt := range texts(b) {
				n := utf8.RuneCountInString(txt)
				if n > maxSectionRunes+10 {
					t.Errorf("message %d: a text of %d runes", i, n)
				}
				total += n
				all.WriteString(txt)
			}
			if b.BlockType() == slack.MBTHeader {
				t.Errorf("message %d: a 200-rune title in a header block (limit 150)", i)
			}
		}
		if total > maxMessageRunes+200 {
			t.Errorf("message %d: %d runes of text; budget %d", i, total, maxMessageRunes)
		}
		if m.Text == "" || utf8.RuneCountInString(m.Text) > maxFallbackRune {
			t.Errorf("message %d: fallback of %d runes", i, utf8.RuneCountInString(m.Text))
		}
	}
	joined := strings.ReplaceAll(all.String(), "\n", "")
	if strings.Count(joined, "督察发现") != 400 {
		t.Errorf("text lost in splitting: %d of 400 sentences", strings.Count(joined, "督察发现"))
	}
	if !strings.Contains(joined, "a &lt; b &amp; c") {
		t.Errorf("footnote not escaped for mrkdwn")
	}
	last := msgs[len(msgs)-1].Blocks
	if last[len(last)-1].BlockType() != slack.MBTAction {
		t.Errorf("share button not at the end of the last message")
	}
	for _, m := range msgs[:len(msgs)-1] {
		if strings.Contains(blocksText(m.Blocks), "公开到频道") {
			t.Errorf("share button before the last message")
		}
	}
}

func TestRenderErrorHasNoButton(t *testing.T) {
	msgs := render(bot.Reply{Title: "⚠️ 不认识的命令", Error: true}, renderOptions{Share: "x"})
	if len(msgs) != 1 || strings.Contains(blocksText(msgs[0].Blocks), "公开到频道") {
		t.Errorf("error reply rendered %+v; want one message without a share button", msgs)
	}
}

func texts(b slack.Block) []string {
	var out []string
	switch b := b.(type) {
	case *slack.HeaderBlock:
		out = append(out, b.Text.Text)
	case *slack.SectionBlock:
		if b.Text != nil {
			out = append(out, b.Text.Text)
		}
		for _, f := range b.Fields {
			out = append(out, f.Text)
		}
	case *slack.ContextBlock:
		for _, e := range b.ContextElements.Elements {
			if t, ok := e.(*slack.TextBlockObject); ok {
				out = append(out, t.Text)
			}
		}
	}
	return out
}

// TestCompactCard: in Slack the card leads with the status, under 400
// characters for 共性6, with a title of at most 40 characters; the problem
// and measures are one command away.
func TestCompactCard(t *testing.T) {
	b := newBot(t)
	r := b.Handle(context.Background(), bot.Request{Text: "task 6", User: "U1"})
	msgs := render(r, renderOptions{})
	if len(msgs) != 1 {
		t.Fatalf("render(task 6) = %d messages; want 1", len(msgs))
	}
	text := msgs[0].Text
	if n := utf8.RuneCountInString(text); n > 400 {
		t.Errorf("compact card has %d characters; want at most 400:\n%s", n, text)
	}
	title := strings.SplitN(text, "\n", 2)[0]
	if n := utf8.RuneCountInString(strings.TrimPrefix(title, "【共性6】")); n > 40 {
		t.Errorf("title %q has %d characters after the code; want at most 40", title, n)
	}
	for _, bad := range []string{"整改措施", "整改目标"} {
		if strings.Contains(text, bad) {
			t.Errorf("compact card shows %s:\n%s", bad, text)
		}
	}
	if strings.Index(text, "逾期") > strings.Index(text, "节点1 2021-12-31") {
		t.Errorf("the status does not lead:\n%s", text)
	}
}

func TestShortTitle(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
	}{
		{"垃圾分类推进不力", "垃圾分类推进不力"},
		{"一二三四五六七，九十一二三四五六七八九十", "一二三四五六七…"}, // cut at the comma
		{"一二三四五六七八九十一二三四五六七八九十一二三四五", "一二三四五六七八九…"},
	} {
		if got := bot.ShortTitle(tt.in, 10); got != tt.want {
			t.Errorf("ShortTitle(%q, 10) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
