package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"taskbot/storage"
)

func (b *Bot) progressCmd(ctx context.Context, req Request, args []string) (Reply, error) {
	pa, err := ParseProgress(args)
	if err != nil {
		return Reply{}, err
	}
	pa.Files = req.Files
	t, err := b.findTask(ctx, pa.Task)
	if err != nil {
		return Reply{}, err
	}
	if pa.Kind == storage.KindCloseRequest {
		if err := b.checkEvidence(ctx, t, pa); err != nil {
			return Reply{}, err
		}
	}
	p, err := b.record(ctx, req.User, t, pa, &storage.Progress{Source: "command", Channel: req.Channel, SlackTS: req.TS})
	if errors.Is(err, storage.ErrAlreadyRecorded) {
		return Reply{Title: fmt.Sprintf("✅ 此消息已记录过：任务 %s 的%s（记录编号 %d），未重复保存", t.Ref(), kindNames[p.Kind], p.ID)}, nil
	}
	if err != nil {
		return Reply{}, err
	}
	return b.recorded(ctx, t, p, true), nil
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
		return nil, storage.Errorf(storage.EFORBIDDEN, "您无权报送任务 %s 的进展，未保存。%s", t.Ref(), whoMayReport(t))
	}
	unit, err := b.pickUnit(ctx, t, g, pa.Unit)
	if err != nil {
		return nil, err
	}
	p.TaskID, p.Kind, p.MilestoneSeq = t.ID, pa.Kind, pa.Milestone
	p.Author, p.AuthorName = w.actor.ID, w.actor.Name
	p.Text, p.Percent, p.ExtendTo = pa.Text, pa.Percent, pa.ExtendTo
	for _, f := range pa.Files {
		p.Attachments = append(p.Attachments, storage.Attachment{FileID: f.ID, Name: f.Name, Mime: f.Mime, Size: f.Size, URL: f.URL})
		if f.URL != "" && !slices.Contains(pa.Evidence, f.URL) {
			pa.Evidence = append(pa.Evidence, f.URL)
		}
	}
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
			strings.Join(names, "、"), t.Ref(), names[0], names[0])
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
		return nil, storage.Errorf(storage.EINVALID, "%s 不是任务 %s 的责任单位。", u.Unit, t.Ref())
	}
	if len(g.units) == 0 {
		return nil, storage.Errorf(storage.EFORBIDDEN, "您不是 %s 的成员，不能代表它报送。督查室或责任领导可代各单位报送。", u.Unit)
	}
	return nil, storage.Errorf(storage.EFORBIDDEN, "您不是 %s 的成员，不能代表它报送；您可代表：%s。督查室或责任领导可代各单位报送。", u.Unit, strings.Join(sortedChoices(g.units), "、"))
}

var kindNames = map[string]string{
	storage.KindReport:           "进展",
	storage.KindDone:             "报完成",
	storage.KindCloseRequest:     "申请销号",
	storage.KindExtensionRequest: "申请延期",
}

