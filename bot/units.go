package bot

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"taskbot/storage"
)

// MaxItems is the most items one reply lists; the rest are counted.
const MaxItems = 50

// ResolveUnit finds the unit a person means by name, as typed: the exact
// name, then an exact alias, then the only unit whose name or alias
// contains it (or that it contains), then the only one whose name has its
// characters in order. Several matches give EINVALID listing the
// candidates; none gives ENOTFOUND with the closest names.
func ResolveUnit(names []storage.UnitName, input string) (storage.UnitName, error) {
	q := storage.NormalizeName(input)
	if q == "" {
		return storage.UnitName{}, storage.Errorf(storage.EINVALID, "请给出单位名称。")
	}
	for _, exactAlias := range []bool{false, true} {
		for _, n := range names {
			if n.Name == q && (n.Name != n.Unit) == exactAlias {
				return n, nil
			}
		}
	}
	for _, match := range []func(name string) bool{
		func(name string) bool {
			return strings.Contains(name, q) || utf8.RuneCountInString(name) >= 3 && strings.Contains(q, name)
		},
		func(name string) bool { return isSubsequence(q, name) },
	} {
		found := map[uint]storage.UnitName{}
		for _, n := range names {
			if match(n.Name) {
				found[n.UnitID] = storage.UnitName{UnitID: n.UnitID, Unit: n.Unit, Name: n.Unit}
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			for _, n := range found {
				return n, nil
			}
		}
		var cands []string
		for _, n := range found {
			cands = append(cands, n.Unit)
		}
		sort.Strings(cands)
		more := ""
		if len(cands) > 10 {
			more = fmt.Sprintf(" 等 %d 个", len(cands))
			cands = cands[:10]
		}
		return storage.UnitName{}, storage.Errorf(storage.EINVALID, "“%s”对应多个单位：%s%s。请写出完整名称。", clip(input, 20), strings.Join(cands, "、"), more)
	}
	return storage.UnitName{}, storage.Errorf(storage.ENOTFOUND, "没有找到单位“%s”。%s", clip(input, 20), suggest(names, q))
}

// suggest names the closest units by edit distance.
func suggest(names []storage.UnitName, q string) string {
	type cand struct {
		unit string
		d    int
	}
	best := map[string]int{}
	for _, n := range names {
		d := editDistance(q, n.Name)
		if cur, ok := best[n.Unit]; !ok || d < cur {
			best[n.Unit] = d
		}
	}
	var cs []cand
	for u, d := range best {
		cs = append(cs, cand{u, d})
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].d < cs[j].d || cs[i].d == cs[j].d && cs[i].unit < cs[j].unit })
	var out []string
	for _, c := range cs {
		if len(out) == 3 {
			break
		}
		out = append(out, c.unit)
	}
	if len(out) == 0 {
		return ""
	}
	return "您是不是要找：" + strings.Join(out, "、") + "？"
}

