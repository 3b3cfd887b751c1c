package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"taskbot/storage"
)

// RemindPolicy configures reminders. All numbers are days.
type RemindPolicy struct {
	// Offsets are the days before a due date on which to remind.
	Offsets []int
	// OverdueEvery is the interval of overdue reminders.
	OverdueEvery int
	// EscalateAfter is how long overdue a milestone must be before its
	// reminder also goes to the holders of the task's leader posts.
	EscalateAfter int
	// NudgeAfter is how long an ongoing or long-term task may go without
	// progress before its units get the monthly "report progress" nudge.
	NudgeAfter int
	// Calendar moves a reminder due on a day off to the working day before.
	Calendar Calendar
	// Fallback is the channel for units with neither a channel nor members
	// with a Slack ID, so that their reminders are not dropped.
	Fallback string
}

// DefaultRemindPolicy is 30, 7, 3, 1 and 0 days ahead, every 7 days when
// overdue, escalation after 14 days overdue, nudges after 30 days of
// silence, on China's working days.
func DefaultRemindPolicy() RemindPolicy {
	return RemindPolicy{Offsets: []int{30, 7, 3, 1, 0}, OverdueEvery: 7, EscalateAfter: 14, NudgeAfter: 30, Calendar: ChinaCalendar{}}
}

// Message kinds in the outbox.
const (
	KindReminder   = "reminder"
	KindEscalation = "escalation"
	KindNudge      = "nudge"
	KindDigest     = "digest"
)

// Planned is one message a reminder pass wants to send.
type Planned struct {
	Key    string
	Kind   string
	Notice Notice
	// Group orders delivery: messages of one group go out in queue order.
	Group string
	// Tasks are the codes of the tasks the message is about, and Covers
	// the (recipient, task, milestone, step) facts it carries, for
	// previews (SimulateReminders); neither is sent.
	Tasks  []string `json:"-"`
	Covers []string `json:"-"`
	// To is the recipient as previews count it.
	To Recipient `json:"-"`
}

// Recipient is who a message is for: a unit (its channel or members), a
// user (a leader's DM) or a channel (the fallback or digest channel).
type Recipient struct {
	Kind string `json:"kind"` // "unit", "user" or "channel"
	Name string `json:"name"`
}

// ReminderPlan is what a pass would do: the steps it claims and the
// messages it sends.
type ReminderPlan struct {
	Steps    []storage.ReminderStep
	Messages []Planned
}

// step is one reminder moment of a milestone.
type step struct {
	overdueK int          // 0: the d<offset> step before the due date; k: the o<k> step
	offset   int          // days before the due date, for a d step
	nominal  storage.Date // before working-day adjustment
	fire     storage.Date
	overdue  int // days overdue at the nominal moment
	escalate bool
}

// name is the step's part of its claim key: d30 … d0, o1, o2 ….
func (s step) name() string {
	if s.overdueK > 0 {
		return "o" + strconv.Itoa(s.overdueK)
	}
	return "d" + strconv.Itoa(s.offset)
}

// maxShift bounds how far a working-day adjustment moves a reminder: China's
// longest run of days off is 9 (National Day with its weekend).
const maxShift = 14

// latestStep returns the last reminder step of a milestone due on due whose
// (working-day adjusted) moment is on or before today. Earlier steps that
// were missed are superseded: a catch-up sends the current state once,
// not a burst of stale countdowns.
func (p RemindPolicy) latestStep(due, today storage.Date) (step, bool) {
	cal := p.Calendar
	if cal == nil {
		cal = EveryDay{}
	}
	var best step
	found := false
	// The latest by moment; between steps moved to the same working day,
	// the later one (d0 over d1 when both fall back to a Friday).
	consider := func(s step) {
		if s.fire.DaysUntil(today) < 0 {
			return
		}
		if !found || best.fire.Before(s.fire) || best.fire == s.fire && best.nominal.Before(s.nominal) {
			best, found = s, true
		}
	}
	for _, off := range p.Offsets {
		nominal := due.AddDays(-off)
		consider(step{offset: off, nominal: nominal, fire: OnOrBeforeWorking(cal, nominal)})
	}
	if p.OverdueEvery > 0 {
		// A working-day adjustment moves a moment by at most maxShift days,
		// so the latest step is the last one whose nominal day is at least
		// maxShift days past, or one after it.
		overdue := due.DaysUntil(today)
		for k := max(1, (overdue-maxShift)/p.OverdueEvery); k <= (overdue+maxShift)/p.OverdueEvery; k++ {
			days := k * p.OverdueEvery
			fire := OnOrBeforeWorking(cal, due.AddDays(days))
			if !due.Before(fire) {
				// Moving back would say "overdue" on or before the due
				// date: send on the next working day instead.
				fire = OnOrAfterWorking(cal, due.AddDays(days))
			}
			consider(step{overdueK: k, nominal: due.AddDays(days), fire: fire,
				overdue: days, escalate: p.EscalateAfter > 0 && days >= p.EscalateAfter})
		}
	}
	return best, found
}

