package slackbot

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"taskbot/bot"
	"taskbot/internal/fakeslack"
	"taskbot/internal/testenv"
	"taskbot/storage"
)

// viewsAdapter is an adapter for b, signed requests on, over a recording
// fake of the Web API, its notices sent to threads in C_TRACK.
func viewsAdapter(t *testing.T, b *bot.Bot) (*Adapter, *fakeslack.Server) {
	t.Helper()
	f := fakeslack.New(t)
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	p := NewPoster(slack.New("xoxb-test-token", slack.OptionAPIURL(f.URL())), log)
	a := New(b, p, log)
	a.Notifier = NewNotifier(b, p, "C_TRACK", log)
	a.SigningSecret = testSecret
	t.Cleanup(func() { a.Shutdown(context.Background()) })
	return a, f
}

// itemButtons returns the buttons beside list lines (section accessories),
// by the line's text.
func itemButtons(blocks []slack.Block) map[string]*slack.ButtonBlockElement {
	out := map[string]*slack.ButtonBlockElement{}
	for _, blk := range blocks {
		if sb, ok := blk.(*slack.SectionBlock); ok && sb.Accessory != nil && sb.Accessory.ButtonElement != nil {
			out[sb.Text.Text] = sb.Accessory.ButtonElement
		}
	}
	return out
}

// findButton is the one item button whose line contains line and whose
// label is label.
func findButton(t *testing.T, blocks []slack.Block, line, label string) *slack.ButtonBlockElement {
	t.Helper()
	all := itemButtons(blocks)
	for text, btn := range all {
		if strings.Contains(text, line) && btn.Text.Text == label {
			return btn
		}
	}
	t.Fatalf("no %s button beside a line with %q; item buttons: %v", label, line, all)
	return nil
}

// checkViewLimits fails when a view breaks Slack's limits: 100 blocks,
// 3,000 characters per section text, 75 per button label, 2,000 per value,
// unique action ids.
func checkViewLimits(t *testing.T, name string, blocks []slack.Block) {
	t.Helper()
	if len(blocks) > maxViewBlocks {
		t.Errorf("%s: %d blocks; Slack allows %d", name, len(blocks), maxViewBlocks)
	}
	ids := map[string]bool{}
	button := func(b *slack.ButtonBlockElement) {
		if utf8.RuneCountInString(b.Text.Text) > 75 || utf8.RuneCountInString(b.Value) > maxButtonValue {
			t.Errorf("%s: button %q too long", name, b.Text.Text)
		}
		if ids[b.ActionID] {
			t.Errorf("%s: action id %s twice", name, b.ActionID)
		}
		ids[b.ActionID] = true
	}
	for _, blk := range blocks {
		switch b := blk.(type) {
		case *slack.SectionBlock:
			if b.Text != nil && utf8.RuneCountInString(b.Text.Text) > 3000 {
				t.Errorf("%s: section text of %d characters", name, utf8.RuneCountInString(b.Text.Text))
			}
			if b.Accessory != nil && b.Accessory.ButtonElement != nil {
				button(b.Accessory.ButtonElement)
			}
		case *slack.ActionBlock:
			for _, el := range b.Elements.ElementSet {
				if btn, ok := el.(*slack.ButtonBlockElement); ok {
					button(btn)
				}
			}
		}
	}
}

