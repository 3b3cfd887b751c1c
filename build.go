package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/slack-go/slack"

	"taskbot/bot"
	"taskbot/bot/slackbot"
	"taskbot/config"
	"taskbot/ledger"
	"taskbot/scheduler"
	"taskbot/seeds"
	"taskbot/storage"
)

// parts is the program assembled: every part is built here, in build, and
// nowhere else.
type parts struct {
	cfg   config.Config
	log   *slog.Logger
	store *storage.Store
	bot   *bot.Bot
	// api is the Slack Web API client; nil without SLACK_BOT_TOKEN.
	api *slack.Client
	// notifier sends notices to Slack; nil without api.
	notifier *slackbot.Notifier
	// send is where queued messages go: Slack, or out when Slack is not
	// configured.
	send bot.Sender
}

// build opens the store as of clock, seeds it from the task list and the
// organisation file, and builds the core and, with a bot token, the Slack
// client and notifier. Notices without Slack are printed to out.
func build(ctx context.Context, cfg config.Config, clock storage.Clock, log *slog.Logger, out io.Writer) (*parts, error) {
	store, err := openStore(ctx, cfg, clock, log)
	if err != nil {
		return nil, err
	}
	p := &parts{cfg: cfg, log: log, store: store, bot: bot.New(store, log), send: bot.PrintSender(out)}
	p.bot.Lease = cfg.Lease
	p.bot.Ledger = func(ctx context.Context, now time.Time) (*bot.Upload, error) {
		var buf bytes.Buffer
		if err := ledger.Write(ctx, &buf, p.bot, now, ""); err != nil {
			return nil, err
		}
		return &bot.Upload{Name: ledger.FileName(store.Clock.Day(now)), Data: buf.Bytes()}, nil
	}
	if cfg.SlackBotToken != "" {
		p.api = slackbot.NewClient(cfg.SlackBotToken, cfg.SlackAppToken, cfg.SlackAPIURL)
		p.notifier = slackbot.NewNotifier(p.bot, slackbot.NewPoster(p.api, log), cfg.Channel, log)
		p.send = p.notifier.Send
		if err := slackbot.ResolveEmails(ctx, p.bot, p.api); err != nil {
			log.Warn("emails not resolved", "err", err)
		}
	}
	return p, nil
}

func (p *parts) Close() error { return p.store.Close() }

// openStore opens the database and seeds it from the task list and the
// organisation file, as of clock (a task's tracking starts when it is
// first seeded).
func openStore(ctx context.Context, cfg config.Config, clock storage.Clock, log *slog.Logger) (*storage.Store, error) {
	doc := seeds.Xuchang()
	if cfg.Seed != "" {
		b, err := os.ReadFile(cfg.Seed)
		if err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
		doc = b
	}
	org, err := config.LoadFile(cfg.File)
	if err != nil {
		return nil, err
	}
	store, err := storage.Open(cfg.DB)
	if err != nil {
		return nil, err
	}
	store.Clock = clock
	if err := seed(ctx, store, doc, org, log); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

func seed(ctx context.Context, store *storage.Store, doc []byte, org *config.File, log *slog.Logger) error {
	// A seeding applies the organisation's units with the list: who holds
	// which task is worked out once.
	units, people := org.UnitSpecs(), org.PeopleSpec()
	_, res, err := seeds.Load(ctx, store, doc, units)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if !res.Skipped {
		log.Info("seeded task list", "created", res.Created, "updated", res.Updated, "unchanged", res.Unchanged)
	}
	// The organisation as applied last time, with the same tasks: nothing
	// to do (a start on an up-to-date database only reads).
	spec, err := json.Marshal(struct {
		Units  []storage.UnitSpec
		People storage.PeopleSpec
	}{units, people})
	if err != nil {
		return err
	}
	sum := sha256.Sum256(spec)
	applied := "sha256-" + hex.EncodeToString(sum[:])
	if res.Skipped {
		if v, err := store.MetaValue(ctx, metaOrgApplied); err != nil || v == applied {
			return err
		}
	}
	if err := store.ApplyUnits(ctx, units); err != nil {
		return fmt.Errorf("TASKBOT_CONFIG: %w", err)
	}
	if err := store.ApplyPeople(ctx, people); err != nil {
		return fmt.Errorf("TASKBOT_CONFIG: %w", err)
	}
	return store.SetMetaValue(ctx, metaOrgApplied, applied)
}

// metaOrgApplied names the organisation (units and people) last applied
// to the database.
const metaOrgApplied = "org_applied"

// remindPolicy is the core's reminder policy from the configuration.
func (p *parts) remindPolicy() bot.RemindPolicy {
	s := p.cfg.Schedule
	return bot.RemindPolicy{Offsets: s.Offsets, OverdueWeekday: s.OverdueWeekday, EscalateAfter: s.EscalateAfter,
		NudgeAfter: s.NudgeAfter, Calendar: p.calendar(), Fallback: or(s.DigestChannel, p.cfg.Channel)}
}

// digestPolicy is the core's digest policy from the configuration.
func (p *parts) digestPolicy() bot.DigestPolicy {
	d := bot.DefaultDigestPolicy()
	d.Calendar, d.Channel = p.calendar(), or(p.cfg.Schedule.DigestChannel, p.cfg.Channel)
	return d
}

// reportPolicy is the core's weekly report policy from the configuration.
func (p *parts) reportPolicy() bot.ReportPolicy {
	r := bot.DefaultReportPolicy()
	r.Calendar, r.Channel = p.calendar(), or(p.cfg.Schedule.DigestChannel, p.cfg.Channel)
	return r
}

func (p *parts) calendar() bot.Calendar {
	if p.cfg.Schedule.Workdays {
		return bot.ChinaCalendar{}
	}
	return bot.EveryDay{}
}

// scheduler validates the cron specs and returns the core's jobs on them,
// to run until a context is done. The outbox is flushed every minute, or
// twice per lease when TASKBOT_LEASE is shorter, so that a dead replica's
// work is taken over soon after its lease runs out. Under serve --at the
// jobs run on that day, at the time of day they fire.
func (p *parts) scheduler() (*scheduler.Scheduler, error) {
	jobs := p.bot.Jobs(p.remindPolicy(), p.digestPolicy(), p.reportPolicy(), holder(), p.send)
	s := p.cfg.Schedule
	flush := scheduler.DefaultFlushSpec
	if l := p.cfg.Lease; l > 0 && l < 2*time.Minute {
		flush = "@every " + max(l/2, time.Second).Truncate(time.Second).String()
	}
	on := func(job scheduler.Job) scheduler.Job {
		clock := p.store.Clock
		if clock.AsOf == nil {
			return job
		}
		return func(ctx context.Context, now time.Time) error {
			d, loc := clock.Today(), clock.Zone()
			now = now.In(loc)
			return job(ctx, time.Date(d.Year, d.Month, d.Day, now.Hour(), now.Minute(), now.Second(), now.Nanosecond(), loc))
		}
	}
	return scheduler.New(p.cfg.Location, p.log,
		scheduler.Entry{Name: "TASKBOT_REMIND_CRON", Spec: s.RemindCron, Job: on(jobs.Remind)},
		scheduler.Entry{Name: "TASKBOT_DIGEST_CRON", Spec: s.DigestCron, Job: on(jobs.Digest)},
		scheduler.Entry{Name: "TASKBOT_REPORT_CRON", Spec: s.ReportCron, Job: on(jobs.Report)},
		scheduler.Entry{Name: "outbox", Spec: flush, Job: on(jobs.Flush)},
	)
}

// holder names this process in outbox leases.
func holder() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
