package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"taskbot/bot"
	"taskbot/bot/console"
	"taskbot/scheduler"
	"taskbot/seeds"
	"taskbot/storage"
)

// open parses a command's flags (the common ones plus those declared on
// f), then builds the program's parts as of the clock the flags give.
func open(ctx context.Context, e env, f *flags, args []string) (*parts, error) {
	if err := f.parse(args, &e.cfg, 0); err != nil {
		return nil, err
	}
	clock, err := f.clock(e.cfg)
	if err != nil {
		return nil, err
	}
	return build(ctx, e.cfg, clock, quietLog(e), e.stdout)
}

// quietLog logs warnings and errors only: the CLI's own output is the
// answer.
func quietLog(e env) *slog.Logger {
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func runConsole(ctx context.Context, e env, args []string) error {
	f := newFlags(e, "console", "[--at YYYY-MM-DD] [--as USER] [--db PATH] [--tz ZONE] [--seed FILE]", true)
	as := f.String("as", "console", "act as this `user`")
	p, err := open(ctx, e, f, args)
	if err != nil {
		return err
	}
	defer p.Close()
	c := &console.Console{Bot: p.bot, In: e.stdin, Out: e.stdout, User: *as, Interactive: console.IsTerminal(e.stdin), Holder: holder()}
	if p.notifier != nil {
		c.Send = p.notifier.Send // progress typed here reaches the task's thread too
	}
	return c.Run(ctx)
}

func runCheck(e env, args []string) error {
	f := newFlags(e, "check", "[--json] [FILE]", false)
	asJSON := f.Bool("json", false, "print the tasks as a JSON array")
	if err := f.parse(args, &e.cfg, 1); err != nil {
		return err
	}
	doc, name := seeds.Xuchang(), "内置清单"
	if f.NArg() == 1 {
		name = f.Arg(0)
		b, err := readList(name)
		if err != nil {
			return exitError{2, err} // nothing read
		}
		doc = b
	}
	// Exit status: 0 every task read, 1 some read with problems, 2 none.
	d, err := seeds.Parse(doc)
	if err != nil {
		return exitError{2, fmt.Errorf("%s: %w", name, err)}
	}
	if !*asJSON {
		err = seeds.WriteSummary(e.stdout, name, d)
	} else {
		for _, w := range d.Warnings {
			fmt.Fprintf(e.stderr, "提示：%s\n", w)
		}
		for _, w := range d.Problems {
			fmt.Fprintf(e.stderr, "未能读取：%s\n", w)
		}
		for _, w := range d.Notes {
			fmt.Fprintf(e.stderr, "说明：%s\n", w)
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		err = enc.Encode(d.Tasks)
	}
	if err == nil && len(d.Problems) > 0 {
		err = exitError{1, fmt.Errorf("%s：读到 %d 项任务，%d 处未能读取（见上）", name, len(d.Tasks), len(d.Problems))}
	}
	return err
}

func runRemind(ctx context.Context, e env, args []string) error {
	f := newFlags(e, "remind", "[--at YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD] [--dry-run] [--json] [--db PATH] [--tz ZONE] [--seed FILE]", true)
	dry := f.Bool("dry-run", false, "print each message and its recipient; write and send nothing")
	from := f.String("from", "", "with --to and --dry-run: simulate every day of the range as the scheduler would")
	to := f.String("to", "", "last day of the simulated range (inclusive)")
	asJSON := f.Bool("json", false, "with --from/--to: print one JSON object per message")
	f.since = from
	p, err := open(ctx, e, f, args)
	if err != nil {
		return err
	}
	defer p.Close()
	now, policy := p.store.Clock.Now(), p.remindPolicy()
	day := p.store.Clock.Today()
	if *from != "" || *to != "" || *asJSON {
		if !*dry || *from == "" || *to == "" {
			return usageError{"remind: --from and --to go together, with --dry-run (--json optional): a simulation writes and sends nothing"}
		}
		return p.simulate(ctx, *from, *to, *asJSON, e.stdout)
	}
	if *dry {
		plan, err := p.bot.PlanReminders(ctx, now, policy)
		if err != nil {
			return err
		}
		show := bot.PrintSender(e.stdout)
		for _, m := range plan.Messages {
			if err := show(ctx, m.Notice); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintf(e.stdout, "（试运行）截至 %s：%d 条消息；未写入、未发送。\n", day, len(plan.Messages))
		return nil
	}
	o, err := p.bot.RemindAndSend(ctx, now, policy, holder(), p.send)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "截至 %s：新排入 %d 条提醒；本次发送 %d 条（含此前未发出的），失败 %d 条。\n", day, o.Queued, o.Sent.Sent, o.Sent.Failed)
	if o.Held > 0 {
		fmt.Fprintf(e.stdout, "另有 %d 条正由其他进程（如 serve）发送，本次未动。\n", o.Held)
	}
	const retry = "仍在队列中：serve 运行时会自动重试；否则稍后再次运行 taskbot remind 即重试。"
	switch {
	case o.Sent.Failed > 0:
		return storage.Errorf(storage.ECONFLICT, "%d 条提醒发送失败，%s", o.Sent.Failed, retry)
	case o.Waiting > 0:
		return storage.Errorf(storage.ECONFLICT, "%d 条提醒等待重试，%s", o.Waiting, retry)
	}
	return nil
}

func runDigest(ctx context.Context, e env, args []string) error {
	f := newFlags(e, "digest", "[--at YYYY-MM-DD] [--post] [--db PATH] [--tz ZONE] [--seed FILE]", true)
	post := f.Bool("post", false, "also post it (once per working day) to TASKBOT_DIGEST_CHANNEL")
	p, err := open(ctx, e, f, args)
	if err != nil {
		return err
	}
	defer p.Close()
	now, policy, day := p.store.Clock.Now(), p.digestPolicy(), p.store.Clock.Today()
	if !*post {
		r, err := p.bot.Digest(ctx, now, policy)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, strings.TrimRight(r.Text(), "\n"))
		return nil
	}
	if p.api != nil && policy.Channel == "" {
		return storage.Errorf(storage.EINVALID, "digest --post：请设置 TASKBOT_DIGEST_CHANNEL（或 TASKBOT_CHANNEL）。")
	}
	outcome, sent, err := p.bot.PostDigest(ctx, now, policy, holder(), p.send)
	switch {
	case err != nil:
		return err
	case outcome == bot.DigestDayOff:
		fmt.Fprintf(e.stdout, "%s 不是工作日，不发日报。\n", day)
	case outcome == bot.DigestAlreadyQueued:
		fmt.Fprintf(e.stdout, "%s 的日报已排入过，不再重复发送。\n", day)
	}
	if sent.Failed > 0 {
		return storage.Errorf(storage.ECONFLICT, "日报发送失败，仍在队列中，由下一次发送重试。")
	}
	return nil
}

// simulate previews the scheduler's passes over [from, to] (remind --from
// --to --dry-run).
func (p *parts) simulate(ctx context.Context, from, to string, asJSON bool, out io.Writer) error {
	first, err := storage.ParseDate(from)
	if err != nil {
		return usageError{"--from: " + storage.ErrorMessage(err)}
	}
	last, err := storage.ParseDate(to)
	if err != nil {
		return usageError{"--to: " + storage.ErrorMessage(err)}
	}
	if last.Before(first) || first.DaysUntil(last) > 3660 {
		return usageError{"remind: --to must be on or after --from, at most ten years later"}
	}
	loc := p.cfg.Location
	start, end := first.In(loc), last.AddDays(1).In(loc)
	passes, err := scheduler.Times("TASKBOT_REMIND_CRON", p.cfg.Schedule.RemindCron, start, end, loc)
	if err != nil {
		return err
	}
	digests, err := scheduler.Times("TASKBOT_DIGEST_CRON", p.cfg.Schedule.DigestCron, start, end, loc)
	if err != nil {
		return err
	}
	msgs, err := p.bot.SimulateReminders(ctx, passes, digests, p.remindPolicy(), p.digestPolicy())
	if err != nil {
		return err
	}
	return bot.WriteSimulation(out, first, last, msgs, asJSON)
}

func runExport(ctx context.Context, e env, args []string) error {
	f := newFlags(e, "export", "[--at YYYY-MM-DD] [--out FILE.xlsx] [--db PATH] [--tz ZONE] [--seed FILE]", true)
	out := f.String("out", "", "write the ledger to `file` (default 整改台账-YYYY-MM-DD.xlsx in the current directory)")
	p, err := open(ctx, e, f, args)
	if err != nil {
		return err
	}
	defer p.Close()
	up, err := p.bot.Ledger(ctx, p.store.Clock.Now())
	if err != nil {
		return err
	}
	path := *out
	if path == "" {
		path = up.Name
	}
	if err := os.WriteFile(path, up.Data, 0o644); err != nil {
		return storage.Errorf(storage.EINVALID, "无法写入 %s：%v", path, err)
	}
	fmt.Fprintf(e.stdout, "已导出整改台账（截至 %s）：%s（%d KB）\n", p.store.Clock.Today(), path, (len(up.Data)+1023)/1024)
	return nil
}

func runReport(ctx context.Context, e env, args []string) error {
	f := newFlags(e, "report", "[--at YYYY-MM-DD] [--post] [--db PATH] [--tz ZONE] [--seed FILE]", true)
	post := f.Bool("post", false, "also post it (once per week, with the ledger) to TASKBOT_DIGEST_CHANNEL")
	p, err := open(ctx, e, f, args)
	if err != nil {
		return err
	}
	defer p.Close()
	now, policy, day := p.store.Clock.Now(), p.reportPolicy(), p.store.Clock.Today()
	if !*post {
		r, err := p.bot.Report(ctx, now, policy)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, strings.TrimRight(r.Text(), "\n"))
		return nil
	}
	if p.api != nil && policy.Channel == "" {
		return storage.Errorf(storage.EINVALID, "report --post：请设置 TASKBOT_DIGEST_CHANNEL（或 TASKBOT_CHANNEL）。")
	}
	outcome, sent, err := p.bot.PostReport(ctx, now, policy, holder(), p.send)
	switch {
	case err != nil:
		return err
	case outcome == bot.ReportDayOff:
		fmt.Fprintf(e.stdout, "%s 不是工作日，不发通报。\n", day)
	case outcome == bot.ReportAlreadyQueued:
		fmt.Fprintf(e.stdout, "本周（%s 所在周）的通报已排入过，不再重复发送。\n", day)
	}
	if sent.Failed > 0 {
		return storage.Errorf(storage.ECONFLICT, "通报发送失败，仍在队列中，由下一次发送重试。")
	}
	return nil
}

