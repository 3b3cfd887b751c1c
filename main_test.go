package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"taskbot/internal/testenv"
	"taskbot/storage"
)

var update = flag.Bool("update", false, "rewrite golden files")

// noEnv is an empty environment, so that tests never pick up the
// developer's TASKBOT_* or SLACK_* variables.
func noEnv(string) string { return "" }

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", name), got, *update)
}

func TestConsoleGolden(t *testing.T) {
	db := filepath.Join(t.TempDir(), "taskbot.db")
	in := strings.NewReader("/task 6\ntask 个性1\ntask 99\nhelp\n")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"console", "--at", "2021-12-20", "--db", db}, noEnv, in, &out, &errOut)
	if err != nil {
		t.Fatalf("run(console) = %v; want nil at EOF (stderr %q)", err, errOut.String())
	}
	if errOut.Len() != 0 {
		t.Errorf("run(console) wrote to stderr: %q", errOut.String())
	}
	golden(t, "console.golden", out.Bytes())
	if _, err := os.Stat(db); err != nil {
		t.Errorf("database file not created: %v", err)
	}

	// A second run on the same file (already seeded) answers the same.
	var again bytes.Buffer
	in = strings.NewReader("/task 6\ntask 个性1\ntask 99\nhelp\n")
	if err := run(context.Background(), []string{"console", "--at", "2021-12-20", "--db", db}, noEnv, in, &again, &errOut); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(out.String(), again.String()); diff != "" {
		t.Errorf("second run on the same database differs (-first +second):\n%s", diff)
	}
}

// TestConsoleEnv takes the database path and zone from the environment.
func TestConsoleEnv(t *testing.T) {
	db := filepath.Join(t.TempDir(), "env.db")
	env := map[string]string{"TASKBOT_DB": db, "TASKBOT_TZ": "Asia/Shanghai"}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"console", "--at", "2021-12-31"}, func(k string) string { return env[k] },
		strings.NewReader("task 6\n"), &out, &errOut)
	if err != nil {
		t.Fatalf("run = %v (stderr %q)", err, errOut.String())
	}
	if !strings.Contains(out.String(), "节点1  2021-12-31  今天到期") {
		t.Errorf("run(console --at 2021-12-31) = %q; want 今天到期 for the first milestone", out.String())
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("TASKBOT_DB not used: %v", err)
	}
}

func TestConsoleErrors(t *testing.T) {
	dir := t.TempDir()
	notList := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notList, []byte("hello\nworld\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		usage    bool
		contains string
	}{
		{"bad --at", []string{"console", "--at", "2021-13-01", "--db", filepath.Join(dir, "a.db")}, true, "--at"},
		{"bad --at form", []string{"console", "--at", "yesterday", "--db", filepath.Join(dir, "a.db")}, true, "--at"},
		// Issue 14's faults: each says the date is not YYYY-MM-DD.
		{"--at 2021-02-30", []string{"console", "--at", "2021-02-30", "--db", filepath.Join(dir, "a.db")}, true, "应为 YYYY-MM-DD"},
		{"--at abc", []string{"console", "--at", "abc", "--db", filepath.Join(dir, "a.db")}, true, "应为 YYYY-MM-DD"},
		{"--at 2021-9-23", []string{"console", "--at", "2021-9-23", "--db", filepath.Join(dir, "a.db")}, true, "应为 YYYY-MM-DD"},
		{"--at 10000-01-01", []string{"remind", "--at", "10000-01-01", "--db", filepath.Join(dir, "a.db")}, true, "应为 YYYY-MM-DD"},
		{"bad --tz", []string{"console", "--tz", "Mars/Olympus", "--db", filepath.Join(dir, "a.db")}, true, "--tz"},
		{"unknown flag", []string{"console", "--frobnicate"}, true, "frobnicate"},
		{"extra argument", []string{"console", "--db", filepath.Join(dir, "a.db"), "extra"}, true, "extra"},
		{"unknown command", []string{"frobnicate"}, true, "frobnicate"},
		{"check on a non-task list", []string{"check", notList}, false, "第 1 行"},
		{"check --json on a non-task list", []string{"check", "--json", notList}, false, "第 1 行"},
		{"check missing file", []string{"check", filepath.Join(dir, "missing.txt")}, false, "missing.txt"},
		{"check two files", []string{"check", notList, notList}, true, "at most one"},
		{"seed from a non-task list", []string{"console", "--db", filepath.Join(dir, "b.db"), "--seed", notList}, false, "第 1 行"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, noEnv, strings.NewReader("task 6\n"), &out, &errOut)
			if err == nil {
				t.Fatalf("run(%q) = nil; want an error", tt.args)
			}
			if got := errors.As(err, new(usageError)); got != tt.usage {
				t.Errorf("run(%q) = %v; usage error %v, want %v", tt.args, err, got, tt.usage)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("run(%q) = %q; want it to mention %q", tt.args, err, tt.contains)
			}
			if strings.Contains(out.String(), "【共性6】") {
				t.Errorf("run(%q) answered despite the error: %q", tt.args, out.String())
			}
		})
	}
}

