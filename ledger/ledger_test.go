package ledger_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"taskbot/bot"
	"taskbot/internal/testenv"
	"taskbot/ledger"
	"taskbot/seeds"
	"taskbot/storage"
	"taskbot/storage/synth"
)

var counties = []string{"魏都区", "建安区", "禹州市", "长葛市", "鄢陵县", "襄城县", "城乡一体化示范区", "经济技术开发区", "东城区"}

// scripted is the seed after a few entries and decisions: 长葛市 reports
// task 7 milestone 1 done with a file, the office confirms it; 鄢陵县 is
// not concerned; 市城管局 reports progress on task 6.
func scripted(t *testing.T) *bot.Bot {
	t.Helper()
	store := testenv.Store(t, testenv.AsOf(testenv.At(t, "2021-09-01 09:00")),
		testenv.Units(storage.UnitSpec{Name: "各县（市、区）", Members: counties}),
		testenv.People(storage.PeopleSpec{
			Units: []storage.UnitPeople{
				{Unit: "长葛市", Members: []storage.PersonRef{{SlackID: "U0000LS01", Name: "李四"}}},
				{Unit: "市城管局", Members: []storage.PersonRef{{SlackID: "U0000ZS01", Name: "张三"}}},
			},
			Supervisors: []storage.PersonRef{{SlackID: "U0000SUP1", Name: "王五"}},
		}))
	b := bot.New(store, nil)
	ctx := context.Background()
	do := func(day, user, text string) {
		at := testenv.At(t, day+" 10:00")
		store.Clock.AsOf = func() time.Time { return at }
		if r := b.Handle(ctx, bot.Request{Text: text, User: user}); r.Error {
			t.Fatalf("%s %s: %s", user, text, r.Title)
		}
	}
	do("2021-09-20", "U0000LS01", "progress 7 完成 1 长葛市排查台账 https://example.gov.cn/cg.xlsx")
	do("2021-09-28", "U0000SUP1", "task 7 确认 1 长葛市")
	do("2021-09-28", "U0000SUP1", "task 7 不涉及 1 鄢陵县 无计划用水户")
	do("2021-09-29", "U0000ZS01", "progress 6 60% 调查核查进行中")
	do("2021-09-30", "U0000SUP1", "task 3 销号")
	return b
}

