package bot

import (
	"context"
	"fmt"
	"sort"
	"time"

	"taskbot/storage"
)

// homeList bounds each list of the Home tab: Slack allows 100 blocks in a
// view, and a long list ends in a count and a pointer instead.
const homeList = 12

// Home is the Home tab made for the person looking, as of now: a unit
// member sees their units' open shares (most urgent first) and what came
// back with the reason; a leader-post holder the tasks under their posts
// with who is behind; a supervisor the review queue and this week's
// numbers; anyone else how to find a task and whom to ask to be bound.
// Someone in several roles sees each part.
func (b *Bot) Home(ctx context.Context, user string, now time.Time) (Reply, error) {
	if now.IsZero() {
		now = b.Clock().Now()
	}
	today := b.today(now)
	w, err := b.whoIs(ctx, user)
	if err != nil {
		return Reply{}, err
	}
	r := Reply{Title: "督察整改任务", AsOf: today}
	if w.roles.Supervisor {
		if err := b.homeSupervisor(ctx, &r, now); err != nil {
			return Reply{}, err
		}
	}
	if len(w.roles.Posts) > 0 {
		if err := b.homeLeader(ctx, &r, w, today); err != nil {
			return Reply{}, err
		}
	}
	if len(w.roles.Units) > 0 {
		if err := b.homeUnits(ctx, &r, w, today); err != nil {
			return Reply{}, err
		}
	}
	if len(r.Sections) == 0 {
		r.Sections = append(r.Sections, Section{Heading: "欢迎使用 taskbot",
			Text: "查看任务：/task 6（或直接发“6”给我）；按单位：/unit 长葛市；临期和逾期：/due、/overdue；全部命令：/help。\n" +
				"您尚未绑定到任何责任单位。如需报送进展，请督查室用 /unit bind 单位 @您 绑定。"})
	}
	r.Footnotes = []string{"本页在您的分工或申请有变化时更新。全部命令：/help"}
	return r, nil
}

// homeSupervisor is the review queue and this week's numbers.
func (b *Bot) homeSupervisor(ctx context.Context, r *Reply, now time.Time) error {
	st, err := b.Statistics(ctx, now, storage.StatsFilter{})
	if err != nil {
		return err
	}
	o := st.Overview
	r.Sections = append(r.Sections, Section{Heading: "本周概况（督查室）", Items: []Item{
		{Status: StatusRed, Text: fmt.Sprintf("逾期节点 %d 个", o.Overdue)},
		{Text: fmt.Sprintf("📮 待确认的分工 %d 个 · 本周进展 %d 条", o.Awaiting, st.EntriesThisWeek)},
	}})
	shares, total, err := b.Store.PendingShares(ctx, nil, homeList)
	if err != nil {
		return err
	}
	reqs, err := b.Store.OpenRequests(ctx, nil)
	if err != nil {
		return err
	}
	s := Section{Heading: fmt.Sprintf("待审核（%d 项）", total+len(reqs))}
	for _, sh := range shares {
		a := confirmAction(sh.Code, sh.Seq, sh.Unit)
		s.Items = append(s.Items, Item{Text: fmt.Sprintf("%s 节点%d 完成报告 · %s · 佐证 %d 项 → /task %s 确认 %d %s",
			sh.Code, sh.Seq, sh.Unit, sh.Evidence, sh.Code, sh.Seq, sh.Unit), Action: &a})
	}
	for i, p := range reqs {
		if len(s.Items) >= homeList {
			s.More = len(reqs) - i
			break
		}
		kind := "销号申请"
		if p.Kind == storage.KindExtensionRequest {
			kind = fmt.Sprintf("节点%d 延期申请至 %s", p.MilestoneSeq, p.ExtendTo)
		}
		a := approveAction(p.Code, p.Kind, p.MilestoneSeq)
		s.Items = append(s.Items, Item{Text: fmt.Sprintf("%s %s · %s", p.Code, kind, orNone(p.UnitName)), Action: &a})
	}
	s.More += total - len(shares)
	if len(s.Items) == 0 {
		s.Text = "没有待审核的事项。"
	} else if s.More > 0 {
		s.Text = "全部待办：/pending"
	}
	r.Sections = append(r.Sections, s)
	return nil
}

// homeLeader is the tasks under the person's posts, most urgent first,
// each with who is behind.
func (b *Bot) homeLeader(ctx context.Context, r *Reply, w who, today storage.Date) error {
	var posts []string
	for p := range w.roles.Posts {
		posts = append(posts, p)
	}
	sort.Strings(posts)
	for _, post := range posts {
		m, err := b.Store.LeaderTasks(ctx, post, homeList)
		if err != nil {
			return err
		}
		s := Section{Heading: fmt.Sprintf("分管任务：%s（%d 项）", post, m.Total), More: m.Total - len(m.Tasks)}
		red, amber, green := 0, 0, 0
		for i := range m.Tasks {
			it := summaryItem(&m.Tasks[i], today)
			switch it.Status {
			case StatusRed:
				red++
			case StatusYellow:
				amber++
			case StatusGreen:
				green++
			}
			s.Items = append(s.Items, it)
		}
		s.Text = fmt.Sprintf("🔴 %d · 🟡 %d · 🟢 %d（各单位进度：/task 编号 分解）", red, amber, green)
		r.Sections = append(r.Sections, s)
	}
	return nil
}

// homeUnits is each of the person's units' open shares, most urgent first,
// and the shares sent back with the reason.
func (b *Bot) homeUnits(ctx context.Context, r *Reply, w who, today storage.Date) error {
	var ids []uint
	for id := range w.roles.Units {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		s, err := b.unitShares(ctx, storage.UnitName{UnitID: id, Unit: w.roles.Units[id]}, today, true)
		if err != nil {
			return err
		}
		if s == nil {
			continue
		}
		if len(s.Items) > homeList {
			s.More += len(s.Items) - homeList
			s.Items = s.Items[:homeList]
		}
		s.Heading = w.roles.Units[id] + " · " + s.Heading
		s.Text = "报送：/progress 编号 完成 节点 佐证；在任务线程中回复也可。"
		r.Sections = append(r.Sections, *s)
	}
	// Their requests still waiting for the office.
	reqs, err := b.Store.OpenRequests(ctx, ids)
	if err != nil || len(reqs) == 0 {
		return err
	}
	s := Section{Heading: fmt.Sprintf("本单位的申请（待督查室审核，%d 项）", len(reqs))}
	for i, p := range reqs {
		if i == homeList {
			s.More = len(reqs) - i
			break
		}
		kind := "销号申请"
		if p.MilestoneSeq > 0 {
			kind = fmt.Sprintf("节点%d 销号申请", p.MilestoneSeq)
		}
		if p.Kind == storage.KindExtensionRequest {
			kind = fmt.Sprintf("节点%d 延期申请至 %s", p.MilestoneSeq, p.ExtendTo)
		}
		s.Items = append(s.Items, Item{Status: StatusFlagged, Text: fmt.Sprintf("%s %s · %s · %s 提交",
			p.Code, kind, orNone(p.UnitName), b.Clock().Day(p.CreatedAt))})
	}
	r.Sections = append(r.Sections, s)
	return nil
}
