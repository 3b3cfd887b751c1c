package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"taskbot/storage"
)

// RemindPolicy configures reminders. All numbers are days.
type RemindPolicy struct {
	// Offsets are the days before a due date on which to remind.
	Offsets []int
	// OverdueWeekday is the day of the week on which each unit is sent
	// its overdue shares (the next working day when it is a day off), and
	// escalations go out.
	OverdueWeekday time.Weekday
	// EscalateAfter is how long overdue a milestone must be before its
	// reminder also goes to the holders of the task's leader posts.
	EscalateAfter int
	// NudgeAfter is how long a unit may stay silent on an ongoing or
	// long-term task before it is asked to report; the nudge repeats at
	// most this often.
	NudgeAfter int
	// Calendar says which days anything is sent on; a step ahead of a
	// deadline that falls on a day off goes out the working day before.
	Calendar Calendar
	// Fallback is the channel for units with neither a channel nor members
	// with a Slack ID, so that their reminders are not dropped.
	Fallback string
}

// DefaultRemindPolicy is 30, 7, 3, 1 and 0 days ahead, overdue shares every
// Monday, escalation after 14 days overdue, nudges after 30 days of
// silence, on China's working days.
func DefaultRemindPolicy() RemindPolicy {
	return RemindPolicy{Offsets: []int{30, 7, 3, 1, 0}, OverdueWeekday: time.Monday, EscalateAfter: 14, NudgeAfter: 30, Calendar: ChinaCalendar{}}
}

// Message kinds in the outbox.
const (
	KindReminder   = "reminder"
	KindEscalation = "escalation"
	KindNudge      = "nudge"
	KindDigest     = "digest"
)

// Planned is one message a reminder pass wants to send.
type Planned struct {
	Key    string
	Kind   string
	Notice Notice
	// Group orders delivery: messages of one group go out in queue order.
	Group string
	// Tasks are the codes of the tasks the message is about, and Covers
	// the (recipient, task, milestone, step) facts it carries, for
	// previews (SimulateReminders); neither is sent.
	Tasks  []string `json:"-"`
	Covers []string `json:"-"`
	// To is the recipient as previews count it.
	To Recipient `json:"-"`
}

// Recipient is who a message is for: a unit (its channel or members), a
// user (a leader's DM) or a channel (the fallback or digest channel).
type Recipient struct {
	Kind string `json:"kind"` // "unit", "user" or "channel"
	Name string `json:"name"`
}

// ReminderPlan is what a pass would do: the steps it claims and the
// messages it sends.
type ReminderPlan struct {
	Steps    []storage.ReminderStep
	Messages []Planned
}

// step is one reminder moment ahead of a milestone's due date.
type step struct {
	offset  int          // days before the due date
	nominal storage.Date // before working-day adjustment
	fire    storage.Date
}

// name is the step's part of its claim key: d30 … d0.
func (s step) name() string { return "d" + strconv.Itoa(s.offset) }

// latestStep returns the last step ahead of a milestone due on due whose
// (working-day adjusted) moment is on or before today. Earlier steps that
// were missed are superseded: a catch-up sends the current state once,
// not a burst of stale countdowns.
func (p RemindPolicy) latestStep(due, today storage.Date) (step, bool) {
	cal := p.calendar()
	var best step
	found := false
	for _, off := range p.Offsets {
		nominal := due.AddDays(-off)
		s := step{offset: off, nominal: nominal, fire: OnOrBeforeWorking(cal, nominal)}
		if s.fire.DaysUntil(today) < 0 {
			continue
		}
		// The latest by moment; between steps moved to the same working
		// day, the later one (d0 over d1 when both fall back to a Friday).
		if !found || best.fire.Before(s.fire) || best.fire == s.fire && best.nominal.Before(s.nominal) {
			best, found = s, true
		}
	}
	return best, found
}

func (p RemindPolicy) calendar() Calendar {
	if p.Calendar == nil {
		return EveryDay{}
	}
	return p.Calendar
}

// overdueDay is the day of today's week (Monday to Sunday) on which
// overdue shares and escalations go out: OverdueWeekday, or the next
// working day of the week when it is a day off (the one before when the
// rest of the week is off), and the Monday that starts the week.
func (p RemindPolicy) overdueDay(today storage.Date) (day, week storage.Date) {
	cal := p.calendar()
	week = today.WeekStart()
	day = week.AddDays((int(p.OverdueWeekday) + 6) % 7)
	for d := day; week.DaysUntil(d) < 7; d = d.AddDays(1) {
		if cal.Working(d) {
			return d, week
		}
	}
	for d := day; !d.Before(week); d = d.AddDays(-1) {
		if cal.Working(d) {
			return d, week
		}
	}
	return day, week // a week without a working day sends nothing
}

// lineSection shows the first MaxItems lines and counts the rest.
func lineSection(lines []remLine, show func(remLine) Item) Section {
	s := Section{}
	for i, l := range lines {
		if i == MaxItems {
			break
		}
		s.Items = append(s.Items, show(l))
	}
	s.More = len(lines) - len(s.Items)
	return s
}

// maxShift bounds how far a working-day adjustment moves a day: China's
// longest run of days off is 9 (National Day with its weekend).
const maxShift = 14

// ThreadLink is a link to a message in Slack; Slack redirects it to the
// workspace for signed-in users.
func ThreadLink(channel, ts string) string {
	return fmt.Sprintf("https://slack.com/archives/%s/p%s", channel, strings.ReplaceAll(ts, ".", ""))
}

// RunReminders plans and claims one reminder pass as of now: the steps are
// recorded and their messages queued in one transaction, so each reminder
// is sent once even with two processes. It returns the queued messages.
func (b *Bot) RunReminders(ctx context.Context, now time.Time, p RemindPolicy) ([]Planned, error) {
	for attempt := 0; ; attempt++ {
		plan, err := b.plan(ctx, now, p, nil)
		if err != nil || len(plan.Steps) == 0 {
			return nil, err
		}
		var msgs []storage.Outbox
		for _, m := range plan.Messages {
			for _, one := range perRecipient(m.Key, m.Notice) {
				payload, err := json.Marshal(one.Notice)
				if err != nil {
					return nil, storage.Internal(err)
				}
				msgs = append(msgs, storage.Outbox{Key: one.Key, Kind: m.Kind, Group: one.Group, Payload: string(payload), NextAttemptAt: b.wall()})
			}
		}
		_, err = b.Store.Claim(ctx, plan.Steps, msgs)
		if storage.ErrorCode(err) == storage.ECONFLICT && attempt < 3 {
			continue // another process claimed some steps: plan again
		}
		if err != nil {
			return nil, err
		}
		return plan.Messages, nil
	}
}

// ReminderKeyPrefixes start the outbox keys of a reminder pass's messages:
// units' reminders and nudges, the fallback channel's, escalations.
var ReminderKeyPrefixes = []string{"rem:", "fallback:", "esc:"}