// TestLedger writes the ledger as of 2021-10-08 and reads it back: sheet
// names, title and header rows, one row per task and per share, the
// scripted values, and what a clerk needs to print it.
func TestLedger(t *testing.T) {
	b := scripted(t)
	var buf bytes.Buffer
	if err := ledger.Write(context.Background(), &buf, b, testenv.At(t, "2021-10-08 09:00"), ""); err != nil {
		t.Fatal(err)
	}
	data := bytes.Clone(buf.Bytes())
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatalf("OpenReader: %v", err)
	}
	defer f.Close()
	want := []string{ledger.SheetTasks, ledger.SheetShares, ledger.SheetEntries, ledger.SheetStats}
	if got := f.GetSheetList(); !slices.Equal(got, want) {
		t.Fatalf("sheets = %v; want %v", got, want)
	}
	rows := func(sheet string) [][]string {
		t.Helper()
		r, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	title := "许昌市中央生态环境保护督察整改任务台账（截至 2021-10-08）"
	for _, s := range []struct {
		sheet  string
		header []string
	}{{ledger.SheetTasks, ledger.TaskHeader}, {ledger.SheetShares, ledger.ShareHeader}, {ledger.SheetEntries, ledger.EntryHeader}, {ledger.SheetStats, ledger.StatsHeader}} {
		r := rows(s.sheet)
		if len(r) < 2 || r[0][0] != title || !slices.Equal(r[1], s.header) {
			t.Errorf("%s: title/header = %q / %q; want %q / %q", s.sheet, first(r, 0), first(r, 1), title, s.header)
		}
	}

	tasks := rows(ledger.SheetTasks)
	if got := len(tasks) - 2; got != 24 {
		t.Errorf("%s has %d task rows; want 24", ledger.SheetTasks, got)
	}
	t7 := tasks[2+6] // 共性7, the 7th task
	if t7[0] != "7" || t7[1] != "共性7" || !strings.HasPrefix(t7[2], "企业超计划用水问题突出") || t7[6] != "市水利局" || t7[7] != "各县（市、区）" {
		t.Errorf("共性7 row = %q", t7[:8])
	}
	if !strings.Contains(t7[10], "节点1 2021-09-30 已逾期 8 天") || t7[12] != "逾期" {
		t.Errorf("共性7 完成情况/状态 = %q / %q; want 节点1 overdue 8 days, 逾期", t7[10], t7[12])
	}
	if t6 := tasks[2+5]; !strings.Contains(t6[11], "市城管局") || !strings.Contains(t6[11], "调查核查进行中") {
		t.Errorf("共性6 最新进展 = %q; want 市城管局's entry", t6[11])
	}
	// Red / amber / green fills.
	style, _ := f.GetCellStyle(ledger.SheetTasks, "M9")
	if fill := fillOf(t, f, style); fill != "FFC7CE" {
		t.Errorf("共性7 row fill = %q; want red FFC7CE", fill)
	}

	shares := rows(ledger.SheetShares)
	var total int
	if err := b.Store.EachShare(context.Background(), func(*storage.ShareView) error { total++; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := len(shares) - 2; got != total || total == 0 {
		t.Errorf("%s has %d share rows; want one per share (%d)", ledger.SheetShares, got, total)
	}
	found := map[string][]string{}
	for _, r := range shares[2:] {
		if r[0] == "共性7" && r[1] == "节点1" {
			found[r[3]] = r
		}
	}
	if r := found["长葛市"]; len(r) < 9 || r[4] != "已确认" || r[5] != "2021-09-20" || r[6] != "2021-09-28" || r[7] != "0" || r[8] != "1" {
		t.Errorf("长葛市 共性7 节点1 row = %q; want 已确认, reported 09-20, confirmed 09-28, 0 days late, 1 evidence", r)
	}
	if r := found["鄢陵县"]; len(r) < 5 || !strings.HasPrefix(r[4], "不涉及（无计划用水户）") {
		t.Errorf("鄢陵县 共性7 节点1 row = %q; want 不涉及 with the reason", r)
	}
	if r := found["禹州市"]; len(r) < 8 || r[4] != "未完成" || r[7] != "8" {
		t.Errorf("禹州市 共性7 节点1 row = %q; want 未完成, 8 days overdue", r)
	}

	for _, r := range shares[2:] {
		if r[0] == "共性3" && (r[4] != "随任务销号" || r[7] != "0") {
			t.Errorf("closed 共性3 share row = %q; want 随任务销号, 0 days late", r)
		}
		if r[0] == "共性2" && r[3] == "长葛市" && r[8] != "0" {
			t.Errorf("共性2 长葛市 row = %q; want no evidence (长葛市's link is on 共性7)", r)
		}
	}

	entries := rows(ledger.SheetEntries)
	if got := len(entries) - 2; got != 2 {
		t.Errorf("%s has %d rows; want the 2 entries", ledger.SheetEntries, got)
	}
	if e := entries[2]; e[1] != "共性7" || e[2] != "长葛市" || e[3] != "李四" || !strings.HasPrefix(e[4], "报完成") || e[6] != "https://example.gov.cn/cg.xlsx" {
		t.Errorf("first entry row = %q", e)
	}

	stats := rows(ledger.SheetStats)
	if len(stats) < 3 || stats[2][0] != "1" {
		t.Errorf("统计 first row = %q; want rank 1", first(stats, 2))
	}
	// The chart is a drawing part of the 统计 sheet.
	charts := 0
	for name := range filesOf(t, data) {
		if strings.HasPrefix(name, "xl/charts/chart") {
			charts++
		}
	}
	if charts != 1 {
		t.Errorf("the workbook has %d charts; want the completion chart", charts)
	}

	// Printing: frozen header, A3 landscape, titles repeated on every page.
	for _, s := range want {
		panes, err := f.GetPanes(s)
		if err != nil || !panes.Freeze || panes.YSplit != 2 {
			t.Errorf("%s panes = %+v, %v; want frozen under row 2", s, panes, err)
		}
		lay, err := f.GetPageLayout(s)
		if err != nil || lay.Size == nil || *lay.Size != 8 || lay.Orientation == nil || *lay.Orientation != "landscape" {
			t.Errorf("%s page layout = %+v, %v; want A3 (8) landscape", s, lay, err)
		}
	}
	titles := 0
	for _, d := range f.GetDefinedName() {
		if d.Name == "_xlnm.Print_Titles" && strings.HasSuffix(d.RefersTo, "!$1:$2") {
			titles++
		}
	}
	if titles != 4 {
		t.Errorf("%d sheets repeat rows 1–2 when printed; want 4", titles)
	}
}

func first(r [][]string, i int) []string {
	if len(r) > i {
		return r[i]
	}
	return nil
}

func fillOf(t *testing.T, f *excelize.File, style int) string {
	t.Helper()
	s, err := f.GetStyle(style)
	if err != nil || len(s.Fill.Color) == 0 {
		return ""
	}
	return strings.ToUpper(strings.TrimPrefix(s.Fill.Color[0], "#"))
}

// BenchmarkExport writes the ledger of 10,000 generated tasks (about
// 100,000 shares) and reports the peak heap while writing:
//
//	go test ./ledger -run='^$' -bench=Export -benchtime=3x
func BenchmarkExport(b *testing.B) {
	tasks := synth.Tasks(10000, 42, synth.Sentences(string(seeds.Xuchang())))
	store, err := testenv.Open(filepath.Join(b.TempDir(), "export.db"), testenv.Tasks(tasks, "synthetic"), testenv.Units(synth.Specs()...))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	bt := bot.New(store, nil)
	now := time.Date(2022, 6, 15, 9, 0, 0, 0, store.Clock.Zone())
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := ledger.Write(context.Background(), &buf, bt, now, ""); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	close(done)
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(size)/(1<<20), "file-MB")
}

// TestLedgerImportsBack: the ledger export writes is a task list taskbot
// reads (issue 16): read back, its tasks are the seed's, field by field.
func TestLedgerImportsBack(t *testing.T) {
	b := scripted(t)
	var buf bytes.Buffer
	if err := ledger.Write(context.Background(), &buf, b, testenv.At(t, "2021-10-08 09:00"), ""); err != nil {
		t.Fatal(err)
	}
	got, err := seeds.Parse(buf.Bytes())
	if err != nil {
		t.Fatalf("Parse(the ledger) error: %v", err)
	}
	want, err := seeds.Parse(seeds.Xuchang())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tasks) != len(want.Tasks) {
		t.Fatalf("read %d tasks back; want %d", len(got.Tasks), len(want.Tasks))
	}
	for i := range want.Tasks {
		w, g := want.Tasks[i], got.Tasks[i]
		w.Line, g.Line, w.LastLine, g.LastLine = 0, 0, 0, 0
		// The ledger's 完成情况 comes back as the task's reported status.
		if g.Status == "" {
			t.Errorf("task %s: the ledger's 完成情况 was not kept as its status", g.Code)
		}
		g.Status = ""
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("task %s read back from the ledger differs (-seed +ledger):\n%s", w.Code, diff)
		}
	}
	// The ledger's other columns, no task field, are reported, not lost.
	var reported []string
	for _, w := range got.Warnings {
		reported = append(reported, w.Msg)
	}
	for _, col := range []string{"最新进展", "状态"} {
		if !slices.ContainsFunc(reported, func(m string) bool { return strings.Contains(m, col) }) {
			t.Errorf("column %s not reported: %q", col, reported)
		}
	}
}