// TestConsoleEOF: piped input, including a last line without a newline,
// blank lines and no input at all, ends with nil at EOF.
func TestConsoleEOF(t *testing.T) {
	db := filepath.Join(t.TempDir(), "taskbot.db")
	for _, in := range []string{"", "\n\n", "task 6", "\n  \ntask 6\r\n\n"} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"console", "--at", "2021-12-20", "--db", db}, noEnv, strings.NewReader(in), &out, &errOut)
		if err != nil {
			t.Errorf("run(console) with input %q = %v; want nil", in, err)
		}
		wantCard := strings.Contains(in, "task 6")
		if got := strings.Count(out.String(), "【共性6】"); got != map[bool]int{true: 1, false: 0}[wantCard] {
			t.Errorf("run(console) with input %q printed %d cards:\n%s", in, got, out.String())
		}
		if strings.Contains(out.String(), "taskbot>") {
			t.Errorf("piped input got a prompt: %q", out.String())
		}
	}
}

func TestCheckJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"check", "--json"}, noEnv, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("run(check --json) = %v", err)
	}
	// Only the notes of the title lines before the list.
	if got := strings.TrimSpace(strings.ReplaceAll(errOut.String(), "说明：第 1 行：清单正文之前：附件\n说明：第 3 行：清单正文之前：中央生态环境保护督察整改任务清单", "")); got != "" {
		t.Errorf("check --json wrote warnings: %q", errOut.String())
	}
	golden(t, "check.golden.json", out.Bytes())

	var tasks []map[string]json.RawMessage
	if err := json.Unmarshal(out.Bytes(), &tasks); err != nil {
		t.Fatalf("check --json output is not a JSON array of objects: %v", err)
	}
	if len(tasks) != 24 {
		t.Fatalf("check --json gave %d tasks; want 24", len(tasks))
	}
	wantKeys := []string{"section", "number", "code", "title", "problem", "goal", "measures", "leaders", "lead_units",
		"units", "persons", "deadline", "milestones", "immediate", "ongoing", "long_term"}
	sort.Strings(wantKeys)
	for i, task := range tasks {
		var keys []string
		for k := range task {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if diff := cmp.Diff(wantKeys, keys); diff != "" {
			t.Errorf("task %d keys (-want +got):\n%s", i, diff)
		}
		var ms []map[string]json.RawMessage
		if err := json.Unmarshal(task["milestones"], &ms); err != nil {
			t.Errorf("task %d milestones: %v", i, err)
		}
		for _, m := range ms {
			var mk []string
			for k := range m {
				mk = append(mk, k)
			}
			sort.Strings(mk)
			if !slices.Equal(mk, []string{"due", "text"}) {
				t.Errorf("task %d milestone keys = %v; want [due text]", i, mk)
			}
		}
		// Lists are arrays, never null; persons is a string.
		for _, k := range []string{"measures", "leaders", "lead_units", "units", "milestones"} {
			if string(task[k]) == "null" {
				t.Errorf("task %d %s is null; want an array", i, k)
			}
		}
	}
	var typed []struct {
		Section   int      `json:"section"`
		Code      string   `json:"code"`
		Persons   string   `json:"persons"`
		LeadUnits []string `json:"lead_units"`
	}
	if err := json.Unmarshal(out.Bytes(), &typed); err != nil {
		t.Fatal(err)
	}
	if last := typed[len(typed)-1]; last.Section != 2 || last.Code != "个性1" || last.Persons != "" || len(last.LeadUnits) != 0 {
		t.Errorf("last task = %+v; want section 2, 个性1, persons \"\", no lead units", last)
	}
}

