package bot

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"taskbot/storage"
)

// ProgressArgs is a parsed `progress` command (or a reply in a task's
// thread, which has no task reference).
type ProgressArgs struct {
	Task TaskRef
	// Unit is the unit the reporter reports for, as typed ("" = infer).
	Unit string
	// Kind is storage.KindReport, KindDone, KindCloseRequest or
	// KindExtensionRequest.
	Kind string
	// Milestone is the milestone number (0 = the task as a whole).
	Milestone int
	// ExtendTo is the date an extension request asks for.
	ExtendTo storage.Date
	Percent  *int
	Text     string
	Evidence []string
}

// Keywords of the progress command, with ASCII aliases.
var progressKinds = map[string]string{
	"完成": storage.KindDone, "done": storage.KindDone,
	"申请销号": storage.KindCloseRequest, "销号申请": storage.KindCloseRequest, "close": storage.KindCloseRequest,
	"申请延期": storage.KindExtensionRequest, "延期申请": storage.KindExtensionRequest, "extend": storage.KindExtensionRequest,
}

// ParseProgress reads the arguments of `progress`: a task reference, then
// optionally "@单位" (or "--unit 单位"), one of "完成 M", "申请销号 [M]",
// "申请延期 M YYYY-MM-DD", a percentage such as "60%", and the text. Links
// in the text are kept as evidence. It returns EINVALID with what is wrong.
func ParseProgress(args []string) (ProgressArgs, error) {
	if len(args) == 0 {
		return ProgressArgs{}, storage.Errorf(storage.EINVALID, "请给出任务编号和进展内容。")
	}
	ref, err := ParseTaskRef(args[0])
	if err != nil {
		return ProgressArgs{}, err
	}
	pa, err := ParseProgressBody(args[1:])
	pa.Task = ref
	return pa, err
}

// ParseProgressBody reads what follows the task reference in `progress`,
// which is also what a reply in a task's thread says.
func ParseProgressBody(words []string) (ProgressArgs, error) {
	pa := ProgressArgs{Kind: storage.KindReport}
	i := 0
	options := func() error {
		for i < len(words) {
			w := words[i]
			switch {
			case strings.HasPrefix(w, "--unit="):
				pa.Unit = strings.TrimPrefix(w, "--unit=")
				i++
			case w == "--unit":
				if i+1 >= len(words) {
					return storage.Errorf(storage.EINVALID, "--unit 后面请给出单位名称。")
				}
				pa.Unit = words[i+1]
				i += 2
			case (strings.HasPrefix(w, "@") || strings.HasPrefix(w, "＠")) && pa.Unit == "" && len(w) > 1:
				pa.Unit = strings.TrimLeft(w, "@＠")
				i++
			case pa.Percent == nil && isPercent(w):
				p, err := ParsePercent(w)
				if err != nil {
					return err
				}
				pa.Percent = &p
				i++
			default:
				return nil
			}
		}
		return nil
	}
	if err := options(); err != nil {
		return pa, err
	}
	if i < len(words) {
		if k, ok := progressKinds[strings.ToLower(words[i])]; ok {
			pa.Kind = k
			i++
			switch k {
			case storage.KindDone, storage.KindExtensionRequest:
				if i >= len(words) {
					return pa, storage.Errorf(storage.EINVALID, "请给出节点编号，例如“%s 1 …”。", words[i-1])
				}
				m, err := ParseMilestone(words[i])
				if err != nil {
					return pa, err
				}
				pa.Milestone = m
				i++
			case storage.KindCloseRequest:
				if i < len(words) {
					// A number here names the milestone, even alone: "申请销号 2"
					// must not become a request to close the whole task.
					if m, err := ParseMilestone(words[i]); err == nil {
						pa.Milestone = m
						i++
					}
				}
			}
			if k == storage.KindExtensionRequest {
				if i >= len(words) {
					return pa, storage.Errorf(storage.EINVALID, "请给出申请延期到的日期，例如 2021-12-31。")
				}
				d, err := ParseExtensionDate(words[i])
				if err != nil {
					return pa, err
				}
				pa.ExtendTo = d
				i++
			}
		}
	}
	if err := options(); err != nil {
		return pa, err
	}
	pa.Text = strings.Join(words[i:], " ")
	pa.Evidence = Links(pa.Text)
	if pa.Unit != "" && strings.TrimSpace(pa.Unit) == "" {
		return pa, storage.Errorf(storage.EINVALID, "请给出单位名称。")
	}
	if pa.Text == "" {
		switch pa.Kind {
		case storage.KindReport:
			if pa.Percent == nil {
				return pa, storage.Errorf(storage.EINVALID, "请写明进展内容。")
			}
		case storage.KindDone, storage.KindCloseRequest:
			return pa, storage.Errorf(storage.EINVALID, "请附上完成情况或佐证材料（文字或链接）。")
		case storage.KindExtensionRequest:
			return pa, storage.Errorf(storage.EINVALID, "请写明延期理由。")
		}
	}
	if len([]rune(pa.Text)) > MaxProgressText {
		return pa, storage.Errorf(storage.EINVALID, "进展内容过长（超过 %d 字），请精简或附链接。", MaxProgressText)
	}
	return pa, nil
}

