// Command taskbot drives Xuchang's central-inspection rectification task list
// to completion from chat: Slack when tokens are set, a terminal otherwise.
//
// This package only wires: flags and configuration in, parts built in
// build.go, each command in its own small function.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"taskbot/config"
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
	case errors.As(err, new(exitError)):
		fmt.Fprintln(os.Stderr, "taskbot:", err)
		os.Exit(err.(exitError).code)
	default:
		fmt.Fprintln(os.Stderr, "taskbot:", explain(err))
		os.Exit(1)
	}
}

// explain is the command line's one error funnel: a coded error shows its
// Chinese message, an internal one its detail for the operator (secrets
// never reach an error), and any other error (configuration, files) as it
// is, naming the variable or file at fault.
func explain(err error) string {
	var e *storage.Error
	switch {
	case !errors.As(err, &e):
		return err.Error()
	case e.Code == storage.EINTERNAL:
		return "内部错误：" + err.Error()
	case e.Code == storage.EUNAVAILABLE:
		return storage.ErrorMessage(err) + "（" + err.Error() + "）"
	}
	return storage.ErrorMessage(err)
}

// usageError is a mistake in the command line (exit status 2).
// exitError is an error with its exit status (`check`: 1 when part of a
// list could not be read, 2 when none of it).
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `usage: taskbot [command] [flags]

Commands:
  serve     connect to Slack: Socket Mode and/or HTTP (default when Slack tokens are set)
  console   answer commands typed on stdin (default when no Slack tokens are set)
  check     parse a task-list document and report every task and warning
  import    read a task list into a named list (FILE --list NAME; --dry-run to only print)
  remind    run one reminder pass (--at DATE, --dry-run to only print)
  digest    print the daily deadline digest (--at DATE; --post to send it)
  report    print the weekly report (--at DATE; --post to send it with the ledger)
  export    write the Excel ledger (--at DATE, --out FILE.xlsx)
  copy-db   copy a database into an empty one, e.g. SQLite to PostgreSQL (--from, --to)
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
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	if cmd == "" {
		cmd = "console"
		if cfg.SlackConfigured() {
			cmd = "serve"
		}
	}
	e := env{cfg: cfg, stdin: stdin, stdout: stdout, stderr: stderr}
	switch cmd {
	case "serve":
		return runServe(ctx, e, args)
	case "console":
		return runConsole(ctx, e, args)
	case "check":
		return runCheck(e, args)
	case "import":
		return runImport(ctx, e, args)
	case "remind":
		return runRemind(ctx, e, args)
	case "digest":
		return runDigest(ctx, e, args)
	case "report":
		return runReport(ctx, e, args)
	case "export":
		return runExport(ctx, e, args)
	case "copy-db":
		return runCopyDB(ctx, e, args)
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// env is what every command starts from: the configuration and the
// process's streams.
type env struct {
	cfg            config.Config
	stdin          io.Reader
	stdout, stderr io.Writer
}

func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			return true
		}
	}
	return false
}

// flags is a command's flag set with the flags every database-backed
// command takes, defaults from the environment.
type flags struct {
	*flag.FlagSet
	db, tz, at, seed string
	// since, when it points at a date, is the "as of" day when --at is not
	// given (remind --from: a database first seeded by a simulation starts
	// tracking on its first day).
	since *string
}

// newFlags declares the common flags; withAt adds --at (serve has none).
func newFlags(e env, name, synopsis string, withAt bool) *flags {
	f := &flags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.SetOutput(e.stderr)
	f.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: taskbot "+name+" "+synopsis)
		f.PrintDefaults()
	}
	f.StringVar(&f.db, "db", e.cfg.DB, "SQLite database `path`, or a postgres:// URL (env TASKBOT_DB)")
	f.StringVar(&f.tz, "tz", e.cfg.TZ, "time `zone` days are counted in (env TASKBOT_TZ)")
	f.seed = e.cfg.Seed
	if name != "import" { // an import seeds its own list, never the default one
		f.StringVar(&f.seed, "seed", e.cfg.Seed, "task-list `file` to seed from instead of the embedded list (env TASKBOT_SEED)")
	}
	if withAt {
		f.StringVar(&f.at, "at", "", "answer as of this `YYYY-MM-DD` instead of today")
	}
	return f
}

// parse reads args (at most maxArgs positional arguments: none, or one FILE)
// and folds the flags into cfg.
func (f *flags) parse(args []string, cfg *config.Config, maxArgs int) error {
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	switch {
	case f.NArg() > maxArgs && maxArgs == 0:
		return usageError{fmt.Sprintf("%s: unexpected argument %q", f.Name(), f.Arg(0))}
	case f.NArg() > maxArgs:
		return usageError{fmt.Sprintf("%s: at most one FILE", f.Name())}
	}
	cfg.DB, cfg.Seed = f.db, f.seed
	if err := cfg.SetTZ(f.tz); err != nil {
		return usageError{"--tz: " + err.Error()}
	}
	return nil
}

// clock is the program's clock: real time, or 09:00 of --at's day.
func (f *flags) clock(cfg config.Config) (storage.Clock, error) {
	c := storage.Clock{Loc: cfg.Location}
	at, name := f.at, "--at"
	if at == "" && f.since != nil {
		at, name = *f.since, "--from"
	}
	if at == "" {
		return c, nil
	}
	d, err := storage.ParseDate(at)
	if err != nil {
		return c, usageError{name + ": " + storage.ErrorMessage(err)}
	}
	return c.Pinned(d), nil
}
