package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"taskbot/bot"
	"taskbot/internal/testenv"
	"taskbot/storage"
)

// counties are the nine members of 各县（市、区） in the shipped organisation.
var counties = []string{"魏都区", "建安区", "禹州市", "长葛市", "鄢陵县", "襄城县", "城乡一体化示范区", "经济技术开发区", "东城区"}

// shareBot is a bot over the seed with an organisation of three counties'
// members, one city bureau, a leader post and a supervisor.
func shareBot(t testing.TB) *bot.Bot {
	t.Helper()
	store := testenv.Store(t,
		testenv.Units(storage.UnitSpec{Name: "各县（市、区）", Members: counties}),
		testenv.People(storage.PeopleSpec{
			Units: []storage.UnitPeople{
				{Unit: "长葛市", Members: []storage.PersonRef{{SlackID: "U0000LS01", Name: "李四"}}},
				{Unit: "鄢陵县", Members: []storage.PersonRef{{SlackID: "U0000YL01", Name: "周九"}}},
				{Unit: "禹州市", Members: []storage.PersonRef{{SlackID: "U0000YZ01", Name: "吴十"}}},
				{Unit: "市水利局", Members: []storage.PersonRef{{SlackID: "U0000SL01", Name: "郑一"}}},
				{Unit: "市城管局", Members: []storage.PersonRef{{SlackID: "U0000ZS01", Name: "张三"}}},
			},
			Leaders:     map[string][]storage.PersonRef{"市政府分管城建副市长": {{SlackID: "U0000LDR1"}}},
			Supervisors: []storage.PersonRef{{SlackID: "U0000SUP1", Name: "王五"}},
		}))
	return bot.New(store, nil)
}

// say runs text as user on day (the clock pinned there, so entries and
// decisions are stamped that day) and returns the reply's text.
func say(t *testing.T, b *bot.Bot, day, user, text string) (string, bot.Reply) {
	t.Helper()
	at := testenv.At(t, day+" 10:00")
	b.Store.Clock.AsOf = func() time.Time { return at }
	r := b.Handle(context.Background(), bot.Request{Text: text, User: user})
	return r.Text(), r
}

func mustContain(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s = %q; want it to contain %q", what, got, w)
		}
	}
}

func mustNotContain(t *testing.T, what, got string, bad ...string) {
	t.Helper()
	for _, w := range bad {
		if strings.Contains(got, w) {
			t.Errorf("%s = %q; want no %q", what, got, w)
		}
	}
}

// overdueLine is the line of `overdue` about task 7 milestone 1.
func overdueLine(t *testing.T, b *bot.Bot, day string) string {
	t.Helper()
	out, _ := say(t, b, day, "U0000LS01", "overdue")
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "共性7") && strings.Contains(l, "节点1") {
			return l
		}
	}
	return ""
}

