// Package seeds holds the official rectification task list (embedded) and
// the parser that turns such a document into tasks.
package seeds

import (
	"bytes"
	_ "embed"
	"fmt"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"taskbot/storage"
)

// xuchang is the embedded list; a string, so nothing can change it.
//
//go:embed xuchang-rectification-tasks.txt
var xuchang string

// Xuchang returns the official list received by Xuchang city after the
// central environmental inspection (中央生态环境保护督察整改任务清单). Each
// call returns a fresh copy, which the caller may change freely.
func Xuchang() []byte { return []byte(xuchang) }

// Task is one task as written in the document. Its JSON form is the shape
// printed by `taskbot check --json`, which other tools depend on.
type Task struct {
	Section    int         `json:"section"`
	Number     int         `json:"number"`
	Code       string      `json:"code"`
	Title      string      `json:"title"`
	Problem    string      `json:"problem"`
	Goal       string      `json:"goal"`
	Measures   []string    `json:"measures"`
	Leaders    []string    `json:"leaders"`
	LeadUnits  []string    `json:"lead_units"`
	Units      []string    `json:"units"`
	Persons    string      `json:"persons"`
	Deadline   string      `json:"deadline"`
	Milestones []Milestone `json:"milestones"`
	Immediate  bool        `json:"immediate"`
	Ongoing    bool        `json:"ongoing"`
	LongTerm   bool        `json:"long_term"`

	// Status is the progress the list reports (完成情况), when it does.
	Status string `json:"status,omitempty"`
	// Other are the task's fields under labels taskbot does not read
	// (其他), each "label：value", in order.
	Other []string `json:"other,omitempty"`

	// Line is the 1-based line where the task starts; LastLine the last
	// line read into it.
	Line     int `json:"-"`
	LastLine int `json:"-"`
}

// Milestone is one dated clause of a deadline: due on the last day of the
// period the clause names.
type Milestone struct {
	Due  storage.Date `json:"due"`
	Text string       `json:"text"`
}

// Warning is something the parser could not read with confidence; the task is
// still usable.
type Warning struct {
	Line int
	End  int // the last line it covers, when more than one
	Task string
	Msg  string
}

func (w Warning) String() string {
	at := fmt.Sprintf("第 %d 行", w.Line)
	if w.End > w.Line {
		at = fmt.Sprintf("第 %d–%d 行", w.Line, w.End)
	}
	if w.Task != "" {
		return fmt.Sprintf("%s %s：%s", at, w.Task, w.Msg)
	}
	return fmt.Sprintf("%s：%s", at, w.Msg)
}

// Document is a parsed task list.
type Document struct {
	// Title is the list's title, the first line before the list that
	// reads as one (not "附件", a number or a date); "" when none does.
	Title    string
	Sections []Section
	Tasks    []Task
	Warnings []Warning
	// Notes are lines recognised as text around the list and skipped:
	// its title, page numbers, the date and signature, publicity notes.
	Notes []Warning
	// Problems are the parts of the document that could not be read: a
	// task or field passed over, each with where and why. A document with
	// problems is not seeded (see Load); `taskbot check` lists them.
	Problems []Warning
	// CodeList is the list a ledger's codes name (省督察二轮 of
	// 省督察二轮/共性1, as `export` writes a list's other than the
	// default one), "" when they name none; see mergeTables.
	CodeList string
}

// Section is a heading such as "一、共性整改任务".
type Section struct {
	Number int
	Title  string
	Kind   string // the code prefix: 共性, 个性, …
	Line   int    // of its heading; 0 for a list without headings
}

// ParseError says where a document stopped being a task list and what was
// expected there.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("第 %d 行：%s", e.Line, e.Msg) }

// field labels in the order they usually appear.
const (
	fGoal     = "整改目标"
	fMeasures = "整改措施"
	fLeaders  = "责任领导"
	fLead     = "牵头单位"
	fUnits    = "责任单位"
	fPersons  = "责任人"
	fDeadline = "整改时限"
	fProblem  = "" // the paragraph after the task number
)

// fieldLabels are the labels of each field a task's lines may start with,
// synonyms included (other lists' wording), the field's own first.
var fieldLabels = []struct {
	field  string
	labels []string
}{
	{fGoal, []string{fGoal, "目标任务"}},
	{fMeasures, []string{fMeasures, "重点措施", "主要措施"}},
	{fLeaders, []string{fLeaders}},
	{fLead, []string{fLead, "牵头部门"}},
	{fUnits, []string{fUnits, "整改责任单位", "整改实施主体", "实施主体"}},
	{fPersons, []string{fPersons}},
	{fDeadline, []string{fDeadline, "整改期限", "完成时限", "整改时间", "整改完成时间", "完成时间"}},
	{fStatus, []string{"完成情况", "整改完成情况", "整改进展情况"}},
	{fProblem, []string{"反馈问题", "整改问题", "问题", "整改任务概述", "整改任务"}},
}

// fStatus is a task's reported progress (完成情况), which some lists carry.
const fStatus = "完成情况"

// otherField prefixes the label of a field the parser does not know; its
// value is kept as one of the task's notes (Task.Other).
const otherField = "其他:"

