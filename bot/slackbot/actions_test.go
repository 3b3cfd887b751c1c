package slackbot

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"taskbot/bot"
	"taskbot/internal/testenv"
	"taskbot/storage"
)

// buttonsOf returns the buttons of rendered messages by label.
func buttonsOf(msgs []Message) map[string]*slack.ButtonBlockElement {
	out := map[string]*slack.ButtonBlockElement{}
	for _, m := range msgs {
		for _, blk := range m.Blocks {
			if ab, ok := blk.(*slack.ActionBlock); ok {
				for _, el := range ab.Elements.ElementSet {
					if btn, ok := el.(*slack.ButtonBlockElement); ok {
						out[btn.Text.Text] = btn
					}
				}
			}
		}
	}
	return out
}

// interact posts a signed interaction payload and returns the response.
func interact(t *testing.T, a *Adapter, payload map[string]any) (int, string) {
	t.Helper()
	raw, _ := json.Marshal(payload)
	w := httptest.NewRecorder()
	a.HTTPHandler().ServeHTTP(w, signed("/slack/interactivity", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(raw)}}.Encode())))
	return w.Code, w.Body.String()
}

// TestDecisionButtons: the supervisors' notice of a reported share carries
// 确认, 退回 and 不涉及. 确认 confirms as the presser and puts the outcome in
// place of the buttons; pressed again it only tells the presser; someone who
// is not a supervisor is refused. 退回 opens a form (views.open); an empty
// reason is refused in the form; with a reason the share goes back.
func TestDecisionButtons(t *testing.T) {
	b := newBot(t, testenv.Directory())
	a, views := viewsAdapter(t, b)
	hooks := newHooks(t)

	// 李四 of 长葛市 reports task 7 milestone 1 done; the office is told.
	r := b.Handle(context.Background(), bot.Request{Text: "progress 7 完成 1 台账已建立 https://example.gov.cn/cg", User: "U0000LS01"})
	var notice bot.Reply
	for _, n := range r.Notices {
		if strings.HasPrefix(n.To, "督查室") {
			notice = n.Reply
		}
	}
	buttons := buttonsOf(render(notice, renderOptions{Writes: a.Poster.Writes}))
	confirm, back := buttons["确认"], buttons["退回"]
	if confirm == nil || back == nil || buttons["不涉及"] == nil || !strings.HasPrefix(confirm.ActionID, DoActionID) || !strings.HasPrefix(back.ActionID, WhyActionID) {
		t.Fatalf("notice buttons = %v; want 确认 (acts), 退回 and 不涉及 (ask a reason)", buttons)
	}
	press := func(user string, btn *slack.ButtonBlockElement, hook string) {
		t.Helper()
		code, _ := interact(t, a, map[string]any{
			"type": "block_actions", "user": map[string]string{"id": user}, "channel": map[string]string{"id": "D1"},
			"response_url": hooks.url(hook), "trigger_id": "1.2.3",
			"actions": []map[string]any{{"action_id": btn.ActionID, "block_id": "b1", "type": "button", "value": btn.Value}},
		})
		if code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		a.wait()
	}
	share := func() string {
		t.Helper()
		shares, err := b.Store.TaskShares(context.Background(), 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range shares {
			if s.Unit == "长葛市" && s.Seq == 1 {
				return s.State
			}
		}
		return ""
	}

	press("U0000ZS01", confirm, "stranger") // 张三 is no supervisor
	if got := hooks.recorded(); len(got) != 1 || got[0].Msg.ReplaceOriginal || !strings.Contains(got[0].Msg.Text, "只有督查室") {
		t.Fatalf("a member's press answered %+v; want a refusal to them alone", got)
	}
	if s := share(); s != storage.ShareReported {
		t.Fatalf("share after a refused press = %s; want reported", s)
	}
	press("U0000SUP1", confirm, "confirm")
	got := hooks.recorded()
	if len(got) != 2 || !got[1].Msg.ReplaceOriginal || !strings.Contains(got[1].Msg.Text, "已确认") || !strings.Contains(got[1].Msg.Text, "<@U0000SUP1> 处理") {
		t.Fatalf("the supervisor's press answered %+v; want the message replaced with the outcome", got[1:])
	}
	if s := share(); s != storage.ShareConfirmed {
		t.Errorf("share after 确认 = %s; want confirmed", s)
	}
	press("U0000SUP1", confirm, "again")
	if got := hooks.recorded(); len(got) != 3 || got[2].Msg.ReplaceOriginal {
		t.Errorf("a second press answered %+v; want only a note to the presser", got[2:])
	}

	// 退回 asks for a reason in a form.
	press("U0000SUP1", back, "back")
	opened := views.Opened()
	if len(opened) != 1 || opened[0].CallbackID != ReasonCallbackID {
		t.Fatalf("views.open calls = %+v; want the reason form", opened)
	}
	meta := opened[0].PrivateMetadata
	submit := func(reason string) (int, string) {
		return interact(t, a, map[string]any{
			"type": "view_submission", "user": map[string]string{"id": "U0000SUP1"},
			"view": map[string]any{"callback_id": ReasonCallbackID, "private_metadata": meta,
				"state": map[string]any{"values": map[string]any{"reason": map[string]any{"reason": map[string]any{"type": "plain_text_input", "value": reason}}}}},
		})
	}
	if code, body := submit("  "); code != http.StatusOK || !strings.Contains(body, `"response_action":"errors"`) || !strings.Contains(body, "请写明理由") {
		t.Errorf("an empty reason = %d %s; want the form's error", code, body)
	}
	if code, body := submit("台账不完整"); code != http.StatusOK || strings.Contains(body, "errors") {
		t.Errorf("a reason = %d %s; want the form closed", code, body)
	}
	a.wait()
	if s := share(); s != storage.ShareOpen {
		t.Errorf("share after 退回 = %s; want open again", s)
	}
}

// TestProgressForm: 报送进展 on the card opens the form (views.open) with the
// reporter's open milestones; a submission with a file records the entry
// with its evidence; submitted twice it is recorded once; a bad percentage
// is shown in the form; someone who may not report is refused.
func TestProgressForm(t *testing.T) {
	b := newBot(t, testenv.Directory())
	a, views := viewsAdapter(t, b)
	hooks := newHooks(t)

	card := b.Handle(context.Background(), bot.Request{Text: "task 7", User: "U0000LS01"})
	btn := buttonsOf(render(card, renderOptions{Writes: a.Poster.Writes}))["报送进展"]
	if btn == nil || !strings.HasPrefix(btn.ActionID, FormActionID+"_report") {
		t.Fatalf("card buttons = %v; want 报送进展 for a member of 长葛市", buttonsOf(render(card, renderOptions{})))
	}
	if other := b.Handle(context.Background(), bot.Request{Text: "task 7", User: "U9STRANGER"}); buttonsOf(render(other, renderOptions{}))["报送进展"] != nil {
		t.Errorf("a stranger's card has 报送进展")
	}
	press := func(user string) {
		code, _ := interact(t, a, map[string]any{
			"type": "block_actions", "user": map[string]string{"id": user}, "channel": map[string]string{"id": "C1"},
			"response_url": hooks.url("form"), "trigger_id": "1.2.3",
			"actions": []map[string]any{{"action_id": btn.ActionID, "block_id": "b1", "type": "button", "value": btn.Value}},
		})
		if code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		a.wait()
	}
	press("U0000LS01")
	opened := views.Opened()
	if len(opened) != 1 || opened[0].CallbackID != ProgressCallbackID {
		t.Fatalf("views.open = %+v; want the progress form", opened)
	}
	view := opened[0]
	raw, _ := json.Marshal(view)
	for _, want := range []string{"整体进展", "节点1 2021-09-30", "节点2 2021-12-31", `"file_input"`, "本单位的该节点已完成"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the form lacks %q:\n%s", want, raw)
		}
	}
	press("U9STRANGER")
	if got := hooks.recorded(); len(got) != 1 || !strings.Contains(got[0].Msg.Text, "无权报送") {
		t.Errorf("a stranger's press answered %+v; want the refusal", got)
	}
	submit := func(percent string) (int, string) {
		return interact(t, a, map[string]any{
			"type": "view_submission", "user": map[string]string{"id": "U0000LS01"},
			"view": map[string]any{"id": "V123", "callback_id": ProgressCallbackID, "private_metadata": view.PrivateMetadata,
				"state": map[string]any{"values": map[string]any{
					"milestone": map[string]any{"milestone": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "1"}}},
					"done":      map[string]any{"done": map[string]any{"type": "checkboxes", "selected_options": []map[string]any{{"value": "done"}}}},
					"percent":   map[string]any{"percent": map[string]any{"type": "plain_text_input", "value": percent}},
					"text":      map[string]any{"text": map[string]any{"type": "plain_text_input", "value": "排查台账已建立"}},
					"files": map[string]any{"files": map[string]any{"type": "file_input", "files": []map[string]any{{
						"id": "F77", "name": "台账.xlsx", "mimetype": "application/vnd.ms-excel", "size": 2048, "permalink": "https://files.example/F77"}}}},
				}}},
		})
	}
	if code, body := submit("150"); code != http.StatusOK || !strings.Contains(body, "0–100") {
		t.Errorf("percent 150 = %d %s; want the form's error", code, body)
	}
	for range 2 { // a double click
		if code, body := submit("100"); code != http.StatusOK || strings.Contains(body, "errors") {
			t.Fatalf("submission = %d %s; want the form closed", code, body)
		}
	}
	a.wait()
	entries, err := b.Store.TaskProgress(context.Background(), 7, 0)
	if err != nil || len(entries) != 1 || entries[0].Kind != storage.KindDone || entries[0].UnitName != "长葛市" || entries[0].MilestoneSeq != 1 {
		t.Fatalf("entries of task 7 = %+v, %v; want one 报完成 of 长葛市 on 节点1", entries, err)
	}
	files, _ := b.Store.Attachments(context.Background(), []uint{entries[0].ID})
	if fs := files[entries[0].ID]; len(fs) != 1 || fs[0].FileID != "F77" || fs[0].URL != "https://files.example/F77" {
		t.Errorf("evidence = %+v; want the uploaded 台账.xlsx", fs)
	}
	// The entry is in the task's thread, as a command's would be.
	inThread := 0
	for _, p := range views.Posts() {
		if p.Method == "chat.postMessage" && p.Channel == "C_TRACK" && p.ThreadTS != "" && strings.Contains(p.Text, "长葛市") {
			inThread++
		}
	}
	if inThread != 1 {
		t.Errorf("thread posts of the entry = %d; want 1; posts: %+v", inThread, views.Posts())
	}
}