// runCopyDB copies a whole database into an empty one (moving a deployment
// from SQLite to PostgreSQL), table by table in one transaction, and
// prints each table's counts, which must match.
func runCopyDB(ctx context.Context, e env, args []string) error {
	f := flag.NewFlagSet("copy-db", flag.ContinueOnError)
	f.SetOutput(e.stderr)
	from := f.String("from", "", "the database to copy: a SQLite `file` (or a postgres:// URL)")
	to := f.String("to", "", "the empty database to copy into: a postgres:// `URL` (or a SQLite file)")
	f.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: taskbot copy-db --from FILE.db --to postgres://user:password@host/db")
		f.PrintDefaults()
	}
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if *from == "" || *to == "" || f.NArg() > 0 {
		return usageError{"copy-db: --from and --to are both needed, and nothing else"}
	}
	if !storage.IsPostgres(*from) {
		if _, err := os.Stat(*from); err != nil {
			return storage.Errorf(storage.EINVALID, "copy-db：源数据库 %s 不存在或无法读取。", *from)
		}
	}
	src, err := storage.Open(*from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := storage.Open(*to)
	if err != nil {
		return err
	}
	defer dst.Close()
	counts, err := src.CopyTo(ctx, dst)
	if err != nil {
		return err
	}
	var total int64
	for _, c := range counts {
		fmt.Fprintf(e.stdout, "%-16s %8d → %8d\n", c.Table, c.Source, c.Copy)
		total += c.Copy
	}
	fmt.Fprintf(e.stdout, "复制完成：%d 张表，共 %d 行，逐表核对一致。\n", len(counts), total)
	return nil
}

