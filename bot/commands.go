package bot

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"taskbot/storage"
)

// access says who may use a command or a verb.
type access int

const (
	anyone access = iota
	// reporters are the members of a task's units, its leaders and the
	// supervisors; checked against the task (see grantOn).
	reporters
	supervisors
)

func (a access) label() string {
	switch a {
	case reporters:
		return "责任单位成员、责任领导、督查室"
	case supervisors:
		return "仅限督查室"
	}
	return ""
}

// command is one entry of the command table. The table drives parsing,
// help, usage lines, authorization and the read-only check, so that they
// cannot drift apart.
type command struct {
	name    string
	aliases []string
	// args is the argument synopsis of the usage line; "%v" stands for
	// the verbs, joined by verbSep.
	args    string
	verbSep string
	summary string
	example string
	who     access
	// readOnly: the command (without a verb) only looks things up, so its
	// answer may be shared to a channel or the command run again.
	readOnly bool
	verbs    []*verb
	// verbAt is the index in the arguments where a verb stands; freeAt
	// says that another word there is an argument (a unit's name), not an
	// unknown verb.
	verbAt int
	freeAt bool
	run    func(b *Bot, ctx context.Context, req Request, args []string) (Reply, error)
}

// verb is a sub-command: `task 6 销号`, `unit bind …`, `progress 6 完成 1 …`.
type verb struct {
	name    string
	aliases []string
	args    string
	summary string
	// action is what a refusal says the person may not do ("销号").
	action   string
	who      access
	readOnly bool
	// kind is the progress entry a progress verb records.
	kind string
	run  func(b *Bot, ctx context.Context, c verbCall) (Reply, error)
}

// verbCall is one use of a verb.
type verbCall struct {
	verb  *verb
	req   Request
	task  *storage.Task // task verbs
	typed string        // the verb as typed
	args  []string      // the words after the verb
	who   who           // resolved for verbs that are not for anyone
}

// newCommands builds the command table.
func newCommands() []*command {
	return []*command{
		{name: "task", aliases: []string{"任务", "t"}, args: "编号 [%v]", verbSep: "|",
			summary:  "查看任务卡片：问题、目标、措施、责任单位、时限、各节点状态（各单位完成情况）和最新进展；history 列出全部记录，分解 列出各单位分工；确认、退回、不涉及、销号、延期审批、重新打开仅限督查室。编号指默认清单的任务；其他清单的任务写作“清单名/编号”或“清单名 编号”；只写清单名则列出该清单的全部任务",
			example:  "/task 6、/task 个性1、/task 省督察二轮 共性6、/task 省督察二轮、/task 省督察二轮/共性6 history、/task 6 history、/task 7 分解、/task 7 确认 1 长葛市、/task 7 退回 1 长葛市 佐证不足、/task 6 销号、/task 5 批准延期 2",
			readOnly: true, verbs: taskVerbs(), verbAt: 1, run: (*Bot).taskCmd},
		{name: "unit", aliases: []string{"单位", "u"}, args: "单位名称 | %v", verbSep: " | ",
			summary:  "某单位牵头和负责的任务，各附下一节点及状态（可用简称，如“环境局”“城管”）；bind/unbind/members 管理单位成员（仅限督查室）",
			example:  "/unit 市生态环境局、/unit 长葛市、/unit bind 市城管局 @张三、/unit members 城管",
			readOnly: true, verbs: unitVerbs(), verbAt: 0, freeAt: true, run: (*Bot).unitCmd},
		{name: "units", aliases: []string{"单位列表"}, args: "[清单名称]", summary: "全部单位：牵头任务数、责任任务数、逾期节点数；有多个清单时按清单分列，可只看一个清单",
			example: "/units、/units 省督察二轮", readOnly: true, run: (*Bot).unitsCmd},
		{name: "due", aliases: []string{"到期", "临期"}, args: "[天数]", summary: "未来若干天（默认 30 天）内到期的未完成节点，最近的在前",
			example: "/due、/due 7", readOnly: true, run: (*Bot).dueCmd},
		{name: "overdue", aliases: []string{"逾期"}, summary: "已逾期未完成的节点，逾期最久的在前",
			example: "/overdue", readOnly: true, run: (*Bot).overdueCmd},
		{name: "search", aliases: []string{"搜索", "查找", "s"}, args: "关键词…", summary: "在标题、问题、目标和措施中搜索（多个词须同时出现），最多列 10 项",
			example: "/search 污泥、/search 垃圾 渗滤液", readOnly: true, run: (*Bot).searchCmd},
		{name: "leader", aliases: []string{"领导"}, args: "[职务]",
			summary: "某责任领导职务的任务：先按职务全称、再按开头、最后按包含匹配（“市长”不含副市长）；不带参数列出全部职务及任务数",
			example: "/leader、/leader 市长、/leader 常务副市长", readOnly: true, run: (*Bot).leaderCmd},
		{name: "progress", aliases: []string{"进展", "报送"}, args: "编号 [@单位] [%v] [百分比] 内容", verbSep: "|",
			summary: "责任单位成员、责任领导或督查室报送进展：可标记节点完成、申请销号或延期；链接作为佐证保存",
			example: "/progress 6 已完成调查核查 https://…、/progress 5 完成 1 台账已建立、/progress 6 @长葛市 60% 改造中、/progress 5 申请延期 2 2021-12-31 理由",
			who:     reporters, verbs: progressVerbs(), run: (*Bot).progressCmd},
		{name: "stats", aliases: []string{"统计", "排名"}, args: "[清单名称|单位|集体单位|编号]",
			summary: "整改统计：任务和节点总体情况（有多个清单时逐个清单列出）、各单位分工完成率和排名（逾期少者在前）；可查看一个清单、单个单位、集体单位成员排名或单个任务",
			example: "/stats、/stats 省督察二轮、/stats 长葛市、/stats 各县（市、区）、/stats 7", readOnly: true, run: (*Bot).statsCmd},
		{name: "export", aliases: []string{"导出", "台账"}, summary: "导出 Excel 整改台账（整改台账、单位分解、进展记录、统计四张表），在 Slack 中上传到当前会话",
			example: "/export", readOnly: true, run: (*Bot).exportCmd},
		{name: "pending", aliases: []string{"待办", "待审核"}, summary: "待审核的事项：单位报完成、销号申请、延期申请，最早的在前，附处理命令；督查室看全部，其他人看本单位",
			example: "/pending", readOnly: true, run: (*Bot).pendingCmd},
		{name: "resend", aliases: []string{"重发"}, summary: "督查室：把多次发送失败、已放弃的消息重新排队发送（日报中会提示此类消息的数量）",
			example: "/resend", who: supervisors, run: (*Bot).resendCmd},
		{name: "help", aliases: []string{"帮助", "h", "?", "？"}, args: "[命令]", summary: "列出全部命令；/help 命令 列出该命令的子命令",
			example: "/help、/help task", readOnly: true, run: (*Bot).helpCmd},
	}
}

