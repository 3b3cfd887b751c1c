// Package scheduler triggers taskbot's jobs with robfig/cron in the
// configured zone. It is a dumb trigger: each job is the core's, called with
// an explicit now, so every job can also run "as of" any date from the CLI.
package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
)

// Defaults. The digest job itself skips days off (cron cannot know China's
// holidays); the flush job retries undelivered messages.
const (
	DefaultRemindSpec = "0 9 * * *"
	DefaultDigestSpec = "0 9 * * *"
	DefaultFlushSpec  = "@every 1m"
)

// Job is one scheduled piece of work.
type Job func(ctx context.Context, now time.Time) error

// Entry names a job and when it runs.
type Entry struct {
	Name string // for logs and errors, e.g. "TASKBOT_REMIND_CRON"
	Spec string
	Job  Job
}

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse validates a cron spec (five fields, or a descriptor such as
// "@every 1m" or "@daily"). The error names the setting.
func Parse(name, spec string) (cron.Schedule, error) {
	s, err := parser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid cron spec %q: %v (expected five fields \"minute hour day month weekday\", e.g. \"0 9 * * *\")", name, spec, err)
	}
	return s, nil
}

// Times returns the moments spec fires in [from, to), in loc: the passes a
// simulation of the scheduler runs.
func Times(name, spec string, from, to time.Time, loc *time.Location) ([]time.Time, error) {
	sched, err := Parse(name, spec)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	// cron's Next is strictly after its argument.
	for t := sched.Next(from.In(loc).Add(-time.Second)); t.Before(to); t = sched.Next(t) {
		out = append(out, t)
		if len(out) > 100000 {
			return nil, fmt.Errorf("%s: %q fires more than 100000 times in the range", name, spec)
		}
	}
	return out, nil
}

// Scheduler runs entries in loc until stopped.
type Scheduler struct {
	cron *cron.Cron
	loc  *time.Location
	log  *slog.Logger
	ctx  context.Context // Run's: stopping the scheduler cancels running jobs
}

// New validates every entry's spec and returns a scheduler that has not
// started. A job never overlaps itself: a run still going when the next is
// due makes that one skip.
func New(loc *time.Location, log *slog.Logger, entries ...Entry) (*Scheduler, error) {
	s := &Scheduler{loc: loc, log: log, ctx: context.Background()}
	s.cron = cron.New(cron.WithLocation(loc), cron.WithParser(parser),
		cron.WithChain(cron.Recover(cronLogger{log}), cron.SkipIfStillRunning(cronLogger{log})))
	for _, e := range entries {
		sched, err := Parse(e.Name, e.Spec)
		if err != nil {
			return nil, err
		}
		e := e
		s.cron.Schedule(sched, cron.FuncJob(func() {
			now := time.Now().In(loc)
			if err := e.Job(s.ctx, now); err != nil {
				log.Error("scheduled job failed", "job", e.Name, "err", err)
			}
		}))
	}
	return s, nil
}

// Run starts the scheduler and blocks until ctx is done, then waits for
// running jobs, which see ctx cancelled (a cancelled pass claims nothing;
// a cancelled send is retried by the next process). Call it once.
func (s *Scheduler) Run(ctx context.Context) {
	s.ctx = ctx
	s.cron.Start()
	<-ctx.Done()
	<-s.cron.Stop().Done()
}

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}
