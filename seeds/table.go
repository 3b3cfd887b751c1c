package seeds

// Lists kept as a table, one row per task under a header row naming the
// columns: the Excel ledger (整改台账, the layout `taskbot export` writes)
// and Word documents whose list is one table. Columns come in any order
// and under the labels' synonyms.

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// column is what a table's column holds.
type column int

const (
	colNone column = iota
	colSeq         // 序号: the row's number
	colCode        // 编号: the task's code, such as 共性6
	colProblem
	colGoal
	colMeasures
	colLeaders
	colLead
	colUnits
	colPersons
	colDeadline
	colStatus // 完成情况: the task's reported progress
)

// columnLabels are the header labels of each column, synonyms included.
var columnLabels = map[column][]string{
	colSeq:      {"序号"},
	colCode:     {"编号", "任务编号"},
	colProblem:  {"问题", "反馈问题", "整改问题", "存在问题", "问题描述", "整改任务", "整改任务概述", "任务内容"},
	colGoal:     {"整改目标", "目标任务"},
	colMeasures: {"整改措施", "重点措施", "主要措施"},
	colLeaders:  {fLeaders},
	colLead:     {fLead, "牵头部门"},
	colUnits:    {fUnits, "整改责任单位", "整改实施主体", "实施主体", "配合单位"},
	colPersons:  {fPersons},
	colDeadline: {fDeadline, "整改期限", "完成时限", "整改时间", "整改完成时间", "完成时间"},
	colStatus:   {fStatus, "整改完成情况", "整改进展情况"},
}

// columnOf is the column a header cell names (colNone for another label).
func columnOf(label string) column {
	label = strings.Map(func(r rune) rune {
		if isSpace(r) || r == '：' || r == ':' || r == '*' {
			return -1
		}
		return r
	}, label)
	// 整改时限（年月）, 反馈问题(具体表现): the label before its gloss.
	if i := strings.IndexAny(label, "（("); i > 0 {
		label = label[:i]
	}
	for c, labels := range columnLabels {
		for _, l := range labels {
			if label == l {
				return c
			}
		}
	}
	return colNone
}

// maxHeaderRow is how far down a table its header row may be (a title and
// notes may come first).
const maxHeaderRow = 10

// tableHeader finds the header row among rows' first: the first naming the
// problem column and the units or the deadline. It returns the row's index
// and each column's meaning, or -1.
func tableHeader(rows [][]string) (int, []column) {
	for i := 0; i < len(rows) && i < maxHeaderRow; i++ {
		cols := make([]column, len(rows[i]))
		seen := map[column]bool{}
		for j, c := range rows[i] {
			cols[j] = columnOf(c)
			if seen[cols[j]] {
				cols[j] = colNone // the first of two columns with one meaning
			}
			seen[cols[j]] = true
		}
		if seen[colProblem] && (seen[colUnits] || seen[colDeadline] || seen[colLead]) {
			return i, cols
		}
	}
	return -1, nil
}

