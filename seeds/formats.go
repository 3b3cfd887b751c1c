package seeds

// What a task-list file is: plain text, a Word (.docx) or Excel (.xlsx)
// file, or a format taskbot cannot read, told by its first bytes.

import (
	"archive/zip"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// formatsThatWork names, for messages, the formats Parse reads.
const formatsThatWork = "可读取的格式：纯文本（.txt，UTF-8 或 GBK/GB18030）、Word（.docx）、Excel（.xlsx）"

// unreadable names the formats told by their first bytes that Parse does
// not read.
var unreadable = []struct {
	magic, what string
}{
	{"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "旧版 Word 或 Excel 文件（.doc/.xls），请在 Word 或 Excel 中另存为 .docx 或 .xlsx"},
	{"%PDF", " PDF 文件，无法可靠读取其中的文字，请使用原始的 Word、Excel 或文本文件"},
	{"\x89PNG", "图片（PNG），无法读取图片中的文字"},
	{"\xFF\xD8\xFF", "图片（JPEG），无法读取图片中的文字"},
	{"GIF8", "图片（GIF），无法读取图片中的文字"},
	{"II*\x00", "图片（TIFF），无法读取图片中的文字"},
	{"MM\x00*", "图片（TIFF），无法读取图片中的文字"},
	{"{\\rtf", " RTF 文件，请在 Word 中另存为 .docx"},
}

// parseFile reads doc when it is not plain text: a .docx or .xlsx file, or
// one of the unreadable formats (an error naming what works). ok is false
// for plain text.
func parseFile(doc []byte) (d *Document, ok bool, err error) {
	for _, u := range unreadable {
		if bytes.HasPrefix(doc, []byte(u.magic)) {
			return nil, true, &ParseError{Line: 1, Msg: "这是" + u.what + "。" + formatsThatWork}
		}
	}
	if !bytes.HasPrefix(doc, []byte("PK\x03\x04")) {
		return nil, false, nil
	}
	zr, err := zip.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		return nil, true, &ParseError{Line: 1, Msg: "文件是损坏的压缩包（" + err.Error() + "）。" + formatsThatWork}
	}
	for _, f := range zr.File {
		switch f.Name {
		case "word/document.xml":
			d, err := parseDocx(doc)
			return d, true, err
		case "xl/workbook.xml":
			d, err := parseXlsx(doc)
			return d, true, err
		}
	}
	return nil, true, &ParseError{Line: 1, Msg: "这是压缩包，但不是 Word（.docx）或 Excel（.xlsx）文件。" + formatsThatWork}
}

// parseDocx reads a .docx file: its list as one table under a header row
// (see parseTable), or else its text, paragraph by paragraph, each table
// row a line of its cells joined by " | " (the text Word gives when a
// table is copied), read as a text list. Line numbers count paragraphs
// and table rows.
func parseDocx(doc []byte) (*Document, error) {
	blocks, err := readDocx(doc)
	if err != nil {
		return nil, &ParseError{Line: 1, Msg: "无法读取 Word 文件（" + err.Error() + "）。" + formatsThatWork}
	}
	var lines []string
	var ledgers []*ledger
	for _, b := range blocks {
		if b.table == nil {
			lines = append(lines, strings.Split(b.text, "\n")...)
			continue
		}
		rows := make([][]string, len(b.table))
		at := make([]int, len(b.table))
		for i, r := range b.table {
			for _, c := range r {
				rows[i] = append(rows[i], c.text)
			}
			at[i] = len(lines) + i + 1
		}
		if l := parseTable(rows, at); l != nil && len(l.Tasks) > 0 {
			ledgers = append(ledgers, l)
			for range rows {
				lines = append(lines, "") // the table's rows: read
			}
			continue
		}
		for _, r := range b.table {
			var cells []string
			for _, c := range r {
				if !c.spanned && !c.continued {
					cells = append(cells, strings.ReplaceAll(c.text, "\n", " "))
				} else {
					cells = append(cells, "")
				}
			}
			lines = append(lines, strings.Join(cells, " | "))
		}
	}
	if len(ledgers) == 0 {
		return parseText(strings.Join(lines, "\n"))
	}
	// The list is kept in tables: every table with a header is read, and
	// the text around them too: tasks written there are read with the
	// tables'; other text (a title, notes) is noted.
	if text, err := parseText(strings.Join(lines, "\n")); err == nil {
		return mergeTables(append(ledgers, &ledger{Document: text})), nil
	}
	d := mergeTables(ledgers)
	for i, l := range lines {
		if l = strings.TrimFunc(l, isSpace); l != "" {
			d.Notes = append(d.Notes, Warning{Line: i + 1, Msg: "清单表格之外：" + clip(l)})
		}
	}
	return d, nil
}

// mergeTables joins the lists read from several tables (or sheets) into
// one: sections by kind, in order; a task code given again is a problem,
// but tasks numbered only by their rows (任务N) go on numbering.
//
// The lists the tables' codes name are settled here, over every table: one
// list named (省督察二轮/共性1, as `export` writes the codes of a list other
// than the default one) is the document's CodeList, with a note; several
// (a list's codes and another's, or codes without a list) are a problem,
// since an import is one list.
func mergeTables(ds []*ledger) *Document {
	out := &Document{}
	lists := map[string]int{}
	kinds := map[string]int{}
	first := map[string]int{}
	last := map[string]int{} // the highest number by kind
	var named []string       // the lists named, in the order they come
	for _, d := range ds {
		for _, l := range slices.SortedFunc(maps.Keys(d.codeLists), func(a, b string) int { return cmp.Compare(d.codeLists[a], d.codeLists[b]) }) {
			if _, ok := lists[l]; !ok {
				lists[l] = d.codeLists[l]
				named = append(named, l)
			}
		}
		out.Warnings = append(out.Warnings, d.Warnings...)
		out.Notes = append(out.Notes, d.Notes...)
		out.Problems = append(out.Problems, d.Problems...)
		number := map[int]int{}
		for _, sec := range d.Sections {
			was := sec.Number
			if _, ok := kinds[sec.Kind]; !ok {
				kinds[sec.Kind] = len(kinds) + 1
				sec.Number = kinds[sec.Kind]
				out.Sections = append(out.Sections, sec)
			}
			number[was] = kinds[sec.Kind]
		}
		for _, t := range d.Tasks {
			kind := strings.TrimRight(t.Code, "0123456789")
			if line, dup := first[t.Code]; dup && kind == "任务" {
				was := t.Code
				t.Number = last[kind] + 1
				t.Code = fmt.Sprintf("%s%d", kind, t.Number)
				out.Warnings = append(out.Warnings, Warning{Line: t.Line, Task: t.Code, Msg: fmt.Sprintf("编为 %s：%s 已在第 %d 行出现", t.Code, was, line)})
			} else if dup {
				out.Problems = append(out.Problems, Warning{Line: t.Line, Task: t.Code, Msg: fmt.Sprintf("任务 %s 重复（首次在第 %d 行），未读取", t.Code, line)})
				continue
			}
			first[t.Code] = t.Line
			last[kind] = max(last[kind], t.Number)
			t.Section = number[t.Section]
			out.Tasks = append(out.Tasks, t)
		}
	}
	switch {
	case len(named) > 1:
		var parts []string
		for _, l := range named {
			name := "“" + l + "”"
			if l == "" {
				name = "默认清单（编号不带清单名）"
			}
			parts = append(parts, fmt.Sprintf("%s（第 %d 行起）", name, lists[l]))
		}
		out.Problems = append(out.Problems, Warning{Line: lists[named[1]], Msg: fmt.Sprintf(
			"此表含有 %d 个清单的任务：%s。一次只能导入一个清单：请把其他清单的行删去（编号带“清单名/”的属于该清单）后再导入。", len(named), strings.Join(parts, "、"))})
	case len(named) == 1 && named[0] != "":
		out.CodeList = named[0]
		out.Notes = append(out.Notes, Warning{Line: lists[named[0]], Msg: fmt.Sprintf("编号带清单名“%s/”：按去掉清单名后的编号读入。", named[0])})
	}
	return out
}

// maxSheetRows bounds the rows read from one sheet.
const maxSheetRows = 1 << 20

// parseXlsx reads an .xlsx file: the first sheet with a header row naming
// the columns (see parseTable). A merged cell's value fills every cell it
// covers. Line numbers are row numbers.
func parseXlsx(doc []byte) (*Document, error) {
	// Raw values: a date cell comes as its serial number, not as the
	// cell's display format (12-31-22), and is written out in Chinese.
	f, err := excelize.OpenReader(bytes.NewReader(doc), excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, &ParseError{Line: 1, Msg: "无法读取 Excel 文件（" + err.Error() + "）。" + formatsThatWork}
	}
	defer f.Close()
	// Every sheet with a header row: a list may run over several.
	var ledgers []*ledger
	for _, sheet := range f.GetSheetList() {
		// Its first rows first: a sheet without a header (a ledger's
		// other sheets, of 100,000 rows) is not read whole.
		if head, err := sheetHead(f, sheet); err != nil || func() bool { h, _ := tableHeader(head); return h < 0 }() {
			continue
		}
		rows, err := f.GetRows(sheet)
		if err != nil {
			return nil, &ParseError{Line: 1, Msg: fmt.Sprintf("无法读取 Excel 工作表 %q（%v）", sheet, err)}
		}
		if len(rows) > maxSheetRows {
			rows = rows[:maxSheetRows]
		}
		if merged, err := f.GetMergeCells(sheet); err == nil {
			for _, m := range merged {
				fillMerged(rows, m)
			}
		}
		lines := make([]int, len(rows))
		for i := range lines {
			lines[i] = i + 1
		}
		datesAsText(f, sheet, rows)
		d := parseTable(rows, lines)
		if d == nil {
			continue
		}
		if len(d.Tasks) == 0 {
			return nil, &ParseError{Line: 1, Msg: fmt.Sprintf("Excel 工作表 %q 有表头，但没有可读取的任务行%s", sheet, listed(d.Warnings))}
		}
		if len(ledgers) > 0 { // rows are numbered per sheet: say which
			for _, ws := range [][]Warning{d.Warnings, d.Problems} {
				for i := range ws {
					ws[i].Msg = fmt.Sprintf("sheet %q: %s", sheet, ws[i].Msg)
				}
			}
		}
		ledgers = append(ledgers, d)
	}
	if len(ledgers) > 0 {
		return mergeTables(ledgers), nil
	}
	return nil, &ParseError{Line: 1, Msg: "Excel 文件中没有找到表头行：需要一行列名，至少包括“问题”（或“整改任务”等）和“责任单位”或“整改时限”（或其同义词）"}
}

// fillMerged copies a merged range's value into every cell it covers.
func fillMerged(rows [][]string, m excelize.MergeCell) {
	c1, r1, err1 := excelize.CellNameToCoordinates(m.GetStartAxis())
	c2, r2, err2 := excelize.CellNameToCoordinates(m.GetEndAxis())
	if err := errors.Join(err1, err2); err != nil || r1 < 1 || c1 < 1 || r2 > len(rows) || c2-c1 > 64 {
		return
	}
	v := m.GetCellValue()
	for r := r1; r <= min(r2, len(rows)); r++ {
		for c := c1; c <= c2; c++ {
			for len(rows[r-1]) < c {
				rows[r-1] = append(rows[r-1], "")
			}
			rows[r-1][c-1] = v
		}
	}
}

// listed is what was reported of a table none of whose rows was a task:
// its first problems, and how many more.
func listed(ws []Warning) string {
	if len(ws) == 0 {
		return ""
	}
	const most = 20
	parts := make([]string, 0, most)
	for _, w := range ws[:min(most, len(ws))] {
		parts = append(parts, w.String())
	}
	more := ""
	if len(ws) > most {
		more = fmt.Sprintf("；另有 %d 处", len(ws)-most)
	}
	return "：" + strings.Join(parts, "；") + more
}

// datesAsText writes the date cells of a sheet's deadline column (under a
// header row) as Chinese dates: 2022年12月31日.
func datesAsText(f *excelize.File, sheet string, rows [][]string) {
	h, cols := tableHeader(rows)
	if h < 0 {
		return
	}
	for j, c := range cols {
		if c != colDeadline {
			continue
		}
		for i := h + 1; i < len(rows); i++ {
			if j >= len(rows[i]) {
				continue
			}
			serial, err := strconv.ParseFloat(strings.TrimSpace(rows[i][j]), 64)
			if err != nil || serial < 1 || serial > 2958465 {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if typ, err := f.GetCellType(sheet, cell); err != nil || typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
				continue
			}
			if style, err := f.GetCellStyle(sheet, cell); err != nil || !isDateStyle(f, style) {
				continue
			}
			if t, err := excelize.ExcelDateToTime(serial, false); err == nil {
				rows[i][j] = fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
			}
		}
	}
}

// isDateStyle says whether a cell style shows a date: a built-in date
// format (14–22, 27–36, 45–47, 50–58) or a custom one with y, m and d.
func isDateStyle(f *excelize.File, id int) bool {
	st, err := f.GetStyle(id)
	if err != nil || st == nil {
		return false
	}
	switch n := st.NumFmt; {
	case n >= 14 && n <= 22, n >= 27 && n <= 36, n >= 45 && n <= 47, n >= 50 && n <= 58:
		return true
	}
	if st.CustomNumFmt != nil {
		c := strings.ToLower(*st.CustomNumFmt)
		return strings.Contains(c, "y") && strings.Contains(c, "d") || strings.Contains(c, "年")
	}
	return false
}

// sheetHead reads a sheet's first rows, where its header would be.
func sheetHead(f *excelize.File, sheet string) ([][]string, error) {
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]string
	for len(out) < maxHeaderRow && rows.Next() {
		cols, err := rows.Columns()
		if err != nil {
			return nil, err
		}
		out = append(out, cols)
	}
	return out, rows.Error()
}
