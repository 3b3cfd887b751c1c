package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"taskbot/storage"
)

// DefaultDueDays is the window of `due` without an argument.
const DefaultDueDays = 30

// MaxDueDays bounds `due DAYS` to something a person means.
const MaxDueDays = 3660

// ParseDays reads a day count such as "30", "３０" or "30天".
func ParseDays(s string) (int, error) {
	t := strings.TrimSuffix(strings.TrimSpace(foldWidth(s)), "天")
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || n > MaxDueDays {
		return 0, storage.Errorf(storage.EINVALID, "“%s”不是有效的天数，请给出 0 到 %d 之间的整数。", clip(s, 20), MaxDueDays)
	}
	return n, nil
}

func (b *Bot) dueCmd(ctx context.Context, req Request, args []string) (Reply, error) {
	days := DefaultDueDays
	switch len(args) {
	case 0:
	case 1:
		n, err := ParseDays(args[0])
		if err != nil {
			return Reply{}, err
		}
		days = n
	default:
		return Reply{}, storage.Errorf(storage.EINVALID, "due 只接受一个参数（天数）。")
	}
	today := b.today(req.Now)
	items, total, err := b.Store.OpenMilestones(ctx, storage.MilestoneFilter{DueFrom: today, DueTo: today.AddDays(days), Limit: MaxItems})
	if err != nil {
		return Reply{}, err
	}
	return b.milestoneReply(ctx, fmt.Sprintf("未来 %d 天内到期的节点（共 %d 个）", days, total),
		fmt.Sprintf("%s 至 %s 之间没有未完成的到期节点。", today, today.AddDays(days)), items, total, today)
}

func (b *Bot) overdueCmd(ctx context.Context, req Request, args []string) (Reply, error) {
	if len(args) > 0 {
		return Reply{}, storage.Errorf(storage.EINVALID, "overdue 不带参数。")
	}
	today := b.today(req.Now)
	items, total, err := b.Store.OpenMilestones(ctx, storage.MilestoneFilter{DueTo: today.AddDays(-1), Limit: MaxItems})
	if err != nil {
		return Reply{}, err
	}
	return b.milestoneReply(ctx, fmt.Sprintf("已逾期未完成的节点（共 %d 个）", total), "没有逾期节点。", items, total, today)
}

// milestoneReply lists milestones under title, or says empty when there
// are none.
func (b *Bot) milestoneReply(ctx context.Context, title, empty string, items []storage.MilestoneItem, total int, today storage.Date) (Reply, error) {
	r := Reply{Title: title, AsOf: today}
	if total == 0 {
		r.Sections = []Section{{Text: empty}}
		return r, nil
	}
	ss, rest, err := b.listSections(ctx, "", items, total-len(items), today)
	if err != nil {
		return Reply{}, err
	}
	r.Sections = ss
	if rest > 0 {
		r.Footnotes = append(r.Footnotes, fmt.Sprintf("另有 %d 项未列出（各清单合计）。", rest))
	}
	return r, nil
}

// listSections lists milestones (items, more not shown) a section per list
// when there are several, in the order the lists first appear, headed by
// heading and the list's name; one section under heading otherwise. The
// items not shown may be any list's: with several lists they are not
// counted in a section but returned (rest), for the caller to count once
// for all.
func (b *Bot) listSections(ctx context.Context, heading string, items []storage.MilestoneItem, more int, today storage.Date) (out []Section, rest int, err error) {
	groups, names, err := b.byList(ctx, items)
	if err != nil {
		return nil, 0, err
	}
	for _, g := range groups {
		s, err := b.milestoneSection(ctx, g, len(g), today)
		if err != nil {
			return nil, 0, err
		}
		switch name := names[g[0].ListID]; {
		case name == "":
			s.Heading = heading
		case heading == "":
			s.Heading = name
		default:
			s.Heading = heading + "（" + name + "）"
		}
		out = append(out, s)
	}
	if len(out) == 1 {
		out[0].More = more
		return out, 0, nil
	}
	return out, more, nil
}

// byList groups items by their task's list, in the order the lists first
// appear (the items' own order kept within each), with the lists' names;
// one group and no names when the database holds one list.
func (b *Bot) byList(ctx context.Context, items []storage.MilestoneItem) ([][]storage.MilestoneItem, map[uint]string, error) {
	names, err := b.Store.ListNames(ctx)
	if err != nil || names == nil {
		return [][]storage.MilestoneItem{items}, nil, err
	}
	var groups [][]storage.MilestoneItem
	at := map[uint]int{}
	for _, it := range items {
		i, ok := at[it.ListID]
		if !ok {
			i = len(groups)
			at[it.ListID] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], it)
	}
	return groups, names, nil
}

// milestoneSection lists milestones with their task, status and units.
func (b *Bot) milestoneSection(ctx context.Context, items []storage.MilestoneItem, total int, today storage.Date) (Section, error) {
	ids := make([]uint, len(items))
	for i, it := range items {
		ids[i] = it.TaskID
	}
	units, err := b.Store.TaskUnitNames(ctx, ids)
	if err != nil {
		return Section{}, err
	}
	mids := make([]uint, len(items))
	for i, it := range items {
		mids[i] = it.ID
	}
	shares, err := b.Store.MilestoneShares(ctx, mids)
	if err != nil {
		return Section{}, err
	}
	s := Section{More: total - len(items)}
	for _, it := range items {
		text := fmt.Sprintf("%s %s · %s %s 节点%d：%s", it.Due, DaysLabel(it.Due, today), it.Code, clip(it.Title, 20), it.Seq, clip(it.Text, 40))
		if c := shares[it.ID]; c != nil && c.Total > 0 {
			text += " — " + behindLine(c)
		} else if u := unitsLine(units[it.TaskID]); u != "" {
			text += " — " + u
		}
		s.Items = append(s.Items, Item{Status: DueStatus(it.Due, today), Text: text})
	}
	return s, nil
}