// parseTable reads a list kept as a table: rows[i] is at line lines[i]
// of its file (a row number, or a paragraph's). It returns nil when no
// header row names the columns. Every row under the header is a task, or
// is reported: a row without a problem is skipped with a warning, as is
// each column whose label is not a task's field (once, with how many
// cells it had).
func parseTable(rows [][]string, lines []int) *ledger {
	h, cols := tableHeader(rows)
	if h < 0 {
		return nil
	}
	d := &Document{}
	// Columns whose label is no task field: reported, not glued to one.
	for j, c := range cols {
		if c != colNone || strings.TrimFunc(rows[h][j], isSpace) == "" {
			continue
		}
		n := 0
		for _, r := range rows[h+1:] {
			if j < len(r) && strings.TrimFunc(r[j], isSpace) != "" {
				n++
			}
		}
		if n > 0 {
			d.Warnings = append(d.Warnings, Warning{Line: lines[h], Msg: fmt.Sprintf("“%s”列不是任务字段：其中 %d 个单元格未导入", clip(oneLine(rows[h][j])), n)})
		}
	}
	kinds := map[string]int{} // section number by code prefix
	numbers := map[string]int{}
	codes := map[string]int{} // line by code
	lists := map[string]int{} // first line by list name ("": none) in the codes
	for i := h + 1; i < len(rows); i++ {
		r := rows[i]
		get := func(c column) string {
			for j, cj := range cols {
				if cj == c && j < len(r) {
					return strings.TrimFunc(r[j], isSpace)
				}
			}
			return ""
		}
		empty := true
		for _, c := range r {
			if strings.TrimFunc(c, isSpace) != "" {
				empty = false
			}
		}
		if empty {
			continue
		}
		line := lines[i]
		problem := oneLine(get(colProblem))
		if problem == "" {
			d.Warnings = append(d.Warnings, Warning{Line: line, Msg: fmt.Sprintf("此行没有问题描述（问题），已跳过：“%s”", clip(oneLine(strings.Join(r, " "))))})
			continue
		}
		// The ledger writes a code of a list other than the default one
		// with the list's name: 省督察二轮/共性1.
		list, cell := "", get(colCode)
		if i := strings.LastIndexAny(cell, "/／"); i >= 0 {
			_, size := utf8.DecodeRuneInString(cell[i:])
			list, cell = strings.TrimFunc(cell[:i], isSpace), cell[i+size:]
		}
		if _, ok := lists[list]; !ok && cell != "" {
			lists[list] = line
		}
		kind, number := codeParts(cell)
		if number == 0 { // no code: the row's 序号, if any
			kind, number = codeParts(get(colSeq))
		}
		if kind == "" {
			kind = "任务"
		}
		if _, ok := kinds[kind]; !ok {
			kinds[kind] = len(kinds) + 1
			d.Sections = append(d.Sections, Section{Number: kinds[kind], Title: kind + "整改任务", Kind: kind})
		}
		if number == 0 {
			number = numbers[kind] + 1
		}
		code := fmt.Sprintf("%s%d", kind, number)
		if prev, dup := codes[code]; dup {
			d.Warnings = append(d.Warnings, Warning{Line: line, Task: code, Msg: fmt.Sprintf("此行跳过：任务 %s 已在第 %d 行出现", code, prev)})
			continue
		}
		codes[code] = line
		numbers[kind] = max(numbers[kind], number)
		t := Task{
			Section:   kinds[kind],
			Number:    number,
			Code:      code,
			Title:     firstSentence(problem),
			Problem:   problem,
			Goal:      oneLine(get(colGoal)),
			Measures:  tableMeasures(get(colMeasures)),
			Leaders:   tableLeaders(get(colLeaders)),
			LeadUnits: splitUnits(listLines(get(colLead))),
			Units:     splitUnits(listLines(get(colUnits))),
			Persons:   oneLine(get(colPersons)),
			Deadline:  oneLine(get(colDeadline)),
			Status:    oneLine(get(colStatus)),
			Line:      line,
			LastLine:  line,
		}
		warn := func(msg string) { d.Warnings = append(d.Warnings, Warning{Line: line, Task: code, Msg: msg}) }
		if len(t.Units) == 0 {
			warn("缺少" + fUnits)
		}
		t.Milestones = []Milestone{}
		if t.Deadline == "" {
			warn("缺少" + fDeadline + "：时限未定，没有节点")
		} else {
			dl := ParseDeadline(t.Deadline)
			t.Milestones, t.Immediate, t.Ongoing, t.LongTerm = dl.Milestones, dl.Immediate, dl.Ongoing, dl.LongTerm
			for _, w := range dl.Warnings {
				warn(w)
			}
		}
		d.Tasks = append(d.Tasks, t)
	}
	return &ledger{d, lists}
}

// ledger is a list read from one table, with the first line of each list
// its codes name ("": codes without a list's name), which mergeTables
// settles over every table.
type ledger struct {
	*Document
	codeLists map[string]int
}

