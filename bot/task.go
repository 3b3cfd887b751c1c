package bot

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"taskbot/storage"
)

// TaskRef names a task: its section (1 common, 2 individual) and number,
// in the default list, or in the list named List ("省督察二轮/共性6").
type TaskRef struct {
	List    string
	Code    string // as written after the list's name: any code of that list
	Section int
	Number  int
}

// Section prefixes as written in codes, with ASCII aliases for typing.
var sectionPrefixes = []struct {
	prefix  string
	section int
}{
	{"共性", 1}, {"个性", 2}, {"c", 1}, {"g", 1}, {"p", 2}, {"i", 2}, {"x", 2},
}

// ParseTaskRef reads a task reference: "6", "６", "#6", "第6项", "共性6",
// "c6" (common), "个性1" or "p1" (individual). It returns EINVALID for
// anything else.
//
// "NAME/REF" names a task of the list called NAME: REF as above, or any
// code of that list ("省督察二轮/任务3").
func ParseTaskRef(s string) (TaskRef, error) {
	if list, code, ok := strings.Cut(strings.ReplaceAll(s, "／", "/"), "/"); ok {
		list, code = strings.TrimSpace(list), strings.TrimSpace(code)
		if list == "" || code == "" || utf8.RuneCountInString(code) > 32 || strings.Contains(code, "/") ||
			!utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
			return TaskRef{}, storage.Errorf(storage.EINVALID, "“%s”不是任务编号：清单中的任务写作“清单名/编号”，如“省督察二轮/共性6”。", clip(s, 40))
		}
		ref, err := parseRef(code)
		if err != nil {
			ref = TaskRef{} // found by its code alone
		}
		ref.List, ref.Code = list, code
		return ref, nil
	}
	return parseRef(s)
}

func parseRef(s string) (TaskRef, error) {
	t := strings.ToLower(strings.TrimSpace(foldWidth(s)))
	t = strings.TrimPrefix(t, "#")
	if strings.HasPrefix(t, "第") {
		t = strings.TrimPrefix(t, "第")
		for _, suf := range []string{"项", "条", "号"} {
			t = strings.TrimSuffix(t, suf)
		}
	}
	ref := TaskRef{Section: 1}
	for _, p := range sectionPrefixes {
		if strings.HasPrefix(t, p.prefix) {
			ref.Section = p.section
			t = strings.TrimSpace(strings.TrimPrefix(t, p.prefix))
			break
		}
	}
	if t == "" || len(t) > 4 {
		return TaskRef{}, storage.Errorf(storage.EINVALID, "“%s”不是任务编号。", clip(s, 20))
	}
	n, err := strconv.Atoi(t)
	if err != nil || n <= 0 {
		return TaskRef{}, storage.Errorf(storage.EINVALID, "“%s”不是任务编号。", clip(s, 20))
	}
	ref.Number = n
	return ref, nil
}

// foldWidth turns full-width ASCII (digits, letters, ＃) into half-width.
func foldWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '！' && r <= '～' {
			return r - '！' + '!'
		}
		return r
	}, s)
}

