package bot

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"taskbot/internal/testenv"
	"taskbot/seeds"
	"taskbot/storage"
)

// newPeopleBot is a bot over a real SQLite file seeded with the task list,
// the collectives, and an invented directory (testenv.Directory), as of
// 2021-09-20.
func newPeopleBot(t testing.TB) *Bot {
	t.Helper()
	return New(testenv.Store(t, testenv.Directory(), testenv.AsOf(time.Date(2021, 9, 20, 9, 0, 0, 0, time.UTC))), nil)
}

func (b *Bot) runCmd(user, text string) (Reply, error) {
	f := splitArgs(text)
	return b.lookup(f[0]).run(b, context.Background(), Request{Text: text, User: user, Now: time.Date(2021, 9, 20, 9, 0, 0, 0, time.UTC)}, f[1:])
}

// TestAuthorization: who may do what on task 6 (lead 市城管局, responsible
// 各县（市、区）, leader 市政府分管城建副市长).
func TestAuthorization(t *testing.T) {
	actors := []struct{ name, id string }{
		{"member", "U0000ZS01"}, {"collective member", "U0000LS01"}, {"leader", "U0000LDR1"},
		{"supervisor", "U0000SUP1"}, {"stranger", "U0000XXX1"},
	}
	report := map[string]bool{"member": true, "collective member": true, "leader": true, "supervisor": true}
	super := map[string]bool{"supervisor": true}
	// A unit's own share: its members, or a leader or supervisor on its behalf.
	forUnit := map[string]bool{"member": true, "leader": true, "supervisor": true}
	actions := []struct {
		name    string
		text    string
		allowed map[string]bool
	}{
		{"report", "progress 6 进展", report},
		{"percent", "progress 6 50% 进展", report},
		{"milestone done", "progress 6 @市城管局 完成 1 佐证", forUnit},
		{"close request", "progress 6 申请销号 佐证 https://example.gov.cn/e", report},
		{"extension request", "progress 6 申请延期 2 2023-06-30 理由", report},
		{"approve extension", "task 6 批准延期 2", super},
		{"reject extension", "task 6 驳回延期 2 理由", super},
		{"send back", "task 6 退回 理由", super},
		{"bind", "unit bind 市城管局 U0000NEW1", super},
		{"members", "unit members 市城管局", super},
		{"unbind", "unit unbind 市城管局 U0000NEW1", super},
		{"close", "task 6 销号", super},
	}
	for _, a := range actions {
		for _, who := range actors {
			t.Run(a.name+"/"+who.name, func(t *testing.T) {
				t.Parallel()
				b := newPeopleBot(t)
				// Give each decision something to decide.
				for _, setup := range []string{"progress 6 申请延期 2 2023-06-30 理由", "progress 6 申请销号 佐证 https://example.gov.cn/e", "unit bind 市城管局 U0000NEW1"} {
					if strings.Contains(a.text, "unbind") || !strings.HasPrefix(setup, "unit") {
						if _, err := b.runCmd("U0000SUP1", setup); err != nil {
							t.Fatalf("setup %q: %v", setup, err)
						}
					}
				}
				before, _ := b.Store.TaskProgress(context.Background(), 6, 0)
				_, err := b.runCmd(who.id, a.text)
				forbidden := storage.ErrorCode(err) == storage.EFORBIDDEN
				if forbidden == a.allowed[who.name] || (!forbidden && err != nil) {
					t.Fatalf("%s: %q = %v; want allowed=%v", who.name, a.text, err, a.allowed[who.name])
				}
				if forbidden {
					after, _ := b.Store.TaskProgress(context.Background(), 6, 0)
					if len(after) != len(before) {
						t.Errorf("refused %q stored an entry", a.text)
					}
					if msg := storage.ErrorMessage(err); !strings.Contains(msg, "督查室") {
						t.Errorf("refusal %q does not say who may act", msg)
					}
				}
			})
		}
	}
}

