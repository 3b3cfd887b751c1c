package seeds

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"taskbot/storage"
)

// Keywords of deadlines that carry no date.
const (
	KeywordImmediate = "立行立改"
	KeywordOngoing   = "持续推进"
	KeywordLongTerm  = "长期坚持"
)

// Deadline is the meaning of a 整改时限 text: its dated milestones and its
// flags. A text may have both.
type Deadline struct {
	// Milestones are in due-date order, the order written breaking ties:
	// people read 节点1 as the first deadline, and a task's milestones are
	// numbered 1..n in this order.
	Milestones []Milestone
	Immediate  bool
	Ongoing    bool
	LongTerm   bool
	// Warnings name what could not be read, e.g. a text with neither a date
	// nor a known keyword, or a month with no year to inherit.
	Warnings []string
}

// ParseDeadline reads a free-text deadline. Each dated clause becomes a
// milestone due on the last day of the period it names ("2021年9月底前" →
// 2021-09-30, "2023年" → 2023-12-31, a range → its end); a month without a
// year takes the year of the date before it. Numbers that are not dates
// (2.54万亩, 90%, 12万吨/日) and references such as "2019年后" are ignored.
// The milestones come sorted by due date, stably (see Deadline.Milestones).
func ParseDeadline(text string) Deadline {
	d := Deadline{
		Milestones: []Milestone{},
		Immediate:  strings.Contains(text, KeywordImmediate),
		Ongoing:    strings.Contains(text, KeywordOngoing),
		LongTerm:   strings.Contains(text, KeywordLongTerm),
	}
	orig := []rune(text)
	norm := make([]rune, len(orig))
	for i, r := range orig {
		if r >= '０' && r <= '９' {
			r = r - '０' + '0'
		}
		norm[i] = r
	}
	sc := scanner{s: norm}
	// An undated clause belongs to the milestone before it in the same
	// sentence ("…完成排查，对问题建立台账；…"), otherwise to the next one
	// ("对…矿山，2021年10月底前完成…").
	var pending []string
	prevInSentence := -1
	for _, cl := range clauses(norm) {
		atoms := sc.atoms(cl.start, cl.end)
		clause := strings.TrimFunc(string(orig[cl.start:cl.end]), isSpace)
		var dated []int // starts of the atoms that resolved to a date
		var dues []storage.Date
		for _, a := range atoms {
			due, warn := sc.resolve(a)
			if warn != "" {
				d.Warnings = append(d.Warnings, warn)
				continue
			}
			dated = append(dated, a.start)
			dues = append(dues, due)
		}
		switch {
		case len(dated) == 0 && (clause == "" || hasKeyword(clause)):
		case len(dated) == 0 && prevInSentence >= 0:
			m := &d.Milestones[prevInSentence]
			m.Text += "，" + clause
		case len(dated) == 0:
			pending = append(pending, clause)
		}
		for k, start := range dated {
			from, to := start, cl.end
			if k == 0 {
				from = cl.start
			}
			if k+1 < len(dated) {
				to = dated[k+1]
			}
			part := strings.TrimFunc(string(orig[from:to]), isSpace)
			if k == 0 && len(pending) > 0 {
				part = strings.Join(append(pending, part), "，")
				pending = nil
			}
			d.Milestones = append(d.Milestones, Milestone{Due: dues[k], Text: part})
			prevInSentence = len(d.Milestones) - 1
		}
		if cl.sentenceEnd {
			prevInSentence = -1
		}
	}
	if len(pending) > 0 && len(d.Milestones) > 0 {
		last := &d.Milestones[len(d.Milestones)-1]
		last.Text = strings.Join(append([]string{last.Text}, pending...), "，")
	}
	// Sorted only now: which clause an undated clause joins depends on the
	// order written.
	sort.SliceStable(d.Milestones, func(i, j int) bool { return d.Milestones[i].Due.Before(d.Milestones[j].Due) })
	if len(d.Milestones) == 0 && !d.Immediate && !d.Ongoing && !d.LongTerm {
		d.Warnings = append(d.Warnings, fmt.Sprintf("整改时限“%s”既没有日期，也没有可识别的关键词（%s、%s、%s）",
			clip(text), KeywordImmediate, KeywordOngoing, KeywordLongTerm))
	}
	return d
}

