package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"taskbot/bot"
	"taskbot/internal/testenv"
	"taskbot/storage"
)

// newBot is a bot over the embedded list in a temp SQLite file, counting
// days in Asia/Shanghai.
func newBot(tb testing.TB) (*bot.Bot, *storage.Store) {
	tb.Helper()
	store := testenv.Store(tb)
	return bot.New(store, nil), store
}

func TestHandle(t *testing.T) {
	b, _ := newBot(t)
	sh := testenv.Shanghai(t)
	at := func(y int, m time.Month, d, h, min int, loc *time.Location) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	dec20 := at(2021, 12, 20, 9, 0, sh)
	tests := []struct {
		text     string
		now      time.Time
		wantErr  bool
		contains []string
		absent   []string
	}{
		{"task 6", dec20, false, []string{"【共性6】一些部门推动工作不力", "截至 2021-12-20", "【问题】", "【整改目标】", "【整改措施】", "6. 通过日常暗访抽查",
			"责任领导：市政府分管城建副市长", "牵头单位：市城管局", "责任单位：各县（市、区）", "责任人：牵头单位、责任单位主要负责同志",
			"节点1  2021-12-31  剩余 11 天", "节点2  2022-12-31  剩余 376 天"}, []string{"⚠️", "已逾期"}},
		{"/task ６", dec20, false, []string{"【共性6】", "剩余 11 天"}, nil},
		{"／task 6", dec20, false, []string{"【共性6】"}, nil},
		{"TASK 6", dec20, false, []string{"【共性6】"}, nil},
		{"task 共性6", dec20, false, []string{"【共性6】"}, nil},
		{"task 个性1", dec20, false, []string{"【个性1】部分地方履行生态环境保护党委领导", "责任单位：市委、市政府", "立行立改"}, []string{"责任人：", "牵头单位："}},
		{"task p1", dec20, false, []string{"【个性1】"}, nil},
		{"task ｐ１", dec20, false, []string{"【个性1】"}, nil},
		{"t 6", dec20, false, []string{"【共性6】"}, nil},
		{"任务 6", dec20, false, []string{"【共性6】"}, nil},
		{"6", dec20, false, []string{"【共性6】"}, nil},
		{"  task   6  ", dec20, false, []string{"【共性6】"}, nil},
		{"task 16", dec20, false, []string{"【共性16】", "责任单位：市城管局", "节点1  2022-12-31"}, []string{"牵头单位："}},
		{"task 8", dec20, false, []string{"节点1  2021-09-30  已逾期 81 天", "节点2  2021-12-31  剩余 11 天", "持续推进"}, nil},
		{"task 15", dec20, false, []string{"长期坚持"}, []string{"节点1"}},

		// Days are counted in Asia/Shanghai.
		{"task 6", at(2021, 12, 31, 9, 0, sh), false, []string{"截至 2021-12-31", "节点1  2021-12-31  今天到期"}, []string{"已逾期"}},
		{"task 6", at(2021, 12, 31, 15, 59, time.UTC), false, []string{"节点1  2021-12-31  今天到期"}, nil},
		{"task 6", at(2021, 12, 31, 17, 0, time.UTC), false, []string{"截至 2022-01-01", "节点1  2021-12-31  已逾期 1 天", "节点2  2022-12-31  剩余 364 天"}, []string{"今天到期"}},
		{"task 6", at(2022, 3, 1, 9, 0, sh), false, []string{"已逾期 60 天"}, nil},
		{"task 6", at(2023, 1, 1, 0, 0, sh), false, []string{"节点2  2022-12-31  已逾期 1 天"}, nil},

		{"task 99", dec20, true, []string{"没有共性任务 99", "1–23", "用法：/task"}, []string{"内部错误"}},
		{"task p2", dec20, true, []string{"没有个性任务 2", "1–1"}, nil},
		{"task abc", dec20, true, []string{"“abc”不是任务编号", "用法：/task"}, nil},
		{"task 0", dec20, true, []string{"不是任务编号"}, nil},
		{"task -1", dec20, true, []string{"不是任务编号"}, nil},
		{"task", dec20, true, []string{"请给出任务编号", "用法：/task"}, nil},
		{"task 6 7", dec20, true, []string{"“7”", "用法：/task"}, []string{"【共性6】"}},
		{"frobnicate", dec20, true, []string{"不认识的命令“frobnicate”", "/help"}, nil},
		{"/", dec20, true, []string{"请输入命令"}, nil},
		{"", dec20, true, []string{"请输入命令"}, nil},
		{"   ", dec20, true, []string{"请输入命令"}, nil},
		{"help", dec20, false, []string{"/task", "/help", "例：/task 6"}, []string{"⚠️"}},
		{"/帮助", dec20, false, []string{"/task"}, nil},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s@%s", tt.text, tt.now.Format(time.RFC3339)), func(t *testing.T) {
			r := b.Handle(ctx, bot.Request{Text: tt.text, User: "test", Now: tt.now})
			got := r.Text()
			if r.Error != tt.wantErr {
				t.Errorf("Handle(%q).Error = %v; want %v\n%s", tt.text, r.Error, tt.wantErr, got)
			}
			for _, s := range tt.contains {
				if !strings.Contains(got, s) {
					t.Errorf("Handle(%q) = %q; want it to contain %q", tt.text, got, s)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(got, s) {
					t.Errorf("Handle(%q) = %q; want no %q", tt.text, got, s)
				}
			}
		})
	}
}