func (b *Bot) taskCmd(ctx context.Context, req Request, args []string) (Reply, error) {
	if len(args) == 0 {
		return Reply{}, storage.Errorf(storage.EINVALID, "请给出任务编号。")
	}
	if len(args) > 1 {
		return b.taskAction(ctx, req, b.lookup("task"), args)
	}
	ref, err := ParseTaskRef(args[0])
	if err != nil {
		// A list's name: its tasks.
		if l, lerr := b.Store.ListByName(ctx, args[0]); lerr == nil {
			return b.listTasks(ctx, req, l)
		}
		return Reply{}, err
	}
	t, err := b.findTask(ctx, ref)
	if err != nil {
		return Reply{}, err
	}
	shares, err := b.milestoneShares(ctx, t.Milestones)
	if err != nil {
		return Reply{}, err
	}
	today := b.today(req.Now)
	r, err := b.withProgress(ctx, b.taskCard(t, today, shares), t)
	if err != nil {
		return Reply{}, err
	}
	short, err := b.compactCard(ctx, t, today, shares)
	if err != nil {
		return Reply{}, err
	}
	// The forms only for those who may report on the task.
	if w, err := b.whoIs(ctx, req.User); err == nil && !t.Closed() {
		if g, err := b.grantOn(ctx, w, t); err == nil && g.mayReport() {
			short.Actions = append([]Action{{Label: "报送进展", Command: t.Ref(), Form: FormReport},
				{Label: "申请销号", Command: t.Ref(), Form: FormClose}, {Label: "申请延期", Command: t.Ref(), Form: FormExtend}}, short.Actions...)
		}
	}
	r.Short = &short
	return r, nil
}

// listTasks is `task 清单名称`: the list's tasks in the document's order,
// each with its next milestone or state.
func (b *Bot) listTasks(ctx context.Context, req Request, l storage.List) (Reply, error) {
	ts, total, err := b.Store.ListTasks(ctx, l.ID, MaxItems)
	if err != nil {
		return Reply{}, err
	}
	today := b.today(req.Now)
	r := Reply{Title: fmt.Sprintf("清单“%s”的任务（共 %d 项）", l.Name, total), AsOf: today}
	s := Section{More: total - len(ts)}
	for i := range ts {
		s.Items = append(s.Items, summaryItem(&ts[i], today))
	}
	if total == 0 {
		s.Text = "该清单没有任务。"
	}
	r.Sections = []Section{s}
	if l.Title != "" && l.Title != l.Name {
		r.Footnotes = append(r.Footnotes, "文件标题："+l.Title)
	}
	how := "/task 编号"
	if l.ID != storage.DefaultList {
		how = "/task " + l.Name + "/编号"
	}
	r.Footnotes = append(r.Footnotes, "查看任务："+how+"；各单位：/units "+l.Name+"；统计：/stats "+l.Name)
	return r, nil
}

// fullVerb is `task N 全文`: the whole card, problem, goal and measures
// included, wherever it is read.
func (b *Bot) fullVerb(ctx context.Context, c verbCall) (Reply, error) {
	if len(c.args) > 0 {
		return Reply{}, storage.Errorf(storage.EINVALID, "全文 不带参数。")
	}
	shares, err := b.milestoneShares(ctx, c.task.Milestones)
	if err != nil {
		return Reply{}, err
	}
	return b.withProgress(ctx, b.taskCard(c.task, b.today(c.req.Now), shares), c.task)
}