// TestShareJourney: a county reports its own share; the milestone stays open
// for the others until the office confirms and marks the rest not concerned.
func TestShareJourney(t *testing.T) {
	b := shareBot(t)
	out, r := say(t, b, "2021-09-28", "U0000LS01", "progress 7 完成 1 长葛市排查台账已建立 https://example.gov.cn/cg.xlsx")
	if r.Error {
		t.Fatalf("progress 7 完成 1 = %q; want saved", out)
	}
	mustContain(t, "progress 7 完成 1", out, "长葛市 节点1 已报完成，待督查室确认")
	notice := ""
	for _, n := range r.Notices {
		if strings.HasPrefix(n.To, "督查室") {
			notice = n.Reply.Text()
		}
	}
	mustContain(t, "the supervisors' notice", notice, "完成报告：任务 共性7 节点1 长葛市", "/task 共性7 确认 1 长葛市", "https://example.gov.cn/cg.xlsx")

	card, _ := say(t, b, "2021-09-28", "U0000LS01", "task 7")
	mustContain(t, "task 7", card, "0/10 已确认 · 1 待确认 · 未完成：")
	line := overdueLine(t, b, "2021-10-08")
	mustContain(t, "overdue on 2021-10-08", line, "逾期", "市水利局", "鄢陵县", "待确认：长葛市")
	mustNotContain(t, "overdue's 未完成 list", strings.Split(line, "待确认")[0], "长葛市")

	// Reminders: 长葛市 is not chased for a share it reported, neither the
	// day before the deadline nor on the weekly overdue day (2021-10-08,
	// the first working day of the National Day week).
	for _, tt := range []struct{ day, step string }{{"2021-09-29", "d1"}, {"2021-10-08", "overdue"}} {
		plan, err := b.PlanReminders(context.Background(), testenv.At(t, tt.day+" 09:00"), bot.DefaultRemindPolicy())
		if err != nil {
			t.Fatal(err)
		}
		reached := map[string]bool{}
		for _, m := range plan.Messages {
			for _, c := range m.Covers {
				if strings.HasSuffix(c, "|共性7|1|"+tt.step) {
					reached[strings.Split(c, "|")[0]] = true
				}
			}
			if m.To.Name == "长葛市" && strings.Contains(m.Notice.Reply.Text(), "共性7 节点1") {
				t.Errorf("%s: 长葛市's reminder mentions 共性7 节点1:\n%s", tt.day, m.Notice.Reply.Text())
			}
		}
		if reached["长葛市"] || !reached["鄢陵县"] || !reached["市水利局"] {
			t.Errorf("%s: reminders about 共性7 节点1 (%s) reach %v; want 鄢陵县 and 市水利局, not 长葛市", tt.day, tt.step, reached)
		}
	}

	// Only the office decides.
	out, _ = say(t, b, "2021-10-08", "U0000YL01", "task 7 确认 1 长葛市")
	mustContain(t, "a county confirming", out, "只有督查室")
	out, r = say(t, b, "2021-10-08", "U0000SUP1", "task 7 确认 1 长葛市")
	if r.Error {
		t.Fatalf("task 7 确认 1 长葛市 = %q", out)
	}
	told := false
	for _, n := range r.Notices {
		told = told || len(n.UserIDs) == 1 && n.UserIDs[0] == "U0000LS01"
	}
	if !told {
		t.Errorf("confirming 长葛市's share told %v; want the reporter U0000LS01", r.Notices)
	}
	card, _ = say(t, b, "2021-10-08", "U0000SUP1", "task 7")
	mustContain(t, "task 7 after the confirmation", card, "1/10 已确认")
	out, _ = say(t, b, "2021-10-08", "U0000SUP1", "task 7 分解")
	mustContain(t, "task 7 分解", out, "长葛市 · 已确认 2021-10-08", "佐证 1", "鄢陵县 · 未完成")

	// The rest are not concerned: the milestone is done.
	for _, u := range append([]string{"市水利局"}, counties...) {
		if u == "长葛市" {
			continue
		}
		out, r := say(t, b, "2021-10-09", "U0000SUP1", "task 7 不涉及 1 "+u+" 无超计划用水企业")
		if r.Error {
			t.Fatalf("task 7 不涉及 1 %s = %q", u, out)
		}
	}
	card, _ = say(t, b, "2021-10-09", "U0000SUP1", "task 7")
	mustContain(t, "task 7 after every share settled", card, "✅ 节点1")
	if l := overdueLine(t, b, "2021-10-09"); l != "" {
		t.Errorf("overdue still lists 共性7 节点1: %q", l)
	}
	out, _ = say(t, b, "2021-10-09", "U0000LS01", "unit 长葛市")
	mustContain(t, "unit 长葛市", out, "本单位分工", "已确认 1")
	mustNotContain(t, "unit 长葛市", out, "共性7 节点1 2021-09-30")
}