// TestHandleSameCard checks that every way of naming a task gives exactly
// the same card.
func TestHandleSameCard(t *testing.T) {
	b, _ := newBot(t)
	now := time.Date(2021, 12, 20, 9, 0, 0, 0, testenv.Shanghai(t))
	ctx := context.Background()
	card := func(text string) string {
		return b.Handle(ctx, bot.Request{Text: text, Now: now}).Text()
	}
	for _, group := range [][]string{
		{"task 6", "/task ６", "t 6", "6", "task #6", "task 第6项", "task c6", "task 共性6"},
		{"task 个性1", "task p1", "task P1", "/t ｐ１"},
	} {
		want := card(group[0])
		for _, text := range group[1:] {
			if got := card(text); got != want {
				t.Errorf("Handle(%q) = %q; want %q (the card of %q)", text, got, want, group[0])
			}
		}
	}
}

// TestHandleUserState shows a milestone marked done and one extended.
func TestHandleUserState(t *testing.T) {
	b, store := newBot(t)
	sh := testenv.Shanghai(t)
	done := time.Date(2021, 12, 30, 20, 0, 0, 0, time.UTC) // 12-31 in Shanghai
	db := store.DB()
	err := db.Exec(`UPDATE milestones SET done_at = ?, open = ? WHERE seq = 1 AND task_id = (SELECT id FROM tasks WHERE code = '共性6')`, done, false).Error
	if err != nil {
		t.Fatal(err)
	}
	err = db.Exec(`UPDATE milestones SET extended_at = ?, due = ? WHERE seq = 2 AND task_id = (SELECT id FROM tasks WHERE code = '共性6')`, done, "2023-06-30").Error
	if err != nil {
		t.Fatal(err)
	}
	r := b.Handle(context.Background(), bot.Request{Text: "task 6", Now: time.Date(2022, 1, 10, 9, 0, 0, 0, sh)})
	got := r.Text()
	for _, want := range []string{"✅ 节点1  2021-12-31  已完成（2021-12-31）", "节点2  2023-06-30  剩余 536 天", "原定 2022-12-31，经批准延期至 2023-06-30"} {
		if !strings.Contains(got, want) {
			t.Errorf("Handle(task 6) = %q; want it to contain %q", got, want)
		}
	}
	if strings.Contains(got, "已逾期") {
		t.Errorf("Handle(task 6) = %q; a done milestone is not overdue", got)
	}
}