// taskVerbs are the verbs of `task N …`.
func taskVerbs() []*verb {
	return []*verb{
		{name: "history", aliases: []string{"历史"}, summary: "全部进展和变更记录", readOnly: true, run: (*Bot).historyVerb},
		{name: "全文", aliases: []string{"full"}, summary: "任务全文：问题、整改目标、整改措施和全部节点（Slack 中任务卡片为简版）", readOnly: true, run: (*Bot).fullVerb},
		{name: "分解", aliases: []string{"units", "单位"}, summary: "各单位在各节点的分工、状态、佐证数和最新进展", readOnly: true, run: (*Bot).breakdownVerb},
		{name: "确认", aliases: []string{"confirm"}, args: "节点 [单位]", summary: "确认单位报完成的部分；不写单位则确认该节点全部待确认的单位",
			action: "确认单位完成情况", who: supervisors, run: (*Bot).confirmVerb},
		{name: "销号", aliases: []string{"close"}, args: "[节点]", summary: "销号整个任务，或给出节点编号只将该节点标记完成",
			action: "销号", who: supervisors, run: (*Bot).closeVerb},
		{name: "退回", aliases: []string{"sendback"}, args: "[节点 单位] 理由", summary: "退回单位的完成报告（写节点和单位），或退回销号申请",
			action: "退回", who: supervisors, run: (*Bot).sendBackVerb},
		{name: "不涉及", aliases: []string{"na"}, args: "[节点] 单位 理由", summary: "认定单位不涉及该任务（或某个节点）",
			action: "认定单位不涉及", who: supervisors, run: (*Bot).notConcernedVerb},
		{name: "批准延期", aliases: []string{"approve"}, args: "节点", summary: "批准该节点的延期申请",
			action: "批准延期", who: supervisors, run: (*Bot).approveVerb},
		{name: "驳回延期", aliases: []string{"reject"}, args: "节点 理由", summary: "驳回该节点的延期申请",
			action: "驳回延期", who: supervisors, run: (*Bot).rejectVerb},
		{name: "重新打开", aliases: []string{"reopen"}, args: "理由", summary: "撤销误销号，恢复提醒和未完成清单",
			action: "重新打开任务", who: supervisors, run: (*Bot).reopenVerb},
	}
}