// PlanReminders works out, as of now, which reminder steps are due and not
// yet claimed, and the messages they make: one per unit per pass listing
// all its milestones, escalations per leader, monthly nudges.
func (b *Bot) PlanReminders(ctx context.Context, now time.Time, p RemindPolicy) (ReminderPlan, error) {
	return b.plan(ctx, now, p, nil)
}

// plan is PlanReminders over the store's claims, or, in a simulation, over
// the store's plus the simulation's own (sim).
func (b *Bot) plan(ctx context.Context, now time.Time, p RemindPolicy, sim *simState) (ReminderPlan, error) {
	today := b.today(now)
	maxOff := 0
	for _, o := range p.Offsets {
		maxOff = max(maxOff, o)
	}
	items, _, err := b.Store.OpenMilestones(ctx, storage.MilestoneFilter{DueTo: today.AddDays(maxOff + 30), Limit: -1})
	if err != nil {
		return ReminderPlan{}, err
	}
	var taskIDs []uint
	seen := map[uint]bool{}
	for _, it := range items {
		if !seen[it.TaskID] {
			seen[it.TaskID] = true
			taskIDs = append(taskIDs, it.TaskID)
		}
	}
	nudgeTasks, err := b.nudgeCandidates(ctx, now, p)
	if err != nil {
		return ReminderPlan{}, err
	}
	for _, t := range nudgeTasks {
		if !seen[t.ID] {
			seen[t.ID] = true
			taskIDs = append(taskIDs, t.ID)
		}
	}
	claimed, err := b.Store.ClaimedSteps(ctx, taskIDs)
	if sim != nil {
		for k := range sim.claimed {
			claimed[k] = true
		}
	}
	if err != nil {
		return ReminderPlan{}, err
	}

	var plan ReminderPlan
	perTask := map[uint][]remLine{} // reminder lines by task
	escalated := map[uint][]remLine{}
	for i, it := range items {
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
		// Formatted only if shown: a message lists at most MaxItems lines.
		text := func() string {
			return fmt.Sprintf("%s 节点%d %s %s：%s", it.Code, it.Seq, it.Due, DaysLabel(it.Due, today), clip(it.Text, 40))
		}
		l := remLine{item: Item{Status: DueStatus(it.Due, today)}, task: it.TaskID, milestone: it.ID, key: key, order: i, text: text,
			code: it.Code, seq: it.Seq, step: st.name()}
		perTask[it.TaskID] = append(perTask[it.TaskID], l)
		if st.escalate {
			escalated[it.TaskID] = append(escalated[it.TaskID], l)
		}
	}
	month := fmt.Sprintf("%04d-%02d", today.Year, today.Month)
	for i, t := range nudgeTasks {
		key := fmt.Sprintf("t%d:nudge:%s", t.ID, month)
		if claimed[key] {
			continue
		}
		plan.Steps = append(plan.Steps, storage.ReminderStep{Key: key, TaskID: t.ID, Step: "nudge:" + month, FireOn: today})
		st, label := TaskStatus(&t, today)
		text := fmt.Sprintf("%s %s（%s）：已超过 %d 天未报送进展，请报送", t.Code, clip(t.Title, 30), label, p.NudgeAfter)
		perTask[t.ID] = append(perTask[t.ID], remLine{item: Item{Status: st}, task: t.ID, key: key, order: len(items) + i,
			text: func() string { return text }, code: t.Code, step: "nudge"})
	}
	if len(plan.Steps) == 0 {
		return plan, nil
	}

	ids := make([]uint, 0, len(perTask))
	for id := range perTask {
		ids = append(ids, id)
	}
	links, err := b.Store.UnitLinks(ctx, ids)
	if err != nil {
		return ReminderPlan{}, err
	}
	threads, err := b.Store.Threads(ctx, ids)
	if err != nil {
		return ReminderPlan{}, err
	}
	channels, members, err := b.Store.Recipients(ctx)
	if err != nil {
		return ReminderPlan{}, err
	}
	var mids []uint
	for _, ls := range perTask {
		for _, l := range ls {
			if l.milestone != 0 {
				mids = append(mids, l.milestone)
			}
		}
	}
	unsettled, err := b.Store.UnsettledShares(ctx, mids)
	if err != nil {
		return ReminderPlan{}, err
	}
	// remindsUnit: a unit is reminded of a milestone only while its own
	// share is open; a collective while any member's is. A milestone with
	// no shares at all reaches every unit of the task.
	remindsUnit := func(l remLine, u storage.UnitLink) bool {
		us, has := unsettled[l.milestone]
		if l.milestone == 0 || !has {
			return true
		}
		if u.Collective {
			for _, open := range us {
				if open {
					return true
				}
			}
			return false
		}
		return us[u.UnitID]
	}
	pointer := func(l remLine) Item {
		it := l.item
		it.Text = l.text()
		if th, ok := threads[l.task]; ok {
			it.Text += " — 线程：" + ThreadLink(th.Channel, th.TS)
		}
		return it
	}

	// One message per unit. A collective with no recipients of its own is
	// reached through its members, which hold the same tasks in unit_tasks.
	type unitMsg struct {
		name     string
		lines    []remLine
		lastTask uint // a unit linked twice to one task (two roles) gets its lines once
	}
	byUnit := map[uint]*unitMsg{}
	for _, id := range ids {
		for _, u := range links[id] {
			if u.Collective && channels[u.UnitID] == "" && len(members[u.UnitID]) == 0 {
				continue
			}
			m := byUnit[u.UnitID]
			if m == nil {
				m = &unitMsg{name: u.Unit}
				byUnit[u.UnitID] = m
			}
			if m.lastTask == id {
				continue
			}
			m.lastTask = id
			for _, l := range perTask[id] {
				if remindsUnit(l, u) {
					m.lines = append(m.lines, l)
				}
			}
		}
	}
	for id, m := range byUnit {
		if len(m.lines) == 0 {
			delete(byUnit, id) // every share of this unit is reported or settled
		}
	}
	unitIDs := make([]uint, 0, len(byUnit))
	for id := range byUnit {
		unitIDs = append(unitIDs, id)
	}
	sort.Slice(unitIDs, func(i, j int) bool { return unitIDs[i] < unitIDs[j] })
	for _, uid := range unitIDs {
		m := byUnit[uid]
		slices.SortFunc(m.lines, func(a, b remLine) int { return a.order - b.order })
		// The unit's channel, or DMs to its members when it has none.
		n := Notice{To: m.name, Channel: channels[uid]}
		if n.Channel == "" {
			n.UserIDs = members[uid]
		}
		r := Reply{Title: fmt.Sprintf("【整改提醒】%s：%d 项需关注", m.name, len(m.lines)), AsOf: today}
		if n.Channel == "" && len(n.UserIDs) == 0 {
			n.Channel = p.Fallback
			r.Footnotes = append(r.Footnotes, fmt.Sprintf("（%s 未配置频道或成员，提醒发到此处，请督查室转达。）", m.name))
		}
		s, hash := lineSection(m.lines, pointer)
		r.Sections = []Section{s}
		r.Footnotes = append(r.Footnotes, "完成后请报送：/progress 编号 完成 节点 佐证；查看任务：/task 编号")
		n.Reply = r
		tasks, facts := covers(m.name, m.lines)
		to := Recipient{"unit", m.name}
		if n.Channel == p.Fallback && channels[uid] == "" {
			to = Recipient{"channel", p.Fallback}
		}
		plan.Messages = append(plan.Messages, Planned{Key: fmt.Sprintf("rem:u%d:%s", uid, hash), Kind: KindReminder, Notice: n, Tasks: tasks, Covers: facts, To: to})
	}

	// Escalations go to the holders of the task's leader posts.
	if len(escalated) > 0 {
		esc, err := b.escalations(ctx, escalated, today, p, pointer)
		if err != nil {
			return ReminderPlan{}, err
		}
		plan.Messages = append(plan.Messages, esc...)
	}
	return plan, nil
}