// TestShareDecisionsRefuseBadInput: every reproduction of a decision that
// went wrong is refused, and nothing changes.
func TestShareDecisionsRefuseBadInput(t *testing.T) {
	b := shareBot(t)
	for _, bad := range []string{"0", "-1", "1.", "l", "第1个节点", "2147483648", "99999999999999999999", "3"} {
		out, r := say(t, b, "2021-10-08", "U0000SUP1", "task 6 销号 "+bad)
		if !r.Error {
			t.Errorf("task 6 销号 %s = %q; want refused", bad, out)
		}
		mustContain(t, "task 6 销号 "+bad, out, "可用 1、2", "未做任何更改")
	}
	card, _ := say(t, b, "2021-10-08", "U0000SUP1", "task 6")
	mustNotContain(t, "task 6 after the refusals", card, "已销号")
	out, r := say(t, b, "2021-10-08", "U0000SUP1", "task 7 确认 l 长葛市")
	if !r.Error {
		t.Errorf("task 7 确认 l = %q; want refused", out)
	}
	card, _ = say(t, b, "2021-10-08", "U0000SUP1", "task 7")
	mustContain(t, "task 7 after the refusal", card, "0/10 已确认")
}

// TestExtensionsSupersede: a newer request supersedes the older; an
// approval applies the newest and cannot be repeated.
func TestExtensionsSupersede(t *testing.T) {
	b := shareBot(t)
	say(t, b, "2021-09-20", "U0000ZS01", "progress 6 申请延期 1 2022-03-31 第一次申请")
	say(t, b, "2021-09-21", "U0000ZS01", "progress 6 申请延期 1 2022-01-31 第二次申请")
	out, r := say(t, b, "2021-09-22", "U0000SUP1", "task 6 批准延期 1")
	if r.Error {
		t.Fatalf("first approval = %q", out)
	}
	mustContain(t, "first approval", out, "延期至 2022-01-31")
	out, r = say(t, b, "2021-09-22", "U0000SUP1", "task 6 批准延期 1")
	if !r.Error {
		t.Errorf("second approval = %q; want refused (nothing pending)", out)
	}
	card, _ := say(t, b, "2021-09-22", "U0000SUP1", "task 6")
	mustContain(t, "task 6 after two approvals", card, "经批准延期至 2022-01-31")
	mustNotContain(t, "task 6 after two approvals", card, "延期至 2022-03-31")
}

// TestReopenAndClosedTask: a task closed by mistake comes back; progress
// on a closed task is kept and says so.
func TestReopenAndClosedTask(t *testing.T) {
	b := shareBot(t)
	if out, r := say(t, b, "2021-10-08", "U0000SUP1", "task 6 销号"); r.Error {
		t.Fatalf("task 6 销号 = %q", out)
	}
	out, r := say(t, b, "2021-10-09", "U0000ZS01", "progress 6 补充材料")
	if r.Error {
		t.Fatalf("progress on a closed task = %q; want saved", out)
	}
	mustContain(t, "progress on a closed task", out, "已销号", "已保存")
	out, _ = say(t, b, "2021-10-09", "U0000ZS01", "task 6 重新打开 误操作")
	mustContain(t, "a member reopening", out, "只有督查室")
	if out, r := say(t, b, "2021-10-10", "U0000SUP1", "task 6 重新打开 误操作"); r.Error {
		t.Fatalf("task 6 重新打开 = %q", out)
	}
	out, _ = say(t, b, "2021-10-10", "U0000SUP1", "due 90")
	mustContain(t, "due 90 after reopening", out, "共性6")
	out, _ = say(t, b, "2021-10-10", "U0000SUP1", "task 6 history")
	mustContain(t, "history", out, "重新打开：误操作")
}

// TestCloseRequestNeedsEvidence: no evidence, no request; open shares are
// named to the supervisor.
func TestCloseRequestNeedsEvidence(t *testing.T) {
	b := shareBot(t)
	out, r := say(t, b, "2021-10-08", "U0000ZS01", "progress 6 申请销号 已全部完成")
	if !r.Error {
		t.Fatalf("申请销号 without evidence = %q; want refused", out)
	}
	mustContain(t, "申请销号 without evidence", out, "佐证", "未保存")
	out, r = say(t, b, "2021-10-08", "U0000ZS01", "progress 6 申请销号 已全部完成 https://example.gov.cn/final")
	if r.Error {
		t.Fatalf("申请销号 with a link = %q", out)
	}
	mustContain(t, "申请销号 with open shares", out, "仍有未确认的分工", "节点1：")
	out, _ = say(t, b, "2021-10-09", "U0000SUP1", "pending")
	mustContain(t, "pending", out, "共性6 整体 销号申请", "佐证 1 项", "/task 共性6 销号")
}

