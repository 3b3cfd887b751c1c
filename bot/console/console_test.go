package console_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"taskbot/bot"
	"taskbot/bot/console"
	"taskbot/seeds"
	"taskbot/storage"
)

func newConsole(t *testing.T, in string, interactive bool) (*console.Console, *bytes.Buffer) {
	t.Helper()
	store, err := storage.Open(filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, _, err := seeds.Load(context.Background(), store, seeds.Xuchang); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2021, 9, 23, 9, 0, 0, 0, loc)
	var out bytes.Buffer
	return &console.Console{Bot: bot.New(store, loc, nil), In: strings.NewReader(in), Out: &out,
		Now: func() time.Time { return now }, User: "tester", Interactive: interactive}, &out
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
