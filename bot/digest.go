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

// Digest is the daily deadline digest as of now, made to fit one screen:
// the counts (overdue, due this week, awaiting review, done this week), the
// most urgent milestones with who is behind, the tasks silent for the
// stale window that are not already listed as overdue, the progress since
// the previous digest, and the units nobody can be reminded at; each list
// short, with pointers to the commands that show the rest.
func (b *Bot) Digest(ctx context.Context, now time.Time, p DigestPolicy) (Reply, error) {
	now = now.In(b.Clock().Zone())
	today := b.today(now)
	monday := today.WeekStart()
	c, err := b.Store.CountMilestones(ctx, today, today.DaysUntil(monday.AddDays(6)))
	if err != nil {
		return Reply{}, err
	}
	_, pendingShares, err := b.Store.PendingShares(ctx, nil, 0)
	if err != nil {
		return Reply{}, err
	}
	reqs, err := b.Store.OpenRequests(ctx, nil)
	if err != nil {
		return Reply{}, err
	}
	done, err := b.Store.CountDoneSince(ctx, monday.In(b.Clock().Zone()))
	if err != nil {
		return Reply{}, err
	}
	r := Reply{Title: "【督察整改日报】", AsOf: today}
	r.Sections = append(r.Sections, Section{Heading: "概况", Items: []Item{
		{Status: StatusRed, Text: fmt.Sprintf("逾期节点 %d 个", c.Overdue)},
		{Status: StatusYellow, Text: fmt.Sprintf("本周到期 %d 个", c.Soon)},
		{Status: StatusNone, Text: fmt.Sprintf("📮 待督查室审核 %d 项", pendingShares+len(reqs))},
		{Status: StatusDone, Text: fmt.Sprintf("本周完成 %d 个", done)},
	}})
	if dead, err := b.Store.CountDeadOutbox(ctx); err != nil {
		return Reply{}, err
	} else if dead > 0 {
		// Someone did not get a reminder or a notice: the office should know.
		r.Footnotes = append(r.Footnotes, fmt.Sprintf("⚠️ 有 %d 条提醒或通知多次发送失败已放弃（如用户已离职、频道不可见），请核对单位成员和频道配置。", dead))
	}

	// The most urgent: overdue first (most overdue first), then this week's.
	urgent, overdueTotal, err := b.Store.OpenMilestones(ctx, storage.MilestoneFilter{DueTo: today.AddDays(-1), Limit: digestUrgent})
	if err != nil {
		return Reply{}, err
	}
	more := overdueTotal - len(urgent)
	if len(urgent) < digestUrgent {
		soon, soonTotal, err := b.Store.OpenMilestones(ctx, storage.MilestoneFilter{DueFrom: today, DueTo: today.AddDays(p.Upcoming), Limit: digestUrgent - len(urgent)})
		if err != nil {
			return Reply{}, err
		}
		urgent = append(urgent, soon...)
		more += soonTotal - len(soon)
	}
	if len(urgent) > 0 {
		// By list when there are several, in the order of urgency.
		ss, rest, err := b.listSections(ctx, "最紧急", urgent, more, today)
		if err != nil {
			return Reply{}, err
		}
		r.Sections = append(r.Sections, ss...)
		if rest > 0 {
			r.Sections = append(r.Sections, Section{Text: fmt.Sprintf("另有 %d 项未列出（各清单合计）：/overdue、/due", rest)})
		}
	}
	overdueTasks := map[string]bool{}
	for _, it := range urgent {
		if it.Due.Before(today) {
			overdueTasks[it.Code] = true
		}
	}
	stale, _, err := b.Store.StaleTasks(ctx, now.AddDate(0, 0, -p.Stale), 200)
	if err != nil {
		return Reply{}, err
	}
	quiet := Section{Heading: fmt.Sprintf("%d 天无进展（不含上列逾期）", p.Stale)}
	for i := range stale {
		if overdueTasks[stale[i].Code] || stale[i].NextDue.Before(today) && !stale[i].NextDue.IsZero() {
			continue // already chased as overdue
		}
		if len(quiet.Items) == digestQuiet {
			quiet.More++
			continue
		}
		quiet.Items = append(quiet.Items, summaryItem(&stale[i], today))
	}
	if len(quiet.Items) > 0 {
		r.Sections = append(r.Sections, quiet)
	}
	since := PreviousDigest(p.Calendar, now, b.Clock().Zone())
	news, total, err := b.Store.ProgressBetween(ctx, since, now, digestNews)
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
		s.Items = append(s.Items, Item{Text: fmt.Sprintf("%s · %s：%s", pg.Code, who, clip(pg.Text, 40))})
	}
	s.More = total - len(news)
	r.Sections = append(r.Sections, s)
	unreachable, err := b.Store.UnreachableUnits(ctx)
	if err != nil {
		return Reply{}, err
	}
	if len(unreachable) > 0 {
		r.Sections = append(r.Sections, Section{Heading: fmt.Sprintf("未绑定成员或频道的单位（%d 个，提醒发到转达频道）", len(unreachable)),
			Text: namesLine(unreachable, 12) + "。请在组织文件中配置，或 /unit bind 单位 @用户。"})
	}
	r.Footnotes = append(r.Footnotes, "更多：/overdue、/due 14、/pending、/task 编号")
	return r, nil
}

// Digest list sizes: together they keep the digest to one screen.
const (
	digestUrgent = 8
	digestQuiet  = 4
	digestNews   = 4
)

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