// TestPending: reported shares and requests, oldest first; a unit member
// sees their own units' only.
func TestPending(t *testing.T) {
	b := shareBot(t)
	say(t, b, "2021-09-28", "U0000LS01", "progress 7 完成 1 长葛市台账")
	say(t, b, "2021-09-29", "U0000YL01", "progress 7 完成 1 鄢陵县台账 https://example.gov.cn/yl")
	say(t, b, "2021-09-30", "U0000ZS01", "progress 6 申请延期 1 2022-01-31 范围扩大")
	out, _ := say(t, b, "2021-10-08", "U0000SUP1", "pending")
	cg, yl, ext := strings.Index(out, "长葛市"), strings.Index(out, "鄢陵县"), strings.Index(out, "延期申请")
	if cg < 0 || yl < 0 || ext < 0 || !(cg < yl && yl < ext) {
		t.Errorf("pending for the office = %q; want 长葛市, then 鄢陵县, then the extension", out)
	}
	mustContain(t, "pending", out, "已等 10 天", "佐证 1 项", "/task 共性7 确认 1 长葛市")
	out, _ = say(t, b, "2021-10-08", "U0000LS01", "待办")
	mustContain(t, "pending for 长葛市", out, "长葛市")
	mustNotContain(t, "pending for 长葛市", out, "鄢陵县", "延期申请")
}

// TestFilesAreEvidence: files shared in a task's thread are kept with the
// entry (name, type, size, link), count as evidence for a close-out, and
// show where decisions are made.
func TestFilesAreEvidence(t *testing.T) {
	b := shareBot(t)
	ctx := context.Background()
	ref := &bot.ThreadRef{TaskID: 6, TaskCode: "共性6"}
	ts, err := b.TaskThread(ctx, ref, "CTRACK", func(context.Context, string, uint, bot.Reply, bool) (string, error) { return "100.1", nil })
	if err != nil {
		t.Fatal(err)
	}
	say(t, b, "2021-10-08", "U0000SUP1", "help") // pins the clock
	file := bot.File{ID: "F0001", Name: "渗滤液调查报告.pdf", Mime: "application/pdf", Size: 52431, URL: "https://files.example/F0001"}
	r, outcome, err := b.RecordThreadReply(ctx, bot.ThreadMessage{User: "U0000ZS01", Text: "完成 1 调查报告已上传", Channel: "CTRACK",
		ThreadTS: ts, TS: "100.2", Files: []bot.File{file}})
	if err != nil || outcome != bot.Recorded {
		t.Fatalf("RecordThreadReply = %q, %v, %v; want recorded", r.Text(), outcome, err)
	}
	mustContain(t, "the reply to a thread reply with a file", r.Text(), "📎渗滤液调查报告.pdf https://files.example/F0001")
	files, err := b.Store.Attachments(ctx, []uint{1})
	if err != nil || len(files[1]) != 1 || files[1][0].FileID != "F0001" || files[1][0].Size != 52431 || files[1][0].Mime != "application/pdf" {
		t.Errorf("Attachments(entry 1) = %+v, %v; want the PDF with its id, type and size", files, err)
	}
	out, _ := say(t, b, "2021-10-08", "U0000SUP1", "task 6 history")
	mustContain(t, "task 6 history", out, "📎渗滤液调查报告.pdf")
	out, _ = say(t, b, "2021-10-08", "U0000SUP1", "task 6 分解")
	mustContain(t, "task 6 分解", out, "市城管局 · 待确认 2021-10-08 · 佐证 1")
	out, _ = say(t, b, "2021-10-08", "U0000SUP1", "pending")
	mustContain(t, "pending", out, "共性6 节点1 完成报告 · 市城管局", "佐证 1 项")
	// A bad percentage with a file is refused, not saved as a plain report.
	if r, outcome, _ := b.RecordThreadReply(ctx, bot.ThreadMessage{User: "U0000ZS01", Text: "-5%", Channel: "CTRACK",
		ThreadTS: ts, TS: "100.3", Files: []bot.File{file}}); outcome != bot.Refused {
		t.Errorf("RecordThreadReply(-5%% + file) = %q, %v; want refused", r.Text(), outcome)
	}
	// The file counts as evidence for a close-out request.
	out, r = say(t, b, "2021-10-09", "U0000ZS01", "progress 6 申请销号 已全部完成")
	if r.Error {
		t.Errorf("申请销号 after a file was shared = %q; want saved", out)
	}
}