func TestCheckSummary(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"check"}, noEnv, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("run(check) = %v", err)
	}
	if !strings.Contains(out.String(), "内置清单：24 项任务（共性 23 项、个性 1 项），0 条提示") {
		t.Errorf("run(check) = %q; want the 24-task summary line", out.String())
	}
}

// BenchmarkColdStart is `printf 'task 6\n' | taskbot console` on a new
// database each time: open, migrate, seed, answer.
func BenchmarkColdStart(b *testing.B) {
	dir := b.TempDir()
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		db := filepath.Join(dir, fmt.Sprintf("cold%d.db", i))
		var out, errOut bytes.Buffer
		err := run(ctx, []string{"console", "--at", "2021-12-20", "--db", db}, noEnv, strings.NewReader("task 6\n"), &out, &errOut)
		if err != nil || !strings.Contains(out.String(), "【共性6】") {
			b.Fatalf("run = %v; out %q; stderr %q", err, out.String(), errOut.String())
		}
		b.StopTimer()
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(db + suffix)
		}
		b.StartTimer()
	}
}

// TestExplain: the command line's one error funnel shows a coded error's
// Chinese message, an internal one's detail (for the operator) after a
// Chinese prefix, and any other error as it is.
func TestExplain(t *testing.T) {
	internal := storage.Internal(errors.New("disk I/O error"))
	for _, tt := range []struct {
		err  error
		want string
	}{
		{storage.Errorf(storage.EINVALID, "日期无效。"), "日期无效。"},
		{fmt.Errorf("remind: %w", storage.Errorf(storage.ECONFLICT, "2 条提醒发送失败。")), "2 条提醒发送失败。"},
		{internal, "内部错误：" + internal.Error()},
		{errors.New("TASKBOT_TZ: unknown time zone Mars/Olympus"), "TASKBOT_TZ: unknown time zone Mars/Olympus"},
	} {
		if got := explain(tt.err); got != tt.want {
			t.Errorf("explain(%v) = %q; want %q", tt.err, got, tt.want)
		}
	}
	if got := explain(internal); !strings.Contains(got, "disk I/O error") {
		t.Errorf("explain(internal error) = %q; want its detail", got)
	}
}

// TestCheckExitStatus: `check` exits 0 when every task was read, 1 when
// some were read with problems (listed, the tasks read printed), 2 when
// none was; a list with problems is not seeded.
func TestCheckExitStatus(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	partial := write("partial.txt", "一、共性整改任务\n1.问题甲。\n责任单位：甲县\n整改时限：2022年3月底前\n"+
		"1.问题甲又一遍。\n责任单位：乙县\n整改时限：2022年3月底前\n2.问题乙。\n责任单位：乙县\n整改时限：立行立改\n")
	none := write("none.txt", "hello\nworld\n")
	for _, tt := range []struct {
		args     []string
		code     int
		stdout   string
		contains string
	}{
		{[]string{"check"}, 0, "24 项任务", ""},
		{[]string{"check", partial}, 1, "未能读取：第 5–7 行 共性1：“共性整改任务”第 1 项重复", "读到 2 项任务，1 处未能读取"},
		{[]string{"check", "--json", partial}, 1, `"code": "共性2"`, "读到 2 项任务"},
		{[]string{"check", none}, 2, "", "不是整改任务清单"},
		{[]string{"check", "--json", none}, 2, "", "第 1 行"},
		{[]string{"check", filepath.Join(dir, "missing.txt")}, 2, "", "missing.txt"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tt.args, noEnv, strings.NewReader(""), &out, &errOut)
		code := 0
		var ee exitError
		switch {
		case errors.As(err, &ee):
			code = ee.code
		case err != nil:
			t.Errorf("run(%q) = %v; want an exit status", tt.args, err)
		}
		if code != tt.code {
			t.Errorf("run(%q) exits %d (%v); want %d", tt.args, code, err, tt.code)
		}
		if !strings.Contains(out.String(), tt.stdout) {
			t.Errorf("run(%q) printed %q; want %q", tt.args, out.String(), tt.stdout)
		}
		if tt.contains != "" && (err == nil || !strings.Contains(err.Error(), tt.contains)) {
			t.Errorf("run(%q) = %v; want it to mention %q", tt.args, err, tt.contains)
		}
	}
	// Seeding refuses the list read in part, naming the problem.
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"console", "--db", filepath.Join(dir, "p.db"), "--seed", partial}, noEnv, strings.NewReader("task 1\n"), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "重复") {
		t.Errorf("seeding a list with problems = %v; want the problem named", err)
	}
}
