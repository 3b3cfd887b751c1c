package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"taskbot/storage"
)

// UnitRank is one unit's row of the statistics, with its place in the
// ranking.
type UnitRank struct {
	storage.ShareTally
	Rank int
}

// Considered is the shares a unit answers for: all but those not concerned.
func (u UnitRank) Considered() int { return u.Assigned - u.NA }

// Confirmed is the shares confirmed, on time or late.
func (u UnitRank) Confirmed() int { return u.ConfirmedOnTime + u.ConfirmedLate }

// OnTimeRate is the share of the considered shares confirmed on time, 0–1
// (1 when the unit answers for none).
func (u UnitRank) OnTimeRate() float64 {
	if u.Considered() == 0 {
		return 1
	}
	return float64(u.ConfirmedOnTime) / float64(u.Considered())
}

// DoneRate is the share of the considered shares confirmed, 0–1.
func (u UnitRank) DoneRate() float64 {
	if u.Considered() == 0 {
		return 1
	}
	return float64(u.Confirmed()) / float64(u.Considered())
}

// RankingRule is the ranking as people read it, in the reply's footnote and
// the README.
const RankingRule = "排名规则：逾期分工数少者在前；相同则逾期天数合计少者在前；再相同则按时完成率高者在前；仍相同按单位名称排序。"

// Rank orders units by the ranking: fewest overdue shares, then fewest
// days overdue in total, then the highest on-time rate, then by name; and
// numbers them from 1. Deterministic for any input order.
func Rank(ts []storage.ShareTally) []UnitRank {
	out := make([]UnitRank, len(ts))
	for i, t := range ts {
		out[i] = UnitRank{ShareTally: t}
	}
	slices.SortFunc(out, func(a, b UnitRank) int {
		return cmp.Or(cmp.Compare(a.Overdue, b.Overdue), cmp.Compare(a.DaysOverdue, b.DaysOverdue),
			cmp.Compare(b.OnTimeRate(), a.OnTimeRate()), strings.Compare(a.Unit, b.Unit))
	})
	for i := range out {
		out[i].Rank = i + 1
	}
	return out
}

// Bar draws a share 0–1 as ten blocks and a percentage: "██████░░░░ 60%".
func Bar(f float64) string {
	f = min(max(f, 0), 1)
	n := int(f*10 + 0.5)
	return strings.Repeat("█", n) + strings.Repeat("░", 10-n) + fmt.Sprintf(" %d%%", int(f*100+0.5))
}

// Stats are the office's numbers as of a day: the whole list, and every
// unit ranked.
type Stats struct {
	Day      storage.Date
	Overview storage.Overview
	// EntriesThisWeek counts progress entries since Monday.
	EntriesThisWeek int
	Units           []UnitRank
}

// Statistics computes the Stats as of now, for every unit or as f narrows
// them. Results are kept under the database's data version, so a repeated
// question costs one small query until anything is committed, by this
// process or another.
func (b *Bot) Statistics(ctx context.Context, now time.Time, f storage.StatsFilter) (Stats, error) {
	version, ok, err := b.Store.DataVersion(ctx)
	if err != nil {
		return Stats{}, err
	}
	key := fmt.Sprint(b.today(now), f.ListID, f.TaskID, f.Units)
	if ok {
		if st, hit := b.stats.Get(version, key); hit {
			return st, nil
		}
	}
	st, err := b.statistics(ctx, now, f)
	if err == nil && ok {
		b.stats.Put(version, key, st)
	}
	return st, err
}

func (b *Bot) statistics(ctx context.Context, now time.Time, f storage.StatsFilter) (Stats, error) {
	today := b.today(now)
	st := Stats{Day: today}
	var err error
	if st.Overview, err = b.Store.CountOverview(ctx, today, b.Clock().Zone(), f.ListID); err != nil {
		return st, err
	}
	monday := today.WeekStart()
	if st.EntriesThisWeek, err = b.Store.CountEntriesSince(ctx, monday.In(b.Clock().Zone()), f.ListID); err != nil {
		return st, err
	}
	ts, err := b.Store.ShareTallies(ctx, today, b.Clock().Zone(), f)
	if err != nil {
		return st, err
	}
	st.Units = Rank(ts)
	return st, nil
}

