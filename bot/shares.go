package bot

import (
	"context"
	"fmt"
	"strings"

	"taskbot/storage"
)

// shareLine is a milestone's per-unit summary on a card:
// "9/11 已确认 · 1 待确认 · 未完成：长葛市、鄢陵县".
func shareLine(c *storage.ShareCounts) string {
	if c == nil || c.Total == 0 {
		return ""
	}
	parts := []string{fmt.Sprintf("%d/%d 已确认", c.Confirmed+c.NA, c.Total)}
	if c.NA > 0 {
		parts[0] += fmt.Sprintf("（含不涉及 %d）", c.NA)
	}
	if c.Reported > 0 {
		parts = append(parts, fmt.Sprintf("%d 待确认", c.Reported))
	}
	if len(c.Open) > 0 {
		parts = append(parts, "未完成："+namesLine(c.Open, 6))
	}
	return strings.Join(parts, " · ")
}

// namesLine joins names, keeping at most n and saying how many more.
func namesLine(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, "、")
	}
	return strings.Join(names[:n], "、") + fmt.Sprintf(" 等 %d 个", len(names))
}

// milestoneShares loads the share counts of a task's milestones.
func (b *Bot) milestoneShares(ctx context.Context, ms []storage.Milestone) (map[uint]*storage.ShareCounts, error) {
	ids := make([]uint, len(ms))
	for i := range ms {
		ids[i] = ms[i].ID
	}
	return b.Store.MilestoneShares(ctx, ids)
}

// breakdownVerb is `task N 分解`: every unit's share of every milestone.
func (b *Bot) breakdownVerb(ctx context.Context, c verbCall) (Reply, error) {
	if len(c.args) > 0 {
		return Reply{}, storage.Errorf(storage.EINVALID, "分解 不带参数。")
	}
	t := c.task
	shares, err := b.Store.TaskShares(ctx, t.ID)
	if err != nil {
		return Reply{}, err
	}
	latest, err := b.Store.LatestByUnit(ctx, t.ID)
	if err != nil {
		return Reply{}, err
	}
	today := b.today(c.req.Now)
	r := Reply{Title: fmt.Sprintf("【%s】分单位进度（%d 个分工）", t.Ref(), len(shares)), AsOf: today}
	var s *Section
	seq := -1
	for _, sh := range shares {
		if sh.Seq != seq || s == nil {
			seq = sh.Seq
			heading := "整体（无带日期的节点）"
			if sh.Seq > 0 {
				heading = fmt.Sprintf("节点%d %s %s", sh.Seq, sh.Due, DaysLabel(sh.Due, today))
			}
			r.Sections = append(r.Sections, Section{Heading: heading})
			s = &r.Sections[len(r.Sections)-1]
		}
		s.Items = append(s.Items, Item{Status: shareStatus(&sh, today), Text: b.shareText(&sh, latest[sh.UnitID])})
	}
	if len(shares) == 0 {
		r.Sections = []Section{{Text: "该任务没有分工（已销号，或未配置责任单位）。"}}
	}
	r.Footnotes = []string{fmt.Sprintf("确认：/task %s 确认 节点 单位    退回：/task %s 退回 节点 单位 理由    不涉及：/task %s 不涉及 单位 理由", t.Ref(), t.Ref(), t.Ref())}
	return r, nil
}

// shareText is one unit's share on a breakdown line.
func (b *Bot) shareText(sh *storage.ShareView, latest *storage.Progress) string {
	text := fmt.Sprintf("%s · %s", sh.Unit, storage.ShareStateNames[sh.State])
	switch sh.State {
	case storage.ShareReported:
		if sh.ReportedAt != nil {
			text += " " + b.Clock().Day(*sh.ReportedAt).String()
		}
	case storage.ShareConfirmed:
		if sh.DecidedAt != nil {
			text += " " + b.Clock().Day(*sh.DecidedAt).String()
		}
	}
	if sh.Reason != "" {
		text += "（" + clip(sh.Reason, 40) + "）"
	}
	if sh.Evidence > 0 {
		text += fmt.Sprintf(" · 佐证 %d", sh.Evidence)
	}
	if latest != nil {
		text += fmt.Sprintf(" · 最新：%s %s", b.Clock().Day(latest.CreatedAt), clip(latest.Text, 30))
	}
	return text
}