func isSubsequence(q, s string) bool {
	rs := []rune(s)
	i := 0
	for _, r := range q {
		for i < len(rs) && rs[i] != r {
			i++
		}
		if i == len(rs) {
			return false
		}
		i++
	}
	return true
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func (b *Bot) findUnit(ctx context.Context, input string) (storage.UnitName, error) {
	names, err := b.Store.UnitNames(ctx)
	if err != nil {
		return storage.UnitName{}, err
	}
	return ResolveUnit(names, input)
}

func (b *Bot) unitCmd(ctx context.Context, req Request, args []string) (Reply, error) {
	if len(args) == 0 {
		return Reply{}, storage.Errorf(storage.EINVALID, "请给出单位名称。")
	}
	if v := b.lookup("unit").verb(args[0]); v != nil {
		w, err := b.authorize(ctx, req.User, v)
		if err != nil {
			return Reply{}, err
		}
		return v.run(b, ctx, verbCall{verb: v, req: req, typed: args[0], args: args[1:], who: w})
	}
	u, err := b.findUnit(ctx, strings.Join(args, ""))
	if storage.ErrorCode(err) == storage.ENOTFOUND {
		if l, lerr := b.Store.ListByName(ctx, strings.Join(args, "")); lerr == nil {
			return Reply{}, storage.Errorf(storage.ENOTFOUND, "“%s”是清单的名称，不是单位：该清单的任务请用 /task %s，各单位请用 /units %s，统计请用 /stats %s。", l.Name, l.Name, l.Name, l.Name)
		}
	}
	if err != nil {
		return Reply{}, err
	}
	today := b.today(req.Now)
	members, memberOf, err := b.Store.Collectives(ctx)
	if err != nil {
		return Reply{}, err
	}
	r := Reply{AsOf: today}
	info := Section{}
	if m := members[u.Unit]; len(m) > 0 {
		info.Fields = append(info.Fields, Field{"成员单位", strings.Join(m, "、")})
	}
	if c := memberOf[u.Unit]; len(c) > 0 {
		info.Fields = append(info.Fields, Field{"所属集体", strings.Join(c, "、") + "（下列任务中标注“经…”者由此而来）"})
	}
	if len(info.Fields) > 0 {
		r.Sections = append(r.Sections, info)
	}
	if s, err := b.unitShares(ctx, u, today, false); err != nil {
		return Reply{}, err
	} else if s != nil {
		r.Sections = append(r.Sections, *s)
	}
	counts := map[string]int{}
	for _, role := range []struct{ role, name string }{{storage.RoleLead, "牵头任务"}, {storage.RoleResponsible, "责任任务"}} {
		ts, total, err := b.Store.UnitTasks(ctx, u.UnitID, role.role, MaxItems)
		if err != nil {
			return Reply{}, err
		}
		counts[role.role] = total
		if total == 0 {
			continue
		}
		s := Section{Heading: fmt.Sprintf("%s（%d 项）", role.name, total), More: total - len(ts)}
		for i := range ts {
			s.Items = append(s.Items, summaryItem(&ts[i], today))
		}
		r.Sections = append(r.Sections, s)
	}
	r.Title = fmt.Sprintf("【%s】牵头 %d 项 · 责任 %d 项", u.Unit, counts[storage.RoleLead], counts[storage.RoleResponsible])
	if counts[storage.RoleLead]+counts[storage.RoleResponsible] == 0 {
		r.Sections = append(r.Sections, Section{Text: "该单位没有承担任务。"})
	}
	return r, nil
}

// TaskStatus is the status of a task as a whole, as of today, with a short
// label: its next open milestone, or its flags, or done/closed.
func TaskStatus(t *storage.TaskSummary, today storage.Date) (Status, string) {
	if t.ClosedAt != nil {
		return StatusDone, "已销号"
	}
	if m := t.Next(); m != nil {
		return DueStatus(m.Due, today), fmt.Sprintf("节点%d %s %s", m.Seq, m.Due, DaysLabel(m.Due, today))
	}
	st := storage.Task{Immediate: t.Immediate, Ongoing: t.Ongoing, LongTerm: t.LongTerm}
	if f := Flags(&st); f != "" {
		return StatusFlagged, f
	}
	if len(t.Milestones) > 0 {
		return StatusDone, "各节点均已完成"
	}
	return StatusNone, "无明确时限"
}

func summaryItem(t *storage.TaskSummary, today storage.Date) Item {
	st, label := TaskStatus(t, today)
	text := fmt.Sprintf("%s %s — %s", t.Code, clip(t.Title, 30), label)
	if t.Via != "" {
		text += "（经 " + t.Via + "）"
	}
	return Item{Status: st, Text: text}
}

// unitsCmd is `units [清单名称]`: every unit by overdue milestones, a
// section per list when the database holds several (each of its units'
// tasks there), or one list's.
func (b *Bot) unitsCmd(ctx context.Context, req Request, args []string) (Reply, error) {
	today := b.today(req.Now)
	lists, err := b.Store.Lists(ctx)
	if err != nil {
		return Reply{}, err
	}
	if len(args) > 0 {
		l, err := b.Store.ListByName(ctx, strings.Join(args, ""))
		if storage.ErrorCode(err) == storage.ENOTFOUND {
			return Reply{}, storage.Errorf(storage.ENOTFOUND, "%s/units 只接受清单名称；查看某个单位请用 /unit 单位名称。", storage.ErrorMessage(err))
		} else if err != nil {
			return Reply{}, err
		}
		lists = []storage.List{l}
	}
	r := Reply{AsOf: today, Footnotes: []string{"按逾期节点数排序。查看某个单位：/unit 单位名称"}}
	if len(lists) < 2 {
		list, title := uint(0), "责任单位一览"
		if len(args) > 0 {
			list, title = lists[0].ID, lists[0].Name+" 责任单位一览"
		}
		stats, err := b.Store.UnitStats(ctx, today, list)
		if err != nil {
			return Reply{}, err
		}
		r.Title = fmt.Sprintf("%s（共 %d 个）", title, len(stats))
		r.Sections = []Section{unitsSection(stats, MaxItems)}
		return r, nil
	}
	// A section per list, sharing the reply's room.
	rows := max(MaxItems/len(lists), 1)
	for _, l := range lists {
		stats, err := b.Store.UnitStats(ctx, today, l.ID)
		if err != nil {
			return Reply{}, err
		}
		s := unitsSection(stats, rows)
		s.Heading = fmt.Sprintf("%s（%d 个单位）", l.Name, len(stats))
		r.Sections = append(r.Sections, s)
	}
	r.Title = fmt.Sprintf("责任单位一览（%d 个清单）", len(lists))
	r.Footnotes = append(r.Footnotes, "各清单分列，任务和逾期节点只计该清单的。查看一个清单的全部单位：/units 清单名称")
	return r, nil
}

// unitsSection lists units with their counts, at most rows of them.
func unitsSection(stats []storage.UnitStat, rows int) Section {
	s := Section{Counter: "个"}
	for i, u := range stats {
		if i == rows {
			s.More = len(stats) - rows
			break
		}
		st := StatusGreen
		if u.Overdue > 0 {
			st = StatusRed
		}
		text := fmt.Sprintf("%s — 牵头 %d · 责任 %d", u.Name, u.Lead, u.Responsible)
		if u.ViaLead+u.ViaResp > 0 {
			text += fmt.Sprintf("（其中经集体 %d）", u.ViaLead+u.ViaResp)
		}
		text += fmt.Sprintf(" · 逾期节点 %d", u.Overdue)
		if u.Collective {
			text += " · 集体单位"
		}
		s.Items = append(s.Items, Item{Status: st, Text: text})
	}
	if len(stats) == 0 {
		s.Text = "没有单位承担该清单的任务。"
	}
	return s
}