// statsCmd is `stats [单位|集体单位|任务]`.
func (b *Bot) statsCmd(ctx context.Context, req Request, args []string) (Reply, error) {
	if len(args) == 0 {
		st, err := b.Statistics(ctx, req.Now, storage.StatsFilter{})
		if err != nil {
			return Reply{}, err
		}
		r := b.statsReply(st, "【整改统计】全部单位", "总体", maxStatsRows)
		if err := b.listOverviews(ctx, &r, req.Now); err != nil {
			return Reply{}, err
		}
		return r, nil
	}
	what := strings.Join(args, "")
	if l, err := b.Store.ListByName(ctx, what); err == nil {
		st, err := b.Statistics(ctx, req.Now, storage.StatsFilter{ListID: l.ID})
		if err != nil {
			return Reply{}, err
		}
		r := b.statsReply(st, "【整改统计】"+l.Name, "本清单总体", maxStatsRows)
		// Import refuses a list a unit's name or alias, but a unit may
		// come later (a document's, the organisation's): say it is there.
		names, err := b.Store.UnitNames(ctx)
		if err != nil {
			return Reply{}, err
		}
		if i := slices.IndexFunc(names, func(n storage.UnitName) bool { return n.Name == l.Name }); i >= 0 {
			u := names[i].Unit
			how := "该单位的统计：/stats " + u
			if u == l.Name {
				how = "该单位的任务：/unit " + u
			}
			r.Footnotes = append(r.Footnotes, fmt.Sprintf("“%s”也是单位“%s”的名称，以上是清单“%s”的统计；%s", l.Name, u, l.Name, how))
		}
		return r, nil
	} else if storage.ErrorCode(err) != storage.ENOTFOUND {
		return Reply{}, err
	}
	ref, err := ParseTaskRef(what)
	var noList error
	if err == nil && ref.List != "" {
		// "市委办/市政府办" is a unit, unless a list has that name.
		if _, lerr := b.Store.ListByName(ctx, ref.List); storage.ErrorCode(lerr) == storage.ENOTFOUND {
			noList, err = lerr, lerr
		}
	}
	if err == nil {
		t, err := b.findTask(ctx, ref)
		if err != nil {
			return Reply{}, err
		}
		st, err := b.Statistics(ctx, req.Now, storage.StatsFilter{TaskID: t.ID})
		if err != nil {
			return Reply{}, err
		}
		return b.statsReply(st, fmt.Sprintf("【整改统计】%s 各单位", t.Ref()), "全部任务总体", maxStatsRows), nil
	}
	u, err := b.findUnit(ctx, what)
	switch {
	case err != nil && noList != nil:
		err = noList // neither a unit nor a list's task: say what lists there are
	case storage.ErrorCode(err) == storage.ENOTFOUND:
		err = b.noListOrUnit(ctx, what, err)
	}
	if err != nil {
		return Reply{}, err
	}
	members, _, err := b.Store.Collectives(ctx)
	if err != nil {
		return Reply{}, err
	}
	if ms := members[u.Unit]; len(ms) > 0 {
		names, err := b.Store.UnitNames(ctx)
		if err != nil {
			return Reply{}, err
		}
		var ids []uint
		for _, n := range names {
			if n.Name == n.Unit && slices.Contains(ms, n.Unit) {
				ids = append(ids, n.UnitID)
			}
		}
		st, err := b.Statistics(ctx, req.Now, storage.StatsFilter{Units: ids})
		if err != nil {
			return Reply{}, err
		}
		return b.statsReply(st, fmt.Sprintf("【整改统计】%s 排名", u.Unit), "全部任务总体", maxStatsRows), nil
	}
	return b.unitStats(ctx, req, u)
}