// shareStatus is the traffic light of a share as of today.
func shareStatus(sh *storage.ShareView, today storage.Date) Status {
	switch {
	case sh.Settled():
		return StatusDone
	case sh.Seq == 0:
		return StatusFlagged
	}
	return DueStatus(sh.Due, today)
}

// milestoneArg reads a milestone number that must be one of the task's:
// anything else is refused with the valid numbers listed.
func milestoneArg(t *storage.Task, w string) (int, error) {
	var valid []string
	for _, m := range t.Milestones {
		if !m.Retired {
			valid = append(valid, fmt.Sprint(m.Seq))
		}
	}
	n, err := ParseMilestone(w)
	if err == nil {
		for _, v := range valid {
			if v == fmt.Sprint(n) {
				return n, nil
			}
		}
	}
	if len(valid) == 0 {
		return 0, storage.Errorf(storage.EINVALID, "任务 %s 没有带日期的节点，“%s”不是节点编号。", t.Ref(), clip(w, 20))
	}
	return 0, storage.Errorf(storage.EINVALID, "“%s”不是任务 %s 的节点编号：可用 %s。未做任何更改。", clip(w, 20), t.Ref(), strings.Join(valid, "、"))
}

// confirmVerb is `task N 确认 M [单位]`.
func (b *Bot) confirmVerb(ctx context.Context, c verbCall) (Reply, error) {
	t := c.task
	if len(c.args) == 0 || len(c.args) > 2 {
		return Reply{}, storage.Errorf(storage.EINVALID, "用法：/task %s 确认 节点 [单位]（不写单位则确认该节点全部待确认的单位）。", t.Ref())
	}
	m, err := milestoneArg(t, c.args[0])
	if err != nil {
		return Reply{}, err
	}
	var unitID uint
	if len(c.args) == 2 {
		u, err := b.findUnit(ctx, c.args[1])
		if err != nil {
			return Reply{}, err
		}
		unitID = u.UnitID
	}
	d, err := b.Store.ConfirmShares(ctx, t.ID, m, unitID, c.who.actor)
	if err != nil {
		return Reply{}, err
	}
	return b.sharesDecided(ctx, t, c.who, d, fmt.Sprintf("✅ 已保存：任务 %s 节点%d 已确认：%s", t.Ref(), m, shareUnits(d.Shares)), ""), nil
}

// sendBackShareVerb is `task N 退回 M 单位 理由`.
func (b *Bot) sendBackShareVerb(ctx context.Context, c verbCall, m int) (Reply, error) {
	t := c.task
	if len(c.args) < 3 {
		return Reply{}, storage.Errorf(storage.EINVALID, "请写明单位和退回理由：/task %s 退回 %d 单位 理由", t.Ref(), m)
	}
	u, err := b.findUnit(ctx, c.args[1])
	if err != nil {
		return Reply{}, err
	}
	reason := strings.Join(c.args[2:], " ")
	d, err := b.Store.SendBackShare(ctx, t.ID, m, u.UnitID, reason, c.who.actor)
	if err != nil {
		return Reply{}, err
	}
	return b.sharesDecided(ctx, t, c.who, d, fmt.Sprintf("✅ 已保存：任务 %s 节点%d %s 的完成报告已退回，重新列为未完成。", t.Ref(), m, u.Unit), reason), nil
}

