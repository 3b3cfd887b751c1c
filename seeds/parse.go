// Package seeds holds the official rectification task list (embedded) and
// the parser that turns such a document into tasks.
package seeds

import (
	"bytes"
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
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

	// Line is the 1-based line where the task starts.
	Line int `json:"-"`
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
	Task string
	Msg  string
}

func (w Warning) String() string {
	if w.Task != "" {
		return fmt.Sprintf("line %d: %s: %s", w.Line, w.Task, w.Msg)
	}
	return fmt.Sprintf("line %d: %s", w.Line, w.Msg)
}

// Document is a parsed task list.
type Document struct {
	Sections []Section
	Tasks    []Task
	Warnings []Warning
}

// Section is a heading such as "一、共性整改任务".
type Section struct {
	Number int
	Title  string
	Kind   string // the code prefix: 共性, 个性, …
}

// ParseError says where a document stopped being a task list and what was
// expected there.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

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

var (
	// A label may be written with spaces between its characters (责 任 人)
	// and followed by a full- or half-width colon.
	labelRE   = regexp.MustCompile(`^(整[\s　]*改[\s　]*目[\s　]*标|整[\s　]*改[\s　]*措[\s　]*施|责[\s　]*任[\s　]*领[\s　]*导|牵[\s　]*头[\s　]*单[\s　]*位|责[\s　]*任[\s　]*单[\s　]*位|责[\s　]*任[\s　]*人|整[\s　]*改[\s　]*时[\s　]*限)[\s　]*[：:]`)
	sectionRE = regexp.MustCompile(`^([一二三四五六七八九十]{1,3})[、.．]\s*(\S.*)$`)
	taskRE    = regexp.MustCompile(`^([0-9０-９]{1,6})[.．、]`) // lists of up to 999,999 tasks
)

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

// parseText reads a list written as text (see Parse).
func parseText(text string) (*Document, error) {
	p := &parser{doc: &Document{}}
	lines := strings.Split(text, "\n")
	for i, raw := range lines {
		if err := p.line(i+1, raw); err != nil {
			return nil, err
		}
	}
	if err := p.finish(len(lines)); err != nil {
		return nil, err
	}
	return p.doc, nil
}