// runImport reads a task-list document into the list named by --list:
// made when new, updated in place as a seeding is when it exists (not the
// default list: the start seeds that one). --dry-run prints what would
// change and writes nothing.
func runImport(ctx context.Context, e env, args []string) error {
	f := newFlags(e, "import", "FILE --list NAME [--dry-run] [--db PATH] [--tz ZONE]", true)
	list := f.String("list", "", "the list's short `name`, e.g. 省督察二轮 (made when new)")
	dry := f.Bool("dry-run", false, "print what would change; write nothing")
	// FILE may come before the flags: "import list.docx --list 省督察二轮".
	var files []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError{err.Error()}
		}
		if f.NArg() == 0 {
			break
		}
		files, args = append(files, f.Arg(0)), f.Args()[1:]
	}
	if len(files) > 1 {
		return usageError{fmt.Sprintf("import：一次导入一个文件，收到 %d 个（%s）；清单名称含空格时请加引号，但名称本身不能有空格。", len(files), strings.Join(files, "、"))}
	}
	if len(files) == 0 || *list == "" {
		f.Usage()
		return usageError{"import：请给出文件和 --list 清单名称，例如 taskbot import 省督察清单.docx --list 省督察二轮"}
	}
	if err := storage.CheckListName(*list); err != nil {
		return usageError{storage.ErrorMessage(err)}
	}
	doc, err := readList(files[0])
	if err != nil {
		return err
	}
	if err := f.parse(nil, &e.cfg, 0); err != nil {
		return err
	}
	clock, err := f.clock(e.cfg)
	if err != nil {
		return err
	}
	// The store only: an import neither seeds the default list nor
	// applies the organisation, and a dry run makes no database.
	if _, err := os.Stat(e.cfg.DB); *dry && !storage.IsPostgres(e.cfg.DB) && err != nil {
		return storage.Errorf(storage.EINVALID, "数据库 %s 不存在：试运行不新建数据库（用 --db 指定已有的数据库）。", e.cfg.DB)
	}
	store, err := storage.Open(e.cfg.DB)
	if err != nil {
		return err
	}
	defer store.Close()
	store.Clock = clock
	d, res, err := seeds.Import(ctx, store, doc, *list, *dry)
	if err != nil {
		return fmt.Errorf("%s: %w", files[0], err)
	}
	writeImport(e.stdout, files[0], d, res, *dry)
	return nil
}