// notConcernedVerb is `task N 不涉及 [M] 单位 理由`.
func (b *Bot) notConcernedVerb(ctx context.Context, c verbCall) (Reply, error) {
	t := c.task
	args, m := c.args, 0
	if len(args) > 0 {
		if _, err := ParseMilestone(args[0]); err == nil {
			if m, err = milestoneArg(t, args[0]); err != nil {
				return Reply{}, err
			}
			args = args[1:]
		}
	}
	if len(args) < 2 {
		return Reply{}, storage.Errorf(storage.EINVALID, "请写明单位和理由：/task %s 不涉及 [节点] 单位 理由", t.Ref())
	}
	u, err := b.findUnit(ctx, args[0])
	if err != nil {
		return Reply{}, err
	}
	reason := strings.Join(args[1:], " ")
	d, err := b.Store.MarkNotConcerned(ctx, t.ID, m, u.UnitID, reason, c.who.actor)
	if err != nil {
		return Reply{}, err
	}
	what := "全部节点"
	if m > 0 {
		what = fmt.Sprintf("节点%d", m)
	}
	return b.sharesDecided(ctx, t, c.who, d, fmt.Sprintf("✅ 已保存：%s 不涉及任务 %s 的%s。", u.Unit, t.Ref(), what), reason), nil
}

// reopenVerb is `task N 重新打开 理由`.
func (b *Bot) reopenVerb(ctx context.Context, c verbCall) (Reply, error) {
	t := c.task
	reason := strings.Join(c.args, " ")
	if reason == "" {
		return Reply{}, storage.Errorf(storage.EINVALID, "请写明重新打开的理由：/task %s 重新打开 理由", t.Ref())
	}
	if err := b.Store.ReopenTask(ctx, t.ID, c.who.actor, reason); err != nil {
		return Reply{}, err
	}
	title := fmt.Sprintf("✅ 已保存：任务 %s 已重新打开，恢复提醒并回到未完成清单。", t.Ref())
	return b.decided(ctx, t, c.who, storage.Decision{}, title, reason), nil
}

func shareUnits(shs []storage.ShareView) string {
	names := make([]string, len(shs))
	for i := range shs {
		names[i] = shs[i].Unit
	}
	return namesLine(names, 12)
}

// sharesDecided is the reply to a decision on shares, with notices to the
// task's thread and to each unit whose report was decided (its reporter
// and its channel).
func (b *Bot) sharesDecided(ctx context.Context, t *storage.Task, w who, d storage.ShareDecision, title, reason string) Reply {
	r := Reply{Title: title}
	if reason != "" {
		r.Sections = []Section{{Fields: []Field{{"理由", reason}}}}
	}
	if d.Done != nil {
		r.Footnotes = append(r.Footnotes, fmt.Sprintf("节点%d 各单位均已确认或不涉及，节点完成。", d.Done.Seq))
	}
	note := Reply{Title: fmt.Sprintf("%s（%s）", strings.TrimPrefix(title, "✅ 已保存："), w.actor.Label()), Sections: r.Sections}
	r.Notices = append(r.Notices, threadNotice(t, Reply{Title: "🏛 " + note.Title, Sections: note.Sections}))
	chans, err := b.Store.UnitChannels(ctx)
	if err != nil {
		b.Log.Warn("unit channels not read; decision notices go to reporters only", "err", err)
	}
	told := map[string]bool{}
	for _, p := range d.Reports {
		n := Notice{To: authorLabel(p.Author, p.AuthorName), Reply: note}
		if IsSlackID(p.Author) && !told[p.Author] {
			n.UserIDs = []string{p.Author}
			told[p.Author] = true
		}
		if p.UnitID != nil && !told["c"+chans[*p.UnitID]] {
			n.Channel = chans[*p.UnitID]
			told["c"+n.Channel] = true
		}
		if len(n.UserIDs) > 0 || n.Channel != "" {
			r.Notices = append(r.Notices, n)
		}
		if IsSlackID(p.Author) {
			r.Notices = append(r.Notices, homeRefresh(p.Author))
		}
	}
	return r
}