func TestParseTaskRef(t *testing.T) {
	tests := []struct {
		in      string
		want    bot.TaskRef
		wantErr bool
	}{
		{"6", bot.TaskRef{Section: 1, Number: 6}, false},
		{"６", bot.TaskRef{Section: 1, Number: 6}, false},
		{"23", bot.TaskRef{Section: 1, Number: 23}, false},
		{"#6", bot.TaskRef{Section: 1, Number: 6}, false},
		{"第6项", bot.TaskRef{Section: 1, Number: 6}, false},
		{"共性6", bot.TaskRef{Section: 1, Number: 6}, false},
		{"c6", bot.TaskRef{Section: 1, Number: 6}, false},
		{"个性1", bot.TaskRef{Section: 2, Number: 1}, false},
		{"p1", bot.TaskRef{Section: 2, Number: 1}, false},
		{"P1", bot.TaskRef{Section: 2, Number: 1}, false},
		{"ｐ１", bot.TaskRef{Section: 2, Number: 1}, false},
		{" 6 ", bot.TaskRef{Section: 1, Number: 6}, false},
		{"", bot.TaskRef{}, true},
		{"abc", bot.TaskRef{}, true},
		{"0", bot.TaskRef{}, true},
		{"-1", bot.TaskRef{}, true},
		{"6.5", bot.TaskRef{}, true},
		{"99999", bot.TaskRef{}, true},
		{"个性", bot.TaskRef{}, true},
		{"p", bot.TaskRef{}, true},
		{"task", bot.TaskRef{}, true},
	}
	for _, tt := range tests {
		got, err := bot.ParseTaskRef(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseTaskRef(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && storage.ErrorCode(err) != storage.EINVALID {
			t.Errorf("ParseTaskRef(%q) error code = %q; want %q", tt.in, storage.ErrorCode(err), storage.EINVALID)
		}
	}
}

func TestDaysLabel(t *testing.T) {
	today := storage.NewDate(2021, 12, 31)
	tests := []struct {
		due  storage.Date
		want string
		st   bot.Status
	}{
		{storage.NewDate(2022, 1, 1), "剩余 1 天", bot.StatusYellow},
		{storage.NewDate(2021, 12, 31), "今天到期", bot.StatusYellow},
		{storage.NewDate(2021, 12, 30), "已逾期 1 天", bot.StatusRed},
		{storage.NewDate(2022, 1, 7), "剩余 7 天", bot.StatusYellow},
		{storage.NewDate(2022, 1, 8), "剩余 8 天", bot.StatusGreen},
		{storage.NewDate(2020, 12, 31), "已逾期 365 天", bot.StatusRed},
	}
	for _, tt := range tests {
		if got := bot.DaysLabel(tt.due, today); got != tt.want {
			t.Errorf("DaysLabel(%s, %s) = %q; want %q", tt.due, today, got, tt.want)
		}
		if got := bot.DueStatus(tt.due, today); got != tt.st {
			t.Errorf("DueStatus(%s, %s) = %v; want %v", tt.due, today, got, tt.st)
		}
	}
}

func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		"task 6", "/task ６", "task 个性1", "task p1", "t 6", "6", "task 99", "task abc", "task", "task 6 7",
		"frobnicate", "help", "", "/", "／", "task 第6项", "task #", "task 共性", "task 99999999999999999999",
		"unit 城管", "units", "due 30", "overdue", "search 垃圾 渗滤液", "leader 副市长", "due -1", "due 99999999999",
	} {
		f.Add(s)
	}
	b, _ := newBot(f)
	now := time.Date(2021, 12, 31, 17, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, text string) {
		r := b.Handle(context.Background(), bot.Request{Text: text, User: "fuzz", Now: now})
		got := r.Text()
		if strings.TrimSpace(got) == "" {
			t.Fatalf("Handle(%q) gave an empty reply", text)
		}
		// Handle recovers from panics and reports them as internal errors;
		// user input must never get that far.
		if strings.Contains(got, "内部错误") {
			t.Fatalf("Handle(%q) = %q; an internal error (or a recovered panic)", text, got)
		}
	})
}

func FuzzParseTaskRef(f *testing.F) {
	for _, s := range []string{"6", "６", "#6", "第6项", "共性6", "c6", "个性1", "p1", "ｐ１", "", "abc", "0", "-1", "+6", " 6", "第项", "99999",
		"省督察二轮/共性6", "回头看／任务3", "/6", "a/", "a/b/c", " x / 7 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := bot.ParseTaskRef(s)
		if err != nil {
			if ref != (bot.TaskRef{}) {
				t.Errorf("ParseTaskRef(%q) = %+v with error %v; want the zero ref", s, ref, err)
			}
			if storage.ErrorCode(err) != storage.EINVALID {
				t.Errorf("ParseTaskRef(%q) error code = %q; want invalid", s, storage.ErrorCode(err))
			}
			return
		}
		if ref.List != "" {
			// A task of a named list: its name and code, which read back
			// as the same reference.
			if ref.Code == "" || strings.ContainsAny(ref.List, "/／") || strings.ContainsAny(ref.Code, "/／") ||
				strings.TrimSpace(ref.List) != ref.List || !utf8.ValidString(ref.List+ref.Code) {
				t.Fatalf("ParseTaskRef(%q) = %+v; want a list name and a code without slashes or outer spaces", s, ref)
			}
			if back, err := bot.ParseTaskRef(ref.List + "/" + ref.Code); err != nil || back != ref {
				t.Errorf("ParseTaskRef(%q) = %+v, %v; want %+v (from %q)", ref.List+"/"+ref.Code, back, err, ref, s)
			}
			return
		}
		if ref.Section != 1 && ref.Section != 2 || ref.Number <= 0 {
			t.Fatalf("ParseTaskRef(%q) = %+v; want section 1 or 2 and a positive number", s, ref)
		}
		// The canonical code names the same task.
		code := fmt.Sprintf("%s%d", map[int]string{1: "共性", 2: "个性"}[ref.Section], ref.Number)
		if back, err := bot.ParseTaskRef(code); err != nil || back != ref {
			t.Errorf("ParseTaskRef(%q) = %+v, %v; want %+v (from %q)", code, back, err, ref, s)
		}
	})
}

