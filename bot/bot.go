// Package bot is taskbot's core: a request in, a reply out. It knows the
// store but no transport (no slack-go, no cron, no config): adapters turn
// lines of a terminal or Slack payloads into Requests and render Replies.
package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"taskbot/storage"
)

// Bot answers requests from the store. Loc is the zone days are counted in.
type Bot struct {
	Store *storage.Store
	Loc   *time.Location
	Log   *slog.Logger
	// Clock is real time for outbox bookkeeping (when a message is due,
	// leased, retried); a request's or pass's "as of" moment never is.
	// Tests pin it.
	Clock func() time.Time
}

// New returns a Bot over store that counts days in loc.
func New(store *storage.Store, loc *time.Location, log *slog.Logger) *Bot {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bot{Store: store, Loc: loc, Log: log, Clock: time.Now}
}

// Request is one command from a user.
type Request struct {
	// Text is the command line, e.g. "task 6"; a leading "/" is optional.
	Text string
	// User identifies who asks (a Slack user ID, or the console's --as).
	User string
	// Now is the moment the request is answered "as of".
	Now time.Time
}

// command is one entry of the table that drives parsing, help and usage
// errors, so the three cannot drift apart.
type command struct {
	name    string
	aliases []string
	args    string // argument synopsis for the usage line
	summary string
	example string
	run     func(b *Bot, ctx context.Context, req Request, args []string) (Reply, error)
}

func (c *command) usage() string {
	u := "/" + c.name
	if c.args != "" {
		u += " " + c.args
	}
	return u
}

var commands []*command

func init() {
	// Assigned in init because help refers to the table itself.
	commands = []*command{
		{name: "task", aliases: []string{"任务", "t"}, args: "编号 [history|销号 [节点]|退回 理由|批准延期 节点|驳回延期 节点 理由]", summary: "查看任务卡片：问题、目标、措施、责任单位、时限、各节点状态和最新进展；history 列出全部记录；销号、退回、批准延期、驳回延期仅限督查室",
			example: "/task 6、/task 个性1、/task 6 history、/task 6 销号、/task 6 退回 佐证不足、/task 5 批准延期 2", run: (*Bot).taskCmd},
		{name: "unit", aliases: []string{"单位", "u"}, args: "单位名称 | bind 单位 @用户 | unbind 单位 @用户 | members 单位", summary: "某单位牵头和负责的任务，各附下一节点及状态（可用简称，如“环境局”“城管”）；bind/unbind/members 管理单位成员（仅限督查室）",
			example: "/unit 市生态环境局、/unit 长葛市、/unit bind 市城管局 @张三、/unit members 城管", run: (*Bot).unitCmd},
		{name: "units", aliases: []string{"单位列表"}, summary: "全部单位：牵头任务数、责任任务数、逾期节点数",
			example: "/units", run: (*Bot).unitsCmd},
		{name: "due", aliases: []string{"到期", "临期"}, args: "[天数]", summary: "未来若干天（默认 30 天）内到期的未完成节点，最近的在前",
			example: "/due、/due 7", run: (*Bot).dueCmd},
		{name: "overdue", aliases: []string{"逾期"}, summary: "已逾期未完成的节点，逾期最久的在前",
			example: "/overdue", run: (*Bot).overdueCmd},
		{name: "search", aliases: []string{"搜索", "查找", "s"}, args: "关键词…", summary: "在标题、问题、目标和措施中搜索（多个词须同时出现），最多列 10 项",
			example: "/search 污泥、/search 垃圾 渗滤液", run: (*Bot).searchCmd},
		{name: "leader", aliases: []string{"领导"}, args: "职务", summary: "责任领导包含该职务的任务",
			example: "/leader 常务副市长", run: (*Bot).leaderCmd},
		{name: "progress", aliases: []string{"进展", "报送"}, args: "编号 [@单位] [完成 节点|申请销号 [节点]|申请延期 节点 日期] [百分比] 内容",
			summary: "责任单位成员、责任领导或督查室报送进展：可标记节点完成、申请销号或延期；链接作为佐证保存",
			example: "/progress 6 已完成调查核查 https://…、/progress 5 完成 1 台账已建立、/progress 6 @长葛市 60% 改造中、/progress 5 申请延期 2 2021-12-31 理由", run: (*Bot).progressCmd},
		{name: "help", aliases: []string{"帮助", "h", "?", "？"}, summary: "列出全部命令",
			example: "/help", run: (*Bot).helpCmd},
	}
}

