package console_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"taskbot/bot"
	"taskbot/bot/console"
	"taskbot/internal/testenv"
	"taskbot/ledger"
	"taskbot/storage"
)

// newConsole is a console over the embedded list in a temp SQLite file,
// as of 2021-09-23 09:00 in Asia/Shanghai, reading in.
func newConsole(t *testing.T, in string, interactive bool) (*console.Console, *bytes.Buffer) {
	t.Helper()
	store := testenv.Store(t, testenv.AsOf(testenv.At(t, "2021-09-23 09:00")))
	var out bytes.Buffer
	return &console.Console{Bot: bot.New(store, nil), In: strings.NewReader(in), Out: &out,
		User: "tester", Interactive: interactive}, &out
}

func TestConsoleLines(t *testing.T) {
	long := "task " + strings.Repeat("六", console.MaxLine)
	c, out := newConsole(t, "\n  \n"+long+"\ntask 6\r\n/task 个性1", false)
	if err := c.Run(context.Background()); err != nil {
		t.Fatalf("Run = %v", err)
	}
	got := out.String()
	for _, want := range []string{"输入过长", "【共性6】", "【个性1】"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(got, "taskbot>") || strings.Contains(got, "试试这些命令") {
		t.Errorf("piped input got a prompt or greeting:\n%.200s", got)
	}
	if n := strings.Count(got, "截至 2021-09-23"); n != 2 {
		t.Errorf("%d dated replies; want 2 (blank lines skipped, the long line refused)", n)
	}
}

func TestConsoleInteractive(t *testing.T) {
	c, out := newConsole(t, "task 6\nexit\ntask 7\n", true)
	if err := c.Run(context.Background()); err != nil {
		t.Fatalf("Run = %v", err)
	}
	got := out.String()
	if !strings.HasPrefix(got, "taskbot · ") || !strings.Contains(got, "--at 2021-09-23") {
		t.Errorf("no greeting with the --at hint:\n%.300s", got)
	}
	if !strings.Contains(got, "taskbot> ") || !strings.Contains(got, "【共性6】") {
		t.Errorf("no prompt or no answer:\n%.300s", got)
	}
	if strings.Contains(got, "【共性7】") {
		t.Error("kept reading after exit")
	}
}

// TestConsoleSendsNotices: progress typed at the console prints its notices
// and, with a Sender, sends them; a notice that fails stays queued and the
// console says so.
func TestConsoleSendsNotices(t *testing.T) {
	for _, fail := range []bool{false, true} {
		store := testenv.Store(t, testenv.Directory(), testenv.AsOf(testenv.At(t, "2021-09-23 09:00")))
		var out bytes.Buffer
		var sent []bot.Notice
		c := &console.Console{Bot: bot.New(store, nil), In: strings.NewReader("progress 6 调查已启动\n"), Out: &out,
			User: "U0000ZS01", Holder: "test", Send: func(ctx context.Context, n bot.Notice) error {
				if fail {
					return errors.New("slack: internal_error")
				}
				sent = append(sent, n)
				return nil
			}}
		if err := c.Run(context.Background()); err != nil {
			t.Fatalf("Run = %v", err)
		}
		got := out.String()
		if !strings.Contains(got, "已保存") || !strings.Contains(got, "→ 通知 任务 共性6 跟踪线程") {
			t.Errorf("fail=%v: output lacks the saved entry or its notice:\n%s", fail, got)
		}
		pending, err := store.CountPendingOutbox(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case !fail && (len(sent) == 0 || sent[0].Thread == nil || sent[0].Thread.TaskCode != "共性6" || pending != 0):
			t.Errorf("sent %+v, %d pending; want the thread notice of 共性6 sent, nothing pending", sent, pending)
		case fail && (!strings.Contains(got, "条通知未送达 Slack，已排队") || pending == 0):
			t.Errorf("failed send: %d pending, output:\n%s\nwant the notice queued and the console saying so", pending, got)
		}
	}
}

// TestConsoleExportSaves: `export` in the console writes the ledger into
// Dir and says where; the file is a workbook excelize opens.
func TestConsoleExportSaves(t *testing.T) {
	c, out := newConsole(t, "export\n", false)
	c.Dir = t.TempDir()
	c.Bot.Ledger = func(ctx context.Context, now time.Time) (*bot.Upload, error) {
		var buf bytes.Buffer
		if err := ledger.Write(ctx, &buf, c.Bot, now, ""); err != nil {
			return nil, err
		}
		return &bot.Upload{Name: ledger.FileName(c.Bot.Clock().Day(now)), Data: buf.Bytes()}, nil
	}
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.Dir, "整改台账-2021-09-23.xlsx")
	if !strings.Contains(out.String(), "已保存："+path) {
		t.Errorf("console said %q; want it saved to %s", out.String(), path)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatalf("OpenFile(%s) = %v", path, err)
	}
	defer f.Close()
	if rows, _ := f.GetRows(ledger.SheetTasks); len(rows) != 26 {
		t.Errorf("%s has %d rows; want the title, the header and 24 tasks", ledger.SheetTasks, len(rows))
	}
}

// TestConsoleStopsWhenUnwritable: when the database cannot be written (here
// SQLite's own "database or disk is full", by capping its pages), the
// console says so in words and stops with an error, so the command line
// exits non-zero, instead of answering 内部错误 and reading on.
func TestConsoleStopsWhenUnwritable(t *testing.T) {
	store := testenv.Store(t, testenv.AsOf(testenv.At(t, "2021-09-23 09:00")), testenv.Directory())
	db, err := store.DB().DB()
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // the setting is per connection
	if store.Dialect() == storage.Postgres {
		// PostgreSQL's own refusal to write (as on a read-only standby).
		if _, err := db.Exec("SET default_transaction_read_only = on"); err != nil {
			t.Fatal(err)
		}
	} else {
		var pages int
		if err := db.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	in := "progress 7 " + strings.Repeat("台账", 1500) + "\ntask 6\n"
	c := &console.Console{Bot: bot.New(store, nil), In: strings.NewReader(in), Out: &out, User: "U0000LS01"}
	if err := c.Run(context.Background()); !errors.Is(err, console.ErrUnwritable) {
		t.Fatalf("Run = %v; want ErrUnwritable", err)
	}
	if got := out.String(); !strings.Contains(got, "数据库无法写入") || strings.Contains(got, "内部错误") || strings.Contains(got, "【共性6】") {
		t.Errorf("output = %.300s; want the database named as unwritable and nothing read after it", got)
	}
}