// unitVerbs are the verbs of `unit …`.
func unitVerbs() []*verb {
	return []*verb{
		{name: "bind", aliases: []string{"绑定"}, args: "单位 @用户", summary: "把用户绑定为单位成员，可报送该单位任务的进展",
			action: "绑定单位成员", who: supervisors, run: (*Bot).unitAdminVerb},
		{name: "unbind", aliases: []string{"解绑", "解除"}, args: "单位 @用户", summary: "解除用户与单位的绑定",
			action: "解除单位成员", who: supervisors, run: (*Bot).unitAdminVerb},
		{name: "members", aliases: []string{"成员"}, args: "单位", summary: "列出单位成员和频道",
			action: "查看单位成员", who: supervisors, readOnly: true, run: (*Bot).unitAdminVerb},
	}
}

// progressVerbs are the keywords of `progress N …` that make an entry a
// milestone's completion or a request.
func progressVerbs() []*verb {
	return []*verb{
		{name: "完成", aliases: []string{"done"}, args: "节点", summary: "标记节点完成", who: reporters, kind: storage.KindDone},
		{name: "申请销号", aliases: []string{"销号申请", "close"}, args: "[节点]", summary: "申请销号整个任务或某个节点，附佐证",
			who: reporters, kind: storage.KindCloseRequest},
		{name: "申请延期", aliases: []string{"延期申请", "extend"}, args: "节点 日期", summary: "申请把节点延期到某日，写明理由",
			who: reporters, kind: storage.KindExtensionRequest},
	}
}

// is reports whether word (case-insensitive) names v.
func (v *verb) is(word string) bool { return names(v.name, v.aliases, word) }

// names reports whether word (case-insensitive) is name or one of aliases.
func names(name string, aliases []string, word string) bool {
	word = strings.ToLower(word)
	return name == word || slices.Contains(aliases, word)
}

// display is the verb as help lists it: the name with its Chinese alias
// when the name is ASCII, e.g. "history（历史）".
func (v *verb) display() string {
	if v.name[0] < 0x80 {
		for _, a := range v.aliases {
			if a[0] >= 0x80 {
				return v.name + "（" + a + "）"
			}
		}
	}
	return v.name
}

func (v *verb) synopsis() string {
	if v.args == "" {
		return v.name
	}
	return v.name + " " + v.args
}

// verb returns the command's verb that word names, or nil.
func (c *command) verb(word string) *verb {
	for _, v := range c.verbs {
		if v.is(word) {
			return v
		}
	}
	return nil
}

// verbNames lists the verbs for a message: "history（历史）、销号、…".
func (c *command) verbNames() string {
	names := make([]string, len(c.verbs))
	for i, v := range c.verbs {
		names[i] = v.display()
	}
	return strings.Join(names, "、")
}

func (c *command) usage() string {
	u := "/" + c.name
	if c.args == "" {
		return u
	}
	args := c.args
	if strings.Contains(args, "%v") {
		vs := make([]string, len(c.verbs))
		for i, v := range c.verbs {
			vs[i] = v.synopsis()
		}
		args = strings.Replace(args, "%v", strings.Join(vs, c.verbSep), 1)
	}
	return u + " " + args
}

// readOnlyWith reports whether the command with these arguments only
// looks things up. An unknown verb counts as writing: it is refused, and
// a share button must never re-run what might be a misspelt decision.
func (c *command) readOnlyWith(args []string) bool {
	if !c.readOnly {
		return false
	}
	if len(c.verbs) == 0 || len(args) <= c.verbAt {
		return true
	}
	if v := c.verb(args[c.verbAt]); v != nil {
		return v.readOnly
	}
	return c.freeAt
}

// lookup returns the command that name (case-insensitive) names, or nil.
func (b *Bot) lookup(name string) *command {
	for _, c := range b.commands {
		if names(c.name, c.aliases, name) {
			return c
		}
	}
	return nil
}

// resolve finds the command of a split line and its arguments: a line
// that starts with a task reference ("@taskbot 6") asks for that task. It
// returns a nil command for an unknown word.
//
// A task of a named list may be written "省督察二轮 共性6" as well as
// "省督察二轮/共性6" after a command that takes a task; alone, only the
// latter ("长葛市 2" stays an unknown command, not a missing list).
func (b *Bot) resolve(fields []string) (*command, []string) {
	if c := b.lookup(fields[0]); c != nil {
		args := fields[1:]
		switch c.name {
		case "task", "progress", "stats":
			args = joinListRef(args)
		}
		return c, args
	}
	if _, err := ParseTaskRef(fields[0]); err == nil {
		return b.lookup("task"), fields
	}
	return nil, nil
}

// codeLike matches a task code as lists write them: a short prefix and a
// number (共性6, 任务12, c3, 6).
var codeLike = regexp.MustCompile(`^[\p{Han}A-Za-z#]{0,6}[0-9０-９]+$`)