// TestReseedKeepsProgress: seeding again after progress, a done milestone,
// an approved extension and a close-out keeps every entry and state.
func TestReseedKeepsProgress(t *testing.T) {
	b := newPeopleBot(t)
	ctx := context.Background()
	for _, c := range []struct{ user, text string }{
		{"U0000LS01", "progress 6 进展一"},
		{"U0000ZS01", "progress 6 完成 1 佐证"},
		{"U0000SUP1", "task 6 销号 1"},
		{"U0000SUP1", "progress 5 申请延期 1 2021-11-30 理由"},
		{"U0000SUP1", "task 5 批准延期 1"},
		{"U0000ZS01", "progress 7 申请销号 佐证 https://example.gov.cn/e"},
		{"U0000SUP1", "task 7 销号"},
	} {
		if _, err := b.runCmd(c.user, c.text); err != nil && storage.ErrorCode(err) != storage.EFORBIDDEN {
			t.Fatalf("%q: %v", c.text, err)
		}
	}
	d, err := seeds.Parse(seeds.Xuchang())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Store.Seed(ctx, d.Records(), "another-version"); err != nil {
		t.Fatal(err)
	}
	ps, _ := b.Store.TaskProgress(ctx, 6, 0)
	if len(ps) != 2 {
		t.Errorf("task 6 has %d entries after re-seed; want 2", len(ps))
	}
	t6, _ := b.Store.FindTask(ctx, 1, 6)
	if !t6.Milestones[0].Done() || t6.Milestones[0].Open {
		t.Errorf("task 6 milestone 1 lost its done mark: %+v", t6.Milestones[0])
	}
	t5, _ := b.Store.FindTask(ctx, 1, 5)
	if got := t5.Milestones[0].Due.String(); got != "2021-11-30" {
		t.Errorf("task 5 milestone 1 due = %s after re-seed; want the extension 2021-11-30", got)
	}
	t7, _ := b.Store.FindTask(ctx, 1, 7)
	for _, m := range t7.Milestones {
		if m.Open {
			t.Errorf("closed task 7 has open milestone %d after re-seed", m.Seq)
		}
	}
	as, _ := b.Store.TaskAudits(ctx, 6)
	if len(as) != 3 { // the report, the share reported done, the milestone's 销号
		t.Errorf("task 6 has %d audit records; want 3", len(as))
	}
}

// FuzzParseProgress checks that a parse fails only as invalid input, and that
// what it reads is what the words say: written back in one canonical order
// (progressLine) it reads the same; a percentage comes from a word of the
// input; a leading "N%" is read as N, or rejected when over 100.
func FuzzParseProgress(f *testing.F) {
	for _, s := range []string{"6 进展", "6 @长葛市 60% 文字", "5 完成 1 证据 https://x.cn/a", "6 申请销号 2 证据",
		"6 申请延期 1 2021-12-31 理由", "6 --unit 城管 文字", "6 --unit", "6 完成", "6 120% x", "６ 完成 １ ok",
		"6 060%", "6 ６０％ 文字 50%", "个性1 申请销号 --unit= 2 证据", "c6 ＠ 完成 1 x", "6 --unit --unit 60% 申请延期 2 2024年2月29日 因为",
		"6 -5% x", "6 －５％ x", "6 完成 1 +5% x", "6 60% -5%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words := splitArgs(s)
		pa, err := ParseProgress(words)
		if len(words) > 1 {
			if n, ok := percentWord(words[1]); ok {
				switch {
				case n > 100 && err == nil:
					t.Errorf("ParseProgress(%q) accepted %q", s, words[1])
				case n <= 100 && err == nil && (pa.Percent == nil || *pa.Percent != n):
					t.Errorf("ParseProgress(%q) percent = %v; want %d", s, pa.Percent, n)
				}
			}
		}
		if err != nil {
			if storage.ErrorCode(err) != storage.EINVALID {
				t.Fatalf("ParseProgress(%q) error code %q; want invalid", s, storage.ErrorCode(err))
			}
			return
		}
		if pa.Percent != nil && !slices.ContainsFunc(words, func(w string) bool {
			n, ok := percentWord(w)
			return ok && n == *pa.Percent && n <= 100
		}) {
			t.Errorf("ParseProgress(%q) percent = %d, which no word of the input says", s, *pa.Percent)
		}
		if pa.Kind == storage.KindExtensionRequest && pa.ExtendTo.IsZero() {
			t.Fatalf("ParseProgress(%q): extension without a date", s)
		}
		line := progressLine(pa)
		back, err := ParseProgress(splitArgs(line))
		if err != nil {
			t.Fatalf("ParseProgress(%q) = %+v, written back as %q: %v", s, pa, line, err)
		}
		if diff := cmp.Diff(pa, back); diff != "" {
			t.Errorf("ParseProgress(%q) written back as %q reads differently (-first +second):\n%s", s, line, diff)
		}
	})
}