// BenchmarkTask6 answers `task 6` on the embedded list: from the store
// (the read model off) and from the read model (a repeated question).
func BenchmarkTask6(b *testing.B) {
	bt, _ := newBot(b)
	ctx := context.Background()
	req := bot.Request{Text: "task 6", Now: time.Date(2021, 12, 20, 9, 0, 0, 0, testenv.Shanghai(b))}
	for _, cached := range []bool{false, true} {
		b.Run(map[bool]string{false: "store", true: "cached"}[cached], func(b *testing.B) {
			bt.NoCache = !cached
			if r := bt.Handle(ctx, req); r.Error {
				b.Fatal(r.Text())
			}
			b.ReportAllocs()
			for b.Loop() {
				if r := bt.Handle(ctx, req); r.Error {
					b.Fatal(r.Text())
				}
			}
		})
	}
}

func TestReadOnly(t *testing.T) {
	b, _ := newBot(t)
	for _, tt := range []struct {
		text string
		want bool
	}{
		{"task 6", true}, {"6", true}, {"task 6 history", true}, {"task 6 历史", true},
		{"unit 长葛市", true}, {"unit members 城管", true}, {"due 7", true}, {"overdue", true},
		{"search 污泥", true}, {"help", true}, {"nonsense", true},
		{"progress 6 已完成", false}, {"进展 6 已完成", false}, {"task 6 销号", false}, {"task 6 退回 理由", false},
		{"task 6 批准延期 1", false}, {"task 6 驳回延期 1 x", false}, {"unit bind 城管 U1", false},
		{"unit unbind 城管 U1", false}, {"", false},
	} {
		if got := b.ReadOnly(tt.text); got != tt.want {
			t.Errorf("ReadOnly(%q) = %v; want %v", tt.text, got, tt.want)
		}
	}
}

// TestHelpCommand: `help NAME` lists the command's verbs with their
// aliases, and says who may use those reserved to some.
func TestHelpCommand(t *testing.T) {
	b, _ := newBot(t)
	for _, tt := range []struct {
		text string
		want []string
	}{
		{"help task", []string{"/task 命令", "销号", "close", "批准延期", "approve", "仅限督查室"}},
		{"/help /task", []string{"/task 命令", "销号"}},
		{"帮助 任务", []string{"/task 命令", "销号"}},
		{"help unit", []string{"/unit 命令", "bind", "绑定"}},
		{"help progress", []string{"/progress 命令", "完成", "done"}},
	} {
		r := b.Handle(context.Background(), bot.Request{Text: tt.text})
		if r.Error {
			t.Errorf("Handle(%q) = error %q", tt.text, r.Title)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(r.Text(), w) {
				t.Errorf("Handle(%q) lacks %q:\n%s", tt.text, w, r.Text())
			}
		}
	}
	for _, text := range []string{"help frobnicate", "help task unit"} {
		if r := b.Handle(context.Background(), bot.Request{Text: text}); !r.Error {
			t.Errorf("Handle(%q) = %q; want an error", text, r.Text())
		}
	}
}

// TestErrorUsage: the usage line follows input that may be mistyped
// (invalid, or naming nothing that exists), never a refusal or a conflict:
// those say who may, or what stands in the way (issue 10: "只有督查室可以销号"
// was followed by the whole usage line).
func TestErrorUsage(t *testing.T) {
	b := bot.New(testenv.Store(t, testenv.Directory()), nil)
	ctx := context.Background()
	now := testenv.At(t, "2021-09-20 09:00")
	for _, tt := range []struct {
		user, text, says string
		usage            bool
	}{
		{"U0000XXX1", "task 6 销号", "只有督查室", false},
		{"U0000XXX1", "task 6 批准延期 1", "只有督查室", false},
		{"U0000XXX1", "unit bind 市城管局 U0000NEW1", "只有督查室", false},
		{"U0000XXX1", "progress 6 我来报一下", "您无权报送", false},
		{"U0000SUP1", "unit bind 市城管局 U0000ZS01", "已是该单位成员", false}, // a conflict
		{"U0000ZS01", "progress 6 -5% x", "0%–100%", true},
		{"U0000ZS01", "task abc", "不是任务编号", true},
		{"U0000ZS01", "task 99", "没有共性任务 99", true},
	} {
		r := b.Handle(ctx, bot.Request{Text: tt.text, User: tt.user, Now: now})
		got := r.Text()
		if !r.Error || !strings.Contains(r.Title, tt.says) {
			t.Errorf("Handle(%q) = %q; want an error saying %q", tt.text, got, tt.says)
		}
		if strings.Contains(got, "用法：") != tt.usage {
			t.Errorf("Handle(%q) = %q; want usage line %v", tt.text, got, tt.usage)
		}
	}
}