// noListOrUnit is the error of `stats NAME` when no unit is called name
// (notFound says so): with several lists it names them too, and suggests
// the lists whose name has what was typed before any unit.
func (b *Bot) noListOrUnit(ctx context.Context, what string, notFound error) error {
	lists, err := b.Store.Lists(ctx)
	if err != nil || len(lists) < 2 {
		return cmp.Or(err, notFound)
	}
	var names, near []string
	for _, l := range lists {
		names = append(names, "“"+l.Name+"”")
		if strings.Contains(l.Name, what) {
			near = append(near, "“"+l.Name+"”")
		}
	}
	hint := "您是不是要找清单：" + strings.Join(near, "、") + "？"
	if len(near) == 0 {
		units, err := b.Store.UnitNames(ctx)
		if err != nil {
			return err
		}
		hint = suggest(units, storage.NormalizeName(what))
	}
	return storage.Errorf(storage.ENOTFOUND, "没有名为“%s”的清单或单位（现有清单：%s）。%s", clip(what, 20), strings.Join(names, "、"), hint)
}

// maxStatsRows keeps a ranking readable in chat; the Excel ledger has all.
const maxStatsRows = 40

// statsReply is the overview, headed heading (it counts every task unless
// the statistics are one list's, whatever the ranking's scope), and the
// ranking.
func (b *Bot) statsReply(st Stats, title, heading string, rows int) Reply {
	o := st.Overview
	r := Reply{Title: title, AsOf: st.Day}
	r.Sections = append(r.Sections, Section{Heading: heading, Items: []Item{
		{Text: fmt.Sprintf("任务 %d 项：未销号 %d · 已销号 %d", o.TasksOpen+o.TasksClosed, o.TasksOpen, o.TasksClosed)},
		{Text: fmt.Sprintf("节点：按时完成 %d · 逾期完成 %d · 未到期 %d · 逾期未完成 %d", o.DoneOnTime, o.DoneLate, o.Open, o.Overdue)},
		{Text: fmt.Sprintf("待督查室确认的分工 %d 个 · 本周进展 %d 条", o.Awaiting, st.EntriesThisWeek)},
	}})
	s := Section{Heading: fmt.Sprintf("单位排名（%d 个）", len(st.Units))}
	for i, u := range st.Units {
		if i == rows {
			s.More = len(st.Units) - rows
			break
		}
		s.Items = append(s.Items, Item{Status: rankStatus(u), Text: b.rankLine(u, st.Day)})
	}
	if len(st.Units) == 0 {
		s.Text = "没有单位承担分工。"
	}
	r.Sections = append(r.Sections, s)
	r.Footnotes = []string{RankingRule, "完成率 = 已确认 ÷ 承担（不含不涉及）。单位明细：/stats 单位；集体排名：/stats 各县（市、区）；任务：/stats 编号。"}
	return r
}

// listOverviews adds to r, after its overview, one line per list when
// the database holds several: each list's tasks, milestones overdue and
// shares awaiting review, so that a leader sees which list is behind.
func (b *Bot) listOverviews(ctx context.Context, r *Reply, now time.Time) error {
	lists, err := b.Store.Lists(ctx)
	if err != nil || len(lists) < 2 {
		return err
	}
	overviews, err := b.Store.ListOverviews(ctx, b.today(now), b.Clock().Zone())
	if err != nil {
		return err
	}
	s := Section{Heading: fmt.Sprintf("各清单（%d 个）", len(lists))}
	for _, l := range lists {
		o := overviews[l.ID]
		st := StatusGreen
		if o.Overdue > 0 {
			st = StatusRed
		}
		s.Items = append(s.Items, Item{Status: st, Text: fmt.Sprintf("%s — 任务 %d 项（未销号 %d）· 逾期未完成节点 %d · 待确认分工 %d",
			l.Name, o.TasksOpen+o.TasksClosed, o.TasksOpen, o.Overdue, o.Awaiting)})
	}
	r.Sections = slices.Insert(r.Sections, 1, s)
	r.Footnotes = append(r.Footnotes, "某个清单的统计和排名：/stats 清单名称，如 /stats "+lists[1].Name+"。")
	return nil
}

func rankStatus(u UnitRank) Status {
	switch {
	case u.Overdue > 0:
		return StatusRed
	case u.Open+u.Reported == 0:
		return StatusDone
	}
	return StatusGreen
}

