package bot

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"taskbot/storage"
)

// who is the person behind a request and what they may do.
type who struct {
	person *storage.Person // nil: not in the directory
	actor  storage.Actor
	roles  storage.Roles
}

// whoIs resolves a request's user (a Slack ID, or the console's --as: an
// ID, an email or a configured name) to the directory. Someone unknown has
// no roles but keeps their ID for the record.
func (b *Bot) whoIs(ctx context.Context, user string) (who, error) {
	ref := ParsePerson(user)
	key := ref.SlackID
	if key == "" {
		key = ref.Email
	}
	if key == "" {
		key = ref.Name
	}
	w := who{actor: storage.Actor{ID: strings.TrimSpace(user)}}
	p, err := b.Store.FindPerson(ctx, key)
	switch storage.ErrorCode(err) {
	case "":
		w.person = p
		w.actor = storage.Actor{ID: p.Key(), Name: p.Name}
	case storage.ENOTFOUND, storage.EINVALID:
	default:
		return who{}, err
	}
	w.roles, err = b.Store.PersonRoles(ctx, w.person)
	return w, err
}

// unitChoice is a unit a person may report for on a task.
type unitChoice struct {
	ID   uint
	Name string
	Via  string // the collective the task names, "" when named directly
}

// grant says what a person may do on a task.
type grant struct {
	units      []unitChoice // units they may report for
	leader     bool         // they hold one of its leader posts
	supervisor bool
}

func (g grant) mayReport() bool { return len(g.units) > 0 || g.leader || g.supervisor }

// grantOn works out what w may do on t: report for the task's units they
// belong to, directly or as a member of a collective the task names.
func (b *Bot) grantOn(ctx context.Context, w who, t *storage.Task) (grant, error) {
	g := grant{supervisor: w.roles.Supervisor}
	for _, l := range t.Leaders {
		if w.roles.Posts[storage.NormalizeName(l.Post)] {
			g.leader = true
		}
	}
	if len(w.roles.Units) == 0 {
		return g, nil
	}
	members, _, err := b.Store.Collectives(ctx)
	if err != nil {
		return g, err
	}
	byName := map[string]uint{}
	for id, name := range w.roles.Units {
		byName[name] = id
	}
	seen := map[uint]bool{}
	add := func(c unitChoice) {
		if !seen[c.ID] {
			seen[c.ID] = true
			g.units = append(g.units, c)
		}
	}
	for _, tu := range t.Units {
		if _, ok := w.roles.Units[tu.UnitID]; ok {
			add(unitChoice{ID: tu.UnitID, Name: tu.Unit.Name})
		}
		for _, m := range members[tu.Unit.Name] {
			if id, ok := byName[m]; ok {
				add(unitChoice{ID: id, Name: m, Via: tu.Unit.Name})
			}
		}
	}
	return g, nil
}

// taskUnitChoices lists every unit that may report on t: its units and the
// members of the collectives it names, for supervisors and leaders who
// report on a unit's behalf.
func (b *Bot) taskUnitChoices(ctx context.Context, t *storage.Task) (map[string]unitChoice, error) {
	members, _, err := b.Store.Collectives(ctx)
	if err != nil {
		return nil, err
	}
	names, err := b.Store.UnitNames(ctx)
	if err != nil {
		return nil, err
	}
	ids := map[string]uint{}
	for _, n := range names {
		if n.Name == n.Unit {
			ids[n.Unit] = n.UnitID
		}
	}
	out := map[string]unitChoice{}
	for _, tu := range t.Units {
		out[tu.Unit.Name] = unitChoice{ID: tu.UnitID, Name: tu.Unit.Name}
		for _, m := range members[tu.Unit.Name] {
			if _, ok := out[m]; !ok {
				out[m] = unitChoice{ID: ids[m], Name: m, Via: tu.Unit.Name}
			}
		}
	}
	return out, nil
}