// writeImport prints what an import changed (or would, dry).
func writeImport(w io.Writer, file string, d *seeds.Document, res storage.SeedResult, dry bool) {
	list := func(cs []string, counter string) string {
		if len(cs) == 0 {
			return ""
		}
		const shown = 12
		s := strings.Join(cs[:min(len(cs), shown)], "、")
		if len(cs) > shown {
			s += fmt.Sprintf(" 等 %d %s", len(cs), counter)
		}
		return "：" + s
	}
	codes := func(cs []string) string { return list(cs, "项") }
	verb := "已导入"
	if dry {
		verb = "试运行（未写入）"
	}
	fmt.Fprintf(w, "%s %s → 清单“%s”：读到 %d 项任务\n", verb, file, res.List.Name, len(d.Tasks))
	fmt.Fprintf(w, "  新增 %d%s\n", len(res.CreatedCodes), codes(res.CreatedCodes))
	fmt.Fprintf(w, "  修改 %d%s\n", len(res.UpdatedCodes), codes(res.UpdatedCodes))
	fmt.Fprintf(w, "  未变 %d\n", res.Unchanged)
	fmt.Fprintf(w, "  清单中已无 %d%s（保留原样，进展记录不删除）\n", len(res.MissingCodes), codes(res.MissingCodes))
	if len(res.Moved)+len(res.Retired)+len(res.Added) > 0 {
		fmt.Fprintf(w, "  原有任务的节点：改期 %d%s；新增 %d%s；退出 %d%s（已报送的记录保留）\n",
			len(res.Moved), codes(res.Moved), len(res.Added), codes(res.Added), len(res.Retired), codes(res.Retired))
	}
	if len(res.NewUnits) > 0 {
		fmt.Fprintf(w, "  新出现的单位 %d%s（数据库中原无此名称：若是已有单位的另一种写法，请在文件中改用该单位的名称后再导入，否则将作为新单位承担分工）\n", len(res.NewUnits), list(res.NewUnits, "个"))
	}
	if len(res.Units) > 0 {
		fmt.Fprintf(w, "  原有任务的责任单位变动 %d%s（减少的单位不再承担其分工，已报送的记录保留）\n", len(res.Units), list(res.Units, "项"))
	}
	for _, x := range d.Warnings {
		fmt.Fprintf(w, "  提示：%s\n", x)
	}
}

// readList reads a task-list file, saying in Chinese why it cannot.
func readList(name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		why := "没有读取权限或不是文件"
		if errors.Is(err, os.ErrNotExist) {
			why = "文件不存在"
		}
		return nil, fmt.Errorf("无法读取 %s：%s", name, why)
	}
	return b, nil
}
