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

// ReportPolicy configures the weekly report (调度通报).
type ReportPolicy struct {
	// Calendar: the report goes out on working days only.
	Calendar Calendar
	// Channel is where it is posted, with the ledger attached.
	Channel string
	// Collective is whose members are ranked (the 通报's ranking of the
	// counties): 各县（市、区） by default.
	Collective string
	// RedAfter is how many days overdue puts a milestone on the red list.
	RedAfter int
}

// DefaultReportPolicy ranks 各县（市、区） and red-lists milestones overdue
// more than 14 days, on China's working days.
func DefaultReportPolicy() ReportPolicy {
	return ReportPolicy{Calendar: ChinaCalendar{}, Collective: "各县（市、区）", RedAfter: 14}
}

// KindReport marks the weekly report in the outbox.
const KindReport = "report"

// ReportKey is the outbox key of the report of the week starting monday.
func ReportKey(monday storage.Date) string { return "report:" + monday.String() }

// Report is the weekly report (调度通报) as of now: what changed in the
// seven days before (confirmed shares, milestones newly overdue, requests
// decided, entries by unit), the ranking of the collective's members, and
// the red list of milestones overdue more than RedAfter days with the
// units behind.
func (b *Bot) Report(ctx context.Context, now time.Time, p ReportPolicy) (Reply, error) {
	now = now.In(b.Clock().Zone())
	today := b.today(now)
	from := today.AddDays(-7)
	r := Reply{Title: fmt.Sprintf("【督察整改调度通报】%s 至 %s", from, today.AddDays(-1)), AsOf: today}
	wk, err := b.Store.CountWeek(ctx, from.In(b.Clock().Zone()), today.In(b.Clock().Zone()))
	if err != nil {
		return Reply{}, err
	}
	newly, total, err := b.Store.OpenMilestones(ctx, storage.MilestoneFilter{DueFrom: from, DueTo: today.AddDays(-1), Limit: MaxItems})
	if err != nil {
		return Reply{}, err
	}
	entries := 0
	var byUnit []string
	for name, n := range wk.EntriesBy {
		entries += n
		if name == "" {
			name = "（未指明单位）"
		}
		byUnit = append(byUnit, fmt.Sprintf("%s %d", name, n))
	}
	sort.Strings(byUnit)
	change := Section{Heading: "本周变化", Items: []Item{
		{Status: StatusDone, Text: fmt.Sprintf("新确认完成的单位分工 %d 个", wk.Confirmed)},
		{Status: StatusRed, Text: fmt.Sprintf("新逾期节点 %d 个", total)},
		{Text: fmt.Sprintf("已审批的申请（销号、延期）%d 项", wk.Decided)},
		{Text: fmt.Sprintf("报送进展 %d 条：%s", entries, orNone(strings.Join(byUnit, "、")))},
	}}
	r.Sections = append(r.Sections, change)
	if total > 0 {
		s, err := b.milestoneSection(ctx, newly, total, today)
		if err != nil {
			return Reply{}, err
		}
		s.Heading = fmt.Sprintf("本周新逾期（%d 个）", total)
		r.Sections = append(r.Sections, s)
	}
	ranking, err := b.collectiveRanking(ctx, now, p.Collective)
	if err != nil {
		return Reply{}, err
	}
	if ranking != nil {
		r.Sections = append(r.Sections, *ranking)
	}
	red, redTotal, err := b.Store.OpenMilestones(ctx, storage.MilestoneFilter{DueTo: today.AddDays(-p.RedAfter - 1), Limit: MaxItems})
	if err != nil {
		return Reply{}, err
	}
	if redTotal > 0 {
		s, err := b.milestoneSection(ctx, red, redTotal, today)
		if err != nil {
			return Reply{}, err
		}
		s.Heading = fmt.Sprintf("红榜：逾期超过 %d 天（%d 个）", p.RedAfter, redTotal)
		r.Sections = append(r.Sections, s)
	}
	r.Footnotes = []string{RankingRule, "附：整改台账（Excel）。明细：/stats、/overdue、/pending"}
	return r, nil
}

func orNone(s string) string {
	if s == "" {
		return "无"
	}
	return s
}

// collectiveRanking ranks the members of the named collective; nil when
// it has none.
func (b *Bot) collectiveRanking(ctx context.Context, now time.Time, collective string) (*Section, error) {
	members, _, err := b.Store.Collectives(ctx)
	if err != nil {
		return nil, err
	}
	ms := members[collective]
	if len(ms) == 0 {
		return nil, nil
	}
	names, err := b.Store.UnitNames(ctx)
	if err != nil {
		return nil, err
	}
	var ids []uint
	for _, n := range names {
		if n.Name == n.Unit && slices.Contains(ms, n.Unit) {
			ids = append(ids, n.UnitID)
		}
	}
	st, err := b.Statistics(ctx, now, storage.StatsFilter{Units: ids})
	if err != nil {
		return nil, err
	}
	s := Section{Heading: fmt.Sprintf("%s排名", collective)}
	for _, u := range st.Units {
		s.Items = append(s.Items, Item{Status: rankStatus(u), Text: b.rankLine(u, st.Day)})
	}
	return &s, nil
}

// ReportOutcome is what QueueReport did.
type ReportOutcome int

// Outcomes of QueueReport.
const (
	ReportQueued        ReportOutcome = iota
	ReportAlreadyQueued               // this week's went out (or is queued) already
	ReportDayOff                      // no report on days off
)

// QueueReport queues the weekly report as of now for p.Channel, with the
// ledger attached, once per week (the week of now, from Monday): a second
// call in the same week, from any process, queues nothing; nothing is
// queued on a day off.
func (b *Bot) QueueReport(ctx context.Context, now time.Time, p ReportPolicy) (ReportOutcome, error) {
	today := b.today(now)
	if p.Calendar != nil && !p.Calendar.Working(today) {
		return ReportDayOff, nil
	}
	r, err := b.Report(ctx, now, p)
	if err != nil {
		return ReportQueued, err
	}
	monday := today.WeekStart()
	ok, err := b.queue(ctx, ReportKey(monday), KindReport, Notice{To: "通报频道", Channel: p.Channel, Reply: r, Ledger: today.String()})
	if err == nil && !ok {
		return ReportAlreadyQueued, nil
	}
	return ReportQueued, err
}