// TestHomeReviewButtons: a supervisor's Home lists the review queue with a
// 确认 button beside each report; pressed on the Home tab (no response_url)
// it confirms as the presser and publishes the Home again, the outcome on
// top and the line gone. The same line in /pending, pressed in a message,
// answers with a message of its own and leaves the list in place. A unit
// member's Home has 报送进展 beside each open share, which opens the form.
func TestHomeReviewButtons(t *testing.T) {
	b := newBot(t, testenv.Directory())
	a, views := viewsAdapter(t, b)
	hooks := newHooks(t)
	ctx := context.Background()

	// Before reporting, 李四's Home offers 报送进展 beside 长葛市's open shares.
	home, err := b.Home(ctx, "U0000LS01", testNow)
	if err != nil {
		t.Fatal(err)
	}
	view := HomeView(home, a.Poster.Writes)
	checkViewLimits(t, "member home", view.Blocks.BlockSet)
	form := findButton(t, view.Blocks.BlockSet, "7 节点1", "报送进展")
	if !strings.HasPrefix(form.ActionID, FormActionID+"_report") {
		t.Fatalf("报送进展 action id = %s; want the report form", form.ActionID)
	}
	press := func(user string, btn *slack.ButtonBlockElement, viewType, hook string) {
		t.Helper()
		p := map[string]any{
			"type": "block_actions", "user": map[string]string{"id": user}, "trigger_id": "1.2.3",
			"actions": []map[string]any{{"action_id": btn.ActionID, "block_id": "b1", "type": "button", "value": btn.Value}},
		}
		if viewType != "" {
			p["view"] = map[string]any{"id": "VH", "type": viewType}
			p["container"] = map[string]any{"type": "view", "view_id": "VH"}
		} else {
			p["channel"] = map[string]string{"id": "D1"}
			p["response_url"] = hooks.url(hook)
		}
		if code, _ := interact(t, a, p); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		a.wait()
	}
	press("U0000LS01", form, "home", "")
	opened := views.Opened()
	if len(opened) != 1 || opened[0].CallbackID != ProgressCallbackID || !strings.Contains(opened[0].PrivateMetadata, `"h":true`) {
		t.Fatalf("views.open = %+v; want the progress form, remembering the Home tab", opened)
	}
	if in, ok := opened[0].Blocks.BlockSet[1].(*slack.InputBlock); !ok || in.Element.(*slack.SelectBlockElement).InitialOption == nil ||
		in.Element.(*slack.SelectBlockElement).InitialOption.Value != "1" {
		t.Errorf("the form from 共性7 节点1's line preselects %+v; want milestone 1", opened[0].Blocks.BlockSet[1])
	}

	// Reported (by command here), the share waits on the supervisor's Home.
	if r := b.Handle(ctx, bot.Request{Text: "progress 7 完成 1 台账已建立 https://example.gov.cn/cg", User: "U0000LS01"}); r.Error {
		t.Fatalf("report refused: %s", r.Text())
	}
	home, err = b.Home(ctx, "U0000SUP1", testNow)
	if err != nil {
		t.Fatal(err)
	}
	view = HomeView(home, a.Poster.Writes)
	checkViewLimits(t, "supervisor home", view.Blocks.BlockSet)
	confirm := findButton(t, view.Blocks.BlockSet, "长葛市", "确认")
	if !strings.HasPrefix(confirm.ActionID, DoActionID) || !strings.Contains(confirm.ActionID, "_item") {
		t.Fatalf("确认 action id = %s; want a list line's action", confirm.ActionID)
	}
	// Someone else pressing a forged copy is refused, on their Home.
	press("U0000ZS01", confirm, "home", "")
	if s := shareState(t, b, 7, "长葛市", 1); s != storage.ShareReported {
		t.Fatalf("share after a member's press = %s; want reported", s)
	}
	press("U0000SUP1", confirm, "home", "")
	if s := shareState(t, b, 7, "长葛市", 1); s != storage.ShareConfirmed {
		t.Fatalf("share after the supervisor's press = %s; want confirmed", s)
	}
	// Each Home is published once: the refusal on the member's, the
	// outcome on the supervisor's, and the reporter's refreshed through
	// the outbox (their share was decided).
	refusedViews, doneViews, reporter := views.Published("U0000ZS01"), views.Published("U0000SUP1"), views.Published("U0000LS01")
	if len(refusedViews) != 1 || len(doneViews) != 1 || len(reporter) != 1 {
		t.Fatalf("views.publish calls: member %d, supervisor %d, reporter %d; want one each", len(refusedViews), len(doneViews), len(reporter))
	}
	refused, _ := json.Marshal(refusedViews[0])
	done, _ := json.Marshal(doneViews[0])
	refreshed, _ := json.Marshal(reporter[0])
	if !strings.Contains(string(refused), "只有督查室") {
		t.Errorf("the member's Home after a refused press = %s; want the refusal on top", refused)
	}
	if !strings.Contains(string(done), "刚才") || !strings.Contains(string(done), "已确认") || strings.Contains(string(done), confirm.Value) {
		t.Errorf("the supervisor's Home after 确认 = %s; want the outcome on top and the line gone", done)
	}
	if !strings.Contains(string(refreshed), "已确认 1") || strings.Contains(string(refreshed), "刚才") {
		t.Errorf("the reporter's refreshed Home = %s; want 已确认 1 in the counts", refreshed)
	}

	// In /pending (a message), the button answers beside the list.
	if r := b.Handle(ctx, bot.Request{Text: "progress 7 完成 2 已完成 https://example.gov.cn/cg2", User: "U0000LS01"}); r.Error {
		t.Fatalf("report refused: %s", r.Text())
	}
	var blocks []slack.Block
	for _, m := range render(b.Handle(ctx, bot.Request{Text: "pending", User: "U0000SUP1"}), renderOptions{Writes: a.Poster.Writes}) {
		blocks = append(blocks, m.Blocks...)
	}
	press("U0000SUP1", findButton(t, blocks, "节点2", "确认"), "", "pending")
	if got := hooks.recorded(); len(got) != 1 || got[0].Msg.ReplaceOriginal || !strings.Contains(got[0].Msg.Text, "已确认") {
		t.Errorf("a list line's press answered %+v; want a message of its own with the outcome", got)
	}
	if s := shareState(t, b, 7, "长葛市", 2); s != storage.ShareConfirmed {
		t.Errorf("share 2 after 确认 = %s; want confirmed", s)
	}
}