// joinListRef joins a list's name and the task reference after it
// ("省督察二轮", "共性6") into one ("省督察二轮/共性6"): a first word that
// is no task reference, followed by one that reads as a code.
func joinListRef(args []string) []string {
	if len(args) < 2 || strings.ContainsAny(args[0], "/／") || !codeLike.MatchString(args[1]) {
		return args
	}
	if _, err := ParseTaskRef(args[0]); err == nil {
		return args
	}
	return append([]string{args[0] + "/" + args[1]}, args[2:]...)
}

// ReadOnly reports whether a command line only looks things up, so that
// its answer may be posted to a channel or the command run again: false
// for progress, the task decisions and unit bind/unbind, as the command
// table says. An unknown command changes nothing.
func (b *Bot) ReadOnly(text string) bool {
	fields := splitArgs(text)
	if len(fields) == 0 {
		return false
	}
	c, args := b.resolve(fields)
	if c == nil {
		return true
	}
	return c.readOnlyWith(args)
}

// CommandName returns the canonical name of the command a word names
// ("任务" → "task"), or "".
func (b *Bot) CommandName(word string) string {
	if c := b.lookup(word); c != nil {
		return c.name
	}
	return ""
}

// IsCommand reports whether name (case-insensitive) is a command or alias,
// so adapters can tell "/task due 30" (a command) from "/task 6" (a task).
func (b *Bot) IsCommand(name string) bool { return b.lookup(name) != nil }

// authorize resolves who runs v and refuses them when v is reserved to
// supervisors, naming who may.
func (b *Bot) authorize(ctx context.Context, user string, v *verb) (who, error) {
	w, err := b.whoIs(ctx, user)
	if err != nil {
		return who{}, err
	}
	if v.who == supervisors && !w.roles.Supervisor {
		return who{}, b.onlySupervisors(ctx, v.action)
	}
	return w, nil
}

func (b *Bot) commandNames() string {
	names := make([]string, len(b.commands))
	for i, c := range b.commands {
		names[i] = "/" + c.name
	}
	return strings.Join(names, " ")
}

func (b *Bot) helpCmd(ctx context.Context, req Request, args []string) (Reply, error) {
	if len(args) > 1 {
		return Reply{}, storage.Errorf(storage.EINVALID, "一次查看一个命令，如 /help task。")
	}
	if len(args) == 1 {
		c := b.lookup(strings.TrimLeft(args[0], "/／"))
		if c == nil {
			return Reply{}, storage.Errorf(storage.EINVALID, "不认识的命令“%s”。可用命令：%s。", clip(args[0], 20), b.commandNames())
		}
		return c.help(), nil
	}
	r := Reply{Title: "taskbot 命令一览（督察整改任务清单）"}
	s := Section{}
	for _, c := range b.commands {
		s.Items = append(s.Items, Item{Text: c.line()})
	}
	r.Sections = append(r.Sections, s)
	r.Footnotes = []string{"命令前的“/”可省略；数字可用全角。查看子命令：/help task、/help unit、/help progress。"}
	return r, nil
}

// line is the command's entry in the help list.
func (c *command) line() string {
	line := fmt.Sprintf("%s — %s", c.usage(), c.summary)
	if len(c.aliases) > 0 {
		line += "（也可用：" + strings.Join(c.aliases, "、") + "）"
	}
	return line + "\n    例：" + c.example
}

// help is `help NAME`: the command and each of its verbs.
func (c *command) help() Reply {
	r := Reply{Title: "/" + c.name + " 命令"}
	r.Sections = []Section{{Items: []Item{{Text: c.line()}}}}
	if who := c.who.label(); who != "" {
		r.Sections[0].Fields = []Field{{"可用者", who}}
	}
	if len(c.verbs) > 0 {
		s := Section{Heading: "子命令"}
		for _, v := range c.verbs {
			line := fmt.Sprintf("%s — %s", v.synopsis(), v.summary)
			if len(v.aliases) > 0 {
				line += "（也可用：" + strings.Join(v.aliases, "、") + "）"
			}
			if who := v.who.label(); who != "" && v.who != c.who {
				line += "  · " + who
			}
			s.Items = append(s.Items, Item{Text: line})
		}
		r.Sections = append(r.Sections, s)
	}
	return r
}

// splitArgs splits a command line on spaces (full-width ones included) after
// dropping a leading "/" or "／".
func splitArgs(s string) []string {
	s = strings.TrimFunc(s, unicode.IsSpace)
	s = strings.TrimLeft(s, "/／")
	return strings.FieldsFunc(s, unicode.IsSpace)
}