// FuzzDecisionVerbs: a supervisor's decision on task 7 with any arguments
// either changes the record (an audit entry) or is refused with a reply
// that says so; a refusal never changes anything, and nothing panics.
func FuzzDecisionVerbs(f *testing.F) {
	for _, s := range []string{"确认 1 长葛市", "确认 l", "退回 1 长葛市 理由", "退回 佐证不足", "不涉及 长葛市 无", "不涉及 2 鄢陵县 无",
		"销号 0", "销号 1", "销号 2147483648", "批准延期 1", "驳回延期 1 x", "重新打开 误", "不涉及", "确认 1 不存在的单位", "分解 x"} {
		f.Add(s)
	}
	b := shareBot(f)
	ctx := context.Background()
	audits := func() int64 {
		var n int64
		b.Store.DB().Table("audits").Count(&n)
		return n
	}
	f.Fuzz(func(t *testing.T, args string) {
		before := audits()
		r := b.Handle(ctx, bot.Request{Text: "task 7 " + args, User: "U0000SUP1", Now: testenv.At(t, "2021-10-08 10:00")})
		after := audits()
		if r.Error && after != before {
			t.Errorf("task 7 %s was refused (%q) but wrote %d audit entries", args, r.Title, after-before)
		}
		if !r.Error && strings.HasPrefix(r.Title, "✅ 已保存") && after == before {
			t.Errorf("task 7 %s said saved (%q) but wrote nothing", args, r.Title)
		}
	})
}

// TestHome: the Home tab is made for the person looking.
func TestHome(t *testing.T) {
	b := shareBot(t)
	say(t, b, "2021-09-28", "U0000LS01", "progress 7 完成 1 长葛市台账 https://example.gov.cn/cg")
	say(t, b, "2021-09-29", "U0000YL01", "progress 7 申请延期 1 2021-12-31 汛期施工受限")
	ctx := context.Background()
	now := testenv.At(t, "2021-10-08 09:00")
	home := func(user string) string {
		t.Helper()
		r, err := b.Home(ctx, user, now)
		if err != nil {
			t.Fatal(err)
		}
		return r.Text()
	}
	mustContain(t, "a supervisor's Home", home("U0000SUP1"), "本周概况（督查室）", "待审核（2 项）", "共性7 节点1 完成报告 · 长葛市", "/task 共性7 确认 1 长葛市",
		"共性7 节点1 延期申请至 2021-12-31 · 鄢陵县")
	member := home("U0000YL01")
	mustContain(t, "a member's Home", member, "鄢陵县 · 本单位分工", "共性7 节点1 2021-09-30 已逾期 8 天 · 未完成",
		"本单位的申请（待督查室审核，1 项）", "共性7 节点1 延期申请至 2021-12-31 · 鄢陵县 · 2021-09-29 提交")
	mustNotContain(t, "a member's Home", member, "待审核（", "长葛市")
	mustContain(t, "a leader's Home", home("U0000LDR1"), "分管任务：")
	mustContain(t, "a stranger's Home", home("U9999XXX1"), "尚未绑定到任何责任单位", "/task 6")
	// Deciding a share refreshes the reporter's Home.
	_, r := say(t, b, "2021-10-08", "U0000SUP1", "task 7 确认 1 长葛市")
	refreshed := false
	for _, n := range r.Notices {
		refreshed = refreshed || n.Home && len(n.UserIDs) == 1 && n.UserIDs[0] == "U0000LS01"
	}
	if !refreshed {
		t.Errorf("confirming 长葛市's share queued no Home refresh for U0000LS01: %+v", r.Notices)
	}
}

