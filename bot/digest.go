package bot

import (
	"context"
	"fmt"
	"time"

	"taskbot/storage"
)

// DigestPolicy configures the daily digest. Numbers are days.
type DigestPolicy struct {
	// Calendar decides which days have a digest and which day the
	// previous digest was on.
	Calendar Calendar
	// Upcoming is the window of the "due soon" list.
	Upcoming int
	// Stale is how long without progress puts a task on the silent list.
	Stale int
	// Channel is where the digest is posted.
	Channel string
}

// DefaultDigestPolicy lists milestones due within 14 days and tasks silent
// for 30 days, on China's working days.
func DefaultDigestPolicy() DigestPolicy {
	return DigestPolicy{Calendar: ChinaCalendar{}, Upcoming: 14, Stale: 30}
}

// digestListMax keeps each digest list short enough to read at a glance.
const digestListMax = 20

// PreviousDigest returns the moment of the digest before the one at now:
// the same time of day on the working day before, days counted in loc.
func PreviousDigest(cal Calendar, now time.Time, loc *time.Location) time.Time {
	if cal == nil {
		cal = EveryDay{}
	}
	today := storage.DateIn(now, loc)
	d := OnOrBeforeWorking(cal, today.AddDays(-1))
	return now.AddDate(0, 0, today.DaysUntil(d))
}

// Digest is the daily deadline digest as of now: counts by status, the
// overdue milestones (most overdue first, with units), those due within
// the upcoming window, the tasks without progress for the stale window,
// and the progress posted since the previous digest.
func (b *Bot) Digest(ctx context.Context, now time.Time, p DigestPolicy) (Reply, error) {
	now = now.In(b.Clock().Zone())
	today := b.today(now)
	c, err := b.Store.CountMilestones(ctx, today, SoonDays)
	if err != nil {
		return Reply{}, err
	}
	r := Reply{Title: "【督察整改日报】", AsOf: today}
	r.Sections = append(r.Sections, Section{Heading: "节点概况", Items: []Item{
		{Status: StatusRed, Text: fmt.Sprintf("已逾期 %d 个", c.Overdue)},
		{Status: StatusYellow, Text: fmt.Sprintf("%d 天内到期 %d 个", SoonDays, c.Soon)},
		{Status: StatusGreen, Text: fmt.Sprintf("正常推进 %d 个", c.Later)},
		{Status: StatusDone, Text: fmt.Sprintf("已完成 %d 个", c.Done)},
	}})
	if dead, err := b.Store.CountDeadOutbox(ctx); err != nil {
		return Reply{}, err
	} else if dead > 0 {
		// Someone did not get a reminder or a notice: the office should know.
		r.Footnotes = append(r.Footnotes, fmt.Sprintf("⚠️ 有 %d 条提醒或通知多次发送失败已放弃（如用户已离职、频道不可见），请核对单位成员和频道配置。", dead))
	}

	overdue, total, err := b.Store.OpenMilestones(ctx, storage.MilestoneFilter{DueTo: today.AddDays(-1), Limit: digestListMax})
	if err != nil {
		return Reply{}, err
	}
	if total > 0 {
		s, err := b.milestoneSection(ctx, overdue, total, today)
		if err != nil {
			return Reply{}, err
		}
		s.Heading = fmt.Sprintf("逾期节点（%d 个，逾期最久的在前）", total)
		r.Sections = append(r.Sections, s)
	}
	soon, total, err := b.Store.OpenMilestones(ctx, storage.MilestoneFilter{DueFrom: today, DueTo: today.AddDays(p.Upcoming), Limit: digestListMax})
	if err != nil {
		return Reply{}, err
	}
	if total > 0 {
		s, err := b.milestoneSection(ctx, soon, total, today)
		if err != nil {
			return Reply{}, err
		}
		s.Heading = fmt.Sprintf("未来 %d 天内到期（%d 个）", p.Upcoming, total)
		r.Sections = append(r.Sections, s)
	}
	stale, total, err := b.Store.StaleTasks(ctx, now.AddDate(0, 0, -p.Stale), digestListMax)
	if err != nil {
		return Reply{}, err
	}
	if total > 0 {
		s := Section{Heading: fmt.Sprintf("%d 天无进展的任务（%d 项）", p.Stale, total), More: total - len(stale)}
		for i := range stale {
			s.Items = append(s.Items, summaryItem(&stale[i], today))
		}
		r.Sections = append(r.Sections, s)
	}
	since := PreviousDigest(p.Calendar, now, b.Clock().Zone())
	news, total, err := b.Store.ProgressBetween(ctx, since, now, digestListMax)
	if err != nil {
		return Reply{}, err
	}
	s := Section{Heading: fmt.Sprintf("上次日报以来的进展（%d 条，自 %s）", total, since.Format("01-02 15:04"))}
	if total == 0 {
		s.Text = "无新进展。"
	}
	for _, pg := range news {
		who := pg.AuthorName
		if who == "" {
			who = pg.Author
		}
		if pg.UnitName != "" {
			who = pg.UnitName + " " + who
		}
		s.Items = append(s.Items, Item{Text: fmt.Sprintf("%s · %s：%s", pg.Code, who, clip(pg.Text, 60))})
	}
	s.More = total - len(news)
	r.Sections = append(r.Sections, s)
	r.Footnotes = append(r.Footnotes, "查看详情：/overdue、/due 14、/task 编号")
	return r, nil
}

// DigestKey is the outbox key (prefix) of the digest of day.
func DigestKey(day storage.Date) string { return "digest:" + day.String() }

// DigestOutcome is what QueueDigest did.
type DigestOutcome int

// Outcomes of QueueDigest.
const (
	DigestQueued        DigestOutcome = iota
	DigestAlreadyQueued               // today's went out (or is queued) already
	DigestDayOff                      // no digest on days off
)

// QueueDigest queues the digest as of now for p.Channel, once per working
// day: a second call on the same day, from any process, queues nothing, and
// nothing is queued on a day off (p.Calendar). Every road (cron, CLI)
// obeys this one rule.
func (b *Bot) QueueDigest(ctx context.Context, now time.Time, p DigestPolicy) (DigestOutcome, error) {
	today := b.today(now)
	if p.Calendar != nil && !p.Calendar.Working(today) {
		return DigestDayOff, nil
	}
	r, err := b.Digest(ctx, now, p)
	if err != nil {
		return DigestQueued, err
	}
	ok, err := b.queue(ctx, DigestKey(today), KindDigest, Notice{To: "日报频道", Channel: p.Channel, Reply: r})
	if err == nil && !ok {
		return DigestAlreadyQueued, nil
	}
	return DigestQueued, err
}