// remLine is one line of a reminder: a milestone step or a nudge.
type remLine struct {
	item      Item // Text is empty until shown: see the text func
	task      uint
	milestone uint   // 0 for a nudge about the task as a whole
	key       string // the step it claims
	order     int    // position in due order (most urgent first)
	text      func() string
	code      string // the task's code
	seq       int    // the milestone's number (0: the task as a whole)
	step      string // d30 … d0, o1 …, nudge
}

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

// escalations builds one message per leader-post holder listing the
// escalated lines of the tasks whose posts they hold. Holders without a
// Slack ID are reached through the fallback channel, named.
func (b *Bot) escalations(ctx context.Context, lines map[uint][]remLine, today storage.Date, p RemindPolicy, pointer func(remLine) Item) ([]Planned, error) {
	ids := make([]uint, 0, len(lines))
	for id := range lines {
		ids = append(ids, id)
	}
	posts, err := b.Store.TaskLeaderPosts(ctx, ids)
	if err != nil {
		return nil, err
	}
	holders, err := b.Store.LeaderHolders(ctx)
	if err != nil {
		return nil, err
	}
	type target struct {
		to      string
		userIDs []string
		channel string
		lines   []remLine
		seen    map[string]bool
	}
	targets := map[string]*target{}
	var order []string
	add := func(key string, t target, ls []remLine) {
		cur := targets[key]
		if cur == nil {
			t.seen = map[string]bool{}
			cur = &t
			targets[key] = cur
			order = append(order, key)
		}
		for _, l := range ls {
			if !cur.seen[l.key] {
				cur.seen[l.key] = true
				cur.lines = append(cur.lines, l)
			}
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		for _, post := range posts[id] {
			hs := holders[post]
			if len(hs) == 0 {
				add("post:"+post, target{to: post + "（未配置）", channel: p.Fallback}, lines[id])
			}
			for _, h := range hs {
				if h.SlackID == "" {
					add("post:"+post, target{to: post + "（" + h.Label() + "）", channel: p.Fallback}, lines[id])
					continue
				}
				add("user:"+h.SlackID, target{to: post + "（" + h.Label() + "）", userIDs: []string{h.SlackID}}, lines[id])
			}
		}
	}
	var out []Planned
	for _, k := range order {
		t := targets[k]
		r := Reply{Title: fmt.Sprintf("【逾期督办】%s：%d 个节点逾期 %d 天以上", t.to, len(t.lines), p.EscalateAfter), AsOf: today}
		s, hash := lineSection(t.lines, pointer)
		r.Sections = []Section{s}
		r.Footnotes = []string{"按责任领导职务推送。查看任务：/task 编号"}
		tasks, facts := covers(t.to, t.lines)
		to := Recipient{"user", t.to}
		if len(t.userIDs) == 0 {
			to = Recipient{"channel", p.Fallback}
		}
		out = append(out, Planned{Key: "esc:" + k + ":" + hash, Kind: KindEscalation, Tasks: tasks, Covers: facts, To: to,
			Notice: Notice{To: t.to, UserIDs: t.userIDs, Channel: t.channel, Reply: r}})
	}
	return out, nil
}

// lineSection shows the first MaxItems lines, counts the rest, and returns
// a hash of all the lines' step keys to name the message.
func lineSection(lines []remLine, show func(remLine) Item) (Section, string) {
	s := Section{}
	keys := make([]string, len(lines))
	for i, l := range lines {
		keys[i] = l.key
		if i < MaxItems {
			s.Items = append(s.Items, show(l))
		}
	}
	s.More = len(lines) - len(s.Items)
	return s, digestKeys(keys)
}

// digestKeys is a short hash naming a list of step keys; callers pass them
// in a deterministic order (due order).
func digestKeys(keys []string) string {
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// ThreadLink is a link to a message in Slack; Slack redirects it to the
// workspace for signed-in users.
func ThreadLink(channel, ts string) string {
	return fmt.Sprintf("https://slack.com/archives/%s/p%s", channel, strings.ReplaceAll(ts, ".", ""))
}

// nudgeCandidates returns the ongoing and long-term tasks, not closed and
// without a dated open milestone, whose last progress is older than
// NudgeAfter days (or that never had any).
func (b *Bot) nudgeCandidates(ctx context.Context, now time.Time, p RemindPolicy) ([]storage.TaskSummary, error) {
	if p.NudgeAfter <= 0 {
		return nil, nil
	}
	return b.Store.NudgeCandidates(ctx, now.AddDate(0, 0, -p.NudgeAfter))
}

// RunReminders plans and claims one reminder pass as of now: the steps are
// recorded and their messages queued in one transaction, so each reminder
// is sent once even with two processes. It returns the queued messages.
func (b *Bot) RunReminders(ctx context.Context, now time.Time, p RemindPolicy) ([]Planned, error) {
	for attempt := 0; ; attempt++ {
		plan, err := b.PlanReminders(ctx, now, p)
		if err != nil || len(plan.Steps) == 0 {
			return nil, err
		}
		var msgs []storage.Outbox
		for _, m := range plan.Messages {
			for _, one := range perRecipient(m.Key, m.Notice) {
				payload, err := json.Marshal(one.Notice)
				if err != nil {
					return nil, storage.Internal(err)
				}
				msgs = append(msgs, storage.Outbox{Key: one.Key, Kind: m.Kind, Group: one.Group, Payload: string(payload), NextAttemptAt: b.wall()})
			}
		}
		_, err = b.Store.Claim(ctx, plan.Steps, msgs)
		if storage.ErrorCode(err) == storage.ECONFLICT && attempt < 3 {
			continue // another process claimed some steps: plan again
		}
		if err != nil {
			return nil, err
		}
		return plan.Messages, nil
	}
}