// percentWord reads w as a percentage the way a person writes one: one to
// three digits, then "%", either of them full-width.
func percentWord(w string) (int, bool) {
	w = strings.NewReplacer("０", "0", "１", "1", "２", "2", "３", "3", "４", "4",
		"５", "5", "６", "6", "７", "7", "８", "8", "９", "9", "％", "%").Replace(w)
	digits, ok := strings.CutSuffix(w, "%")
	if !ok || len(digits) < 1 || len(digits) > 3 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// progressLine writes pa back as the arguments of `progress`, in one fixed
// order: task, kind with its milestone and date, unit, percentage, text.
func progressLine(pa ProgressArgs) string {
	words := []string{map[int]string{1: "共性", 2: "个性"}[pa.Task.Section] + strconv.Itoa(pa.Task.Number)}
	switch pa.Kind {
	case storage.KindDone:
		words = append(words, "完成", strconv.Itoa(pa.Milestone))
	case storage.KindCloseRequest:
		words = append(words, "申请销号")
		if pa.Milestone != 0 {
			words = append(words, strconv.Itoa(pa.Milestone))
		}
	case storage.KindExtensionRequest:
		words = append(words, "申请延期", strconv.Itoa(pa.Milestone), pa.ExtendTo.String())
	}
	// Written even when empty, so that a number opening the text of
	// 申请销号 is not taken for its milestone.
	words = append(words, "--unit="+pa.Unit)
	if pa.Percent != nil {
		words = append(words, strconv.Itoa(*pa.Percent)+"%")
	}
	if pa.Text != "" {
		words = append(words, pa.Text)
	}
	return strings.Join(words, " ")
}

func FuzzParseExtensionDate(f *testing.F) {
	for _, s := range []string{"2021-12-31", "2021/2/29", "2024年2月29日", "２０２１-１２-３１", "2021-13-01", "0000-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseExtensionDate(s)
		if err != nil {
			return
		}
		if back, err := storage.ParseDate(d.String()); err != nil || back != d {
			t.Fatalf("ParseExtensionDate(%q) = %v, which does not round-trip", s, d)
		}
	})
}

func TestParseProgress(t *testing.T) {
	for _, c := range []struct {
		in, unit, kind, text string
		m, pct               int
	}{
		{"6 进展 内容", "", storage.KindReport, "进展 内容", 0, -1},
		{"6 @长葛市 60% 改造中", "长葛市", storage.KindReport, "改造中", 0, 60},
		{"5 完成 1 台账已建立", "", storage.KindDone, "台账已建立", 1, -1},
		{"5 申请销号 节点2 证据", "", storage.KindCloseRequest, "证据", 2, -1},
		{"5 申请销号 证据", "", storage.KindCloseRequest, "证据", 0, -1},
		{"6 --unit 长葛市 申请延期 1 2021-12-31 理由", "长葛市", storage.KindExtensionRequest, "理由", 1, -1},
	} {
		pa, err := ParseProgress(splitArgs(c.in))
		if err != nil {
			t.Errorf("ParseProgress(%q) = %v", c.in, err)
			continue
		}
		pct := -1
		if pa.Percent != nil {
			pct = *pa.Percent
		}
		if pa.Unit != c.unit || pa.Kind != c.kind || pa.Text != c.text || pa.Milestone != c.m || pct != c.pct {
			t.Errorf("ParseProgress(%q) = %+v", c.in, pa)
		}
	}
	// A bare milestone number is the milestone, asking for the evidence,
	// never a request to close the whole task with the text "2".
	if pa, err := ParseProgress(splitArgs("5 申请销号 2")); err == nil || pa.Milestone != 2 {
		t.Errorf("ParseProgress(%q) = %+v, %v; want milestone 2 and an error asking for evidence", "5 申请销号 2", pa, err)
	}
}