// pendingCmd is `pending`: every request awaiting a decision, oldest
// first. Supervisors see all; anyone else their own units'.
func (b *Bot) pendingCmd(ctx context.Context, req Request, args []string) (Reply, error) {
	if len(args) > 0 {
		return Reply{}, storage.Errorf(storage.EINVALID, "pending 不带参数。")
	}
	w, err := b.whoIs(ctx, req.User)
	if err != nil {
		return Reply{}, err
	}
	var units []uint // nil: everyone's
	scope := "全部"
	if !w.roles.Supervisor {
		units = []uint{}
		var names []string
		for id, name := range w.roles.Units {
			units = append(units, id)
			names = append(names, name)
		}
		scope = "本单位"
		if len(names) == 0 {
			return Reply{Title: "待办（待审核的申请）", Sections: []Section{{Text: "您尚未绑定任何单位，没有可查看的待办。请督查室用 /unit bind 单位 @您 绑定。"}}}, nil
		}
	}
	shares, more, err := b.Store.PendingShares(ctx, units, MaxItems)
	if err != nil {
		return Reply{}, err
	}
	more -= len(shares)
	reqs, err := b.Store.OpenRequests(ctx, units)
	if err != nil {
		return Reply{}, err
	}
	today := b.today(req.Now)
	r := Reply{Title: fmt.Sprintf("待办（%s，%d 项待审核）", scope, len(shares)+more+len(reqs)), AsOf: today}
	if len(shares)+more+len(reqs) == 0 {
		r.Sections = []Section{{Text: "没有待审核的申请。"}}
		return r, nil
	}
	type row struct {
		day  storage.Date
		text string
		act  *Action
	}
	// A supervisor decides from the list: the approving button beside each
	// line (the line says how to send back instead).
	act := func(a Action) *Action {
		if !w.roles.Supervisor {
			return nil
		}
		return &a
	}
	var rows []row
	for _, sh := range shares {
		day := today
		if sh.ReportedAt != nil {
			day = b.Clock().Day(*sh.ReportedAt)
		}
		rows = append(rows, row{day, fmt.Sprintf("%s 节点%d 完成报告 · %s · 已等 %d 天 · 佐证 %d 项 → /task %s 确认 %d %s 或 /task %s 退回 %d %s 理由",
			sh.Code, sh.Seq, sh.Unit, day.DaysUntil(today), sh.Evidence, sh.Code, sh.Seq, sh.Unit, sh.Code, sh.Seq, sh.Unit),
			act(confirmAction(sh.Code, sh.Seq, sh.Unit))})
	}
	for _, p := range reqs {
		day := b.Clock().Day(p.CreatedAt)
		unit := p.UnitName
		if unit == "" {
			unit = authorLabel(p.Author, p.AuthorName)
		}
		var text string
		ev := len(p.EvidenceLinks())
		switch p.Kind {
		case storage.KindCloseRequest:
			what := "整体"
			cmd := fmt.Sprintf("/task %s 销号", p.Code)
			if p.MilestoneSeq > 0 {
				what = fmt.Sprintf("节点%d", p.MilestoneSeq)
				cmd += fmt.Sprintf(" %d", p.MilestoneSeq)
			}
			text = fmt.Sprintf("%s %s 销号申请 · %s · 已等 %d 天 · 佐证 %d 项 → %s 或 /task %s 退回 理由", p.Code, what, unit, day.DaysUntil(today), ev, cmd, p.Code)
		default:
			text = fmt.Sprintf("%s 节点%d 延期申请至 %s · %s · 已等 %d 天 → /task %s 批准延期 %d 或 /task %s 驳回延期 %d 理由",
				p.Code, p.MilestoneSeq, p.ExtendTo, unit, day.DaysUntil(today), p.Code, p.MilestoneSeq, p.Code, p.MilestoneSeq)
		}
		rows = append(rows, row{day, text, act(approveAction(p.Code, p.Kind, p.MilestoneSeq))})
	}
	// Oldest first across kinds (stable: shares before requests on a day).
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && rows[j].day.Before(rows[j-1].day); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
	s := Section{More: more}
	for i, rw := range rows {
		if i == MaxItems {
			s.More += len(rows) - MaxItems
			break
		}
		s.Items = append(s.Items, Item{Text: rw.text, Action: rw.act})
	}
	r.Sections = []Section{s}
	return r, nil
}