// compactCard is the card as chat shows it, leading with what changes: the
// code and a short title, the status, each milestone with its units'
// progress and who is behind, the latest entry; the problem, goal and
// measures are one command away (全文).
func (b *Bot) compactCard(ctx context.Context, t *storage.Task, today storage.Date, shares map[uint]*storage.ShareCounts) (Reply, error) {
	r := Reply{Title: fmt.Sprintf("【%s】%s", t.Label(), ShortTitle(t.Title, 40)), AsOf: today}
	var items []Item
	worst, next, behind := StatusDone, "", 0
	for _, m := range t.Milestones {
		if m.Retired {
			continue
		}
		st, label := b.cardStatus(t, &m, today)
		text := fmt.Sprintf("节点%d %s %s", m.Seq, m.Due, label)
		if line := shareLine(shares[m.ID]); line != "" && !t.Closed() && st != StatusDone {
			text += " · " + line
		}
		items = append(items, Item{Status: st, Text: text})
		if st < worst {
			worst, next = st, fmt.Sprintf("节点%d %s", m.Seq, label)
		}
		if st == StatusRed {
			behind++
		}
	}
	status := ""
	switch {
	case t.Closed():
		status = fmt.Sprintf("✅ 已销号（%s）", b.Clock().Day(*t.ClosedAt))
	case len(items) == 0:
		status = "🔵 " + Flags(t)
	case worst == StatusDone:
		status = "✅ 各节点均已完成，待销号"
	case worst == StatusRed:
		status = fmt.Sprintf("🔴 逾期 %d 个节点，最久：%s", behind, next)
	case worst == StatusYellow:
		status = "🟡 临期：" + next
	default:
		status = "🟢 推进中，下一节点：" + next
	}
	r.Sections = append(r.Sections, Section{Text: status, Items: items})
	ps, err := b.Store.TaskProgress(ctx, t.ID, 1)
	if err != nil {
		return Reply{}, err
	}
	if len(ps) > 0 {
		r.Sections = append(r.Sections, Section{Fields: []Field{{"最新进展", clip(b.entryLine(&ps[0]), 120)}}})
	}
	r.Footnotes = []string{fmt.Sprintf("全文：/task %s 全文 · 各单位：/task %s 分解 · 记录：/task %s history · 报送：/progress %s 内容",
		t.Ref(), t.Ref(), t.Ref(), t.Ref())}
	r.Actions = []Action{{Label: "查看全文", Command: "task " + t.Ref() + " 全文"}, {Label: "各单位进度", Command: "task " + t.Ref() + " 分解"},
		{Label: "查看记录", Command: "task " + t.Ref() + " history"}}
	return r, nil
}

// ShortTitle cuts a title to at most n characters for a header, at the last
// punctuation that leaves most of it, marking the cut with "…".
func ShortTitle(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := n - 1
	for i := n - 1; i >= n/2; i-- {
		if strings.ContainsRune("，、；。：,;:", r[i]) {
			cut = i
			break
		}
	}
	return string(r[:cut]) + "…"
}

// noSuchTask says which numbers exist, so the user can correct the request.
// findTask returns the task ref names: in the default list by section
// and number, or in a named list by code, then by section and number.
// An unknown task or list is ENOTFOUND, saying what there is.
func (b *Bot) findTask(ctx context.Context, ref TaskRef) (*storage.Task, error) {
	if ref.List == "" {
		t, err := b.Store.FindTask(ctx, ref.Section, ref.Number)
		if storage.ErrorCode(err) == storage.ENOTFOUND {
			return nil, b.noSuchTask(ctx, ref)
		}
		return t, err
	}
	l, err := b.Store.ListByName(ctx, ref.List)
	if err != nil {
		return nil, err
	}
	code := foldWidth(ref.Code)
	t, err := b.Store.FindTaskByCode(ctx, l.ID, code)
	switch {
	case storage.ErrorCode(err) != storage.ENOTFOUND || ref.Number == 0:
	case bareNumber.MatchString(code):
		// "回头看/3": the list's third task of its first section, whatever
		// its codes' prefix; "回头看/共性1" is that code or nothing.
		t, err = b.Store.FindListTask(ctx, l.ID, ref.Section, ref.Number)
	default:
		// "省督察二轮/c6" is 共性6 there, as "c6" is here.
		t, err = b.Store.FindTaskByCode(ctx, l.ID, fmt.Sprintf("%s%d", map[int]string{1: "共性", 2: "个性"}[ref.Section], ref.Number))
	}
	if storage.ErrorCode(err) == storage.ENOTFOUND {
		return nil, storage.Errorf(storage.ENOTFOUND, "清单“%s”中没有任务 %s。", l.Name, ref.Code)
	}
	return t, err
}

// bareNumber matches a task named by its number alone: 3, #3, 第3项.
var bareNumber = regexp.MustCompile(`^#?第?[0-9]+[项条号]?$`)