func hasKeyword(s string) bool {
	return strings.Contains(s, KeywordImmediate) || strings.Contains(s, KeywordOngoing) || strings.Contains(s, KeywordLongTerm)
}

type clause struct {
	start, end  int
	sentenceEnd bool // ended by ；or 。 rather than ，
}

// clauses splits s into clauses on punctuation outside brackets, so
// "各县（市、区）" never splits.
func clauses(s []rune) []clause {
	var out []clause
	var br brackets
	start := 0
	for i, r := range s {
		switch {
		case !br.top(r):
		case r == '，' || r == ',':
			out = append(out, clause{start, i, false})
			start = i + 1
		case r == '；' || r == ';' || r == '。':
			out = append(out, clause{start, i, true})
			start = i + 1
		}
	}
	return append(out, clause{start, len(s), true})
}

const (
	precYear = iota + 1
	precMonth
	precDay
)

// atom is one date expression; a range "A—B" is one atom valued at B.
type atom struct {
	start, end int
	year       int // 0: inherit from the date before
	month, day int
	prec       int
	period     string // for a bare year: 上半年, 一季度, …
	line       string // the text, for warnings
}

type scanner struct {
	s        []rune
	lastYear int
}

func isRangeDash(r rune) bool { return oneOf(r, "—–-－~～至到") }

// atoms finds the date expressions in s[from:to].
func (sc *scanner) atoms(from, to int) []atom {
	var out []atom
	for i := from; i < to; {
		if !isDigit(sc.s[i]) || (i > from && (isDigit(sc.s[i-1]) || sc.s[i-1] == '.')) {
			i++
			continue
		}
		a, ok := sc.atomAt(i, to)
		if !ok {
			for i < to && isDigit(sc.s[i]) {
				i++
			}
			continue
		}
		// A range: the milestone is due at its end.
		if j := sc.skipDashes(a.end, to); j > a.end {
			if b, ok := sc.atomAt(j, to); ok && (b.year != 0 || a.year != 0) {
				if b.year == 0 {
					b.year = a.year
				}
				b.start = a.start
				a = b
			}
		}
		if a.prec == 0 { // a bare "2022" that did not start a range
			i = a.end
			continue
		}
		i = a.end
		if sc.isReference(a, from, to) {
			continue
		}
		a.line = string(sc.s[a.start:a.end])
		out = append(out, a)
	}
	return out
}

// skipDashes returns the index after a range dash (and spaces) at i, or i.
func (sc *scanner) skipDashes(i, to int) int {
	j := i
	for j < to && isSpace(sc.s[j]) {
		j++
	}
	if j >= to || !isRangeDash(sc.s[j]) {
		return i
	}
	for j < to && (isRangeDash(sc.s[j]) || isSpace(sc.s[j])) {
		j++
	}
	return j
}

// number reads up to max ASCII digits at i.
func (sc *scanner) number(i, to, max int) (n, end int) {
	end = i
	for end < to && end-i < max+1 && sc.s[end] >= '0' && sc.s[end] <= '9' {
		n = n*10 + int(sc.s[end]-'0')
		end++
	}
	if end-i > max {
		return 0, i
	}
	return n, end
}

func (sc *scanner) at(i, to int, r rune) bool { return i < to && sc.s[i] == r }

// atomAt parses "YYYY年[M月[D日]]", "M月[D日]" or a bare "YYYY" followed by a
// range dash at i.
func (sc *scanner) atomAt(i, to int) (atom, bool) {
	a := atom{start: i}
	if y, j := sc.number(i, to, 4); j-i == 4 {
		if !sc.at(j, to, '年') {
			if j < to && isRangeDash(sc.s[j]) {
				return atom{start: i, end: j, year: y}, true // prec 0: needs a range end
			}
			return a, false
		}
		a.year, a.prec, a.end = y, precYear, j+1
		if sc.monthDay(j+1, to, &a) > 0 {
			return a, true
		}
		a.period = sc.period(a.end, to)
		return a, true
	}
	if k := sc.monthDayOnly(i, to, &a); k > 0 {
		return a, true
	}
	return a, false
}

