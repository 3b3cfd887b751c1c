package seeds_test

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"taskbot/seeds"
	"taskbot/storage"
)

// docx builds a Word file whose body is the given XML (paragraphs and
// tables in WordprocessingML).
func docx(t testing.TB, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>`,
		"word/document.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
			`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + body + `</w:body></w:document>`,
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// para is a paragraph of text, in runs of at most seven characters (Word
// splits text into runs wherever formatting or editing changed).
func para(text string) string {
	var b strings.Builder
	b.WriteString("<w:p><w:pPr><w:jc w:val=\"both\"/></w:pPr>")
	rs := []rune(text)
	for len(rs) > 0 {
		n := min(7, len(rs))
		b.WriteString(`<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">`)
		xml.EscapeText(&b, []byte(string(rs[:n])))
		b.WriteString("</w:t></w:r>")
		rs = rs[n:]
	}
	b.WriteString("</w:p>")
	return b.String()
}

// tableCell is a w:tc; props are its w:tcPr children.
func tableCell(props, text string) string {
	var b strings.Builder
	b.WriteString("<w:tc><w:tcPr>" + props + "</w:tcPr>")
	for _, line := range strings.Split(text, "\n") {
		b.WriteString(para(line))
	}
	b.WriteString("</w:tc>")
	return b.String()
}

// TestDocxAsText: the seed written in Word, a paragraph a line, reads as
// the text does, every field and line.
func TestDocxAsText(t *testing.T) {
	want, err := seeds.Parse(seeds.Xuchang())
	if err != nil {
		t.Fatal(err)
	}
	var body strings.Builder
	for _, line := range strings.Split(strings.ReplaceAll(string(seeds.Xuchang()), "\r\n", "\n"), "\n") {
		body.WriteString(para(line))
	}
	got, err := seeds.Parse(docx(t, body.String()))
	if err != nil {
		t.Fatalf("Parse(docx) error: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the seed as .docx reads differently (-text +docx):\n%s", diff)
	}
}

// tableList is a short list in the seed's layout; tableRows is the same
// list as a table: a title row, a header row in another order than the
// ledger's, one row per task.
const tableList = `一、共性整改任务
1.黑臭水体反弹。部分水体返黑返臭。
整改目标：消除黑臭水体。
整改措施：（1）排查水体。（2）清淤截污。
责任领导：市政府分管城建、生态环境副市长
牵头单位：市城管局
责任单位：各县（市、区）
责 任 人：各单位主要负责人
整改时限：2022年6月底前完成
2.垃圾渗滤液处理不到位。
整改目标：渗滤液全量处理。
整改措施：（1）扩建处理设施。
责任领导：市政府分管城建副市长
牵头单位：市城管局
责任单位：市城管局、长葛市
责 任 人：局长
整改时限：立行立改，长期坚持
二、个性整改任务
1.某项目未批先建。
整改目标：依法查处。
整改措施：（1）立案查处。（2）补办手续。
责任领导：市政府常务副市长
牵头单位：市生态环境局
责任单位：禹州市
责 任 人：市长
整改时限：2021年12月底前
`

var tableRows = [][]string{
	{"许昌市整改台账"},
	{"编号", "责任单位", "问题", "整改目标", "整改措施", "责任领导", "牵头单位", "责任人", "完成时限"},
	{"共性1", "各县（市、区）", "黑臭水体反弹。部分水体返黑返臭。", "消除黑臭水体。", "（1）排查水体。（2）清淤截污。", "市政府分管城建、生态环境副市长", "市城管局", "各单位主要负责人", "2022年6月底前完成"},
	{"共性2", "市城管局、长葛市", "垃圾渗滤液处理不到位。", "渗滤液全量处理。", "1. 扩建处理设施。", "市政府分管城建副市长", "市城管局", "局长", "立行立改，长期坚持"},
	{"个性1", "禹州市", "某项目未批先建。", "依法查处。", "1.立案查处。\n2.补办手续。", "市政府常务副市长", "市生态环境局", "市长", "2021年12月底前"},
}

func tasksWithoutLines(t *testing.T, d *seeds.Document) []seeds.Task {
	t.Helper()
	out := make([]seeds.Task, len(d.Tasks))
	for i, task := range d.Tasks {
		task.Line, task.LastLine = 0, 0
		out[i] = task
	}
	return out
}

// TestTablesReadAsText: the same list as text, as a Word table and as an
// Excel sheet gives the same tasks.
func TestTablesReadAsText(t *testing.T) {
	want, err := seeds.Parse([]byte(tableList))
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Tasks) != 3 {
		t.Fatalf("the text fixture has %d tasks; want 3", len(want.Tasks))
	}
	// Word: the table, with 牵头单位 merged down over the first two tasks
	// (w:vMerge) and the title spanning the columns (w:gridSpan).
	var body strings.Builder
	body.WriteString(para("许昌市中央生态环境保护督察整改任务清单"))
	body.WriteString("<w:tbl><w:tblGrid/>")
	for i, r := range tableRows {
		body.WriteString("<w:tr>")
		if i == 0 {
			body.WriteString(tableCell(`<w:gridSpan w:val="9"/>`, r[0]))
			body.WriteString("</w:tr>")
			continue
		}
		for j, c := range r {
			props := ""
			if j == 6 && i == 2 {
				props = `<w:vMerge w:val="restart"/>`
			}
			if j == 6 && i == 3 {
				props, c = `<w:vMerge/>`, ""
			}
			body.WriteString(tableCell(props, c))
		}
		body.WriteString("</w:tr>")
	}
	body.WriteString("</w:tbl>")
	body.WriteString(para("许昌市生态环境保护委员会办公室 2021年9月1日"))
	fromWord, err := seeds.Parse(docx(t, body.String()))
	if err != nil {
		t.Fatalf("Parse(docx) error: %v", err)
	}
	if diff := cmp.Diff(tasksWithoutLines(t, want), tasksWithoutLines(t, fromWord)); diff != "" {
		t.Errorf("the Word table reads differently (-text +docx):\n%s", diff)
	}
	if got := fromWord.Tasks[2].Line; got != 6 {
		t.Errorf("个性1 is at line %d of the Word file; want 6 (its table row)", got)
	}
	// Excel, with 牵头单位 merged the same way.
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range tableRows {
		for j, c := range r {
			if j == 6 && i == 3 {
				continue
			}
			cellName, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := f.SetCellValue("Sheet1", cellName, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.MergeCell("Sheet1", "G3", "G4"); err != nil {
		t.Fatal(err)
	}
	fromExcel := parseExcel(t, f)
	if diff := cmp.Diff(tasksWithoutLines(t, want), tasksWithoutLines(t, fromExcel)); diff != "" {
		t.Errorf("the Excel sheet reads differently (-text +xlsx):\n%s", diff)
	}
	if got := fromExcel.Tasks[0].Line; got != 3 {
		t.Errorf("共性1 is at line %d of the sheet; want 3 (its row)", got)
	}
}

// TestTableRowsReported: a row without a problem, a task given twice and a
// column that is no field are reported; a row without units or deadline
// imports with a warning.
func TestTableRowsReported(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{
		{"序号", "整改任务", "整改实施主体", "整改期限", "备注"},
		{1, "问题甲。", "甲县", "2022年3月底前", "已报"},
		{2, "", "乙县", "2022年3月底前", ""},
		{1, "问题甲又一遍。", "甲县", "2022年3月底前", ""},
		{3, "问题丙。", "", "", ""},
	}
	for i, r := range rows {
		cellName, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cellName, &r); err != nil {
			t.Fatal(err)
		}
	}
	d := parseExcel(t, f)
	var codes []string
	for _, task := range d.Tasks {
		codes = append(codes, fmt.Sprintf("%s@%d", task.Code, task.Line))
	}
	if want := []string{"任务1@2", "任务3@5"}; !cmp.Equal(codes, want) {
		t.Errorf("tasks %v; want %v", codes, want)
	}
	var warnings []string
	for _, w := range d.Warnings {
		warnings = append(warnings, w.String())
	}
	for _, want := range []string{"第 1 行：“备注”列不是任务字段：其中 1 个单元格未导入",
		"第 3 行：此行没有问题描述（问题），已跳过", "第 4 行 任务1：此行跳过：任务 任务1 已在第 2 行出现",
		"第 5 行 任务3：缺少责任单位", "第 5 行 任务3：缺少整改时限：时限未定，没有节点"} {
		if !strings.Contains(strings.Join(warnings, "\n"), want) {
			t.Errorf("no warning %q in %q", want, warnings)
		}
	}
}

// TestTableMeasureCells: a measures cell is split into items whether its
// measures are on lines of their own or run together on one line.
func TestTableMeasureCells(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{
		{"序号", "整改任务", "整改措施", "责任单位", "整改时限"},
		{1, "问题甲。", "1.排查登记；2.限期拆除", "甲县", "2022年3月底前"},
		{2, "问题乙。", "1.排查登记\n2.限期拆除", "乙县", "2022年3月底前"},
		{3, "问题丙。", "（1）排查登记。（2）限期拆除。", "丙县", "2022年3月底前"},
		{4, "问题丁。", "加强巡查", "丁县", "2022年3月底前"},
	}
	for i, r := range rows {
		cellName, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cellName, &r); err != nil {
			t.Fatal(err)
		}
	}
	d := parseExcel(t, f)
	want := [][]string{{"排查登记；", "限期拆除"}, {"排查登记", "限期拆除"}, {"排查登记。", "限期拆除。"}, {"加强巡查"}}
	for i, task := range d.Tasks {
		if i < len(want) && !cmp.Equal(task.Measures, want[i]) {
			t.Errorf("%s measures %q; want %q", task.Code, task.Measures, want[i])
		}
	}
	if len(d.Tasks) != len(want) {
		t.Errorf("%d tasks; want %d", len(d.Tasks), len(want))
	}
}

// TestUnreadableFormats: .doc, PDF, images and other zip files get a
// message naming the formats that work.
func TestUnreadableFormats(t *testing.T) {
	var other bytes.Buffer
	zw := zip.NewWriter(&other)
	if _, err := zw.Create("hello.txt"); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	for name, doc := range map[string][]byte{
		"doc":         []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00"),
		"pdf":         []byte("%PDF-1.7\n"),
		"png":         []byte("\x89PNG\r\n\x1a\n"),
		"jpeg":        []byte("\xFF\xD8\xFF\xE0"),
		"zip":         other.Bytes(),
		"broken docx": []byte("PK\x03\x04garbage"),
		"excel without a header": func() []byte {
			f := excelize.NewFile()
			f.SetCellValue("Sheet1", "A1", "hello")
			var b bytes.Buffer
			f.Write(&b)
			return b.Bytes()
		}(),
	} {
		d, err := seeds.Parse(doc)
		if err == nil || d != nil {
			t.Errorf("%s: Parse = %v, %v; want an error", name, d, err)
			continue
		}
		if name != "excel without a header" && !strings.Contains(err.Error(), ".docx") {
			t.Errorf("%s: %v; want the formats that work named", name, err)
		}
	}
}

// FuzzDocx: a Word file of paragraphs reads exactly as the same lines in
// text (nothing lost, nothing added), and any document.xml at all is read
// or refused, never a panic.
func FuzzDocx(f *testing.F) {
	f.Add(tableList, "")
	f.Add("一、共性整改任务\n1.问题。\n责任单位：甲县\n整改时限：2022年3月底前", "<w:p><w:r><w:t>x</w:t></w:r></w:p>")
	f.Add("", `<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="3"/></w:tcPr><w:p><w:r><w:t>问题</w:t></w:r></w:p></w:tc></w:tr></w:tbl>`)
	f.Add("", `<w:tbl><w:tr><w:tc><w:tbl><w:tr><w:tc><w:p><w:r><w:t>a</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:tc></w:tr>`)
	f.Fuzz(func(t *testing.T, text, raw string) {
		if len(text)+len(raw) > 20000 {
			return
		}
		got, gotErr := seeds.Parse(docx(t, raw))
		if (got == nil) == (gotErr == nil) {
			t.Fatalf("Parse(docx of %q) = %v, %v; want a document or an error", raw, got, gotErr)
		}
		lines := strings.Split(text, "\n")
		var body strings.Builder
		for _, l := range lines {
			if strings.ContainsAny(l, "\r\t") || !utf8Valid(l) || strings.ContainsFunc(l, func(r rune) bool { return r < 0x20 || r == 0xFFFE || r == 0xFFFF }) {
				return // not text a paragraph holds as such
			}
			body.WriteString(para(l))
		}
		want, wantErr := seeds.Parse([]byte(strings.Join(lines, "\n")))
		got, gotErr = seeds.Parse(docx(t, body.String()))
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("text: %v; docx: %v", wantErr, gotErr)
		}
		if wantErr == nil && !cmp.Equal(want, got) {
			t.Errorf("the lines as .docx read differently (-text +docx):\n%s", cmp.Diff(want, got))
		}
	})
}