// BenchmarkImportXlsx: importing 10,000 tasks from an Excel ledger (issue
// 16: < 10 s): the file read and parsed (parse-ms), then seeded into a new
// database (ns/op covers both).
//
//	go test ./ledger -run='^$' -bench='^BenchmarkImportXlsx$' -benchtime=3x
func BenchmarkImportXlsx(b *testing.B) {
	tasks := synth.Tasks(10000, 42, synth.Sentences(string(seeds.Xuchang())))
	store, err := testenv.Open(filepath.Join(b.TempDir(), "from.db"), testenv.Tasks(tasks, "synthetic"), testenv.Units(synth.Specs()...))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	err = ledger.Write(context.Background(), &buf, bot.New(store, nil), time.Date(2022, 6, 15, 9, 0, 0, 0, store.Clock.Zone()), "")
	store.Close()
	if err != nil {
		b.Fatal(err)
	}
	file := buf.Bytes()
	var parse time.Duration
	i := 0
	for b.Loop() {
		i++
		t0 := time.Now()
		d, err := seeds.Parse(file)
		if err != nil || len(d.Tasks) != 10000 || len(d.Problems) != 0 {
			b.Fatalf("Parse: %v", err)
		}
		parse += time.Since(t0)
		to, err := storage.Open(filepath.Join(b.TempDir(), fmt.Sprintf("to%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		if res, err := to.Seed(context.Background(), d.Records(), d.Version()); err != nil || res.Created != 10000 {
			b.Fatalf("Seed: %+v, %v", res, err)
		}
		to.Close()
	}
	b.ReportMetric(float64(parse.Milliseconds())/float64(i), "parse-ms")
	b.ReportMetric(float64(len(file))/(1<<20), "file-MB")
}