func decode(doc []byte) (string, error) {
	doc = bytes.TrimPrefix(doc, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(doc) {
		// Government offices often save text as GBK; GB18030 is its superset.
		dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(doc)
		if err != nil || !utf8.Valid(dec) {
			return "", &ParseError{Line: 1, Msg: "the file is neither UTF-8 nor GB18030 text"}
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
	section *Section
	cur     *draft
	field   string // the field the next continuation line belongs to
}

func (p *parser) line(n int, raw string) error {
	s := strings.TrimFunc(raw, isSpace)
	if s == "" {
		return nil
	}
	// A heading is short; a long line starting "一、" is wrapped task text.
	if m := sectionRE.FindStringSubmatch(s); m != nil && (p.cur == nil || utf8.RuneCountInString(s) <= 30) {
		if err := p.flush(n); err != nil {
			return err
		}
		num := chineseNumber(m[1])
		title := strings.TrimFunc(m[2], isSpace)
		sec := Section{Number: num, Title: title, Kind: sectionKind(num, title)}
		// Tasks are keyed by (section, number) and by code: a repeated
		// section would give two tasks the same key.
		for _, prev := range p.doc.Sections {
			if prev.Number == sec.Number || prev.Kind == sec.Kind {
				return &ParseError{Line: n, Msg: fmt.Sprintf("section %q repeats section %d %q; expected a new section such as \"二、个性整改任务\"", clip(s), prev.Number, prev.Title)}
			}
		}
		p.section = &sec
		p.doc.Sections = append(p.doc.Sections, sec)
		return nil
	}
	if num, rest, ok := taskStart(s); ok {
		want := 1
		if p.cur != nil {
			want = p.cur.number + 1
		}
		switch {
		case p.section == nil:
			return &ParseError{Line: n, Msg: fmt.Sprintf("task %q comes before any section heading; expected a heading such as \"一、共性整改任务\"", clip(s))}
		case num == want:
			if err := p.flush(n); err != nil {
				return err
			}
			p.cur = &draft{line: n, section: *p.section, number: num, fields: map[string]string{}, lines: map[string]int{}}
			p.field = fProblem
			p.append(n, rest)
			return nil
		case p.cur != nil && p.cur.fields[fDeadline] != "":
			// The previous task is complete, so this is not a wrapped line.
			return &ParseError{Line: n, Msg: fmt.Sprintf("expected task %d of section %q, found task %d", want, p.section.Title, num)}
		}
	}
	if loc := labelRE.FindStringSubmatchIndex(s); loc != nil {
		if p.cur == nil {
			return &ParseError{Line: n, Msg: fmt.Sprintf("field %q outside a task; expected a task such as \"1.…\" first", clip(s))}
		}
		label := strings.Map(func(r rune) rune {
			if isSpace(r) {
				return -1
			}
			return r
		}, s[loc[2]:loc[3]])
		if _, dup := p.cur.fields[label]; dup {
			return &ParseError{Line: n, Msg: fmt.Sprintf("field %s appears twice in task %d (first at line %d)", label, p.cur.number, p.cur.lines[label])}
		}
		p.field = label
		p.cur.lines[label] = n
		p.cur.order = append(p.cur.order, label)
		p.cur.fields[label] = ""
		p.append(n, s[loc[1]:])
		return nil
	}
	if p.cur == nil {
		if p.section != nil {
			return &ParseError{Line: n, Msg: fmt.Sprintf("expected a task such as \"1.…\" under section %q, got %q", p.section.Title, clip(s))}
		}
		return nil // title lines before the first section
	}
	p.append(n, s)
	return nil
}

// append adds a (possibly wrapped) line to the current field.
func (p *parser) append(n int, s string) {
	s = strings.TrimFunc(s, isSpace)
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
}

func (p *parser) finish(lines int) error {
	if err := p.flush(lines); err != nil {
		return err
	}
	if len(p.doc.Tasks) == 0 {
		if len(p.doc.Sections) == 0 {
			return &ParseError{Line: 1, Msg: "not a rectification task list: expected a section heading such as \"一、共性整改任务\" followed by tasks \"1.…\""}
		}
		return &ParseError{Line: lines, Msg: "no tasks found: expected tasks such as \"1.…\" under the section headings"}
	}
	return nil
}

// flush turns the current draft into a Task.
func (p *parser) flush(n int) error {
	d := p.cur
	if d == nil {
		return nil
	}
	p.cur = nil
	code := fmt.Sprintf("%s%d", d.section.Kind, d.number)
	for _, req := range []string{fUnits, fDeadline} {
		if strings.TrimSpace(d.fields[req]) == "" {
			return &ParseError{Line: d.line, Msg: fmt.Sprintf("task %s has no %s: expected a line \"%s：…\" before line %d", code, req, req, n)}
		}
	}
	warn := func(field, msg string) {
		line := d.line
		if l, ok := d.lines[field]; ok {
			line = l
		}
		p.doc.Warnings = append(p.doc.Warnings, Warning{Line: line, Task: code, Msg: msg})
	}
	for _, opt := range []string{fGoal, fMeasures, fLeaders} {
		if strings.TrimSpace(d.fields[opt]) == "" {
			warn(opt, "missing "+opt)
		}
	}
	problem := d.fields[fProblem]
	if problem == "" {
		warn(fProblem, "missing the problem paragraph after the task number")
	}
	t := Task{
		Section:   d.section.Number,
		Number:    d.number,
		Code:      code,
		Title:     firstSentence(problem),
		Problem:   problem,
		Goal:      d.fields[fGoal],
		Measures:  splitMeasures(d.fields[fMeasures]),
		Leaders:   splitLeaders(d.fields[fLeaders]),
		LeadUnits: splitUnits(d.fields[fLead]),
		Units:     splitUnits(d.fields[fUnits]),
		Persons:   d.fields[fPersons],
		Deadline:  d.fields[fDeadline],
		Line:      d.line,
	}
	dl := ParseDeadline(t.Deadline)
	t.Milestones, t.Immediate, t.Ongoing, t.LongTerm = dl.Milestones, dl.Immediate, dl.Ongoing, dl.LongTerm
	for _, w := range dl.Warnings {
		warn(fDeadline, w)
	}
	p.doc.Tasks = append(p.doc.Tasks, t)
	return nil
}

func taskStart(s string) (num int, rest string, ok bool) {
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
	digits := map[rune]int{'一': 1, '二': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
	n, cur := 0, 0
	for _, r := range s {
		if r == '十' {
			if cur == 0 {
				cur = 1
			}
			n += cur * 10
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
		if br.top(r) && strings.ContainsRune(seps, r) {
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

func isOpen(r rune) bool  { return strings.ContainsRune("（(《“‘【[", r) }
func isClose(r rune) bool { return strings.ContainsRune("）)》”’】]", r) }
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