// ReadOnly reports whether a command line only looks things up, so that
// its answer may be posted to a channel or the command run again: false
// for progress, the task decisions (销号, 退回, 延期) and unit bind/unbind.
func ReadOnly(text string) bool {
	fields := splitArgs(text)
	if len(fields) == 0 {
		return false
	}
	cmd, args := lookup(fields[0]), fields[1:]
	if cmd == nil {
		if _, err := ParseTaskRef(fields[0]); err != nil {
			return true // an unknown command changes nothing
		}
		cmd, args = lookup("task"), fields
	}
	switch cmd.name {
	case "progress":
		return false
	case "task":
		return len(args) <= 1 || strings.EqualFold(args[1], "history") || args[1] == "历史"
	case "unit":
		sub := ""
		if len(args) > 0 {
			sub = unitSubcommand(args[0])
		}
		return sub == "" || sub == "members"
	}
	return true
}

// CommandName returns the canonical name of the command a word names
// ("任务" → "task"), or "".
func CommandName(word string) string {
	if c := lookup(word); c != nil {
		return c.name
	}
	return ""
}

// IsCommand reports whether name (case-insensitive) is a command or alias,
// so adapters can tell "/task due 30" (a command) from "/task 6" (a task).
func IsCommand(name string) bool { return lookup(name) != nil }

func lookup(name string) *command {
	name = strings.ToLower(name)
	for _, c := range commands {
		if c.name == name {
			return c
		}
		for _, a := range c.aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

// Handle answers one request. It never panics on user input and always
// returns a reply: bad input gets a Chinese message with the usage.
func (b *Bot) Handle(ctx context.Context, req Request) (reply Reply) {
	defer func() {
		if p := recover(); p != nil {
			b.Log.Error("panic handling request", "text", req.Text, "panic", p)
			reply = b.errorReply(storage.Internal(fmt.Errorf("panic: %v", p)), nil)
		}
	}()
	fields := splitArgs(req.Text)
	if len(fields) == 0 {
		return b.errorReply(storage.Errorf(storage.EINVALID, "请输入命令。"), nil)
	}
	name := fields[0]
	cmd := lookup(name)
	args := fields[1:]
	if cmd == nil {
		if _, err := ParseTaskRef(name); err == nil {
			// "@taskbot 6" asks for task 6.
			cmd, args = lookup("task"), fields
		} else {
			return b.errorReply(storage.Errorf(storage.EINVALID, "不认识的命令“%s”。", clip(name, 20)), nil)
		}
	}
	r, err := cmd.run(b, ctx, req, args)
	if err != nil {
		return b.errorReply(err, cmd)
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

// errorReply is the one place an error becomes what the user reads. Internal
// errors show a generic message; their detail goes to the log only.
func (b *Bot) errorReply(err error, cmd *command) Reply {
	if storage.ErrorCode(err) == storage.EINTERNAL {
		b.Log.Error("request failed", "err", err)
	}
	r := Reply{Title: "⚠️ " + storage.ErrorMessage(err), Error: true}
	switch {
	case storage.ErrorCode(err) == storage.EINTERNAL:
	case cmd != nil:
		r.Footnotes = append(r.Footnotes, "用法："+cmd.usage()+"  例如："+cmd.example)
	default:
		r.Footnotes = append(r.Footnotes, "可用命令："+commandNames()+"。输入 /help 查看说明。")
	}
	return r
}

func commandNames() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = "/" + c.name
	}
	return strings.Join(names, " ")
}

func (b *Bot) helpCmd(ctx context.Context, req Request, args []string) (Reply, error) {
	r := Reply{Title: "taskbot 命令一览（督察整改任务清单）"}
	s := Section{}
	for _, c := range commands {
		line := fmt.Sprintf("%s — %s", c.usage(), c.summary)
		if len(c.aliases) > 0 {
			line += "（也可用：" + strings.Join(c.aliases, "、") + "）"
		}
		line += "\n    例：" + c.example
		s.Items = append(s.Items, Item{Text: line})
	}
	r.Sections = append(r.Sections, s)
	r.Footnotes = []string{"命令前的“/”可省略；数字可用全角。"}
	return r, nil
}

// today is the calendar day of now in the bot's zone.
func (b *Bot) today(now time.Time) storage.Date {
	return storage.DateOf(now.In(b.Loc))
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