// whoMayReport is the refusal's list of who may report on t.
func whoMayReport(t *storage.Task) string {
	var units []string
	for _, tu := range t.Units {
		units = append(units, tu.Unit.Name)
	}
	units = dedupe(units)
	s := "可报送的是"
	if len(units) > 0 {
		s += " " + strings.Join(units, "、") + " 的成员（集体单位含其成员单位）、"
	}
	if posts := t.LeaderPosts(); len(posts) > 0 {
		s += "责任领导（" + strings.Join(posts, "、") + "）、"
	}
	return s + "督查室。"
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	out := xs[:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// onlySupervisors refuses an action reserved to the inspection office,
// naming who may take it.
func (b *Bot) onlySupervisors(ctx context.Context, action string) error {
	ps, err := b.Store.Supervisors(ctx)
	if err != nil {
		return err
	}
	names := make([]string, len(ps))
	for i := range ps {
		names[i] = ps[i].Label()
	}
	who := "督查室"
	if len(names) > 0 {
		who += "（" + strings.Join(names, "、") + "）"
	} else {
		who += "（尚未配置督查室人员，见组织文件 supervisors）"
	}
	return storage.Errorf(storage.EFORBIDDEN, "只有%s可以%s。", who, action)
}

// supervisorNotice addresses a notice to the supervisors. It is built
// after a write has committed, so it cannot fail: when the supervisors
// cannot be read now, the notice is marked for them and they are looked
// up when it is sent (see resolve), retried like any failed send.
func (b *Bot) supervisorNotice(ctx context.Context, r Reply) Notice {
	n, err := b.toSupervisors(ctx, Notice{To: "督查室", Reply: r})
	if err != nil {
		b.Log.Warn("supervisors not read; looked up again when the notice is sent", "err", err)
		return Notice{To: "督查室", Supervisors: true, Reply: r}
	}
	return n
}

// toSupervisors addresses n to every supervisor with a Slack ID.
func (b *Bot) toSupervisors(ctx context.Context, n Notice) (Notice, error) {
	ps, err := b.Store.Supervisors(ctx)
	if err != nil {
		return n, err
	}
	n.Supervisors = false
	var names []string
	for i := range ps {
		names = append(names, ps[i].Label())
		if ps[i].SlackID != "" {
			n.UserIDs = append(n.UserIDs, ps[i].SlackID)
		}
	}
	if len(names) > 0 {
		n.To += "（" + strings.Join(names, "、") + "）"
	}
	return n, nil
}

// unitAdminVerb runs `unit bind|unbind|members …` (the command table
// reserves them to supervisors).
func (b *Bot) unitAdminVerb(ctx context.Context, c verbCall) (Reply, error) {
	sub, args, w := c.verb.name, c.args, c.who
	if len(args) == 0 {
		return Reply{}, storage.Errorf(storage.EINVALID, "请给出单位名称。用法：/unit %s 市城管局%s", sub, map[bool]string{true: "", false: " @用户"}[sub == "members"])
	}
	u, err := b.findUnit(ctx, args[0])
	if err != nil {
		return Reply{}, err
	}
	if sub == "members" {
		if len(args) > 1 {
			return Reply{}, storage.Errorf(storage.EINVALID, "多余的参数“%s”。", clip(strings.Join(args[1:], " "), 20))
		}
		return b.unitMembers(ctx, u)
	}
	if len(args) != 2 {
		return Reply{}, storage.Errorf(storage.EINVALID, "请给出一位用户（Slack 提及、用户 ID 或邮箱）。用法：/unit %s %s @用户", sub, u.Unit)
	}
	ref := ParsePerson(args[1])
	if sub == "bind" {
		if ref.SlackID == "" && ref.Email == "" {
			p, err := b.Store.FindPerson(ctx, ref.Name)
			if err != nil {
				return Reply{}, storage.Errorf(storage.EINVALID, "“%s”不是已知用户；请用 Slack 提及（@用户）、用户 ID 或邮箱。", clip(args[1], 30))
			}
			ref = storage.PersonRef{SlackID: p.SlackID, Email: p.Email}
		}
		p, err := b.Store.Bind(ctx, u.UnitID, ref, w.actor)
		if err != nil {
			return Reply{}, err
		}
		return Reply{Title: fmt.Sprintf("✅ 已保存：%s 成为 %s 的成员，可报送该单位任务的进展。", personLabel(p), u.Unit)}, nil
	}
	key := ref.SlackID
	if key == "" {
		key = ref.Email
	}
	if key == "" {
		key = ref.Name
	}
	p, err := b.Store.FindPerson(ctx, key)
	if err != nil {
		return Reply{}, err
	}
	src, err := b.Store.Unbind(ctx, u.UnitID, p, w.actor)
	if err != nil {
		return Reply{}, err
	}
	r := Reply{Title: fmt.Sprintf("✅ 已保存：%s 不再是 %s 的成员。", personLabel(p), u.Unit)}
	if src == storage.SourceConfig {
		r.Footnotes = []string{"该绑定来自组织文件（TASKBOT_CONFIG）：请同时从文件中删除，否则下次启动时会恢复。"}
	}
	return r, nil
}

func (b *Bot) unitMembers(ctx context.Context, u storage.UnitName) (Reply, error) {
	ms, err := b.Store.UnitMembers(ctx, u.UnitID)
	if err != nil {
		return Reply{}, err
	}
	chans, err := b.Store.UnitChannels(ctx)
	if err != nil {
		return Reply{}, err
	}
	r := Reply{Title: fmt.Sprintf("【%s】成员（%d 人）", u.Unit, len(ms))}
	s := Section{}
	if c := chans[u.UnitID]; c != "" {
		s.Fields = append(s.Fields, Field{"频道", "<#" + c + ">"})
	}
	for i := range ms {
		src := "组织文件"
		if ms[i].Source == storage.SourceChat {
			src = "聊天绑定"
		}
		s.Items = append(s.Items, Item{Text: fmt.Sprintf("%s（%s）", personLabel(&ms[i].Person), src)})
	}
	if len(ms) == 0 {
		s.Text = "尚无成员。绑定：/unit bind " + u.Unit + " @用户"
	}
	members, _, err := b.Store.Collectives(ctx)
	if err != nil {
		return Reply{}, err
	}
	if m := members[u.Unit]; len(m) > 0 {
		s.Fields = append(s.Fields, Field{"成员单位", strings.Join(m, "、") + "（其成员亦可报送本单位的任务）"})
	}
	r.Sections = []Section{s}
	return r, nil
}

// personLabel shows a person with their Slack ID or email.
func personLabel(p *storage.Person) string {
	var ids []string
	for _, v := range []string{p.SlackID, p.Email} {
		if v != "" {
			ids = append(ids, v)
		}
	}
	if p.Name == "" {
		return strings.Join(ids, " ")
	}
	if len(ids) == 0 {
		return p.Name
	}
	return p.Name + " " + strings.Join(ids, " ")
}

func sortedChoices(cs []unitChoice) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	sort.Strings(out)
	return out
}

// ResolveEmails looks up, once, the chat ID of every person the directory
// knows only by email, through lookup, and stores it. People lookup does
// not find are logged and left for the next start. It returns an error
// only when the directory cannot be read.
func (b *Bot) ResolveEmails(ctx context.Context, lookup func(ctx context.Context, email string) (string, error)) error {
	ps, err := b.Store.UnresolvedEmails(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		id, err := lookup(ctx, p.Email)
		if err != nil {
			b.Log.Warn("email not found in Slack", "person", p.Label(), "err", err)
			continue
		}
		if err := b.Store.SetSlackID(ctx, p.ID, id); err != nil {
			b.Log.Warn("slack id not stored", "person", p.Label(), "err", err)
		}
	}
	return nil
}