func utf8Valid(s string) bool {
	return strings.ToValidUTF8(s, "\uFFFD") == s && !strings.ContainsRune(s, '\uFFFD')
}

// FuzzTable: every row of a sheet under its header is accounted for: a
// task at its row, or a warning there.
func FuzzTable(f *testing.F) {
	f.Add("共性1\t问题甲。\t甲县\t2022年3月底前\n\t\t乙县\n共性1\t问题。\t\t\n2\tx\ty\t立行立改")
	f.Add("个性9\t某问题。（1）甲\t各县（市、区）\t2021年9月底前完成排查，12月底前完成整改")
	f.Fuzz(func(t *testing.T, sheet string) {
		if !utf8Valid(sheet) || len(sheet) > 4000 {
			return
		}
		file := excelize.NewFile()
		defer file.Close()
		rows := [][]string{{"编号", "问题", "责任单位", "整改时限"}}
		for _, l := range strings.Split(sheet, "\n") {
			rows = append(rows, strings.Split(l, "\t"))
		}
		for i, r := range rows {
			for j, c := range r {
				if j >= 16 {
					break
				}
				name, _ := excelize.CoordinatesToCellName(j+1, i+1)
				if err := file.SetCellStr("Sheet1", name, c); err != nil {
					return
				}
			}
		}
		var buf bytes.Buffer
		if err := file.Write(&buf); err != nil {
			return
		}
		back, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		stored, err := back.GetRows("Sheet1") // as excelize keeps them
		back.Close()
		if err != nil {
			t.Fatal(err)
		}
		d, err := seeds.Parse(buf.Bytes())
		at := map[int]bool{}
		if err == nil {
			for _, task := range d.Tasks {
				at[task.Line] = true
			}
			for _, w := range d.Warnings {
				at[w.Line] = true
			}
		}
		for i := 1; i < len(stored); i++ {
			if strings.TrimSpace(strings.Join(stored[i], "")) == "" {
				continue
			}
			if err != nil { // no task: each row's problem is in the error
				if len(stored) <= 20 && !strings.Contains(err.Error(), fmt.Sprintf("第 %d 行：", i+1)) {
					t.Errorf("row %d %q is not reported in %v", i+1, stored[i], err)
				}
				continue
			}
			if !at[i+1] {
				t.Errorf("row %d %q is neither a task nor reported: %+v", i+1, stored[i], d)
			}
		}
	})
}