func shareState(t *testing.T, b *bot.Bot, task uint, unit string, seq int) string {
	t.Helper()
	shares, err := b.Store.TaskShares(context.Background(), task)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range shares {
		if s.Unit == unit && s.Seq == seq {
			return s.State
		}
	}
	return ""
}

// TestSampleViews keeps a sample of each view Slack is sent, as Slack
// receives it, in testdata (go test -run TestSampleViews -update rewrites
// them): a supervisor's and a unit member's Home, and the progress form.
// Paste one into Block Kit Builder to see it; each is within Slack's limits.
func TestSampleViews(t *testing.T) {
	b := newBot(t, testenv.Directory())
	ctx := context.Background()
	if r := b.Handle(ctx, bot.Request{Text: "progress 7 完成 1 台账已建立 https://example.gov.cn/cg", User: "U0000LS01"}); r.Error {
		t.Fatalf("report refused: %s", r.Text())
	}
	writes := func(c string) bool { return !b.ReadOnly(c) }
	for _, user := range []struct{ id, file string }{{"U0000SUP1", "home-supervisor.json"}, {"U0000LS01", "home-member.json"}} {
		home, err := b.Home(ctx, user.id, testNow)
		if err != nil {
			t.Fatal(err)
		}
		view := HomeView(home, writes)
		checkViewLimits(t, user.file, view.Blocks.BlockSet)
		got, _ := json.MarshalIndent(view, "", "  ")
		testenv.Golden(t, filepath.Join("testdata", user.file), got, *update)
	}
	title, choices, err := b.FormChoices(ctx, "U0000LS01", "7")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{bot.FormReport, bot.FormClose, bot.FormExtend} {
		view := ProgressView(kind, "7", title, choices, 2)
		checkViewLimits(t, kind, view.Blocks.BlockSet)
		got, _ := json.MarshalIndent(view, "", "  ")
		testenv.Golden(t, filepath.Join("testdata", "form-"+kind+".json"), got, *update)
	}
}