var (
	// A label may be written with spaces between its characters (责 任 人),
	// and is followed by a full- or half-width colon, or ends a flattened
	// table's label cell (" |", a tab, or the line).
	labelRE   = regexp.MustCompile(`^(` + labelAlternatives() + `)[\s　]*([：:|｜\t]|$)`)
	sectionRE = regexp.MustCompile(`^([一二三四五六七八九十]{1,3})[、.．]\s*(\S.*)$`)
	taskRE    = regexp.MustCompile(`^([0-9０-９]{1,6})[.．、]`) // lists of up to 999,999 tasks
	// A label this parser does not know (备注：, 整改要求：…): a few
	// characters naming a field, then a colon.
	otherLabelRE = regexp.MustCompile(`^(\p{Han}{0,6}(?:单位|时限|时间|情况|领导|目标|措施|问题|备注|说明|依据|进展|主体|成效|类别|类型|地点|要求|标准|方式|结果|来源|人|电话))[\s　]*[：:]`)
	// Numbered notices: 编号8：… 序号十 第三十八项 （四）.
	noticeRE = regexp.MustCompile(`^(?:(?:编号|序号)[\s　]*([0-9０-９]{1,6}|[一二三四五六七八九十百零]{1,5})[\s　]*[：:、.．]?|第([0-9０-９]{1,6}|[一二三四五六七八九十百零]{1,5})项[\s　]*[：:、.．]?|[（(]([一二三四五六七八九十百零]{1,5})[）)])`)
)

// labelAlternatives is every label as a pattern allowing spaces between
// its characters, longest first (整改任务概述 before 整改任务).
func labelAlternatives() string {
	var all []string
	for _, f := range fieldLabels {
		all = append(all, f.labels...)
	}
	sort.Slice(all, func(i, j int) bool { return utf8.RuneCountInString(all[i]) > utf8.RuneCountInString(all[j]) })
	for i, l := range all {
		all[i] = strings.Join(strings.Split(l, ""), `[\s　]*`)
	}
	return strings.Join(all, "|")
}

// withoutSpaces is s without its spaces (责 任 人 is 责任人).
func withoutSpaces(s string) string {
	return strings.Map(func(r rune) rune {
		if isSpace(r) {
			return -1
		}
		return r
	}, s)
}

// knownLabel says whether label is one of a field's.
func knownLabel(label string) bool {
	_, ok := fieldOf(label)
	return ok
}

// fieldOf is the field a label names (spaces removed), and whether it is
// one.
func fieldOf(label string) (string, bool) {
	label = withoutSpaces(label)
	for _, f := range fieldLabels {
		for _, l := range f.labels {
			if l == label {
				return f.field, true
			}
		}
	}
	return "", false
}

