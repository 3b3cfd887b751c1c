package bot

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"taskbot/storage"
)

// PlanReminders works out what the reminder pass as of now sends, without
// writing anything. The policy, in order of what a recipient reads:
//
//   - Nothing on days off, and one pass a day: the first pass of a working
//     day claims the day; later passes that day plan nothing.
//   - One message per unit per day, with sections: steps ahead of its open
//     shares' deadlines (30/7/3/1/0 days, moved to the working day before
//     a day off), its overdue shares once a week (on OverdueWeekday), and
//     nudges for ongoing work it has been silent on. A unit is reminded of
//     its own open shares only.
//   - Units with nobody to receive them share one message per pass in the
//     fallback channel, grouped by unit.
//   - Escalations, once a week, to the holders of the leader posts of
//     milestones overdue EscalateAfter days or more, naming the units
//     behind.
//   - Every line links to the task's thread (created with the first
//     reminder about the task when it has none).
func (b *Bot) PlanReminders(ctx context.Context, now time.Time, p RemindPolicy) (ReminderPlan, error) {
	return b.plan(ctx, now, p, nil)
}

// remLine is one line of a reminder: a step ahead of a milestone, an
// overdue milestone, or a nudge.
type remLine struct {
	item      Item // Text is empty until shown: see the text func
	task      uint
	milestone uint // 0 for a nudge about the task as a whole
	order     int  // most urgent first
	text      func() string
	code      string // the task's code
	title     string
	seq       int // the milestone's number (0: the task as a whole)
	due       storage.Date
	step      string // d30 … d0, overdue, nudge
}

// unitBox collects one unit's lines of the day.
type unitBox struct {
	id                     uint
	name                   string
	ahead, overdue, nudges []remLine
	overdueMore            int // overdue shares beyond the lines held
}

// lines are the box's lines held, most urgent first.
func (u *unitBox) lines() []remLine {
	return slices.Concat(u.overdue, u.ahead, u.nudges)
}