// TestSeveralTables: every table with a header is read (two Word tables,
// two sheets); text around them is noted; a header's gloss (整改时限（年月）)
// and a header below a long title block are recognised.
func TestSeveralTables(t *testing.T) {
	table := func(rows [][]string) string {
		var b strings.Builder
		b.WriteString("<w:tbl>")
		for _, r := range rows {
			b.WriteString("<w:tr>")
			for _, c := range r {
				b.WriteString(tableCell("", c))
			}
			b.WriteString("</w:tr>")
		}
		b.WriteString("</w:tbl>")
		return b.String()
	}
	header := []string{"编号", "反馈问题（具体表现）", "责任单位", "整改时限（年月）"}
	first := [][]string{header, {"共性1", "问题甲。", "甲县", "2022年3月底前"}}
	second := [][]string{header, {"个性1", "问题乙。", "乙县", "2022年6月底前"}, {"个性2", "问题丙。", "丙县", "立行立改"}}
	d, err := seeds.Parse(docx(t, para("清单")+table(first)+para("续表")+table(second)+para("某县人民政府")))
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, task := range d.Tasks {
		codes = append(codes, fmt.Sprintf("%s/%d", task.Code, task.Section))
	}
	if got := strings.Join(codes, " "); got != "共性1/1 个性1/2 个性2/2" {
		t.Errorf("tasks %s; want both tables' tasks", got)
	}
	if len(d.Notes) != 3 {
		t.Errorf("notes %v; want the three paragraphs outside the tables", d.Notes)
	}
	// Excel: two sheets, the second's header under eight title rows.
	f := excelize.NewFile()
	defer f.Close()
	if _, err := f.NewSheet("续"); err != nil {
		t.Fatal(err)
	}
	for i, r := range first {
		cellName, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cellName, &r); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range second {
		cellName, _ := excelize.CoordinatesToCellName(1, i+9)
		if err := f.SetSheetRow("续", cellName, &r); err != nil {
			t.Fatal(err)
		}
	}
	d = parseExcel(t, f)
	if len(d.Tasks) != 3 || d.Tasks[2].Code != "个性2" || d.Tasks[2].Line != 11 {
		t.Errorf("tasks %+v; want both sheets' three, 个性2 at row 11", d.Tasks)
	}
}