// tableLeaders splits a leaders cell: as a document's 责任领导 field
// (splitLeaders), except that posts written out in full and joined by
// 、, as the ledger writes them (市政府分管工业副市长、市政府分管城建副市长),
// are split as they are.
func tableLeaders(s string) []string {
	out := []string{}
	for _, clause := range splitTop(s, "，；,;\n") {
		if strings.Count(clause, "分管") > 1 {
			out = append(out, splitUnits(clause)...)
			continue
		}
		out = append(out, splitLeaders(clause)...)
	}
	return out
}

// codeParts splits a task code such as 共性6 into its kind and number; a
// bare number has no kind; anything else, neither.
func codeParts(code string) (kind string, number int) {
	code = strings.TrimFunc(foldDigits(code), isSpace)
	i := len(code)
	for i > 0 && code[i-1] >= '0' && code[i-1] <= '9' {
		i--
	}
	n, err := strconv.Atoi(code[i:])
	if err != nil || n < 1 || n > 999999 {
		return "", 0
	}
	kind = strings.TrimFunc(code[:i], isSpace)
	if utf8.RuneCountInString(kind) > 6 || strings.ContainsAny(kind, "0123456789") {
		return "", 0
	}
	return kind, n
}

// tableMeasures splits a measures cell: one measure a line when its lines
// are numbered "1." "1、" "（1）" (as the ledger writes them), else on the
// （1）（2） markers as in a document's text.
func tableMeasures(s string) []string {
	lines := strings.Split(s, "\n")
	out := []string{}
	full := 0
	for _, l := range lines {
		if strings.TrimFunc(l, isSpace) != "" {
			full++
		}
	}
	// One line may hold them all ("1.排查登记；2.限期拆除", "（1）…（2）…"):
	// splitMeasures' to read, as in a document's text.
	numbered := full > 1
	for _, l := range lines {
		l = strings.TrimFunc(l, isSpace)
		if l == "" {
			continue
		}
		if _, _, ok := measureNumber(l); !ok {
			numbered = false
		}
	}
	if !numbered {
		ms := splitMeasures(oneLine(s))
		if len(ms) == 1 && full == 1 {
			// A cell of one measure, numbered ("1. 扩建处理设施。").
			if _, rest, ok := measureNumber(ms[0]); ok && strings.TrimFunc(rest, isSpace) != "" {
				ms[0] = strings.TrimFunc(rest, isSpace)
			}
		}
		return ms
	}
	for _, l := range lines {
		l = strings.TrimFunc(l, isSpace)
		if l == "" {
			continue
		}
		_, rest, _ := measureNumber(l)
		out = append(out, strings.TrimFunc(rest, isSpace))
	}
	return out
}

// measureNumber reads a leading "1." "1、" "1．" "（1）" "(1)".
func measureNumber(s string) (n int, rest string, ok bool) {
	head := s
	for i := range s { // a number is in the first few characters
		if i > 24 {
			head = s[:i]
			break
		}
	}
	rs := []rune(head)
	i, close := 0, rune(0)
	if len(rs) > 0 && (rs[0] == '（' || rs[0] == '(') {
		i, close = 1, map[rune]rune{'（': '）', '(': ')'}[rs[0]]
	}
	j := i
	for j < len(rs) && isDigit(rs[j]) && j-i < 3 {
		j++
	}
	if j == i || j >= len(rs) {
		return 0, "", false
	}
	switch {
	case close != 0 && (rs[j] == '）' || rs[j] == ')'):
	case close == 0 && oneOf(rs[j], ".．、") && (j+1 >= len(rs) || !isDigit(rs[j+1])):
	default:
		return 0, "", false
	}
	n, _ = strconv.Atoi(foldDigits(string(rs[i:j])))
	return n, s[len(string(rs[:j+1])):], true
}

// listLines joins a list cell's lines (a unit a line) as one list.
func listLines(s string) string { return joinLines(s, "、") }

// oneLine joins a cell's lines: a field is one paragraph.
func oneLine(s string) string { return joinLines(s, "") }

// joinLines joins s's lines, trimmed, with sep.
func joinLines(s, sep string) string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range parts {
		parts[i] = strings.TrimFunc(parts[i], isSpace)
	}
	return strings.Join(parts, sep)
}