// plan is PlanReminders over the store's claims, or, in a simulation, over
// the store's plus the simulation's own (sim).
func (b *Bot) plan(ctx context.Context, now time.Time, p RemindPolicy, sim *simState) (ReminderPlan, error) {
	var plan ReminderPlan
	today := b.today(now)
	if !p.calendar().Working(today) {
		return plan, nil
	}
	isClaimed := func(ids []uint) (map[string]bool, error) {
		c, err := b.Store.ClaimedSteps(ctx, ids)
		if err != nil {
			return nil, err
		}
		if sim != nil {
			for k := range sim.claimed {
				c[k] = true
			}
		}
		return c, nil
	}
	day, err := isClaimed([]uint{0})
	if err != nil {
		return plan, err
	}
	passKey := "pass:" + today.String()
	if day[passKey] {
		return plan, nil // today's pass ran: one message per recipient per day
	}
	plan.Steps = append(plan.Steps, storage.ReminderStep{Key: passKey, Step: "pass", FireOn: today})

	// What is due today: steps ahead, overdue shares (weekly), nudges.
	maxOff := 0
	for _, o := range p.Offsets {
		maxOff = max(maxOff, o)
	}
	ahead, _, err := b.Store.OpenMilestones(ctx, storage.MilestoneFilter{DueFrom: today, DueTo: today.AddDays(maxOff + maxShift), Limit: -1})
	if err != nil {
		return plan, err
	}
	// The week's overdue lists and escalations go out with the first pass
	// on or after the week's overdue day (a pass missed that day is made
	// up the next working day), once a week. A message shows the first
	// MaxItems lines of a section and counts the rest, so each unit's
	// overdue shares are read as a count and its first lines, and the
	// escalations as milestone and post IDs with the details of the
	// lines shown: on a large list they are hundreds of thousands.
	overdueDay, week := p.overdueDay(today)
	weekKey := "ow:" + week.String()
	var overdue []storage.UnitOverdue
	var posts []storage.OverduePost
	weekly := !today.Before(overdueDay) && !day[weekKey]
	if weekly {
		if overdue, err = b.Store.OverdueByUnit(ctx, today, MaxItems); err != nil {
			return plan, err
		}
		if p.EscalateAfter > 0 {
			if posts, err = b.Store.OverduePosts(ctx, today.AddDays(-p.EscalateAfter)); err != nil {
				return plan, err
			}
		}
		plan.Steps = append(plan.Steps, storage.ReminderStep{Key: weekKey, Step: "overdue", FireOn: today})
	}
	var silences []storage.Silence
	if p.NudgeAfter > 0 {
		if silences, err = b.Store.Silences(ctx); err != nil {
			return plan, err
		}
	}
	taskIDs := []uint{0}
	seen := map[uint]bool{}
	addTask := func(id uint) {
		if !seen[id] {
			seen[id] = true
			taskIDs = append(taskIDs, id)
		}
	}
	for _, it := range ahead {
		addTask(it.TaskID)
	}
	aheadTasks := len(taskIDs)
	for _, s := range silences {
		addTask(s.TaskID)
	}
	claimed, err := isClaimed(taskIDs)
	if err != nil {
		return plan, err
	}

	// Ahead: the latest step of each milestone, once per milestone.
	var lines []remLine // the steps ahead
	for i, it := range ahead {
		st, ok := p.latestStep(it.Due, today)
		if !ok {
			continue
		}
		key := fmt.Sprintf("m%d:%s:%s", it.ID, it.Due, st.name())
		if claimed[key] {
			continue
		}
		id := it.ID
		plan.Steps = append(plan.Steps, storage.ReminderStep{Key: key, MilestoneID: &id, TaskID: it.TaskID, Step: st.name(), FireOn: st.fire})
		lines = append(lines, milestoneLine(it, today, st.name(), i))
	}
	var nudges []remLine
	nudgeUnit := map[int]storage.Silence{}
	nudged := lastNudges(claimed)
	for _, s := range silences {
		since := b.Clock().Day(s.Since)
		days := since.DaysUntil(today)
		if days < p.NudgeAfter {
			continue
		}
		// At most every NudgeAfter days: after the last nudge of this
		// silence, if any.
		prefix := fmt.Sprintf("nudge:t%d:u%d:%s:", s.TaskID, s.UnitID, since)
		if last, ok := nudged[prefix]; ok && last.DaysUntil(today) < p.NudgeAfter {
			continue
		}
		key := prefix + today.String()
		plan.Steps = append(plan.Steps, storage.ReminderStep{Key: key, TaskID: s.TaskID, Step: "nudge", FireOn: today})
		text := fmt.Sprintf("%s %s：已 %d 天未报送进展（自 %s 起），请报送", s.Code, clip(s.Title, 30), days, since)
		nudgeUnit[len(nudges)] = s
		nudges = append(nudges, remLine{item: Item{Status: StatusFlagged}, task: s.TaskID, order: 1 << 30,
			code: s.Code, title: s.Title, step: "nudge", text: func() string { return text }})
	}
	if len(lines)+len(nudges)+len(overdue)+len(posts) == 0 {
		return plan, nil
	}

	// Escalations: milestones overdue EscalateAfter days or more, once a
	// week, to their leader posts' holders; the details of the lines shown.
	targets, err := b.escalationTargets(ctx, posts)
	if err != nil {
		return plan, err
	}
	var escIDs []uint
	for _, t := range targets {
		escIDs = append(escIDs, t.shown...)
	}
	escItems, err := b.Store.MilestoneItems(ctx, escIDs)
	if err != nil {
		return plan, err
	}

	// Who each line ahead is for: the units of the task whose share is
	// open; and who is behind on an escalated milestone. (A nudge names
	// its unit.)
	linkTasks := slices.Clone(taskIDs[1:aheadTasks])
	seen = map[uint]bool{}
	for _, id := range linkTasks {
		seen[id] = true
	}
	mids := make([]uint, 0, len(lines)+len(escIDs))
	for _, l := range lines {
		mids = append(mids, l.milestone)
	}
	for _, id := range escIDs {
		mids = append(mids, id)
		if it, ok := escItems[id]; ok && !seen[it.TaskID] {
			seen[it.TaskID] = true
			linkTasks = append(linkTasks, it.TaskID)
		}
	}
	links, err := b.Store.UnitLinks(ctx, linkTasks)
	if err != nil {
		return plan, err
	}
	unsettled, err := b.Store.UnsettledShares(ctx, mids)
	if err != nil {
		return plan, err
	}
	// Threads of every task a line shows.
	threadTasks := linkTasks
	for _, s := range silences {
		if !seen[s.TaskID] {
			seen[s.TaskID] = true
			threadTasks = append(threadTasks, s.TaskID)
		}
	}
	for _, u := range overdue {
		for _, it := range u.First {
			if !seen[it.TaskID] {
				seen[it.TaskID] = true
				threadTasks = append(threadTasks, it.TaskID)
			}
		}
	}
	threads, err := b.Store.Threads(ctx, threadTasks)
	if err != nil {
		return plan, err
	}
	channels, members, err := b.Store.Recipients(ctx)
	if err != nil {
		return plan, err
	}
	boxes := map[uint]*unitBox{}
	box := func(id uint, name string) *unitBox {
		if boxes[id] == nil {
			boxes[id] = &unitBox{id: id, name: name}
		}
		return boxes[id]
	}
	unitName := map[uint]string{}
	for _, ls := range links {
		for _, u := range ls {
			unitName[u.UnitID] = u.Unit
		}
	}
	for _, u := range overdue {
		bx := box(u.UnitID, u.Unit)
		for i, it := range u.First {
			bx.overdue = append(bx.overdue, milestoneLine(it, today, "overdue", i-len(u.First)))
		}
		bx.overdueMore = u.Total - len(u.First)
	}
	for _, l := range lines {
		us, has := unsettled[l.milestone]
		done := map[uint]bool{}
		for _, u := range links[l.task] {
			if u.Collective || done[u.UnitID] {
				continue // a collective's members hold its shares
			}
			done[u.UnitID] = true
			if has && !us[u.UnitID] {
				continue // this unit's share is reported, confirmed or not concerned
			}
			bx := box(u.UnitID, u.Unit)
			bx.ahead = append(bx.ahead, l)
		}
	}
	for i, l := range nudges {
		s := nudgeUnit[i]
		bx := box(s.UnitID, s.Unit)
		bx.nudges = append(bx.nudges, l)
	}
	pointer := func(l remLine) Item {
		it := l.item
		it.Text = l.text()
		if th, ok := threads[l.task]; ok {
			it.Text += " — 线程：" + ThreadLink(th.Channel, th.TS)
		} else {
			it.Thread = &ThreadRef{TaskID: l.task, TaskCode: l.code, Parent: Reply{Title: fmt.Sprintf("【%s】任务跟踪线程", l.code),
				Footnotes: []string{"本线程记录该任务的全部进展。责任单位成员在此回复即报送进展；也可用 /progress " + l.code + " 内容。"}}}
		}
		return it
	}

	ids := make([]uint, 0, len(boxes))
	for id := range boxes {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var fallback []*unitBox
	for _, uid := range ids {
		bx := boxes[uid]
		if len(bx.lines()) == 0 {
			continue
		}
		n := Notice{To: bx.name, Channel: channels[uid]}
		if n.Channel == "" {
			n.UserIDs = members[uid]
		}
		if n.Channel == "" && len(n.UserIDs) == 0 {
			fallback = append(fallback, bx)
			continue
		}
		n.Reply = unitReminder(bx, today, pointer)
		tasks, facts := covers(bx.name, slices.Concat(shown(bx.overdue), shown(bx.ahead), shown(bx.nudges)))
		plan.Messages = append(plan.Messages, Planned{Key: fmt.Sprintf("rem:u%d:%s", uid, today), Kind: reminderKind(bx),
			Notice: n, Tasks: tasks, Covers: facts, To: Recipient{"unit", bx.name}})
	}

	var unbound []Planned
	if len(targets) > 0 {
		line := func(id uint) (remLine, bool) {
			it, ok := escItems[id]
			if !ok {
				return remLine{}, false // closed since: not overdue
			}
			l := milestoneLine(it, today, "escalate", 0)
			plain, behind := l.text, b.behind(l, links, unsettled, unitName)
			l.text = func() string { return fmt.Sprintf("%s — 未完成：%s", plain(), behind) }
			return l, true
		}
		esc, orphans := escalations(targets, line, today, p, pointer)
		plan.Messages = append(plan.Messages, esc...)
		unbound = orphans
	}
	if len(fallback) > 0 || len(unbound) > 0 {
		plan.Messages = append(plan.Messages, fallbackMessage(fallback, unbound, today, p, pointer))
	}
	return plan, nil
}

// milestoneLine is a reminder's line about a milestone: a step ahead of
// it, or it overdue or escalated (by step); order sorts it in its section.
func milestoneLine(it storage.MilestoneItem, today storage.Date, step string, order int) remLine {
	status := DueStatus(it.Due, today)
	if step == "overdue" || step == "escalate" {
		status = StatusRed
	}
	return remLine{item: Item{Status: status}, task: it.TaskID, milestone: it.ID, order: order,
		code: it.Code, seq: it.Seq, due: it.Due, step: step,
		text: func() string {
			return fmt.Sprintf("%s 节点%d %s %s：%s", it.Code, it.Seq, it.Due, DaysLabel(it.Due, today), clip(it.Text, 40))
		}}
}

// behind names the units holding an overdue milestone open, and whether a
// collective's members are among them: "长葛市、鄢陵县".
func (b *Bot) behind(l remLine, links map[uint][]storage.UnitLink, unsettled map[uint]map[uint]bool, names map[uint]string) string {
	us, has := unsettled[l.milestone]
	var out []string
	seen := map[uint]bool{}
	for _, u := range links[l.task] {
		if u.Collective || seen[u.UnitID] {
			continue
		}
		seen[u.UnitID] = true
		if !has || us[u.UnitID] {
			out = append(out, names[u.UnitID])
		}
	}
	if len(out) == 0 {
		return "（均已报完成，待督查室确认）"
	}
	return namesLine(out, 8)
}

// reminderKind is the outbox kind of a unit's message: a nudge when that
// is all it carries.
func reminderKind(bx *unitBox) string {
	if len(bx.ahead)+len(bx.overdue) == 0 {
		return KindNudge
	}
	return KindReminder
}

// unitReminder is a unit's message of the day: its overdue shares, the
// deadlines ahead, the nudges, each a section.
func unitReminder(bx *unitBox, today storage.Date, pointer func(remLine) Item) Reply {
	var parts []string
	r := Reply{AsOf: today}
	add := func(heading string, ls []remLine, more int) {
		if len(ls) == 0 {
			return
		}
		// Grouped by list (the default list's first), most urgent first
		// in each.
		slices.SortStableFunc(ls, func(a, b remLine) int {
			if c := strings.Compare(listOf(a.code), listOf(b.code)); c != 0 {
				return c
			}
			return a.order - b.order
		})
		s := lineSection(ls, pointer)
		s.More += more
		s.Heading = fmt.Sprintf("%s（%d 项）", heading, len(ls)+more)
		r.Sections = append(r.Sections, s)
		parts = append(parts, fmt.Sprintf("%s %d 项", heading, len(ls)+more))
	}
	add("逾期未完成（每周汇总）", bx.overdue, bx.overdueMore)
	add("即将到期", bx.ahead, 0)
	add("请报送进展", bx.nudges, 0)
	r.Title = fmt.Sprintf("【整改提醒】%s：%s", bx.name, strings.Join(parts, " · "))
	r.Footnotes = []string{"完成后请报送本单位的部分：/progress 编号 完成 节点 佐证；报送进展：/progress 编号 内容；查看：/unit " + bx.name}
	// The first tasks named get a 报送 button that opens the form.
	seen := map[string]bool{}
	for _, ls := range [][]remLine{bx.overdue, bx.ahead, bx.nudges} {
		for _, l := range ls {
			if len(r.Actions) == maxReminderForms || seen[l.code] {
				continue
			}
			seen[l.code] = true
			r.Actions = append(r.Actions, Action{Label: "报送 " + l.code, Command: formTarget(l.code, l.seq), Form: FormReport})
		}
	}
	return r
}

// listOf is the list a line's code names ("" for the default list's: its
// codes are not qualified, see storage.TaskSummary.Code).
func listOf(code string) string {
	list, _, ok := strings.Cut(code, "/")
	if !ok {
		return ""
	}
	return list
}

// maxReminderForms is how many 报送 buttons a reminder carries at most.
const maxReminderForms = 5

// fallbackMessage is the one message of a pass for the fallback channel:
// every unit with nobody to receive its reminders, grouped by unit, and the
// escalations for leader posts nobody holds, for the office to pass on.
func fallbackMessage(units []*unitBox, unbound []Planned, today storage.Date, p RemindPolicy, pointer func(remLine) Item) Planned {
	r := Reply{AsOf: today, Title: fmt.Sprintf("【整改提醒·请督查室转达】%d 个单位未配置频道或成员", len(units))}
	if len(units) == 0 {
		r.Title = "【逾期督办·请督查室转达】责任领导未配置 Slack 账号"
	}
	var tasks, facts []string
	for _, bx := range units {
		ls := bx.lines()
		s := lineSection(ls, pointer)
		s.More += bx.overdueMore
		s.Heading = fmt.Sprintf("%s（%d 项）", bx.name, len(ls)+bx.overdueMore)
		r.Sections = append(r.Sections, s)
		t, f := covers(bx.name, shown(ls))
		tasks, facts = append(tasks, t...), append(facts, f...)
	}
	for _, e := range unbound {
		r.Sections = append(r.Sections, e.Notice.Reply.Sections...)
		tasks, facts = append(tasks, e.Tasks...), append(facts, e.Covers...)
	}
	r.Footnotes = []string{"在组织文件（TASKBOT_CONFIG）中为这些单位配置频道或成员、为责任领导配置 Slack 账号后，提醒将直接发给他们。"}
	name := p.Fallback
	if name == "" {
		name = "（未配置转达频道）"
	}
	return Planned{Key: "fallback:" + today.String(), Kind: KindReminder, Notice: Notice{To: "提醒转达频道", Channel: p.Fallback, Reply: r},
		Tasks: dedupe(tasks), Covers: facts, To: Recipient{"channel", name}}
}

// shown are the lines of ls a section shows (lineSection).
func shown(ls []remLine) []remLine { return ls[:min(len(ls), MaxItems)] }

// covers are the facts lines carry to to: "长葛市|共性7|1|d7", and the
// codes of their tasks.
func covers(to string, lines []remLine) (tasks, facts []string) {
	seen := map[string]bool{}
	for _, l := range lines {
		if !seen[l.code] {
			seen[l.code] = true
			tasks = append(tasks, l.code)
		}
		facts = append(facts, fmt.Sprintf("%s|%s|%d|%s", to, l.code, l.seq, l.step))
	}
	return tasks, facts
}

// escTarget is who an escalation goes to: a leader post's holder with a
// Slack ID, or a post nobody can be reached for (no userIDs); n is how many
// milestones it is sent, shown the first MaxItems of them.
type escTarget struct {
	to       string
	userIDs  []string
	shown    []uint // milestone IDs
	n        int
	lastTask uint // the task whose milestones were added last
}

// escalationTargets groups the overdue milestones' posts by recipient, in
// the order of the milestones' tasks (each task's escalated milestones
// together, the tasks by their most overdue one), then of their posts.
func (b *Bot) escalationTargets(ctx context.Context, posts []storage.OverduePost) ([]*escTarget, error) {
	if len(posts) == 0 {
		return nil, nil
	}
	holders, err := b.Store.LeaderHolders(ctx)
	if err != nil {
		return nil, err
	}
	// The tasks in order of their first overdue milestone; each task's
	// milestones and posts.
	type task struct {
		milestones []uint
		posts      []string
	}
	byTask := map[uint]*task{}
	var order []uint
	for _, r := range posts {
		t := byTask[r.TaskID]
		if t == nil {
			t = &task{}
			byTask[r.TaskID] = t
			order = append(order, r.TaskID)
		}
		if n := len(t.milestones); n == 0 || t.milestones[n-1] != r.MilestoneID {
			t.milestones = append(t.milestones, r.MilestoneID)
		}
		if len(t.milestones) == 1 {
			t.posts = append(t.posts, r.Post) // the first milestone's rows name every post
		}
	}
	targets := map[string]*escTarget{}
	var out []*escTarget
	add := func(key string, t escTarget, id uint, ms []uint) {
		cur := targets[key]
		if cur == nil {
			cur = &t
			targets[key] = cur
			out = append(out, cur)
		}
		if cur.lastTask == id {
			return // reached through two posts of the task
		}
		cur.lastTask = id
		cur.n += len(ms)
		cur.shown = append(cur.shown, ms[:min(len(ms), MaxItems-len(cur.shown))]...)
	}
	for _, id := range order {
		t := byTask[id]
		for _, post := range dedupe(t.posts) {
			reached := false
			for _, h := range holders[post] {
				if h.SlackID != "" {
					reached = true
					add("user:"+h.SlackID, escTarget{to: post + "（" + h.Label() + "）", userIDs: []string{h.SlackID}}, id, t.milestones)
				}
			}
			if !reached {
				add("post:"+post, escTarget{to: post}, id, t.milestones)
			}
		}
	}
	return out, nil
}

// escalations builds one message per target with a Slack ID, listing its
// escalated milestones (line makes a milestone's line; false when it is
// gone). The posts nobody can be reached for come back separately, to go
// into the fallback message.
func escalations(targets []*escTarget, line func(id uint) (remLine, bool), today storage.Date, p RemindPolicy, pointer func(remLine) Item) (reached, orphans []Planned) {
	for _, t := range targets {
		var lines []remLine
		for _, id := range t.shown {
			if l, ok := line(id); ok {
				lines = append(lines, l)
			}
		}
		s := lineSection(lines, pointer)
		s.More += t.n - len(t.shown)
		tasks, facts := covers(t.to, lines)
		if len(t.userIDs) == 0 {
			s.Heading = fmt.Sprintf("逾期督办：%s（未配置 Slack 账号）", t.to)
			orphans = append(orphans, Planned{Kind: KindEscalation, Tasks: tasks, Covers: facts, Notice: Notice{Reply: Reply{Sections: []Section{s}}}})
			continue
		}
		key := "user:" + t.userIDs[0]
		r := Reply{Title: fmt.Sprintf("【逾期督办】%s：%d 个节点逾期 %d 天以上", t.to, t.n, p.EscalateAfter), AsOf: today}
		r.Sections = []Section{s}
		r.Footnotes = []string{"按责任领导职务推送，每周一次。查看任务：/task 编号；各单位进度：/task 编号 分解"}
		reached = append(reached, Planned{Key: "esc:" + key + ":" + today.String(), Kind: KindEscalation, Tasks: tasks, Covers: facts,
			To: Recipient{"user", t.to}, Notice: Notice{To: t.to, UserIDs: t.userIDs, Reply: r}})
	}
	return reached, orphans
}

// lastNudges indexes the claimed nudges: for each prefix
// "nudge:t<task>:u<unit>:<since>:", the day of the latest.
func lastNudges(claimed map[string]bool) map[string]storage.Date {
	out := map[string]storage.Date{}
	for k := range claimed {
		if !strings.HasPrefix(k, "nudge:") {
			continue
		}
		i := strings.LastIndexByte(k, ':')
		d, err := storage.ParseDate(k[i+1:])
		if err != nil {
			continue
		}
		if last, ok := out[k[:i+1]]; !ok || last.Before(d) {
			out[k[:i+1]] = d
		}
	}
	return out
}