// TestUnitLeavesTask: when the last unit holding a milestone open leaves the
// task (the organisation changed), the milestone is done and nobody is
// reminded of it; a milestone the document drops takes its shares out of
// the lists.
func TestUnitLeavesTask(t *testing.T) {
	b := shareBot(t)
	ctx := context.Background()
	say(t, b, "2021-09-28", "U0000SUP1", "task 7 确认 1 长葛市 ")
	for _, u := range append([]string{"市水利局"}, counties...) {
		if u != "长葛市" && u != "鄢陵县" {
			say(t, b, "2021-09-28", "U0000SUP1", "task 7 不涉及 1 "+u+" 无")
		}
	}
	var rest []string
	for _, c := range counties {
		if c != "鄢陵县" {
			rest = append(rest, c)
		}
	}
	if err := b.Store.ApplyUnits(ctx, []storage.UnitSpec{{Name: "各县（市、区）", Members: rest}}); err != nil {
		t.Fatal(err)
	}
	card, _ := say(t, b, "2021-10-08", "U0000SUP1", "task 7")
	mustContain(t, "task 7 after 鄢陵县 left", card, "✅ 节点1")
	if l := overdueLine(t, b, "2021-10-08"); l != "" {
		t.Errorf("overdue still lists 共性7 节点1: %q", l)
	}
}

// TestNotConcernedKeepsConfirmed: 不涉及 without a milestone number marks the
// unit's open shares only; its confirmation stands.
func TestNotConcernedKeepsConfirmed(t *testing.T) {
	b := shareBot(t)
	say(t, b, "2021-09-20", "U0000LS01", "progress 7 完成 1 台账 https://example.gov.cn/cg")
	say(t, b, "2021-09-28", "U0000SUP1", "task 7 确认 1 长葛市")
	out, r := say(t, b, "2021-09-29", "U0000SUP1", "task 7 不涉及 长葛市 后续不涉及")
	if r.Error {
		t.Fatalf("不涉及 = %q", out)
	}
	out, _ = say(t, b, "2021-09-29", "U0000SUP1", "task 7 分解")
	n1 := out[strings.Index(out, "【节点1"):strings.Index(out, "【节点2")]
	n2 := out[strings.Index(out, "【节点2"):]
	mustContain(t, "节点1 of 分解", n1, "长葛市 · 已确认")
	mustContain(t, "节点2 of 分解", n2, "长葛市 · 不涉及")
}

// TestEntriesStoreValidUTF8: invalid UTF-8 and NUL bytes in a report are
// not stored raw: the entry holds valid UTF-8 (U+FFFD for the bad bytes),
// and the reply shows what was stored.
func TestEntriesStoreValidUTF8(t *testing.T) {
	b := shareBot(t)
	out, _ := say(t, b, "2021-09-28", "U0000LS01", "progress 7 台账\x00已建立\xff\xfe")
	entries, err := b.Store.TaskProgress(context.Background(), 7, 0)
	if err != nil || len(entries) != 1 {
		t.Fatalf("entries = %+v, %v; want one", entries, err)
	}
	text := entries[0].Text
	if !utf8.ValidString(text) || strings.ContainsRune(text, 0) || !strings.Contains(text, "台账已建立\uFFFD") {
		t.Errorf("stored text %q; want valid UTF-8, no NUL, the bad bytes as U+FFFD", text)
	}
	mustContain(t, "the reply", out, "台账已建立\uFFFD")
}