// monthDay parses "M月[D日]" or "M—N月" after a year and returns the index
// after it, or 0.
func (sc *scanner) monthDay(i, to int, a *atom) int {
	if k := sc.monthDayOnly(i, to, a); k > 0 {
		return k
	}
	// "2021年1—3月": a month range inside a year.
	if m1, j := sc.number(i, to, 2); j > i && m1 >= 1 {
		if d := sc.skipDashes(j, to); d > j {
			if m2, e := sc.number(d, to, 2); e > d && sc.at(e, to, '月') {
				a.month, a.prec, a.end = m2, precMonth, e+1
				return a.end
			}
		}
	}
	return 0
}

func (sc *scanner) monthDayOnly(i, to int, a *atom) int {
	m, j := sc.number(i, to, 2)
	if j == i || !sc.at(j, to, '月') {
		return 0
	}
	a.month, a.prec, a.end = m, precMonth, j+1
	if d, k := sc.number(j+1, to, 2); k > j+1 && (sc.at(k, to, '日') || sc.at(k, to, '号')) {
		a.day, a.prec, a.end = d, precDay, k+1
	}
	return a.end
}

// period reads a part of a year written after "YYYY年".
func (sc *scanner) period(i, to int) string {
	rest := string(sc.s[i:min(to, i+4)])
	for _, p := range []string{"上半年", "下半年", "年中", "第一季度", "第二季度", "第三季度", "第四季度", "一季度", "二季度", "三季度", "四季度"} {
		if strings.HasPrefix(rest, p) {
			return p
		}
	}
	return ""
}

// isReference reports a date that is not a deadline: "2019年后新建",
// "截至2020年底", "自2021年起".
func (sc *scanner) isReference(a atom, from, to int) bool {
	after := string(sc.s[a.end:min(to, a.end+2)])
	for _, w := range []string{"后", "以后", "以来", "起", "开始"} {
		if strings.HasPrefix(after, w) {
			return true
		}
	}
	before := string(sc.s[max(from, a.start-2):a.start])
	for _, w := range []string{"截至", "截止", "自", "从"} {
		if strings.HasSuffix(before, w) {
			return true
		}
	}
	return false
}

// resolve turns an atom into its due date, inheriting the year of the date
// before it when the atom has none.
func (sc *scanner) resolve(a atom) (storage.Date, string) {
	y := a.year
	if y == 0 {
		if sc.lastYear == 0 {
			return storage.Date{}, fmt.Sprintf("“%s”没有年份，前文也没有可沿用年份的日期", a.line)
		}
		y = sc.lastYear
	}
	if y < 1900 || y > 2199 {
		return storage.Date{}, fmt.Sprintf("“%s”：年份 %d 超出范围", a.line, y)
	}
	var due storage.Date
	switch a.prec {
	case precYear:
		due = storage.NewDate(y, 12, 31)
		switch a.period {
		case "上半年", "年中":
			due = storage.NewDate(y, 6, 30)
		case "第一季度", "一季度":
			due = storage.NewDate(y, 3, 31)
		case "第二季度", "二季度":
			due = storage.NewDate(y, 6, 30)
		case "第三季度", "三季度":
			due = storage.NewDate(y, 9, 30)
		}
	case precMonth, precDay:
		if a.month < 1 || a.month > 12 {
			return storage.Date{}, fmt.Sprintf("“%s”：没有 %d 月", a.line, a.month)
		}
		due = storage.MonthEnd(y, time.Month(a.month))
		if a.prec == precDay {
			if a.day < 1 || a.day > due.Day {
				return storage.Date{}, fmt.Sprintf("“%s”：%d 年 %d 月没有 %d 日", a.line, y, a.month, a.day)
			}
			due.Day = a.day
		}
	}
	sc.lastYear = y
	return due, ""
}
