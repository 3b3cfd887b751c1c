package bot

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"taskbot/seeds"
	"taskbot/storage"
)

// newPeopleBot is a bot over a real SQLite file seeded with the task list,
// the collectives, and an invented directory.
func newPeopleBot(t testing.TB) *Bot {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open(filepath.Join(t.TempDir(), "taskbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Date(2021, 9, 20, 9, 0, 0, 0, time.UTC)
	store.Now = func() time.Time { return now }
	if _, _, err := seeds.Load(ctx, store, seeds.Xuchang); err != nil {
		t.Fatal(err)
	}
	err = store.ApplyUnits(ctx, []storage.UnitSpec{{Name: "各县（市、区）", Members: []string{"魏都区", "长葛市", "禹州市"}}})
	if err != nil {
		t.Fatal(err)
	}
	err = store.ApplyPeople(ctx, storage.PeopleSpec{
		Units: []storage.UnitPeople{
			{Unit: "市城管局", Members: []storage.PersonRef{storage.ParsePerson("张三 U0000ZS01")}},
			{Unit: "长葛市", Members: []storage.PersonRef{storage.ParsePerson("李四 U0000LS01")}},
		},
		Leaders:     map[string][]storage.PersonRef{"市政府分管城建副市长": {storage.ParsePerson("U0000LDR1")}},
		Supervisors: []storage.PersonRef{storage.ParsePerson("王五 U0000SUP1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	return New(store, loc, nil)
}

func (b *Bot) runCmd(user, text string) (Reply, error) {
	f := splitArgs(text)
	return lookup(f[0]).run(b, context.Background(), Request{Text: text, User: user, Now: time.Date(2021, 9, 20, 9, 0, 0, 0, time.UTC)}, f[1:])
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
	actions := []struct {
		name    string
		text    string
		allowed map[string]bool
	}{
		{"report", "progress 6 进展", report},
		{"percent", "progress 6 50% 进展", report},
		{"milestone done", "progress 6 完成 1 佐证", report},
		{"close request", "progress 6 申请销号 佐证", report},
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
				for _, setup := range []string{"progress 6 申请延期 2 2023-06-30 理由", "progress 6 申请销号 佐证", "unit bind 市城管局 U0000NEW1"} {
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
		{"U0000SUP1", "progress 5 申请延期 1 2021-11-30 理由"},
		{"U0000SUP1", "task 5 批准延期 1"},
		{"U0000ZS01", "progress 7 申请销号 佐证"},
		{"U0000SUP1", "task 7 销号"},
	} {
		if _, err := b.runCmd(c.user, c.text); err != nil && storage.ErrorCode(err) != storage.EFORBIDDEN {
			t.Fatalf("%q: %v", c.text, err)
		}
	}
	d, err := seeds.Parse(seeds.Xuchang)
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
	if len(as) != 2 {
		t.Errorf("task 6 has %d audit records; want 2", len(as))
	}
}

func FuzzParseProgress(f *testing.F) {
	for _, s := range []string{"6 进展", "6 @长葛市 60% 文字", "5 完成 1 证据 https://x.cn/a", "6 申请销号 2 证据",
		"6 申请延期 1 2021-12-31 理由", "6 --unit 城管 文字", "6 --unit", "6 完成", "6 120% x", "６ 完成 １ ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pa, err := ParseProgress(splitArgs(s))
		if err != nil {
			if storage.ErrorCode(err) != storage.EINVALID {
				t.Fatalf("ParseProgress(%q) error code %q; want invalid", s, storage.ErrorCode(err))
			}
			return
		}
		if pa.Percent != nil && (*pa.Percent < 0 || *pa.Percent > 100) {
			t.Fatalf("ParseProgress(%q) percent %d", s, *pa.Percent)
		}
		if pa.Kind == storage.KindExtensionRequest && pa.ExtendTo.IsZero() {
			t.Fatalf("ParseProgress(%q): extension without a date", s)
		}
	})
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

func FuzzParsePerson(f *testing.F) {
	for _, s := range []string{"U0123ABC", "<@U0123ABC|zhang>", "张三 U0123ABC", "a@b.cn", "<mailto:a@b.cn|a@b.cn>", "@张三", "", " "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := ParsePerson(s)
		if r.SlackID != "" && !storage.IsSlackID(r.SlackID) {
			t.Fatalf("ParsePerson(%q).SlackID = %q", s, r.SlackID)
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