func unitsLine(byRole map[string][]string) string {
	var parts []string
	if l := byRole[storage.RoleLead]; len(l) > 0 {
		parts = append(parts, "牵头："+strings.Join(l, "、"))
	}
	if r := byRole[storage.RoleResponsible]; len(r) > 0 {
		parts = append(parts, "责任："+strings.Join(r, "、"))
	}
	return strings.Join(parts, "；")
}

// MaxSearchResults is how many tasks a search lists.
const MaxSearchResults = 10

func (b *Bot) searchCmd(ctx context.Context, req Request, args []string) (Reply, error) {
	if len(args) == 0 {
		return Reply{}, storage.Errorf(storage.EINVALID, "请给出要搜索的词。")
	}
	words := uniqueWords(args)
	hits, total, err := b.Store.SearchTasks(ctx, words, MaxSearchResults)
	if err != nil {
		return Reply{}, err
	}
	q := strings.Join(words, " ")
	r := Reply{Title: fmt.Sprintf("搜索“%s”：共 %d 项任务", clip(q, 30), total)}
	if total == 0 {
		r.Sections = []Section{{Text: "没有任务同时包含这些词。可以减少关键词，或换一个说法。"}}
		return r, nil
	}
	s := Section{More: total - len(hits)}
	for _, h := range hits {
		text := fmt.Sprintf("%s %s", h.Code, clip(h.Title, 30))
		if h.Snippet != "" && !strings.Contains(h.Title, words[0]) {
			text += " — " + h.Snippet
		}
		s.Items = append(s.Items, Item{Text: text})
	}
	r.Sections = []Section{s}
	if s.More > 0 {
		r.Footnotes = []string{"结果较多，可增加关键词缩小范围。"}
	}
	r.Footnotes = append(r.Footnotes, "查看任务：/task 编号")
	return r, nil
}

func uniqueWords(args []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range args {
		if a = foldWidth(a); !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// maxLeaderPosts is how many matched posts a leader footnote names.
const maxLeaderPosts = 5

func (b *Bot) leaderCmd(ctx context.Context, req Request, args []string) (Reply, error) {
	query := storage.NormalizeName(strings.Join(args, ""))
	if query == "" {
		return b.leaderPosts(ctx)
	}
	today := b.today(req.Now)
	m, err := b.Store.LeaderTasks(ctx, query, MaxItems)
	if err != nil {
		return Reply{}, err
	}
	q := clip(query, 20)
	var title, rule string
	switch m.Rule {
	case storage.LeaderWhole:
		title, rule = fmt.Sprintf("责任领导为“%s”的任务（%d 项）", q, m.Total), "按职务全称匹配"
	case storage.LeaderPrefix:
		title, rule = fmt.Sprintf("责任领导以“%s”开头的任务（%d 项）", q, m.Total), "按职务开头匹配"
	case storage.LeaderContains:
		title, rule = fmt.Sprintf("责任领导含“%s”的任务（%d 项）", q, m.Total), "按包含关系匹配"
	default:
		return Reply{}, storage.Errorf(storage.ENOTFOUND, "没有与“%s”相符的责任领导职务。输入 /leader 查看全部职务。", q)
	}
	r := Reply{Title: title, AsOf: today}
	s := Section{More: m.Total - len(m.Tasks)}
	for i := range m.Tasks {
		s.Items = append(s.Items, summaryItem(&m.Tasks[i], today))
	}
	r.Sections = []Section{s}
	posts := strings.Join(m.Posts[:min(len(m.Posts), maxLeaderPosts)], "、")
	if len(m.Posts) > maxLeaderPosts {
		posts += fmt.Sprintf(" 等 %d 个职务", len(m.Posts))
	}
	r.Footnotes = []string{rule + "：" + posts + "。", "全部职务及任务数：/leader"}
	return r, nil
}

// leaderPosts is a bare `leader`: the posts one can ask about, with
// their task counts.
func (b *Bot) leaderPosts(ctx context.Context) (Reply, error) {
	posts, err := b.Store.LeaderPosts(ctx)
	if err != nil {
		return Reply{}, err
	}
	r := Reply{Title: fmt.Sprintf("责任领导职务一览（共 %d 个）", len(posts))}
	if len(posts) == 0 {
		r.Sections = []Section{{Text: "任务清单中没有责任领导。"}}
		return r, nil
	}
	s := Section{}
	for i, p := range posts {
		if i == MaxItems {
			s.More = len(posts) - MaxItems
			break
		}
		s.Items = append(s.Items, Item{Text: fmt.Sprintf("%s — %d 项任务", p.Post, p.Tasks)})
	}
	r.Sections = []Section{s}
	r.Footnotes = []string{"查看某职务的任务：/leader 职务，如 /leader 市长（先按全称，再按开头，最后按包含匹配）。"}
	return r, nil
}
