// Command taskbot drives Xuchang's central-inspection rectification task list
// to completion from chat: Slack when tokens are set, a terminal otherwise.
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
	"os/signal"
	"strings"
	"syscall"
	"time"

	"taskbot/bot"
	"taskbot/bot/console"
	"taskbot/config"
	"taskbot/seeds"
	"taskbot/storage"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "taskbot:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "taskbot:", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `usage: taskbot [command] [flags]

Commands:
  serve     connect to Slack: Socket Mode and/or HTTP (default when Slack tokens are set)
  console   answer commands typed on stdin (default when no Slack tokens are set)
  check     parse a task-list document and report every task and warning
  remind    run one reminder pass (--at DATE, --dry-run to only print)
  digest    print the daily deadline digest (--at DATE; --post to send it)
  help      show this help

Run "taskbot COMMAND -h" for the flags of a command.
`

// run is the whole program; main only supplies the process's environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, usage) // even when the environment is wrong
		return nil
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		if !wantsHelp(args) {
			return err
		}
		// "taskbot console -h" with a broken environment: show the flags
		// with the built-in defaults rather than only the error.
		fmt.Fprintf(stderr, "taskbot: %v (defaults shown below)\n", err)
		cfg, _ = config.Load(func(string) string { return "" })
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "":
		if cfg.SlackConfigured() {
			return runServe(ctx, cfg, args, stderr)
		}
		return runConsole(ctx, cfg, log, args, stdin, stdout, stderr)
	case "serve":
		return runServe(ctx, cfg, args, stderr)
	case "console":
		return runConsole(ctx, cfg, log, args, stdin, stdout, stderr)
	case "check":
		return runCheck(args, stdout, stderr)
	case "remind":
		return runRemind(ctx, cfg, log, args, stdout, stderr)
	case "digest":
		return runDigest(ctx, cfg, log, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			return true
		}
	}
	return false
}

// commonFlags registers the flags every database-backed command takes, with
// defaults from the environment.
type commonFlags struct {
	db, tz, at, seed string
}

func (c *commonFlags) register(fs *flag.FlagSet, cfg config.Config) {
	fs.StringVar(&c.db, "db", cfg.DB, "SQLite database `path` (env TASKBOT_DB)")
	fs.StringVar(&c.tz, "tz", cfg.TZ, "time `zone` days are counted in (env TASKBOT_TZ)")
	fs.StringVar(&c.at, "at", "", "answer as of this `YYYY-MM-DD` instead of today")
	fs.StringVar(&c.seed, "seed", cfg.Seed, "task-list `file` to seed from instead of the embedded list (env TASKBOT_SEED)")
}

// apply folds the flags into cfg and returns the clock.
func (c *commonFlags) apply(cfg *config.Config) (func() time.Time, error) {
	cfg.DB, cfg.Seed = c.db, c.seed
	if err := cfg.SetTZ(c.tz); err != nil {
		return nil, usageError{"--tz: " + err.Error()}
	}
	return clock(c.at, cfg.Location)
}

// clock returns time.Now, or a fixed moment (09:00 in loc) on the --at day.
func clock(at string, loc *time.Location) (func() time.Time, error) {
	if at == "" {
		return time.Now, nil
	}
	d, err := storage.ParseDate(at)
	if err != nil {
		return nil, usageError{"--at: " + storage.ErrorMessage(err)}
	}
	t := d.In(loc).Add(9 * time.Hour)
	return func() time.Time { return t }, nil
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

// openStore opens the database and seeds it from the task list.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*storage.Store, error) {
	doc := seeds.Xuchang
	if cfg.Seed != "" {
		b, err := os.ReadFile(cfg.Seed)
		if err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
		doc = b
	}
	store, err := storage.Open(cfg.DB)
	if err != nil {
		return nil, err
	}
	_, res, err := seeds.Load(ctx, store, doc)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("seed: %w", err)
	}
	org, err := config.LoadFile(cfg.File)
	if err != nil {
		store.Close()
		return nil, err
	}
	if err := store.ApplyUnits(ctx, org.UnitSpecs()); err != nil {
		store.Close()
		return nil, fmt.Errorf("TASKBOT_CONFIG: %w", err)
	}
	if err := store.ApplyPeople(ctx, org.PeopleSpec()); err != nil {
		store.Close()
		return nil, fmt.Errorf("TASKBOT_CONFIG: %w", err)
	}
	if !res.Skipped {
		log.Info("seeded task list", "created", res.Created, "updated", res.Updated)
	}
	// Build the search index now (milliseconds for the real list) so the
	// first search does not pay for it.
	if err := store.WarmSearch(ctx); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

func runConsole(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: taskbot console [--at YYYY-MM-DD] [--as USER] [--db PATH] [--tz ZONE] [--seed FILE]")
		fs.PrintDefaults()
	}
	var cf commonFlags
	cf.register(fs, cfg)
	as := fs.String("as", "console", "act as this `user`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("console: unexpected argument %q", fs.Arg(0))}
	}
	now, err := cf.apply(&cfg)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	store.Now = now // --at stamps entries too
	c := &console.Console{
		Bot:         bot.New(store, cfg.Location, log),
		In:          stdin,
		Out:         stdout,
		Now:         now,
		User:        *as,
		Interactive: isTerminal(stdin),
	}
	c.Deliver = consoleSlack(ctx, cfg, c.Bot, log)
	return c.Run(ctx)
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the tasks as a JSON array")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: taskbot check [--json] [FILE]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usageError{"check: at most one FILE"}
	}
	doc, name := seeds.Xuchang, "embedded list"
	if fs.NArg() == 1 {
		name = fs.Arg(0)
		b, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		doc = b
	}
	d, err := seeds.Parse(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if *asJSON {
		for _, w := range d.Warnings {
			fmt.Fprintf(stderr, "warning: %s\n", w)
		}
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(d.Tasks)
	}
	printSummary(stdout, name, d)
	return nil
}

func printSummary(w io.Writer, name string, d *seeds.Document) {
	for _, t := range d.Tasks {
		var dues []string
		for _, m := range t.Milestones {
			dues = append(dues, m.Due.String())
		}
		var flags []string
		for _, f := range []struct {
			on   bool
			name string
		}{{t.Immediate, "立行立改"}, {t.Ongoing, "持续推进"}, {t.LongTerm, "长期坚持"}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		fmt.Fprintf(w, "%-6s line %-4d %s\n", t.Code, t.Line, clip(t.Title, 40))
		fmt.Fprintf(w, "       measures %d · leaders %s\n", len(t.Measures), strings.Join(t.Leaders, "、"))
		if len(t.LeadUnits) > 0 {
			fmt.Fprintf(w, "       lead %s\n", strings.Join(t.LeadUnits, "、"))
		}
		fmt.Fprintf(w, "       units %s\n", strings.Join(t.Units, "、"))
		fmt.Fprintf(w, "       due %s %s\n", orDash(strings.Join(dues, ", ")), strings.Join(flags, " "))
	}
	bySection := map[string]int{}
	var order []string
	for _, t := range d.Tasks {
		k := strings.TrimRight(t.Code, "0123456789")
		if bySection[k] == 0 {
			order = append(order, k)
		}
		bySection[k]++
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%d %s", bySection[k], k))
	}
	fmt.Fprintf(w, "\n%s: %d tasks (%s), %d warnings\n", name, len(d.Tasks), strings.Join(parts, ", "), len(d.Warnings))
	for _, wn := range d.Warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