// rankLine is one unit's row: "1. 长葛市 ██████░░░░ 60% · 承担 10 · 已确认 6（按时 5）· 待确认 1 · 未完成 3 · 逾期 2（共 15 天）· 最近进展 2021-10-01（7 天前）".
func (b *Bot) rankLine(u UnitRank, today storage.Date) string {
	line := fmt.Sprintf("%d. %s %s · 承担 %d · 已确认 %d（按时 %d）· 待确认 %d · 未完成 %d · 逾期 %d（共 %d 天）",
		u.Rank, u.Unit, Bar(u.DoneRate()), u.Considered(), u.Confirmed(), u.ConfirmedOnTime, u.Reported, u.Open, u.Overdue, u.DaysOverdue)
	if u.NA > 0 {
		line += fmt.Sprintf(" · 不涉及 %d", u.NA)
	}
	if u.LastEntry.IsZero() {
		return line + " · 尚无进展"
	}
	last := b.Clock().Day(u.LastEntry)
	return line + fmt.Sprintf(" · 最近进展 %s（%d 天前）", last, last.DaysUntil(today))
}

// unitStats is `stats 单位`: its row of the ranking and its shares by task
// and milestone.
func (b *Bot) unitStats(ctx context.Context, req Request, u storage.UnitName) (Reply, error) {
	all, err := b.Statistics(ctx, req.Now, storage.StatsFilter{})
	if err != nil {
		return Reply{}, err
	}
	r := Reply{Title: fmt.Sprintf("【整改统计】%s", u.Unit), AsOf: all.Day}
	var row *UnitRank
	for i := range all.Units {
		if all.Units[i].UnitID == u.UnitID {
			row = &all.Units[i]
		}
	}
	if row == nil {
		r.Sections = []Section{{Text: "该单位没有分工（集体单位请用 /stats " + u.Unit + " 查看成员排名）。"}}
		return r, nil
	}
	r.Sections = append(r.Sections, Section{Items: []Item{{Status: rankStatus(*row), Text: b.rankLine(*row, all.Day) + fmt.Sprintf("（共 %d 个单位）", len(all.Units))}}})
	shares, err := b.Store.UnitAllShares(ctx, u.UnitID, MaxItems)
	if err != nil {
		return Reply{}, err
	}
	s := Section{Heading: "分工明细（按状态和到期日）", More: row.Assigned - len(shares)}
	for _, sh := range shares {
		what := "整体"
		if sh.Seq > 0 {
			what = fmt.Sprintf("节点%d %s", sh.Seq, sh.Due)
		}
		text := fmt.Sprintf("%s %s · %s", sh.Code, what, storage.ShareStateNames[sh.State])
		if sh.DecidedAt != nil && sh.Settled() {
			text += " " + b.Clock().Day(*sh.DecidedAt).String()
		}
		s.Items = append(s.Items, Item{Status: shareStatus(&sh, all.Day), Text: text})
	}
	r.Sections = append(r.Sections, s)
	r.Footnotes = []string{RankingRule}
	return r, nil
}

// exportCmd is `export`: the Excel ledger as of the request's day.
func (b *Bot) exportCmd(ctx context.Context, req Request, args []string) (Reply, error) {
	if len(args) > 0 {
		return Reply{}, storage.Errorf(storage.EINVALID, "export 不带参数（按当天导出；命令行可用 taskbot export --at 日期）。")
	}
	if b.Ledger == nil {
		return Reply{}, storage.Errorf(storage.EINVALID, "本实例未启用导出。")
	}
	up, err := b.Ledger(ctx, req.Now)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Title: fmt.Sprintf("📊 已导出整改台账：%s（%d KB）", up.Name, (len(up.Data)+1023)/1024), AsOf: b.today(req.Now),
		Upload:    up,
		Footnotes: []string{"四张表：整改台账（每项任务一行）、单位分解（每个单位的每个节点一行）、进展记录、统计（含完成率图表）。"}}, nil
}

// LedgerAsOf writes the ledger as of day, "YYYY-MM-DD" (a notice's Ledger),
// at 09:00 in the clock's zone. It returns EINVALID when export is not
// available or the day is not a date.
func (b *Bot) LedgerAsOf(ctx context.Context, day string) (*Upload, error) {
	if b.Ledger == nil {
		return nil, storage.Errorf(storage.EINVALID, "本实例未启用导出。")
	}
	d, err := storage.ParseDate(day)
	if err != nil {
		return nil, err
	}
	return b.Ledger(ctx, d.In(b.Clock().Zone()).Add(9*time.Hour))
}
