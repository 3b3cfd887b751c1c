package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"taskbot/internal/testenv"
)

// TestImportLists runs `taskbot import` as a user would: a second list
// whose codes are the default list's too, a dry run that writes nothing,
// the import, tasks named with and without the list, a re-import that
// changes nothing, and an amended document whose dry run says what
// would change; bad command lines are refused in words.
func TestImportLists(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := testenv.DSN(t, "import.db")
	env := func(k string) string { return map[string]string{"TASKBOT_DB": db}[k] }
	list := filepath.Join(dir, "省督察.txt")
	write := func(text string) {
		if err := os.WriteFile(list, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("河南省生态环境保护督察整改任务清单\n一、共性整改任务\n1.问题甲。\n整改目标：目标甲。\n责任单位：长葛市\n整改时限：2022年3月底前\n" +
		"2.问题乙。\n责任单位：禹州市\n整改时限：立行立改\n整改完成情况：已完成排查。\n联系方式：0374-1234567\n")
	cli := func(stdin string, args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(ctx, args, env, strings.NewReader(stdin), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	console := func(lines ...string) string {
		t.Helper()
		out, err := cli(strings.Join(lines, "\n")+"\n", "console", "--at", "2021-12-20")
		if err != nil {
			t.Fatalf("console: %v\n%s", err, out)
		}
		return out
	}
	expect := func(out string, want ...string) { t.Helper(); expectIn(t, out, want...) }

	expect(console("task 6"), "【共性6】") // the first start: one list, no list names shown
	out, err := cli("", "import", list, "--list", "省督察二轮", "--dry-run")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	expect(out, "试运行（未写入）", "清单“省督察二轮”：读到 2 项任务", "新增 2：共性1、共性2")
	expect(console("task 省督察二轮 共性1"), "没有名为“省督察二轮”的清单；现有清单：“中央生态环境保护督察整改任务清单”")

	out, err = cli("", "import", "--list", "省督察二轮", list)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	expect(out, "已导入", "新增 2：共性1、共性2", "未变 0")
	out = console("task 省督察二轮 共性1", "省督察二轮/共性2", "task 1", "task 省督察二轮 共性9", "due 120", "task 省督察二轮 c2", "task 省督察二轮 共性１")
	// c2 and a full-width １ name the list's 共性2 and 共性1, as they do here.
	if strings.Count(out, "【省督察二轮 共性2】") != 2 || strings.Count(out, "【省督察二轮 共性1】") != 2 {
		t.Errorf("c2 or 共性１ did not name the list's tasks:\n%s", out)
	}
	expect(out, "【省督察二轮 共性1】问题甲", "/progress 省督察二轮/共性1 内容", "【省督察二轮 共性2】问题乙",
		"【清单所列完成情况】\n已完成排查。", "【清单其他内容】\n联系方式：0374-1234567",
		"【中央生态环境保护督察整改任务清单 共性1】", "清单“省督察二轮”中没有任务 共性9", "· 省督察二轮/共性1 问题甲 节点1",
		// due: grouped by list, each in the order of urgency.
		"【中央生态环境保护督察整改任务清单】\n🟢 2021-12-31", "【省督察二轮】\n🟢 2022-03-31")

	// The same document again: nothing to write.
	out, err = cli("", "import", list, "--list", "省督察二轮")
	if err != nil {
		t.Fatal(err)
	}
	expect(out, "新增 0", "修改 0", "未变 2", "清单中已无 0")

	// Amended: task 1 reworded and its deadline moved, with a second
	// milestone; task 2 gone.
	write("河南省生态环境保护督察整改任务清单\n一、共性整改任务\n1.问题甲（修订）。\n整改目标：目标甲。\n责任单位：长葛市\n" +
		"整改时限：2022年6月底前完成排查，2022年12月底前完成整改\n")
	out, err = cli("", "import", list, "--list", "省督察二轮", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	expect(out, "修改 1：共性1", "清单中已无 1：共性2", "原有任务的节点：改期 1：共性1 节点1 2022-03-31→2022-06-30；新增 1：共性1 节点2（2022-12-31）；退出 0")
	write("河南省生态环境保护督察整改任务清单\n一、共性整改任务\n1.问题甲。\n整改目标：目标甲。\n责任单位：禹州市、襄城县\n整改时限：2022年3月底前\n")
	out, err = cli("", "import", list, "--list", "省督察二轮", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	expect(out, "原有任务的责任单位变动 1：共性1：增 禹州市、襄城县；减 长葛市")
	write("河南省生态环境保护督察整改任务清单\n一、共性整改任务\n1.问题甲。\n整改目标：目标甲。\n责任单位：市住房城乡建设局\n整改时限：2022年3月底前\n")
	out, err = cli("", "import", list, "--list", "省督察二轮", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	expect(out, "新出现的单位 1：市住房城乡建设局（数据库中原无此名称")
	expect(console("task 省督察二轮 共性1"), "【省督察二轮 共性1】问题甲\n") // the dry run wrote nothing
	write("河南省生态环境保护督察整改任务清单\n一、共性整改任务\n1.问题甲。\n整改目标：目标甲。\n责任单位：长葛市\n整改时限：立行立改\n")
	out, err = cli("", "import", list, "--list", "省督察二轮", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	expect(out, "原有任务的节点：改期 0；新增 0；退出 1：共性1 节点1（2022-03-31）")

	// Imported for real without 共性1's date (its milestone retired) and
	// without 共性2; then a document giving both dates: 共性1's milestone
	// comes back, 共性2 (立行立改 so far) gets its first.
	write("河南省生态环境保护督察整改任务清单\n一、共性整改任务\n1.问题甲。\n整改目标：目标甲。\n责任单位：长葛市\n整改时限：立行立改\n")
	if out, err = cli("", "import", list, "--list", "省督察二轮"); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	expect(out, "退出 1：共性1 节点1（2022-03-31）")
	write("河南省生态环境保护督察整改任务清单\n一、共性整改任务\n1.问题甲。\n整改目标：目标甲。\n责任单位：长葛市\n整改时限：2022年3月底前\n" +
		"2.问题乙。\n责任单位：禹州市\n整改时限：2022年9月底前\n")
	out, err = cli("", "import", list, "--list", "省督察二轮", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	expect(out, "新增 2：共性1 节点1（2022-03-31，恢复）、共性2 节点1（2022-09-30）；退出 0")

	for _, bad := range [][]string{
		{"import", list},
		{"import", "--list", "省督察二轮"},
		{"import", list, "--list", "省 督察"},
		{"import", list, list, "--list", "省督察二轮"},
	} {
		if out, err := cli("", bad...); err == nil || !strings.Contains(err.Error()+out, "import") && !strings.Contains(err.Error(), "清单名称") {
			t.Errorf("run(%q) = %v\n%s; want a usage error", bad, err, out)
		}
	}
	if _, err := cli("", "import", list, "--list", "省 督察"); err == nil || !strings.Contains(err.Error(), "名称本身不能有空格") {
		t.Errorf("a name with a space: %v; want it refused in words", err)
	}
	if _, err := cli("", "import", filepath.Join(dir, "none.txt"), "--list", "x"); err == nil {
		t.Errorf("a missing file imported")
	}
	// A slash would make the list's tasks unnameable.
	if _, err := cli("", "import", list, "--list", "省/二轮"); err == nil || !strings.Contains(err.Error(), "名称本身不能有“/”") {
		t.Errorf("a name with a slash: %v; want it refused in words", err)
	}
	// The default list is the start's: an import would be undone, or
	// would undo it, depending on which came last.
	_, err = cli("", "import", list, "--list", "中央生态环境保护督察整改任务清单")
	if err == nil || !strings.Contains(err.Error(), "是默认清单") {
		t.Errorf("an import into the default list: %v; want it refused", err)
	}
	expect(console("task 1"), "【中央生态环境保护督察整改任务清单 共性1】贯彻落实习近平生态文明思想")
}

// TestImportDryRunMakesNoDatabase: a dry run against a database that is
// not there (a mistyped --db) says so and creates nothing; a real import
// into a new database seeds nothing but its own list, which the first
// start then finds beside the default one.
func TestImportDryRunMakesNoDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "typo.db")
	list := filepath.Join(dir, "l.txt")
	if err := os.WriteFile(list, []byte("一、共性整改任务\n1.问题甲。\n责任单位：长葛市\n整改时限：2022年3月底前\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(ctx, []string{"import", list, "--list", "回头看", "--dry-run", "--db", db}, noEnv, strings.NewReader(""), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "不存在：试运行不新建数据库") {
		t.Fatalf("dry run on a missing database: %v\n%s", err, out.String())
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("the dry run made %s (%v)", db, err)
	}
	if err := run(ctx, []string{"import", list, "--list", "回头看", "--db", db}, noEnv, strings.NewReader(""), &out, &out); err != nil {
		t.Fatalf("import into a new database: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"console", "--db", db}, noEnv, strings.NewReader("task 回头看 共性1\ntask 6\n"), &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"【回头看 共性1】问题甲", "【中央生态环境保护督察整改任务清单 共性6】"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("console lacks %q:\n%s", want, out.String())
		}
	}

	// A numbered notice: codes 任务N. A code the list does not have is not
	// another task's; a bare number is the list's task of that number.
	notice := filepath.Join(dir, "notice.txt")
	if err := os.WriteFile(notice, []byte("编号1：问题乙。\n责任单位：长葛市\n整改时限：2022年6月底前\n编号2：问题丙。\n责任单位：禹州市\n整改时限：立行立改\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"import", notice, "--list", "大气回头看", "--db", db}, noEnv, strings.NewReader(""), &out, &out); err != nil {
		t.Fatalf("import of a notice: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"console", "--db", db}, noEnv, strings.NewReader("task 大气回头看 共性1\ntask 大气回头看 2\n大气回头看/任务1\nstats 没有这个 共性1\n"), &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"清单“大气回头看”中没有任务 共性1", "【大气回头看 任务2】问题丙", "【大气回头看 任务1】问题乙",
		"没有名为“没有这个”的清单；现有清单："} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("console lacks %q:\n%s", want, out.String())
		}
	}
	// Names that read as a task code are refused.
	for _, name := range []string{"6", "共性1", "第3项"} {
		err := run(ctx, []string{"import", notice, "--list", name, "--db", db}, noEnv, strings.NewReader(""), &out, &out)
		if err == nil || !strings.Contains(err.Error(), "像任务编号") {
			t.Errorf("import --list %s: %v; want refused as a code", name, err)
		}
	}
}

// TestDigestGroupsByList: the digest's most urgent milestones come a
// section per list, in the order of urgency, and those not shown are
// counted once for all lists.
func TestDigestGroupsByList(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := testenv.DSN(t, "digest.db")
	env := func(k string) string { return map[string]string{"TASKBOT_DB": db}[k] }
	list := filepath.Join(dir, "early.txt")
	if err := os.WriteFile(list, []byte("一、共性整改任务\n1.问题甲。\n责任单位：长葛市\n整改时限：2021年8月底前\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, args := range [][]string{{"console"}, {"import", list, "--list", "早期清单"}, {"digest", "--at", "2022-04-20"}} {
		out.Reset()
		if err := run(ctx, args, env, strings.NewReader(""), &out, &out); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out.String())
		}
	}
	got := out.String()
	early, central := strings.Index(got, "【最紧急（早期清单）】"), strings.Index(got, "【最紧急（中央生态环境保护督察整改任务清单）】")
	if early < 0 || central < early || !strings.Contains(got, "各清单合计") {
		t.Errorf("digest not grouped by list, most urgent first, with the rest counted once:\n%s", got)
	}
}

// TestUnitsAndStatsByList: with two lists, `units` gives a section per
// list counting only that list's tasks, `units NAME` one list; `stats`
// adds a line per list, and `stats NAME` is one list's overview and
// ranking, its shares only. A list may not take a unit's name.
func TestUnitsAndStatsByList(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := testenv.DSN(t, "bylist.db")
	env := func(k string) string {
		return map[string]string{"TASKBOT_DB": db, "TASKBOT_CONFIG": "testdata/progress-org.yaml"}[k]
	}
	list := filepath.Join(dir, "省督察.txt")
	doc := "河南省生态环境保护督察整改任务清单\n一、共性整改任务\n1.问题甲。\n整改目标：目标甲。\n责任单位：长葛市\n整改时限：2021年12月10日前\n" +
		"2.问题乙。\n责任单位：禹州市\n整改时限：2022年9月底前\n"
	if err := os.WriteFile(list, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	cli := func(stdin string, args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, args, env, strings.NewReader(stdin), &out, &out); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	cli("", "console")
	cli("", "import", list, "--list", "省督察二轮")
	cli("progress 省督察二轮/共性1 @长葛市 完成 1 排查完成 https://example.gov.cn/a\n", "console", "--at", "2021-12-15", "--as", "李四")
	section := func(out, heading string) string {
		t.Helper()
		i := strings.Index(out, "【"+heading)
		if i < 0 {
			t.Fatalf("no section %q in:\n%s", heading, out)
		}
		rest := out[i+len("【"):]
		if j := strings.Index(rest, "【"); j >= 0 {
			rest = rest[:j]
		}
		return rest
	}
	expect := func(out string, want ...string) { t.Helper(); expectIn(t, out, want...) }

	out := cli("units\nunits 省督察二轮\nunits 没有这个\n", "console", "--at", "2021-12-20")
	replies := strings.Split(out, "责任单位一览")
	if len(replies) != 3 {
		t.Fatalf("units replies:\n%s", out)
	}
	expect(replies[1], "（2 个清单）")
	second := section(replies[1], "省督察二轮（2 个单位）】")
	expect(second, "🔴 长葛市 — 牵头 0 · 责任 1 · 逾期节点 1", "🟢 禹州市 — 牵头 0 · 责任 1 · 逾期节点 0")
	// 长葛市's line in the central list counts only that list's tasks
	// (with 省督察二轮's: 责任 21, 逾期节点 5).
	central := section(replies[1], "中央生态环境保护督察整改任务清单（")
	expect(central, "🔴 长葛市 — 牵头 0 · 责任 20（其中经集体 19） · 逾期节点 4")
	expect(replies[2], "（共 2 个）", "长葛市 — 牵头 0 · 责任 1 · 逾期节点 1", "没有名为“没有这个”的清单", "/units 只接受清单名称")

	out = cli("stats\nstats 省督察二轮\n", "console", "--at", "2021-12-20")
	all, one, ok := strings.Cut(out, "【整改统计】省督察二轮")
	if !ok {
		t.Fatalf("no list statistics:\n%s", out)
	}
	expect(section(all, "各清单（2 个）】"), "省督察二轮 — 任务 2 项（未销号 2）· 逾期未完成节点 1 · 待确认分工 1",
		"中央生态环境保护督察整改任务清单 — 任务 24 项")
	expect(all, "/stats 清单名称")
	expect(section(one, "本清单总体】"), "任务 2 项：未销号 2 · 已销号 0", "逾期未完成 1", "待督查室确认的分工 1 个")
	ranking := section(one, "单位排名（2 个）】")
	expect(ranking, "长葛市 ░░░░░░░░░░ 0% · 承担 1 · 已确认 0（按时 0）· 待确认 1", "禹州市 ░░░░░░░░░░ 0% · 承担 1")

	// A list's name where a task is asked for: its tasks.
	out = cli("task 省督察二轮\n", "console", "--at", "2021-12-20")
	expect(out, "清单“省督察二轮”的任务（共 2 项）", "🔴 省督察二轮/共性1 问题甲 — 节点1 2021-12-10 已逾期 10 天",
		"🟢 省督察二轮/共性2 问题乙 — 节点1 2022-09-30", "文件标题：河南省生态环境保护督察整改任务清单",
		"查看任务：/task 省督察二轮/编号")

	// Names that are neither, or a list's where a unit is asked for.
	out = cli("stats 省督察\nunit 省督察二轮\n", "console", "--at", "2021-12-20")
	expect(out, "没有名为“省督察”的清单或单位（现有清单：“中央生态环境保护督察整改任务清单”、“省督察二轮”）。您是不是要找清单：“省督察二轮”？",
		"“省督察二轮”是清单的名称，不是单位：该清单的任务请用 /task 省督察二轮，各单位请用 /units 省督察二轮")
	// A share confirmed already says so once.
	out = cli("task 省督察二轮/共性1 确认 1 长葛市\ntask 省督察二轮/共性1 确认 1 长葛市\n", "console", "--at", "2021-12-20", "--as", "督查室王五")
	expect(out, "该单位在节点1 的部分已确认，无需确认。")

	// The week's entries are the list's: 长葛市's report is 省督察二轮's.
	out = cli("stats 省督察二轮\nstats 中央生态环境保护督察整改任务清单\n", "console", "--at", "2021-12-16")
	one, central, _ = strings.Cut(out, "【整改统计】中央生态环境保护督察整改任务清单")
	expect(one, "本周进展 1 条")
	expect(central, "本周进展 0 条", "任务 24 项")

	// A unit that came after the list, under its name, is pointed out;
	// a list whose name merely contains a unit's is not.
	cli("", "import", list, "--list", "长葛市回头看")
	later := filepath.Join(dir, "later.txt")
	if err := os.WriteFile(later, []byte("一、共性整改任务\n1.问题丙。\n责任单位：长葛市回头看\n整改时限：2022年3月底前\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out = cli("stats 长葛市回头看\n", "console", "--at", "2021-12-20")
	if strings.Contains(out, "也是单位") {
		t.Errorf("a list named like a unit, no unit of its name: %s", out)
	}
	cli("", "import", later, "--list", "第三批")
	out = cli("stats 长葛市回头看\n", "console", "--at", "2021-12-20")
	expect(out, "【整改统计】长葛市回头看", "“长葛市回头看”也是单位“长葛市回头看”的名称，以上是清单“长葛市回头看”的统计；该单位的任务：/unit 长葛市回头看")

	var errOut bytes.Buffer
	err := run(ctx, []string{"import", list, "--list", "长葛市"}, env, strings.NewReader(""), &errOut, &errOut)
	if err == nil || !strings.Contains(err.Error(), "与一个单位的名称（或简称）相同") {
		t.Errorf("a list named as a unit: %v; want it refused", err)
	}
}

// expectIn reports each of want that out lacks.
func expectIn(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestImportLedgerOfAList: a ledger whose codes name a list (省督察二轮/共性1,
// as export writes another list's) imports into that list only; into
// another, or as the default list's document, it is refused in words.
func TestImportLedgerOfAList(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := testenv.DSN(t, "ledger.db")
	env := func(k string) string { return map[string]string{"TASKBOT_DB": db}[k] }
	f := excelize.NewFile()
	for i, r := range [][]any{{"编号", "问题", "责任单位", "整改时限"},
		{"省督察二轮/共性1", "问题甲。", "长葛市", "2022年3月底前"}, {"省督察二轮/共性2", "问题乙。", "禹州市", "2022年6月底前"}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "台账.xlsx")
	if err := f.SaveAs(file); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"import", file, "--list", "回头看"}, env, strings.NewReader(""), &out, &out); err == nil ||
		!strings.Contains(err.Error(), "此表的编号属于清单“省督察二轮”（如“省督察二轮/…”），不能导入清单“回头看”") {
		t.Errorf("import into another list: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"import", file, "--list", "省督察二轮"}, env, strings.NewReader(""), &out, &out); err != nil {
		t.Fatalf("import into its list: %v\n%s", err, out.String())
	}
	expectIn(t, out.String(), "新增 2：共性1、共性2")
	out.Reset()
	seedEnv := func(k string) string {
		return map[string]string{"TASKBOT_DB": filepath.Join(dir, "seeded.db"), "TASKBOT_SEED": file}[k]
	}
	if err := run(ctx, []string{"console"}, seedEnv, strings.NewReader(""), &out, &out); err == nil || !strings.Contains(err.Error(), "不是默认清单的") {
		t.Errorf("the ledger as the default list's document: %v\n%s", err, out.String())
	}
}