// TestExcelDates: a deadline kept as an Excel date reads as that date,
// whatever its display format.
func TestExcelDates(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	for i, v := range []any{"问题", "责任单位", "整改时限", "问题甲。", "甲县", time.Date(2022, 12, 31, 0, 0, 0, 0, time.UTC)} {
		cellName, _ := excelize.CoordinatesToCellName(i%3+1, i/3+1)
		if err := f.SetCellValue("Sheet1", cellName, v); err != nil {
			t.Fatal(err)
		}
	}
	style, err := f.NewStyle(&excelize.Style{NumFmt: 14}) // m-d-yy
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellStyle("Sheet1", "C2", "C2", style); err != nil {
		t.Fatal(err)
	}
	d := parseExcel(t, f)
	if task := d.Tasks[0]; task.Deadline != "2022年12月31日" || len(task.Milestones) != 1 || task.Milestones[0].Due != storage.NewDate(2022, 12, 31) {
		t.Errorf("deadline %q, milestones %+v; want 2022年12月31日", task.Deadline, task.Milestones)
	}
}

// TestDocxDetails: a text box inside a paragraph keeps the text after it;
// a row starting after empty grid columns (w:gridBefore) keeps its cells
// under their headers; a unit a line in a cell is a list of units.
func TestDocxDetails(t *testing.T) {
	body := para("一、共性整改任务") +
		`<w:p><w:r><w:t>1.甲问题，</w:t></w:r><w:r><w:drawing><w:txbxContent><w:p><w:r><w:t>附注</w:t></w:r></w:p></w:txbxContent></w:drawing></w:r><w:r><w:t>其后的文字。</w:t></w:r></w:p>` +
		para("责任单位：市住建局") + para("整改时限：2022年12月底前")
	d, err := seeds.Parse(docx(t, body))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Tasks[0].Problem; got != "甲问题，附注其后的文字。" {
		t.Errorf("problem %q; want the text after the text box kept", got)
	}
	table := `<w:tbl><w:tr>` + tableCell("", "序号") + tableCell("", "问题") + tableCell("", "责任单位") + tableCell("", "整改时限") + `</w:tr>` +
		`<w:tr><w:trPr><w:gridBefore w:val="1"/></w:trPr>` + tableCell("", "乙问题。") + tableCell("", "市住建局\n市城管局") + tableCell("", "2022年6月底前") + `</w:tr></w:tbl>`
	d, err = seeds.Parse(docx(t, table))
	if err != nil {
		t.Fatal(err)
	}
	if task := d.Tasks[0]; task.Problem != "乙问题。" || strings.Join(task.Units, "|") != "市住建局|市城管局" || task.Deadline != "2022年6月底前" {
		t.Errorf("task %+v; want 乙问题。 by 市住建局 and 市城管局, 2022年6月底前", task)
	}
}