// entryLine is one progress entry on one line.
func (b *Bot) entryLine(p *storage.Progress) string {
	var s strings.Builder
	fmt.Fprintf(&s, "%s %s", p.CreatedAt.In(b.Clock().Zone()).Format("2006-01-02 15:04"), authorLabel(p.Author, p.AuthorName))
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
// request, the supervisors. The entry is committed: nothing here fails.
func (b *Bot) recorded(ctx context.Context, t *storage.Task, p *storage.Progress, toThread bool) Reply {
	r := Reply{Title: fmt.Sprintf("✅ 已保存：任务 %s 的%s（记录编号 %d）", t.Ref(), kindNames[p.Kind], p.ID)}
	s := Section{Items: []Item{{Text: b.entryLine(p)}}}
	if v := evidenceText(p); v != "" {
		s.Fields = append(s.Fields, Field{"佐证", v})
	}
	r.Sections = []Section{s}
	switch p.Kind {
	case storage.KindDone:
		r.Footnotes = append(r.Footnotes, fmt.Sprintf("%s 节点%d 已报完成，待督查室确认。", p.UnitName, p.MilestoneSeq))
	case storage.KindCloseRequest, storage.KindExtensionRequest:
		r.Footnotes = append(r.Footnotes, "已提交督查室审核。")
	}
	open := ""
	if p.Kind == storage.KindCloseRequest {
		open = b.openSharesLine(ctx, t, p.MilestoneSeq)
		if open != "" {
			r.Footnotes = append(r.Footnotes, "注意：仍有未确认的分工，督查室审核时可见："+open)
		}
	}
	if t.Closed() {
		r.Footnotes = append(r.Footnotes, fmt.Sprintf("任务 %s 已销号；本条记录已保存备查。如需重新打开，请联系督查室。", t.Ref()))
	}
	if toThread {
		r.Notices = append(r.Notices, threadNotice(t, Reply{Title: "📝 " + b.entryLine(p), Sections: evidenceSection(p)}))
	}
	switch p.Kind {
	case storage.KindDone:
		r.Notices = append(r.Notices, b.supervisorNotice(ctx, Reply{
			Title:    fmt.Sprintf("📮 完成报告：任务 %s 节点%d %s（%s 提交）", t.Ref(), p.MilestoneSeq, p.UnitName, authorLabel(p.Author, p.AuthorName)),
			Sections: append([]Section{{Text: p.Text}}, evidenceSection(p)...),
			Footnotes: []string{fmt.Sprintf("确认：/task %s 确认 %d %s    退回：/task %s 退回 %d %s 理由    全部待办：/pending",
				t.Ref(), p.MilestoneSeq, p.UnitName, t.Ref(), p.MilestoneSeq, p.UnitName)},
			Actions: []Action{
				confirmAction(t.Ref(), p.MilestoneSeq, p.UnitName),
				{Label: "退回", Command: fmt.Sprintf("task %s 退回 %d %s", t.Ref(), p.MilestoneSeq, p.UnitName), Reason: "退回理由"},
				{Label: "不涉及", Command: fmt.Sprintf("task %s 不涉及 %d %s", t.Ref(), p.MilestoneSeq, p.UnitName), Reason: "不涉及的理由"},
			},
		}))
	case storage.KindCloseRequest:
		what := "整体"
		if p.MilestoneSeq > 0 {
			what = fmt.Sprintf("节点%d", p.MilestoneSeq)
		}
		r.Notices = append(r.Notices, b.supervisorNotice(ctx, Reply{
			Title:     fmt.Sprintf("📮 销号申请：任务 %s %s（%s 提交）", t.Ref(), what, authorLabel(p.Author, p.AuthorName)),
			Sections:  closeSections(p, open),
			Footnotes: []string{fmt.Sprintf("同意：/task %s 销号%s    退回：/task %s 退回 理由", t.Ref(), map[bool]string{true: fmt.Sprintf(" %d", p.MilestoneSeq), false: ""}[p.MilestoneSeq > 0], t.Ref())},
			Actions: []Action{
				approveAction(t.Ref(), p.Kind, p.MilestoneSeq),
				{Label: "退回", Command: fmt.Sprintf("task %s 退回", t.Ref()), Reason: "退回理由"},
			},
		}))
	case storage.KindExtensionRequest:
		r.Notices = append(r.Notices, b.supervisorNotice(ctx, Reply{
			Title:     fmt.Sprintf("📮 延期申请：任务 %s 节点%d 延至 %s（%s 提交）", t.Ref(), p.MilestoneSeq, p.ExtendTo, authorLabel(p.Author, p.AuthorName)),
			Sections:  []Section{{Text: "理由：" + p.Text}},
			Footnotes: []string{fmt.Sprintf("批准：/task %s 批准延期 %d    驳回：/task %s 驳回延期 %d 理由", t.Ref(), p.MilestoneSeq, t.Ref(), p.MilestoneSeq)},
			Actions: []Action{
				approveAction(t.Ref(), p.Kind, p.MilestoneSeq),
				{Label: "驳回延期", Command: fmt.Sprintf("task %s 驳回延期 %d", t.Ref(), p.MilestoneSeq), Reason: "驳回理由"},
			},
		}))
	}
	return r
}

// evidenceSection shows an entry's evidence: its files by name and link,
// then its other links.
func evidenceSection(p *storage.Progress) []Section {
	if v := evidenceText(p); v != "" {
		return []Section{{Fields: []Field{{"佐证", v}}}}
	}
	return nil
}

func evidenceText(p *storage.Progress) string {
	var parts []string
	named := map[string]bool{}
	for _, a := range p.Attachments {
		parts = append(parts, fmt.Sprintf("📎%s %s", a.Name, a.URL))
		named[a.URL] = true
	}
	for _, l := range p.EvidenceLinks() {
		if !named[l] {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}

func threadNotice(t *storage.Task, r Reply) Notice {
	return Notice{Thread: &ThreadRef{TaskID: t.ID, TaskCode: t.Ref(), Parent: threadParent(t)}, Reply: r}
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
	r.Footnotes = append(r.Footnotes, fmt.Sprintf("全部记录：/task %s history    报送进展：/progress %s 内容", t.Ref(), t.Ref()))
	return r, nil
}

// closeSections are a close-out request's text, evidence and the shares
// still open, as the supervisor deciding it reads them.
func closeSections(p *storage.Progress, open string) []Section {
	s := append([]Section{{Text: p.Text}}, evidenceSection(p)...)
	if open != "" {
		s = append(s, Section{Fields: []Field{{"仍未确认", open}}})
	}
	return s
}

// checkEvidence refuses a close-out request when neither it nor any
// earlier entry of the task carries evidence.
func (b *Bot) checkEvidence(ctx context.Context, t *storage.Task, pa ProgressArgs) error {
	if len(pa.Evidence)+len(pa.Files) > 0 {
		return nil
	}
	n, err := b.Store.TaskEvidenceCount(ctx, t.ID)
	if err != nil || n > 0 {
		return err
	}
	return storage.Errorf(storage.EINVALID, "申请销号须附佐证材料，任务 %s 还没有任何佐证：请在申请中附上链接（如 /progress %s 申请销号 完成情况 https://…），或先在任务线程中上传文件。未保存。", t.Ref(), t.Ref())
}

// openSharesLine lists the units whose share is not yet confirmed, on
// milestone seq or (0) on every open milestone: "节点1：长葛市、鄢陵县".
func (b *Bot) openSharesLine(ctx context.Context, t *storage.Task, seq int) string {
	var ms []storage.Milestone
	for _, m := range t.Milestones {
		if !m.Retired && m.Open && (seq == 0 || m.Seq == seq) {
			ms = append(ms, m)
		}
	}
	counts, err := b.milestoneShares(ctx, ms)
	if err != nil {
		b.Log.Warn("open shares not read for a close-out request", "err", err)
		return ""
	}
	var parts []string
	for _, m := range ms {
		if c := counts[m.ID]; c != nil && len(c.Open)+len(c.Pending) > 0 {
			parts = append(parts, fmt.Sprintf("节点%d：%s", m.Seq, namesLine(append(append([]string{}, c.Open...), c.Pending...), 8)))
		}
	}
	return strings.Join(parts, "；")
}