// MaxProgressText is the longest progress text accepted, in characters.
const MaxProgressText = 4000

func isPercent(w string) bool {
	w = foldWidth(w)
	return strings.HasSuffix(w, "%") && len(w) > 1 && unicode.IsDigit(rune(w[0]))
}

// ParsePercent reads "60%" or "６０％" as 0–100.
func ParsePercent(w string) (int, error) {
	t := strings.TrimSuffix(foldWidth(strings.TrimSpace(w)), "%")
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || n > 100 || len(t) > 3 {
		return 0, storage.Errorf(storage.EINVALID, "“%s”不是有效的百分比（0%%–100%%）。", clip(w, 20))
	}
	return n, nil
}

// ParseMilestone reads a milestone number: "1", "１", "节点1", "#1".
func ParseMilestone(w string) (int, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(foldWidth(strings.TrimSpace(w)), "节点"), "#")
	n, err := strconv.Atoi(t)
	if err != nil || n <= 0 || n > 99 || len(t) > 2 {
		return 0, storage.Errorf(storage.EINVALID, "“%s”不是节点编号（如 1、节点2）。", clip(w, 20))
	}
	return n, nil
}

var dateNums = regexp.MustCompile(`^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$`)

// ParseExtensionDate reads the date an extension asks for: 2021-12-31,
// 2021/12/31, 2021.12.31 or 2021年12月31日, full-width digits allowed. It
// returns EINVALID for anything else or an impossible day.
func ParseExtensionDate(w string) (storage.Date, error) {
	m := dateNums.FindStringSubmatch(foldWidth(strings.TrimSpace(w)))
	bad := storage.Errorf(storage.EINVALID, "“%s”不是有效日期，请写成 YYYY-MM-DD，如 2021-12-31。", clip(w, 20))
	if m == nil {
		return storage.Date{}, bad
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	d, _ := strconv.Atoi(m[3])
	date := storage.NewDate(y, time.Month(mo), d)
	if y < 2000 || date.Year != y || int(date.Month) != mo || date.Day != d {
		return storage.Date{}, bad
	}
	return date, nil
}

var linkRe = regexp.MustCompile(`https?://[^\s<>|"]+`)

// Links returns the links in text (Slack's "<url|label>" included), in
// order, without repeats.
func Links(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range linkRe.FindAllString(text, -1) {
		l = strings.TrimRight(l, ".,;:!?)）。，；")
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

func (b *Bot) progressCmd(ctx context.Context, req Request, args []string) (Reply, error) {
	pa, err := ParseProgress(args)
	if err != nil {
		return Reply{}, err
	}
	t, err := b.Store.FindTask(ctx, pa.Task.Section, pa.Task.Number)
	if storage.ErrorCode(err) == storage.ENOTFOUND {
		return Reply{}, b.noSuchTask(ctx, pa.Task)
	}
	if err != nil {
		return Reply{}, err
	}
	p, err := b.record(ctx, req.User, t, pa, &storage.Progress{Source: "command"})
	if err != nil {
		return Reply{}, err
	}
	return b.recorded(ctx, t, p, true)
}

// record authorizes user on t, picks the unit they report for and appends
// the entry. It returns EFORBIDDEN naming who may report, and EINVALID
// asking which unit when that is ambiguous.
func (b *Bot) record(ctx context.Context, user string, t *storage.Task, pa ProgressArgs, p *storage.Progress) (*storage.Progress, error) {
	w, err := b.whoIs(ctx, user)
	if err != nil {
		return nil, err
	}
	g, err := b.grantOn(ctx, w, t)
	if err != nil {
		return nil, err
	}
	if !g.mayReport() {
		return nil, storage.Errorf(storage.EFORBIDDEN, "您无权报送任务 %s 的进展，未保存。%s", t.Code, whoMayReport(t))
	}
	unit, err := b.pickUnit(ctx, t, g, pa.Unit)
	if err != nil {
		return nil, err
	}
	p.TaskID, p.Kind, p.MilestoneSeq = t.ID, pa.Kind, pa.Milestone
	p.Author, p.AuthorName = w.actor.ID, w.actor.Name
	p.Text, p.Percent, p.ExtendTo = pa.Text, pa.Percent, pa.ExtendTo
	p.Evidence = strings.Join(pa.Evidence, "\n")
	if unit != nil {
		p.UnitID, p.UnitName = &unit.ID, unit.Name
		if unit.ID == 0 {
			p.UnitID = nil
		}
	}
	if err := b.Store.CreateProgress(ctx, p); err != nil {
		return p, err
	}
	return p, nil
}

// pickUnit chooses the unit an entry is for: the one typed (which must be
// the reporter's, or any of the task's for a supervisor or leader), else
// the reporter's only unit on the task. Several give EINVALID listing them.
func (b *Bot) pickUnit(ctx context.Context, t *storage.Task, g grant, typed string) (*unitChoice, error) {
	if typed == "" {
		switch len(g.units) {
		case 0:
			return nil, nil
		case 1:
			return &g.units[0], nil
		}
		names := sortedChoices(g.units)
		return nil, storage.Errorf(storage.EINVALID, "您是多个相关单位的成员：%s。请指明代表哪个单位，例如：/progress %s @%s 内容（或 --unit %s）。",
			strings.Join(names, "、"), t.Code, names[0], names[0])
	}
	u, err := b.findUnit(ctx, typed)
	if err != nil {
		return nil, err
	}
	for i := range g.units {
		if g.units[i].ID == u.UnitID {
			return &g.units[i], nil
		}
	}
	if g.supervisor || g.leader {
		all, err := b.taskUnitChoices(ctx, t)
		if err != nil {
			return nil, err
		}
		if c, ok := all[u.Unit]; ok {
			return &c, nil
		}
		return nil, storage.Errorf(storage.EINVALID, "%s 不是任务 %s 的责任单位。", u.Unit, t.Code)
	}
	if len(g.units) == 0 {
		return nil, storage.Errorf(storage.EFORBIDDEN, "您不是 %s 的成员，不能代表它报送。", u.Unit)
	}
	return nil, storage.Errorf(storage.EFORBIDDEN, "您不是 %s 的成员，不能代表它报送；您可代表：%s。", u.Unit, strings.Join(sortedChoices(g.units), "、"))
}

var kindNames = map[string]string{
	storage.KindReport:           "进展",
	storage.KindDone:             "完成节点",
	storage.KindCloseRequest:     "申请销号",
	storage.KindExtensionRequest: "申请延期",
}

// entryLine is one progress entry on one line.
func (b *Bot) entryLine(p *storage.Progress) string {
	var s strings.Builder
	fmt.Fprintf(&s, "%s %s", p.CreatedAt.In(b.Loc).Format("2006-01-02 15:04"), authorLabel(p.Author, p.AuthorName))
	if p.UnitName != "" {
		fmt.Fprintf(&s, "（%s）", p.UnitName)
	}
	s.WriteString(" ")
	if p.Kind != storage.KindReport {
		s.WriteString("【" + kindNames[p.Kind])
		if p.MilestoneSeq > 0 {
			fmt.Fprintf(&s, " 节点%d", p.MilestoneSeq)
		}
		if !p.ExtendTo.IsZero() {
			fmt.Fprintf(&s, " 至 %s", p.ExtendTo)
		}
		s.WriteString("】")
	}
	if p.Percent != nil {
		fmt.Fprintf(&s, "%d%% ", *p.Percent)
	}
	s.WriteString(p.Text)
	return s.String()
}

func authorLabel(id, name string) string {
	if name != "" {
		return name
	}
	return id
}

// recorded is the reply to a saved entry, with the notices it causes: the
// entry for the task's thread (unless it came from the thread) and, for a
// request, the supervisors.
func (b *Bot) recorded(ctx context.Context, t *storage.Task, p *storage.Progress, toThread bool) (Reply, error) {
	r := Reply{Title: fmt.Sprintf("✅ 已保存：任务 %s 的%s（第 %d 条记录）", t.Code, kindNames[p.Kind], p.ID)}
	s := Section{Items: []Item{{Text: b.entryLine(p)}}}
	if links := p.EvidenceLinks(); len(links) > 0 {
		s.Fields = append(s.Fields, Field{"佐证", strings.Join(links, " ")})
	}
	r.Sections = []Section{s}
	switch p.Kind {
	case storage.KindDone:
		r.Footnotes = append(r.Footnotes, fmt.Sprintf("节点%d 已标记完成。", p.MilestoneSeq))
	case storage.KindCloseRequest, storage.KindExtensionRequest:
		r.Footnotes = append(r.Footnotes, "已提交督查室审核。")
	}
	if toThread {
		r.Notices = append(r.Notices, threadNotice(t, Reply{Title: "📝 " + b.entryLine(p), Sections: evidenceSection(p)}))
	}
	switch p.Kind {
	case storage.KindCloseRequest:
		what := "整体"
		if p.MilestoneSeq > 0 {
			what = fmt.Sprintf("节点%d", p.MilestoneSeq)
		}
		n, err := b.supervisorNotice(ctx, Reply{
			Title:     fmt.Sprintf("📮 销号申请：任务 %s %s（%s 提交）", t.Code, what, authorLabel(p.Author, p.AuthorName)),
			Sections:  []Section{{Text: p.Text}},
			Footnotes: []string{fmt.Sprintf("同意：/task %s 销号%s    退回：/task %s 退回 理由", t.Code, map[bool]string{true: fmt.Sprintf(" %d", p.MilestoneSeq), false: ""}[p.MilestoneSeq > 0], t.Code)},
		})
		if err != nil {
			return Reply{}, err
		}
		r.Notices = append(r.Notices, n)
	case storage.KindExtensionRequest:
		n, err := b.supervisorNotice(ctx, Reply{
			Title:     fmt.Sprintf("📮 延期申请：任务 %s 节点%d 延至 %s（%s 提交）", t.Code, p.MilestoneSeq, p.ExtendTo, authorLabel(p.Author, p.AuthorName)),
			Sections:  []Section{{Text: "理由：" + p.Text}},
			Footnotes: []string{fmt.Sprintf("批准：/task %s 批准延期 %d    驳回：/task %s 驳回延期 %d 理由", t.Code, p.MilestoneSeq, t.Code, p.MilestoneSeq)},
		})
		if err != nil {
			return Reply{}, err
		}
		r.Notices = append(r.Notices, n)
	}
	return r, nil
}

func evidenceSection(p *storage.Progress) []Section {
	if links := p.EvidenceLinks(); len(links) > 0 {
		return []Section{{Fields: []Field{{"佐证", strings.Join(links, " ")}}}}
	}
	return nil
}

func threadNotice(t *storage.Task, r Reply) Notice {
	return Notice{Thread: &ThreadRef{TaskID: t.ID, TaskCode: t.Code, Parent: threadParent(t)}, Reply: r}
}

// taskAction runs `task N history|销号|退回|批准延期|驳回延期 …`.
func (b *Bot) taskAction(ctx context.Context, req Request, args []string) (Reply, error) {
	ref, err := ParseTaskRef(args[0])
	if err != nil {
		return Reply{}, err
	}
	sub, rest := strings.ToLower(args[1]), args[2:]
	verb := map[string]string{"销号": "销号", "close": "销号", "退回": "退回销号申请", "sendback": "退回销号申请",
		"批准延期": "批准延期", "approve": "批准延期", "驳回延期": "驳回延期", "reject": "驳回延期"}[sub]
	if verb == "" && sub != "history" && sub != "历史" {
		return Reply{}, storage.Errorf(storage.EINVALID, "不认识的任务操作“%s”：可用 history（历史）、销号、退回、批准延期、驳回延期。", clip(args[1], 20))
	}
	t, err := b.Store.FindTask(ctx, ref.Section, ref.Number)
	if storage.ErrorCode(err) == storage.ENOTFOUND {
		return Reply{}, b.noSuchTask(ctx, ref)
	}
	if err != nil {
		return Reply{}, err
	}
	if verb == "" {
		if len(rest) > 0 {
			return Reply{}, storage.Errorf(storage.EINVALID, "history 不带参数。")
		}
		return b.history(ctx, t)
	}
	w, err := b.whoIs(ctx, req.User)
	if err != nil {
		return Reply{}, err
	}
	if !w.roles.Supervisor {
		return Reply{}, b.onlySupervisors(ctx, verb)
	}
	switch verb {
	case "销号":
		if len(rest) > 0 {
			if m, err := ParseMilestone(rest[0]); err == nil {
				d, err := b.Store.ApproveMilestone(ctx, t.ID, m, w.actor)
				if err != nil {
					return Reply{}, err
				}
				title := fmt.Sprintf("✅ 已保存：任务 %s 节点%d 销号（标记完成）", t.Code, m)
				return b.decided(ctx, t, w, d, title, "")
			}
		}
		d, err := b.Store.CloseTask(ctx, t.ID, w.actor, strings.Join(rest, " "))
		if err != nil {
			return Reply{}, err
		}
		return b.decided(ctx, t, w, d, fmt.Sprintf("✅ 已保存：任务 %s 已销号，不再出现在提醒和未完成清单中。", t.Code), "")
	case "退回销号申请":
		reason := strings.Join(rest, " ")
		if reason == "" {
			return Reply{}, storage.Errorf(storage.EINVALID, "请写明退回理由：/task %s 退回 理由", t.Code)
		}
		d, err := b.Store.SendBack(ctx, t.ID, w.actor, reason)
		if err != nil {
			return Reply{}, err
		}
		return b.decided(ctx, t, w, d, fmt.Sprintf("✅ 已保存：任务 %s 的销号申请已退回。", t.Code), reason)
	}
	if len(rest) == 0 {
		return Reply{}, storage.Errorf(storage.EINVALID, "请给出节点编号：/task %s %s 1", t.Code, args[1])
	}
	m, err := ParseMilestone(rest[0])
	if err != nil {
		return Reply{}, err
	}
	approve := verb == "批准延期"
	reason := strings.Join(rest[1:], " ")
	if !approve && reason == "" {
		return Reply{}, storage.Errorf(storage.EINVALID, "请写明驳回理由：/task %s 驳回延期 %d 理由", t.Code, m)
	}
	d, err := b.Store.DecideExtension(ctx, t.ID, m, approve, w.actor, reason)
	if err != nil {
		return Reply{}, err
	}
	title := fmt.Sprintf("✅ 已保存：任务 %s 节点%d 延期申请已驳回。", t.Code, m)
	if approve {
		title = fmt.Sprintf("✅ 已保存：任务 %s 节点%d 原定 %s，经批准延期至 %s。", t.Code, m, d.Milestone.PlannedDue, d.Milestone.Due)
	}
	return b.decided(ctx, t, w, d, title, reason)
}

// decided is the reply to a supervisor's decision, with notices to the
// requester (and their unit's channel) and the task's thread.
func (b *Bot) decided(ctx context.Context, t *storage.Task, w who, d storage.Decision, title, reason string) (Reply, error) {
	r := Reply{Title: title}
	if reason != "" {
		r.Sections = []Section{{Fields: []Field{{"理由", reason}}}}
	}
	note := Reply{Title: fmt.Sprintf("%s（%s）", strings.TrimPrefix(title, "✅ 已保存："), w.actor.Label()), Sections: r.Sections}
	r.Notices = append(r.Notices, threadNotice(t, Reply{Title: "🏛 " + note.Title, Sections: note.Sections}))
	if d.Request != nil {
		n := Notice{To: authorLabel(d.Request.Author, d.Request.AuthorName), Reply: note}
		if storage.IsSlackID(d.Request.Author) {
			n.UserIDs = []string{d.Request.Author}
		}
		if d.Request.UnitID != nil {
			chans, err := b.Store.UnitChannels(ctx)
			if err != nil {
				return Reply{}, err
			}
			n.Channel = chans[*d.Request.UnitID]
		}
		r.Notices = append(r.Notices, n)
	}
	return r, nil
}

// history lists every entry and audit record of t, newest first.
func (b *Bot) history(ctx context.Context, t *storage.Task) (Reply, error) {
	ps, err := b.Store.TaskProgress(ctx, t.ID, 0)
	if err != nil {
		return Reply{}, err
	}
	as, err := b.Store.TaskAudits(ctx, t.ID)
	if err != nil {
		return Reply{}, err
	}
	r := Reply{Title: fmt.Sprintf("【%s】进展记录（%d 条）", t.Code, len(ps))}
	s := Section{Heading: "进展（最新在前）"}
	for i := range ps {
		if i == MaxItems {
			s.More = len(ps) - MaxItems
			break
		}
		s.Items = append(s.Items, Item{Text: b.entryLine(&ps[i])})
	}
	if len(ps) == 0 {
		s.Text = "尚无进展。报送：/progress " + t.Code + " 内容"
	}
	r.Sections = append(r.Sections, s)
	if len(as) > 0 {
		a := Section{Heading: fmt.Sprintf("变更记录（%d 条，按时间顺序）", len(as))}
		start := 0
		if len(as) > MaxItems {
			start = len(as) - MaxItems
			a.Text = fmt.Sprintf("（较早的 %d 条未列出）", start)
		}
		for _, x := range as[start:] {
			line := fmt.Sprintf("%s %s %s", x.At.In(b.Loc).Format("2006-01-02 15:04"), authorLabel(x.Actor, x.ActorName), actionNames[x.Action])
			if x.Details != "" {
				line += "：" + clip(x.Details, 80)
			}
			a.Items = append(a.Items, Item{Text: line})
		}
		r.Sections = append(r.Sections, a)
	}
	return r, nil
}

var actionNames = map[string]string{
	storage.ActionProgress:          "报送进展",
	storage.ActionMilestoneDone:     "标记节点完成",
	storage.ActionCloseRequested:    "申请销号",
	storage.ActionExtensionAsked:    "申请延期",
	storage.ActionClosed:            "销号",
	storage.ActionMilestoneApproved: "节点销号",
	storage.ActionSentBack:          "退回销号申请",
	storage.ActionExtensionApproved: "批准延期",
	storage.ActionExtensionRejected: "驳回延期",
	storage.ActionBind:              "绑定成员",
	storage.ActionUnbind:            "解除成员",
}

// withProgress adds to a task card its latest three entries and the
// requests awaiting a decision.
func (b *Bot) withProgress(ctx context.Context, r Reply, t *storage.Task) (Reply, error) {
	ps, err := b.Store.TaskProgress(ctx, t.ID, 3)
	if err != nil {
		return Reply{}, err
	}
	s := Section{Heading: "最新进展"}
	for i := range ps {
		s.Items = append(s.Items, Item{Text: b.entryLine(&ps[i])})
	}
	if len(ps) == 0 {
		s.Text = "尚无进展。"
	}
	r.Sections = append(r.Sections, s)
	pend, err := b.Store.PendingRequests(ctx, t.ID)
	if err != nil {
		return Reply{}, err
	}
	if len(pend) > 0 {
		ps := Section{Heading: "待督查室审核"}
		for i := range pend {
			ps.Items = append(ps.Items, Item{Text: b.entryLine(&pend[i])})
		}
		r.Sections = append(r.Sections, ps)
	}
	r.Footnotes = append(r.Footnotes, fmt.Sprintf("全部记录：/task %s history    报送进展：/progress %s 内容", t.Code, t.Code))
	return r, nil
}

// ThreadMessage is a reply someone wrote in a task's tracking thread.
type ThreadMessage struct {
	TaskID  uint
	User    string
	Text    string
	Channel string
	TS      string
	// Files are permalinks of attached files, kept as evidence.
	Files []string
	Now   time.Time
}

// RecordThreadReply records a reply in a task's thread as progress, with
// the same authorization and grammar as `progress` (without the task
// number). It reports whether an entry was stored; when not, the reply says
// why, for the author only. A message recorded before is not stored again.
func (b *Bot) RecordThreadReply(ctx context.Context, m ThreadMessage) (Reply, bool) {
	r, err := b.threadReply(ctx, m)
	if err != nil {
		if storage.ErrorCode(err) == storage.ECONFLICT && strings.Contains(storage.ErrorMessage(err), "已记录") {
			return Reply{}, false
		}
		rep := b.errorReply(err, nil)
		rep.Footnotes = []string{"此条回复未记录为进展。在线程中回复的写法与 /progress 相同（不写任务编号），如：完成 1 佐证链接、60% 内容、@单位 内容。"}
		return rep, false
	}
	return r, true
}

func (b *Bot) threadReply(ctx context.Context, m ThreadMessage) (Reply, error) {
	t, err := b.Store.FindTaskByID(ctx, m.TaskID)
	if err != nil {
		return Reply{}, err
	}
	pa, err := ParseProgressBody(splitArgs(m.Text))
	if err != nil && !(pa.Text == "" && len(m.Files) > 0) {
		return Reply{}, err
	}
	pa.Evidence = append(pa.Evidence, m.Files...)
	if pa.Text == "" {
		pa.Text = strings.Join(m.Files, " ")
	}
	p, err := b.record(ctx, m.User, t, pa, &storage.Progress{Source: "thread", Channel: m.Channel, SlackTS: m.TS})
	if err != nil {
		return Reply{}, err
	}
	return b.recorded(ctx, t, p, false)
}