// behindLine says who holds a milestone open: "未完成：长葛市、鄢陵县；待确认：禹州市".
func behindLine(c *storage.ShareCounts) string {
	var parts []string
	if len(c.Open) > 0 {
		parts = append(parts, "未完成："+namesLine(c.Open, 6))
	}
	if len(c.Pending) > 0 {
		parts = append(parts, "待确认："+namesLine(c.Pending, 6))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%d/%d 已确认", c.Confirmed+c.NA, c.Total)
	}
	return strings.Join(parts, "；")
}

// unitShares is the unit's own part of its tasks: the counts of its shares
// by state, and those still open (soonest due first) or awaiting review.
// Nil when it has none (a collective: its members hold the shares). With
// forms, each open share carries its 报送 button (the unit's own Home).
func (b *Bot) unitShares(ctx context.Context, u storage.UnitName, today storage.Date, forms bool) (*Section, error) {
	shs, counts, err := b.Store.UnitShares(ctx, u.UnitID, MaxItems)
	total := 0
	for _, n := range counts {
		total += n
	}
	if err != nil || total == 0 {
		return nil, err
	}
	s := &Section{Heading: fmt.Sprintf("本单位分工（%d 个：未完成 %d · 待确认 %d · 已确认 %d · 不涉及 %d）", total,
		counts[storage.ShareOpen], counts[storage.ShareReported], counts[storage.ShareConfirmed], counts[storage.ShareNA]),
		More: counts[storage.ShareOpen] + counts[storage.ShareReported] - len(shs)}
	for _, sh := range shs {
		what := "整体"
		if sh.Seq > 0 {
			what = fmt.Sprintf("节点%d %s", sh.Seq, sh.Due)
			if !sh.Settled() {
				what += " " + DaysLabel(sh.Due, today)
			}
		}
		text := fmt.Sprintf("%s %s · %s", sh.Code, what, storage.ShareStateNames[sh.State])
		if sh.Reason != "" {
			text += "（" + clip(sh.Reason, 30) + "）"
		}
		it := Item{Status: shareStatus(&sh, today), Text: text}
		if forms && sh.State == storage.ShareOpen {
			it.Action = &Action{Label: "报送进展", Command: formTarget(sh.Code, sh.Seq), Form: FormReport}
		}
		s.Items = append(s.Items, it)
	}
	return s, nil
}

// confirmAction is the button that confirms unit's report of milestone
// seq of task code.
func confirmAction(code string, seq int, unit string) Action {
	return Action{Label: "确认", Command: fmt.Sprintf("task %s 确认 %d %s", code, seq, unit)}
}

// approveAction is the button that grants a request of kind on task code:
// 销号 (of the task, or of milestone seq) or 批准延期 of milestone seq.
func approveAction(code, kind string, seq int) Action {
	if kind == storage.KindExtensionRequest {
		return Action{Label: "批准延期", Command: fmt.Sprintf("task %s 批准延期 %d", code, seq)}
	}
	a := Action{Label: "销号", Command: "task " + code + " 销号"}
	if seq > 0 {
		a.Command += fmt.Sprintf(" %d", seq)
	}
	return a
}

// formTarget is a form button's command: the task, and the milestone to
// preselect when there is one.
func formTarget(code string, seq int) string {
	if seq > 0 {
		return fmt.Sprintf("%s %d", code, seq)
	}
	return code
}