// parseExcel writes f and reads it back as a list.
func parseExcel(t *testing.T, f *excelize.File) *seeds.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	d, err := seeds.Parse(buf.Bytes())
	if err != nil {
		t.Fatalf("Parse(xlsx) error: %v", err)
	}
	return d
}

// TestTableListCodes: the ledger writes a code of a list other than the
// default one with the list's name (省督察二轮/共性1). Rows of one such
// list read as that list's codes, with a note; rows of several lists are
// a problem naming them, since one import is one list.
func TestTableListCodes(t *testing.T) {
	sheet := func(codes ...string) *excelize.File {
		f := excelize.NewFile()
		rows := [][]any{{"编号", "问题", "责任单位", "整改时限"}}
		for i, c := range codes {
			rows = append(rows, []any{c, fmt.Sprintf("问题%d。", i+1), "甲县", "2022年3月底前"})
		}
		for i, r := range rows {
			cellName, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := f.SetSheetRow("Sheet1", cellName, &r); err != nil {
				t.Fatal(err)
			}
		}
		return f
	}
	d := parseExcel(t, sheet("省督察二轮/共性1", "省督察二轮／共性2", "省督察二轮/个性1"))
	var codes []string
	for _, task := range d.Tasks {
		codes = append(codes, task.Code)
	}
	if !cmp.Equal(codes, []string{"共性1", "共性2", "个性1"}) || len(d.Problems) != 0 ||
		len(d.Notes) == 0 || !strings.Contains(d.Notes[len(d.Notes)-1].Msg, "编号带清单名“省督察二轮/”") {
		t.Errorf("one list's rows: codes %q, problems %v, notes %v", codes, d.Problems, d.Notes)
	}
	if d.CodeList != "省督察二轮" {
		t.Errorf("CodeList = %q; want 省督察二轮", d.CodeList)
	}
	// Two sheets, each one list's: still two lists.
	f := sheet("省督察二轮/共性1", "省督察二轮/共性2")
	if _, err := f.NewSheet("Sheet2"); err != nil {
		t.Fatal(err)
	}
	for i, r := range [][]any{{"编号", "问题", "责任单位", "整改时限"}, {"回头看/任务1", "问题丙。", "乙县", "2022年3月底前"}} {
		cellName, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet2", cellName, &r); err != nil {
			t.Fatal(err)
		}
	}
	if d := parseExcel(t, f); len(d.Problems) != 1 || !strings.Contains(d.Problems[0].Msg, "此表含有 2 个清单的任务：“省督察二轮”（第 2 行起）、“回头看”（第 2 行起）") {
		t.Errorf("two sheets of two lists: problems %v", d.Problems)
	}
	d = parseExcel(t, sheet("共性1", "共性2", "省督察二轮/共性1", "回头看/任务1"))
	if len(d.Problems) != 1 || !strings.Contains(d.Problems[0].Msg, "此表含有 3 个清单的任务：默认清单（编号不带清单名）（第 2 行起）、“省督察二轮”（第 4 行起）、“回头看”（第 5 行起）") {
		t.Errorf("several lists' rows: problems %v", d.Problems)
	}
}