// Parse reads a task-list document. Input may be UTF-8 (with or without a BOM)
// or GB18030/GBK, with CRLF or LF line ends. It returns a *ParseError, with
// the line number and what was expected, when the text is not a task list.
//
// Word (.docx) and Excel (.xlsx) files are read too, told by their first
// bytes: see parseFile. Other formats (.doc, PDF, images) get an error
// naming the formats that work.
func Parse(doc []byte) (*Document, error) {
	if d, ok, err := parseFile(doc); ok {
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	text, err := decode(doc)
	if err != nil {
		return nil, err
	}
	return parseText(text)
}

// parseText reads a list written as text (see Parse). A problem in one
// task never sinks the rest: it is recorded (Document.Problems) and the
// reading goes on; only a text in which no task could be read is an error,
// naming its problems.
func parseText(text string) (*Document, error) {
	lines := strings.Split(text, "\n")
	p := &parser{doc: &Document{}, lines: lines}
	for i, raw := range lines {
		p.line(i+1, raw)
	}
	p.finish(len(lines))
	p.reads.apply(p.doc)
	if len(p.doc.Tasks) == 0 {
		return nil, p.noTasks(len(lines))
	}
	return p.doc, nil
}

func decode(doc []byte) (string, error) {
	doc = bytes.TrimPrefix(doc, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(doc) {
		// Government offices often save text as GBK; GB18030 is its superset.
		dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(doc)
		if err != nil || !utf8.Valid(dec) {
			return "", &ParseError{Line: 1, Msg: "文件不是 UTF-8 或 GB18030（GBK）编码的文本"}
		}
		doc = dec
	}
	s := strings.ReplaceAll(string(doc), "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n"), nil
}

type draft struct {
	line    int
	section Section
	number  int
	fields  map[string]string
	lines   map[string]int
	order   []string
}

type parser struct {
	doc     *Document
	lines   []string // the text's, for a look at the line after one
	section *Section
	cur     *draft
	field   string // the field the next continuation line belongs to
	// listNext is the number the next item of a numbered list in the
	// field would have (0: no list).
	listNext int
	last     int // the last task number read in the section
	numbers  map[int]int
	// skip is 1 + the index of the problem whose lines the parser is
	// passing over (a task it cannot read), extended to each line passed;
	// 0 when none.
	skip int
	// reads are the flushed tasks' readings, under way.
	reads readings
}

// pass extends the problem being skipped over to line n.
func (p *parser) pass(n int) { p.doc.Problems[p.skip-1].End = n }

// problem records that line n could not be read, and why.
func (p *parser) problem(n int, task, msg string) *Warning {
	p.doc.Problems = append(p.doc.Problems, Warning{Line: n, Task: task, Msg: msg})
	return &p.doc.Problems[len(p.doc.Problems)-1]
}

// skipFrom records a problem at line n and passes over the lines after it
// up to the next task, section or field it can read.
func (p *parser) skipFrom(n int, task, msg string) {
	p.flush(n)
	p.problem(n, task, msg)
	p.skip = len(p.doc.Problems)
	p.pass(n)
}

func (p *parser) line(n int, raw string) {
	s := strings.TrimFunc(raw, isSpace)
	if s == "" {
		return
	}
	// A form's row copied as text: 责任单位 | 市生态环境局 | 整改时限 | 2022年12月底前.
	if pairs := formRow(s); pairs != nil {
		for _, pair := range pairs {
			p.line(n, pair)
		}
		return
	}
	// Fields run together on one line (编号1：整改任务：…。整改目标：…。
	// 责任单位：…): each read as a line of its own.
	if parts := inlineFields(s); parts != nil {
		for _, part := range parts {
			p.line(n, part)
		}
		return
	}
	num, rest, isStart := taskStart(s)
	// Text around the list, never a task's start nor the value a field
	// is waiting for (整改时限： then 2022年6月30日 on the next line).
	awaited := p.cur != nil && p.skip == 0 && strings.TrimSpace(p.cur.fields[p.field]) == ""
	if what := boilerplate(s, awaited); what != "" && !isStart {
		p.doc.Notes = append(p.doc.Notes, Warning{Line: n, Msg: "已跳过" + what + "：" + clip(s)})
		return
	}
	// A heading is short; a long line starting "一、" is wrapped task text.
	if m := sectionRE.FindStringSubmatch(s); m != nil && (p.cur == nil || utf8.RuneCountInString(s) <= 30) {
		title := strings.TrimFunc(m[2], isSpace)
		// 一、反馈问题 二、整改目标 …: fields, one heading each, not sections
		// (but 一、整改任务 heads a section of tasks).
		if f, ok := fieldOf(strings.TrimRight(title, "：:")); ok && title != "整改任务" {
			p.fieldHeading(n, f)
			return
		}
		p.flush(n)
		p.skip = 0
		num := chineseNumber(m[1])
		sec := Section{Number: num, Title: title, Kind: sectionKind(num, title), Line: n}
		// Tasks are keyed by (section, number) and by code: a repeated
		// section would give two tasks the same key.
		for _, prev := range p.doc.Sections {
			if prev.Number == sec.Number || prev.Kind == sec.Kind {
				p.section = nil
				p.skipFrom(n, "", fmt.Sprintf("“%s”与第 %d 部分“%s”重复，其下任务未读取；新的部分应如“二、个性整改任务”", clip(s), prev.Number, prev.Title))
				return
			}
		}
		p.section = &sec
		p.last, p.numbers = 0, map[int]int{}
		p.doc.Sections = append(p.doc.Sections, sec)
		return
	}
	if isStart && p.startTask(n, num, rest, false) {
		return
	}
	if loc := labelRE.FindStringSubmatchIndex(s); loc != nil && p.isLabel(n, s, loc) {
		f, _ := fieldOf(s[loc[2]:loc[3]])
		p.label(n, f, s[loc[1]:])
		return
	}
	if m := otherLabelRE.FindStringSubmatchIndex(s); m != nil && p.cur != nil && p.skip == 0 && !knownLabel(s[m[2]:m[3]]) {
		// A field this parser does not know: kept as a note of the task
		// (其他), reported, never glued to the field before it.
		label := s[m[2]:m[3]]
		code := fmt.Sprintf("%s%d", p.cur.section.Kind, p.cur.number)
		p.doc.Warnings = append(p.doc.Warnings, Warning{Line: n, Task: code, Msg: fmt.Sprintf("“%s”不是可识别的字段，已作为“其他”内容保留", label)})
		p.label(n, otherField+label, s[m[1]:])
		return
	}
	switch {
	case p.skip != 0:
		p.pass(n)
	case p.cur != nil:
		p.append(n, s)
	case p.section != nil:
		p.skipFrom(n, "", fmt.Sprintf("“%s”之下应为任务（如“1.……”），实为“%s”", p.section.Title, clip(s)))
	case len(p.doc.Tasks) > 0:
		p.skipFrom(n, "", fmt.Sprintf("最后一项任务之后的文字未读取：“%s”", clip(s)))
	default: // the title and preamble before the first section
		p.doc.Notes = append(p.doc.Notes, Warning{Line: n, Msg: "清单正文之前：" + clip(s)})
		if p.doc.Title == "" && isTitle(s) {
			p.doc.Title = strings.TrimSpace(s)
		}
	}
}

// startTask reads line n as the start of task num when it is one, and
// reports whether it was. It is not when the line is wrapped text of the
// current task that happens to begin with a number, or an item of a
// numbered list inside a field (整改措施：1.… 2.…), which is part of it.
// Forced starts (a problem's label or heading) always are.
func (p *parser) startTask(n, num int, rest string, forced bool) bool {
	if num < 1 {
		return false // "0.5" or "0." is text
	}
	want := p.last + 1
	complete := p.cur == nil || p.cur.fields[fDeadline] != "" || p.cur.fields[fUnits] != ""
	if !forced && p.cur != nil {
		// A list starts at 1 right after its label (整改措施：, then 1.…),
		// or after a colon in the problem (主要表现在：, then （一）…), and
		// goes on in order. The item that would be the next task's number
		// after a complete task is that task, unless the list goes on
		// its fields follow.
		value := strings.TrimSpace(p.cur.fields[p.field])
		opens := value == "" && p.field != fProblem || strings.HasSuffix(value, "：") || strings.HasSuffix(value, ":")
		next := num == p.listNext && !(complete && num == want && p.fieldFollows(n))
		if next || (num == 1 && p.listNext == 0 && want != 1 && opens) {
			p.listNext = num + 1
			return false
		}
	}
	if !forced && num != want && !complete {
		return false // wrapped text such as "3.…"
	}
	if p.section == nil {
		if len(p.doc.Sections) > 0 && p.skip != 0 {
			// Under a repeated section: passed over.
			p.pass(n)
			return true
		}
		// A list without section headings: one section of tasks.
		sec := Section{Number: 1, Title: "整改任务", Kind: "任务"}
		p.section = &sec
		p.last, p.numbers = 0, map[int]int{}
		p.doc.Sections = append(p.doc.Sections, sec)
	}
	p.flush(n)
	p.skip = 0
	if first, dup := p.numbers[num]; dup {
		p.skipFrom(n, fmt.Sprintf("%s%d", p.section.Kind, num), fmt.Sprintf("“%s”第 %d 项重复（首次在第 %d 行），未读取", p.section.Title, num, first))
		return true
	}
	if num != want {
		p.doc.Warnings = append(p.doc.Warnings, Warning{Line: n, Task: fmt.Sprintf("%s%d", p.section.Kind, num),
			Msg: fmt.Sprintf("“%s”此处应为第 %d 项，实为第 %d 项", p.section.Title, want, num)})
	}
	p.numbers[num] = n
	p.last = max(p.last, num)
	p.cur = &draft{line: n, section: *p.section, number: num, fields: map[string]string{}, lines: map[string]int{}}
	p.field, p.listNext = fProblem, 0
	// 编号1：整改任务：… — the problem's own label is not its text.
	if m := problemLabelRE.FindStringIndex(rest); m != nil {
		rest = rest[m[1]:]
	}
	p.append(n, rest)
	return true
}

// problemLabelRE matches a problem's label at the start of a task's text.
var problemLabelRE = regexp.MustCompile(`^\s*(` + strings.Join(labelsOf(true), "|") + `)\s*[：:]`)

// inlineRE matches, inside a line, the label of a field other than the
// problem after the end of a sentence: "。整改目标：".
var inlineRE = regexp.MustCompile(`[。；;]\s*(` + strings.Join(labelsOf(false), "|") + `)\s*[：:]`)

// labelsOf returns the labels of the problem, or of every other field,
// longest first (a regexp alternation then prefers 整改责任单位 to 责任单位).
func labelsOf(problem bool) []string {
	var out []string
	for _, fl := range fieldLabels {
		if (fl.field == fProblem) == problem {
			out = append(out, fl.labels...)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// inlineFields splits a task written on one line, its fields after one
// another (编号1：整改任务：…。整改目标：…。责任单位：…), into one part a
// field (the task's start its own part), or returns nil for any other
// line. Only a line that starts a task is split, and only at labels it
// gives once: a field's own text may name a label ("整改措施：（1）排查。
// 完成时限：3月底前。（2）…完成时限：6月底前。", "整改完成情况：已完成。
// 完成时间：2022年5月。"), and lines that start with a label are never cut.
func inlineFields(s string) []string {
	// Most lines have no colon after a sentence's end: no regexp for them.
	// (strings.Index finds a multi-byte rune far faster than IndexAny.)
	end := -1
	for _, stop := range []string{"。", "；", ";"} {
		if i := strings.Index(s, stop); i >= 0 && (end < 0 || i < end) {
			end = i
		}
	}
	if end < 0 || !strings.Contains(s[end:], "：") && strings.IndexByte(s[end:], ':') < 0 {
		return nil
	}
	if _, _, ok := taskStart(s); !ok {
		return nil
	}
	locs := inlineRE.FindAllStringSubmatchIndex(s, -1)
	field := func(l []int) string { f, _ := fieldOf(s[l[2]:l[3]]); return f }
	seen := map[string]int{}
	for _, l := range locs {
		seen[field(l)]++
	}
	var out []string
	start := 0
	for _, l := range locs {
		if seen[field(l)] > 1 {
			continue // named twice: inside a field, not a field
		}
		cut := l[2] // the label's start: the sentence's end stays before it
		out = append(out, s[start:cut])
		start = cut
	}
	if start == 0 {
		return nil
	}
	return append(out, s[start:])
}

// formRow splits a table row copied as text whose cells are labels and
// values in turn, two pairs or more (label | value | label | value), into
// "label：value" lines; nil for any other line.
func formRow(s string) []string {
	if strings.IndexByte(s, '|') < 0 && !strings.Contains(s, "｜") {
		return nil
	}
	cells := strings.FieldsFunc(s, func(r rune) bool { return r == '|' || r == '｜' })
	for i := range cells {
		cells[i] = strings.TrimFunc(cells[i], isSpace)
	}
	for len(cells) > 0 && cells[len(cells)-1] == "" {
		cells = cells[:len(cells)-1]
	}
	if len(cells) < 4 || len(cells)%2 != 0 {
		return nil
	}
	var out []string
	for i := 0; i < len(cells); i += 2 {
		if !knownLabel(cells[i]) || knownLabel(cells[i+1]) {
			return nil
		}
		out = append(out, cells[i]+"："+cells[i+1])
	}
	return out
}

// isLabel says whether the label labelRE found at the start of s (loc)
// is one here. The short problem labels 问题： and 整改任务： also begin
// sentences (a wrapped "…存在以下\n问题：一是…", a preamble "整改任务：共2项"):
// followed by a colon, they start a task only where one may start, under
// a section with no task open or after a complete one.
func (p *parser) isLabel(n int, s string, loc []int) bool {
	label := withoutSpaces(s[loc[2]:loc[3]])
	if label != "问题" && label != "整改任务" {
		return true
	}
	if term := s[loc[4]:loc[5]]; term != "：" && term != ":" {
		return true // 问题 | or a line of its own: a table's or heading's
	}
	if p.cur == nil {
		// Under a section, or in a list without sections where fields
		// follow (问题：… then 整改目标：…); a preamble's 整改任务：共2项
		// before the sections is neither.
		return p.section != nil || !p.sectionAhead(n) && p.fieldFollows(n)
	}
	// After a complete task, or once the task has moved past its problem
	// (a wrapped problem's "…存在以下\n问题：一是…" has not), or before it
	// has any (编号1 then 整改任务：…).
	return p.cur.fields[fDeadline] != "" || p.cur.fields[fUnits] != "" || p.field != fProblem ||
		strings.TrimFunc(p.cur.fields[fProblem], isSpace) == ""
}

// after is the first non-blank line after line n, trimmed.
func (p *parser) after(n int) string {
	for _, l := range p.lines[min(n, len(p.lines)):] {
		if l = strings.TrimFunc(l, isSpace); l != "" {
			return l
		}
	}
	return ""
}

// sectionAhead says whether a section heading (一、共性整改任务, not a
// field's heading) comes after line n.
func (p *parser) sectionAhead(n int) bool {
	for _, l := range p.lines[min(n, len(p.lines)):] {
		l = strings.TrimFunc(l, isSpace)
		if m := sectionRE.FindStringSubmatch(l); m != nil && utf8.RuneCountInString(l) <= 30 {
			title := strings.TrimFunc(m[2], isSpace)
			if _, ok := fieldOf(strings.TrimRight(title, "：:")); !ok || title == "整改任务" {
				return true
			}
		}
	}
	return false
}

// fieldFollows says whether the line after line n is a field's label.
func (p *parser) fieldFollows(n int) bool {
	next := p.after(n)
	return labelRE.MatchString(next) || formRow(next) != nil
}

// label reads line n, a field's label f and the start of its value.
func (p *parser) label(n int, f, value string) {
	value = strings.TrimLeft(strings.TrimFunc(value, isSpace), "|｜")
	if f == fProblem && (p.cur == nil || p.cur.fields[fProblem] != "") && !(p.cur == nil && p.skip != 0) {
		// 问题：… starts a task: the first, or the next.
		p.startTask(n, p.last+1, "", true)
	}
	if p.cur == nil {
		if p.skip != 0 {
			p.pass(n)
			return
		}
		if p.section == nil && len(p.doc.Tasks) == 0 {
			// 完成时限：… in the preamble, before any section or task.
			p.doc.Notes = append(p.doc.Notes, Warning{Line: n, Msg: "清单正文之前：" + clip(f+"："+value)})
			return
		}
		p.skipFrom(n, "", fmt.Sprintf("字段“%s”不在任何任务之内：应先有任务（如“1.……”）", clip(f+"："+value)))
		return
	}
	if _, dup := p.cur.lines[f]; dup && (f != fProblem || p.cur.fields[fProblem] != "") {
		code := fmt.Sprintf("%s%d", p.cur.section.Kind, p.cur.number)
		name := f
		if f == fProblem {
			name = "问题"
		}
		w := p.problem(n, code, fmt.Sprintf("“%s”出现两次（首次在第 %d 行），第二次未读取", name, p.cur.lines[f]))
		w.End = n
		// Its lines after are passed over, the task read on after them.
		p.field = "\x00dup"
		p.cur.lines[p.field] = n
		return
	}
	p.field, p.listNext = f, 0
	p.cur.lines[f] = n
	p.cur.order = append(p.cur.order, f)
	if _, ok := p.cur.fields[f]; !ok {
		p.cur.fields[f] = ""
	}
	p.append(n, value)
	v := strings.TrimFunc(value, isSpace)
	if k, _, ok := measureNumber(v); (ok && k == 1 || strings.HasPrefix(v, "（一）") || strings.HasPrefix(v, "(一)")) && f != fProblem {
		p.listNext = 2 // 整改措施：1.… on the label's line: 2.… goes on
	}
}

// fieldHeading reads line n, a heading that names a field (二、整改目标): in
// a list laid out one heading a field, its value is on the lines after.
// A problem heading starts a task (the first, or a new one after a
// complete task).
func (p *parser) fieldHeading(n int, f string) {
	if p.cur == nil && f != fProblem {
		p.startTask(n, p.last+1, "", true)
	}
	p.label(n, f, "")
}

// append adds a (possibly wrapped) line to the current field.
func (p *parser) append(n int, s string) {
	s = strings.TrimFunc(s, isSpace)
	// A flattened table's cells end in " |".
	s = strings.TrimFunc(strings.TrimRight(s, "|｜"), isSpace)
	prev := p.cur.fields[p.field]
	if prev != "" && s != "" {
		last, _ := utf8.DecodeLastRuneInString(prev)
		first, _ := utf8.DecodeRuneInString(s)
		if last < utf8.RuneSelf && first < utf8.RuneSelf && isWordRune(last) && isWordRune(first) {
			prev += " "
		}
	}
	p.cur.fields[p.field] = prev + s
	if _, ok := p.cur.lines[p.field]; !ok {
		p.cur.lines[p.field] = n
	}
	if p.field == "\x00dup" { // a repeated field's line: with its problem
		for i := len(p.doc.Problems) - 1; i >= 0; i-- {
			if p.doc.Problems[i].Line == p.cur.lines[p.field] {
				p.doc.Problems[i].End = n
				break
			}
		}
	}
}

func (p *parser) finish(lines int) {
	p.flush(lines + 1) // the last line is the task's too
}

// noTasks is the error of a text in which no task was read: its first
// problem, or what a list looks like, and the other problems.
func (p *parser) noTasks(lines int) error {
	if len(p.doc.Problems) > 0 {
		first := p.doc.Problems[0]
		msg := first.Msg
		if first.Task != "" {
			msg = first.Task + "：" + msg
		}
		return &ParseError{Line: first.Line, Msg: msg + listed(p.doc.Problems[1:])}
	}
	if len(p.doc.Sections) == 0 {
		return &ParseError{Line: 1, Msg: "不是整改任务清单：应有“一、共性整改任务”这样的标题，其后是“1.……”这样的任务"}
	}
	return &ParseError{Line: lines, Msg: "没有找到任务：标题之下应是“1.……”这样的任务"}
}

// flush turns the current draft into a Task.
func (p *parser) flush(n int) {
	d := p.cur
	if d == nil {
		return
	}
	p.cur = nil
	code := fmt.Sprintf("%s%d", d.section.Kind, d.number)
	warn := func(field, msg string) {
		line := d.line
		if l, ok := d.lines[field]; ok {
			line = l
		}
		p.doc.Warnings = append(p.doc.Warnings, Warning{Line: line, Task: code, Msg: msg})
	}
	if strings.TrimSpace(d.fields[fUnits]) == "" {
		warn(fUnits, "缺少"+fUnits)
	}
	for _, opt := range []string{fGoal, fMeasures, fLeaders} {
		if strings.TrimSpace(d.fields[opt]) == "" {
			warn(opt, "缺少"+opt)
		}
	}
	problem := d.fields[fProblem]
	if problem == "" {
		warn(fProblem, "任务编号之后缺少问题描述")
	}
	t := Task{
		Section:    d.section.Number,
		Number:     d.number,
		Code:       code,
		Problem:    problem,
		Goal:       d.fields[fGoal],
		Persons:    d.fields[fPersons],
		Deadline:   d.fields[fDeadline],
		Status:     d.fields[fStatus],
		Line:       d.line,
		LastLine:   max(n-1, d.line),
		Milestones: []Milestone{},
	}
	for _, f := range d.order {
		if label, ok := strings.CutPrefix(f, otherField); ok {
			t.Other = append(t.Other, label+"："+d.fields[f])
		}
	}
	if strings.TrimSpace(t.Deadline) == "" {
		warn(fDeadline, "缺少"+fDeadline+"：时限未定，没有节点")
	}
	p.doc.Tasks = append(p.doc.Tasks, t)
	line := d.line
	if l, ok := d.lines[fDeadline]; ok {
		line = l
	}
	p.reads.add(&reading{task: len(p.doc.Tasks) - 1, warnAt: len(p.doc.Warnings), line: line, code: code,
		problem: problem, measures: d.fields[fMeasures], leaders: d.fields[fLeaders], lead: d.fields[fLead],
		units: d.fields[fUnits], deadline: t.Deadline})
}

// reading is the part of a flushed task read from its fields' text: its
// title, measures, leaders, units and milestones. Each depends on nothing
// but the task's own text, so readings run beside the line-by-line scan
// (a third of parsing a 100,000-task list), and are put in place when
// the scan ends (see readings.apply).
type reading struct {
	task   int // its index in Document.Tasks
	warnAt int // len(Document.Warnings) when it was flushed: where its warnings go
	line   int // of the deadline, for its warnings
	code   string

	// the fields' text
	problem, measures, leaders, lead, units, deadline string

	out      Task
	dated    bool // out.Milestones read from a deadline
	warnings []Warning
}

// read works the reading out into r.out and r.warnings.
func (r *reading) read() {
	r.out.Title = firstSentence(r.problem)
	r.out.Measures = splitMeasures(r.measures)
	r.out.Leaders = splitLeaders(r.leaders)
	r.out.LeadUnits = splitUnits(r.lead)
	r.out.Units = splitUnits(r.units)
	if strings.TrimSpace(r.deadline) == "" {
		return
	}
	dl := ParseDeadline(r.deadline)
	r.dated = true
	r.out.Milestones, r.out.Immediate, r.out.Ongoing, r.out.LongTerm = dl.Milestones, dl.Immediate, dl.Ongoing, dl.LongTerm
	for _, w := range dl.Warnings {
		r.warnings = append(r.warnings, Warning{Line: r.line, Task: r.code, Msg: w})
	}
}

// readings runs the flushed tasks' readings on worker goroutines, in the
// order given; the results do not depend on which worker ran which.
type readings struct {
	all  []*reading
	work chan *reading
	wg   sync.WaitGroup
}

func (rs *readings) add(r *reading) {
	if rs.work == nil {
		rs.work = make(chan *reading, 64)
		for range max(1, runtime.GOMAXPROCS(0)-1) {
			rs.wg.Go(func() {
				for r := range rs.work {
					r.read()
				}
			})
		}
	}
	rs.all = append(rs.all, r)
	rs.work <- r
}

// apply waits for every reading and puts each in its task, its warnings
// where the task was flushed among the document's.
func (rs *readings) apply(doc *Document) {
	if rs.work == nil {
		return
	}
	close(rs.work)
	rs.wg.Wait()
	var warnings []Warning
	next := 0
	for _, r := range rs.all {
		warnings = append(warnings, doc.Warnings[next:r.warnAt]...)
		warnings = append(warnings, r.warnings...)
		next = r.warnAt
		t := &doc.Tasks[r.task]
		t.Title, t.Measures, t.Leaders, t.LeadUnits, t.Units = r.out.Title, r.out.Measures, r.out.Leaders, r.out.LeadUnits, r.out.Units
		if r.dated {
			t.Milestones = r.out.Milestones
		}
		t.Immediate, t.Ongoing, t.LongTerm = r.out.Immediate, r.out.Ongoing, r.out.LongTerm
	}
	doc.Warnings = append(warnings, doc.Warnings[next:]...)
}

// boilerplate names what line s is when it is text around a list rather
// than in it: a page number or header, a date or signature line, a
// publicity (公示) note; "" otherwise.
//
// A date or signature line is no boilerplate where a field awaits its
// value (awaited): 整改时限： then 2022年6月30日, 责任单位： then 某县人民政府.
func boilerplate(s string, awaited bool) string {
	if len(s) > 240 { // none of these is long (80 characters at most)
		return ""
	}
	short := len(s) <= 120 // 40 characters
	switch {
	case len(s) <= 40 && pageRE.MatchString(s):
		return "页码"
	case (strings.HasPrefix(s, "公示") || strings.Contains(s, "公示期") || strings.Contains(s, "公示时间") || strings.Contains(s, "公示日期")) &&
		!labelRE.MatchString(s):
		return "公示说明"
	case awaited:
		return ""
	case short && strings.Contains(s, "年") && dateLineRE.MatchString(s):
		return "日期行"
	case short && signed(s) && signatureRE.MatchString(s):
		return "落款"
	}
	return ""
}

// signed says whether s ends as a signature does (…办公室, …人民政府).
func signed(s string) bool {
	for _, end := range []string{"办公室", "委员会", "人民政府", "领导小组", "指挥部", "督察组", "督查室"} {
		if strings.HasSuffix(s, end) {
			return true
		}
	}
	return false
}

var (
	pageRE      = regexp.MustCompile(`^(?:[-—–－·\s]*[0-9０-９]{1,4}[-—–－·\s]*|第\s*[0-9０-９]{1,4}\s*页(?:\s*[，,/／]?\s*共\s*[0-9０-９]{1,4}\s*页)?|[0-9０-９]{1,4}\s*/\s*[0-9０-９]{1,4})$`)
	dateLineRE  = regexp.MustCompile(`^[0-9０-９〇零一二三四五六七八九]{4}\s*年\s*[0-9０-９一二三四五六七八九十]{1,3}\s*月\s*[0-9０-９一二三四五六七八九十]{1,3}\s*日(?:印发|发布|签发|制)?$`)
	signatureRE = regexp.MustCompile(`^[\p{Han}（）()\s　]{2,38}(?:办公室|委员会|人民政府|领导小组|指挥部|督察组|督查室)$`)
)

func taskStart(s string) (num int, rest string, ok bool) {
	if m := noticeRE.FindStringSubmatchIndex(s); m != nil {
		var digits string
		for g := 2; g+1 < len(m); g += 2 {
			if m[g] >= 0 {
				digits = s[m[g]:m[g+1]]
				break
			}
		}
		n, err := strconv.Atoi(foldDigits(digits))
		if err != nil {
			n = chineseNumber(digits)
		}
		if n > 0 {
			return n, s[m[1]:], true
		}
	}
	loc := taskRE.FindStringSubmatchIndex(s)
	if loc == nil {
		return 0, "", false
	}
	rest = s[loc[1]:]
	// "2.54万亩" is a number, not task 2.
	if r, _ := utf8.DecodeRuneInString(rest); isDigit(r) {
		return 0, "", false
	}
	n, err := strconv.Atoi(foldDigits(s[loc[2]:loc[3]]))
	if err != nil {
		return 0, "", false
	}
	return n, rest, true
}

func sectionKind(num int, title string) string {
	switch {
	case strings.Contains(title, "共性"):
		return "共性"
	case strings.Contains(title, "个性"):
		return "个性"
	}
	k := strings.TrimSuffix(strings.TrimSuffix(title, "整改任务"), "任务")
	if k == "" || utf8.RuneCountInString(k) > 6 {
		return fmt.Sprintf("第%d部分", num)
	}
	return k
}

func chineseNumber(s string) int {
	digits := map[rune]int{'零': 0, '〇': 0, '一': 1, '二': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
	n, cur := 0, 0
	for _, r := range s {
		if unit, ok := map[rune]int{'十': 10, '百': 100}[r]; ok {
			if cur == 0 {
				cur = 1
			}
			n += cur * unit
			cur = 0
			continue
		}
		cur = digits[r]
	}
	return n + cur
}

// firstSentence returns the problem paragraph's first sentence without its
// final full stop: the task's title.
func firstSentence(s string) string {
	var br brackets
	for i, r := range s {
		if br.top(r) && (r == '。' || r == '！' || r == '？') {
			return s[:i]
		}
	}
	return strings.TrimRight(s, ".")
}

// brackets tracks nesting in （）《》“” and their kin while scanning text.
type brackets struct{ depth int }

// top reports whether r stands outside every bracket (a bracket itself
// never does), updating the depth.
func (b *brackets) top(r rune) bool {
	switch {
	case isOpen(r):
		b.depth++
		return false
	case isClose(r):
		if b.depth > 0 {
			b.depth--
		}
		return false
	}
	return b.depth == 0
}

// splitTop splits s on any of seps, never inside brackets or quotes, and
// drops empty parts and trailing full stops.
func splitTop(s string, seps string) []string {
	out := []string{}
	start := 0
	emit := func(end int) {
		part := strings.TrimFunc(s[start:end], func(r rune) bool { return isSpace(r) || r == '。' || r == '.' })
		if part != "" {
			out = append(out, part)
		}
	}
	var br brackets
	for i, r := range s {
		if br.top(r) && oneOf(r, seps) {
			emit(i)
			start = i + utf8.RuneLen(r)
		}
	}
	emit(len(s))
	return out
}

// splitUnits splits a unit list. Half-width brackets become full-width so
// that "各县(市、区)" and "各县（市、区）" are the same unit.
func splitUnits(s string) []string {
	parts := splitTop(s, "、，；,;")
	for i, u := range parts {
		parts[i] = storage.NormalizeName(u)
	}
	return parts
}

// splitLeaders splits the 责任领导 field into posts. "市政府分管工业、生态环境副市长"
// names two vice mayors, so the shared prefix and title are distributed:
// 市政府分管工业副市长, 市政府分管生态环境副市长.
func splitLeaders(s string) []string {
	out := []string{}
	for _, clause := range splitTop(s, "，；,;") {
		clause = storage.NormalizeName(clause)
		i := strings.Index(clause, "分管")
		if i >= 0 && strings.Contains(clause[i:], "、") {
			for _, suffix := range []string{"副市长", "副书记", "副主任", "市长"} {
				if !strings.HasSuffix(clause, suffix) {
					continue
				}
				prefix := clause[:i+len("分管")]
				body := strings.TrimSuffix(clause[len(prefix):], suffix)
				for _, area := range splitTop(body, "、") {
					out = append(out, prefix+area+suffix)
				}
				clause = ""
				break
			}
		}
		if clause != "" {
			out = append(out, splitTop(clause, "、")...)
		}
	}
	return out
}

// splitMeasures splits 整改措施 on its markers （1）（2）…. A preamble such as
// "某项目：" before (1) is kept in front of each measure it introduces; when the
// numbering restarts at (1), the last sentence before it, if it ends in a
// colon, is the new group's preamble.
func splitMeasures(s string) []string {
	type mark struct{ start, end, n int }
	var marks []mark
	want := 1
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		if rs[i] != '（' && rs[i] != '(' {
			continue
		}
		j := i + 1
		for j < len(rs) && isDigit(rs[j]) {
			j++
		}
		if j == i+1 || j >= len(rs) || (rs[j] != '）' && rs[j] != ')') || j-i > 4 {
			continue
		}
		n, _ := strconv.Atoi(foldDigits(string(rs[i+1 : j])))
		if n == want || (n == 1 && len(marks) > 0) {
			marks = append(marks, mark{i, j + 1, n})
			want = n + 1
		}
	}
	if len(marks) == 0 {
		// Other lists number measures 1. 1、 （一） or 一是 二是.
		for _, m := range otherMarks(rs) {
			marks = append(marks, mark{m[0], m[1], m[2]})
		}
	}
	if len(marks) == 0 {
		if t := strings.TrimFunc(s, isSpace); t != "" {
			return []string{t}
		}
		return []string{}
	}
	trim := func(r []rune) string { return strings.TrimFunc(string(r), isSpace) }
	preamble := trim(rs[:marks[0].start])
	out := []string{}
	for k, m := range marks {
		end := len(rs)
		if k+1 < len(marks) {
			end = marks[k+1].start
		}
		body := rs[m.end:end]
		if k+1 < len(marks) && marks[k+1].n == 1 {
			// Restart: a trailing "项目B：" belongs to the next group.
			b := string(body)
			cut := 0
			if i := strings.LastIndexAny(b, "。；;"); i >= 0 {
				_, size := utf8.DecodeRuneInString(b[i:])
				cut = i + size
			}
			if tail := strings.TrimFunc(b[cut:], isSpace); strings.HasSuffix(tail, "：") || strings.HasSuffix(tail, ":") {
				out = append(out, preamble+strings.TrimFunc(b[:cut], isSpace))
				preamble = tail
				continue
			}
		}
		out = append(out, preamble+trim(body))
	}
	return out
}

// otherMarks finds measure numbers other than （1）: "1." "1、" "1．" at the
// start or after a sentence, else "（一）", else "一是"; each as [start, end,
// n], numbered 1, 2, 3… in order (a number out of sequence is text).
func otherMarks(rs []rune) [][3]int {
	after := func(i int) bool { // where a number may start an item
		return i == 0 || oneOf(rs[i-1], "。；;，,：:\n ") || isSpace(rs[i-1])
	}
	styles := []func(i, want int) (end int, ok bool){
		func(i, want int) (int, bool) { // 1. 1、 1．
			if !after(i) {
				return 0, false
			}
			j := i
			for j < len(rs) && isDigit(rs[j]) && j-i < 2 {
				j++
			}
			if j == i || j >= len(rs) || !oneOf(rs[j], ".．、") || (j+1 < len(rs) && isDigit(rs[j+1])) {
				return 0, false
			}
			n, _ := strconv.Atoi(foldDigits(string(rs[i:j])))
			return j + 1, n == want
		},
		func(i, want int) (int, bool) { // （一）
			if rs[i] != '（' && rs[i] != '(' {
				return 0, false
			}
			j := i + 1
			for j < len(rs) && oneOf(rs[j], "一二三四五六七八九十") && j-i < 4 {
				j++
			}
			if j == i+1 || j >= len(rs) || (rs[j] != '）' && rs[j] != ')') {
				return 0, false
			}
			return j + 1, chineseNumber(string(rs[i+1:j])) == want
		},
		func(i, want int) (int, bool) { // 一是
			if !after(i) {
				return 0, false
			}
			j := i
			for j < len(rs) && oneOf(rs[j], "一二三四五六七八九十") && j-i < 3 {
				j++
			}
			if j == i || j >= len(rs) || rs[j] != '是' {
				return 0, false
			}
			return j + 1, chineseNumber(string(rs[i:j])) == want
		},
	}
	for _, style := range styles {
		var out [][3]int
		want := 1
		var br brackets
		for i := 0; i < len(rs); i++ {
			if br.depth == 0 { // not inside brackets or quotes
				if end, ok := style(i, want); ok {
					out = append(out, [3]int{i, end, want})
					want++
					i = end - 1
					continue
				}
			}
			br.top(rs[i])
		}
		// One item is no list: "1." alone may be a number in the text.
		if len(out) >= 2 {
			return out
		}
	}
	return nil
}

func isOpen(r rune) bool {
	switch r {
	case '（', '(', '《', '“', '‘', '【', '[':
		return true
	}
	return false
}

func isClose(r rune) bool {
	switch r {
	case '）', ')', '》', '”', '’', '】', ']':
		return true
	}
	return false
}

// oneOf says whether r is one of set's runes: strings.ContainsRune(set, r)
// without making r a string (a sixth of parsing a large list was that).
func oneOf(r rune, set string) bool {
	for _, c := range set {
		if c == r {
			return true
		}
	}
	return false
}
func isSpace(r rune) bool { return unicode.IsSpace(r) || r == '\u3000' || r == '\ufeff' }
func isDigit(r rune) bool { return (r >= '0' && r <= '9') || (r >= '０' && r <= '９') }
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// foldDigits turns full-width digits into ASCII ones.
func foldDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return r - '０' + '0'
		}
		return r
	}, s)
}

// clip shortens s for an error or warning message.
func clip(s string) string { return clipRunes(s, 30) }

// clipRunes keeps the first n characters of s, marking a cut with "…".
func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// notTitle matches lines before a list that are not its title: an
// attachment mark ("附件", "附件2"), a page number, a date.
var notTitle = regexp.MustCompile(`^(附件\s*[0-9０-９一二三四五六七八九十]*[：:]?|[-—\s0-9第页共/]*|[0-9０-９]{4}\s*年.*日)$`)

// isTitle reports whether line s, before a list, can be its title.
func isTitle(s string) bool {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	return n >= 4 && n <= 80 && !notTitle.MatchString(s)
}