func (b *Bot) noSuchTask(ctx context.Context, ref TaskRef) error {
	counts, err := b.Store.SectionCounts(ctx)
	if err != nil {
		return err
	}
	name := map[int]string{1: "共性", 2: "个性"}[ref.Section]
	if counts[ref.Section] == 0 {
		return storage.Errorf(storage.ENOTFOUND, "没有%s任务。", name)
	}
	return storage.Errorf(storage.ENOTFOUND, "没有%s任务 %d：%s任务编号为 1–%d。", name, ref.Number, name, counts[ref.Section])
}

// cardStatus is milestone m's status and label on task t's card: its
// own, or done with the task when the task is closed.
func (b *Bot) cardStatus(t *storage.Task, m *storage.Milestone, today storage.Date) (Status, string) {
	st, label := MilestoneStatus(m, today, b.Clock().Zone())
	if t.Closed() && st != StatusDone {
		return StatusDone, "随任务销号"
	}
	return st, label
}

// taskCard renders everything about a task as of today, each milestone
// with its units' progress (shares).
func (b *Bot) taskCard(t *storage.Task, today storage.Date, shares map[uint]*storage.ShareCounts) Reply {
	r := Reply{Title: fmt.Sprintf("【%s】%s", t.Label(), t.Title), AsOf: today}
	if t.Closed() {
		r.Title += "（已销号）"
	}
	r.Sections = append(r.Sections, Section{Heading: "问题", Text: t.Problem})
	if t.Goal != "" {
		r.Sections = append(r.Sections, Section{Heading: "整改目标", Text: t.Goal})
	}
	if len(t.Measures) > 0 {
		s := Section{Heading: "整改措施"}
		for _, m := range t.Measures {
			s.Items = append(s.Items, Item{Text: fmt.Sprintf("%d. %s", m.Seq, m.Text)})
		}
		r.Sections = append(r.Sections, s)
	}
	resp := Section{Heading: "责任"}
	addField := func(label string, vals []string) {
		if len(vals) > 0 {
			resp.Fields = append(resp.Fields, Field{label, strings.Join(vals, "、")})
		}
	}
	addField("责任领导", t.LeaderPosts())
	addField("牵头单位", t.UnitsWithRole(storage.RoleLead))
	addField("责任单位", t.UnitsWithRole(storage.RoleResponsible))
	if t.Persons != "" {
		resp.Fields = append(resp.Fields, Field{"责任人", t.Persons})
	}
	r.Sections = append(r.Sections, resp)

	dl := Section{Heading: "整改时限", Text: t.Deadline}
	for _, m := range t.Milestones {
		if m.Retired {
			continue
		}
		st, label := b.cardStatus(t, &m, today)
		text := fmt.Sprintf("节点%d  %s  %s — %s", m.Seq, m.Due, label, m.Text)
		if m.ExtendedAt != nil && m.PlannedDue != m.Due {
			text += fmt.Sprintf("（原定 %s，经批准延期至 %s）", m.PlannedDue, m.Due)
		}
		if line := shareLine(shares[m.ID]); line != "" && !t.Closed() {
			text += "\n    " + line
		}
		dl.Items = append(dl.Items, Item{Status: st, Text: text})
	}
	if flags := Flags(t); flags != "" {
		dl.Items = append(dl.Items, Item{Status: StatusFlagged, Text: flags})
	}
	r.Sections = append(r.Sections, dl)
	// What the document itself says of the task beyond the fields above.
	if t.DocStatus != "" {
		r.Sections = append(r.Sections, Section{Heading: "清单所列完成情况", Text: t.DocStatus})
	}
	if t.OtherNotes != "" {
		r.Sections = append(r.Sections, Section{Heading: "清单其他内容", Text: t.OtherNotes})
	}
	return r
}

// Flags describes a task's undated deadline keywords, e.g. "立行立改".
func Flags(t *storage.Task) string {
	var f []string
	if t.Immediate {
		f = append(f, "立行立改")
	}
	if t.Ongoing {
		f = append(f, "持续推进")
	}
	if t.LongTerm {
		f = append(f, "长期坚持")
	}
	return strings.Join(f, "、")
}