// TestBadPercentRefused: a word written as a percentage where one may
// stand, but signed or over 100, is refused saying what is valid, and
// nothing is saved (issue 10: `progress 6 -5% x` was saved as text). In
// the text it is text.
func TestBadPercentRefused(t *testing.T) {
	b := newPeopleBot(t)
	ctx := context.Background()
	now := time.Date(2021, 9, 20, 9, 0, 0, 0, time.UTC)
	for _, w := range []string{"-5%", "+5%", "−5%", "－５％", "150%", "１５０％", "-0%", "5.5%", "1000%"} {
		for _, text := range []string{"progress 6 " + w + " x", "progress 6 " + w, "progress 6 @长葛市 " + w + " x",
			"progress 6 完成 1 " + w + " x", "progress 6 申请销号 " + w + " x"} {
			r := b.Handle(ctx, Request{Text: text, User: "U0000LS01", Now: now})
			if got := r.Text(); !r.Error || !strings.Contains(r.Title, "不是有效的百分比") || !strings.Contains(r.Title, "0%–100%") {
				t.Errorf("Handle(%q) = %q; want a refusal saying valid values are 0%%–100%%", text, got)
			}
		}
	}
	if ps, err := b.Store.TaskProgress(ctx, 6, 0); err != nil || len(ps) != 0 {
		t.Errorf("task 6 has %d entries (%v) after bad percentages; want none", len(ps), err)
	}
	// In the text, or after the percentage, the same word is text.
	for _, text := range []string{"progress 6 @长葛市 降幅 -5%", "progress 6 @长葛市 60% -5% 环比"} {
		r := b.Handle(ctx, Request{Text: text, User: "U0000LS01", Now: now})
		if got := r.Text(); r.Error || !strings.Contains(got, "-5%") {
			t.Errorf("Handle(%q) = %q; want it saved with -5%% in the text", text, got)
		}
	}
}

// FuzzMilestoneArg: a decision's milestone number is accepted exactly when
// it reads as a number (ParseMilestone) and is one of the task's own; what
// is accepted is that number, and everything else is refused as invalid
// input naming the valid numbers.
func FuzzMilestoneArg(f *testing.F) {
	for _, s := range []string{"1", "2", "0", "-1", "1.", "l", "第1个节点", "节点2", "#1", "２", "2147483648", "99999999999999999999", "", " 1"} {
		f.Add(s)
	}
	t6 := &storage.Task{Code: "共性6", Milestones: []storage.Milestone{{Seq: 1}, {Seq: 2}, {Seq: 3, Retired: true}}}
	f.Fuzz(func(t *testing.T, w string) {
		n, err := milestoneArg(t6, w)
		p, perr := ParseMilestone(w)
		want := perr == nil && (p == 1 || p == 2)
		switch {
		case want && (err != nil || n != p):
			t.Errorf("milestoneArg(%q) = %d, %v; want %d", w, n, err, p)
		case !want && err == nil:
			t.Errorf("milestoneArg(%q) = %d; want refused (valid: 1, 2)", w, n)
		case !want && (storage.ErrorCode(err) != storage.EINVALID || !strings.Contains(storage.ErrorMessage(err), "可用 1、2")):
			t.Errorf("milestoneArg(%q) error = %v; want EINVALID listing 1、2", w, err)
		}
	})
}
