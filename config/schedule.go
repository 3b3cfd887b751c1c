package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule configures reminders and the digest.
type Schedule struct {
	RemindCron    string // TASKBOT_REMIND_CRON
	DigestCron    string // TASKBOT_DIGEST_CRON
	ReportCron    string // TASKBOT_REPORT_CRON: the weekly report
	DigestChannel string // TASKBOT_DIGEST_CHANNEL
	Offsets       []int  // TASKBOT_REMIND_OFFSETS: days before a due date
	// OverdueWeekday is TASKBOT_OVERDUE_WEEKDAY: the day of the week each
	// unit gets its overdue shares and escalations go out (1 Monday … 7
	// Sunday, or mon … sun; the next working day when it is a day off).
	OverdueWeekday time.Weekday
	EscalateAfter  int  // TASKBOT_ESCALATE_AFTER: days overdue before leaders are told
	NudgeAfter     int  // TASKBOT_NUDGE_AFTER: days without progress before a nudge
	Workdays       bool // TASKBOT_WORKDAYS: move reminders off weekends and holidays
}

// Schedule defaults; the cron specs are validated where the scheduler is
// built.
const (
	DefaultRemindCron = "0 9 * * *"
	DefaultDigestCron = "0 9 * * *"
	// DefaultReportCron runs on every weekday: the report goes out once a
	// week, with the first pass on a working day (Monday, or the next
	// working day when Monday is a holiday).
	DefaultReportCron = "30 9 * * 1-5"
)

func loadSchedule(getenv func(string) string) (Schedule, error) {
	s := Schedule{
		RemindCron:     or(getenv("TASKBOT_REMIND_CRON"), DefaultRemindCron),
		DigestCron:     or(getenv("TASKBOT_DIGEST_CRON"), DefaultDigestCron),
		ReportCron:     or(getenv("TASKBOT_REPORT_CRON"), DefaultReportCron),
		DigestChannel:  getenv("TASKBOT_DIGEST_CHANNEL"),
		Offsets:        []int{30, 7, 3, 1, 0},
		OverdueWeekday: time.Monday,
		EscalateAfter:  14,
		NudgeAfter:     30,
		Workdays:       true,
	}
	if v := getenv("TASKBOT_REMIND_OFFSETS"); v != "" {
		s.Offsets = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 0 || n > 366 {
				return s, fmt.Errorf("TASKBOT_REMIND_OFFSETS: %q is not a day count from 0 to 366 (e.g. \"30,7,3,1,0\")", f)
			}
			s.Offsets = append(s.Offsets, n)
		}
	}
	for _, d := range []struct {
		name string
		dst  *int
	}{{"TASKBOT_ESCALATE_AFTER", &s.EscalateAfter}, {"TASKBOT_NUDGE_AFTER", &s.NudgeAfter}} {
		if v := getenv(d.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 366 {
				return s, fmt.Errorf("%s: %q is not a day count from 0 (off) to 366", d.name, v)
			}
			*d.dst = n
		}
	}
	if v := getenv("TASKBOT_OVERDUE_WEEKDAY"); v != "" {
		d, ok := weekdays[strings.ToLower(strings.TrimSpace(v))]
		if !ok {
			return s, fmt.Errorf("TASKBOT_OVERDUE_WEEKDAY: %q is not a day of the week (1 Monday … 7 Sunday, or mon … sun)", v)
		}
		s.OverdueWeekday = d
	}
	if v := getenv("TASKBOT_WORKDAYS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s, fmt.Errorf("TASKBOT_WORKDAYS: %q is not true or false", v)
		}
		s.Workdays = b
	}
	return s, nil
}

// weekdays are the spellings TASKBOT_OVERDUE_WEEKDAY accepts.
var weekdays = map[string]time.Weekday{
	"1": time.Monday, "2": time.Tuesday, "3": time.Wednesday, "4": time.Thursday, "5": time.Friday, "6": time.Saturday, "7": time.Sunday,
	"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday,
	"monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday,
	"saturday": time.Saturday, "sunday": time.Sunday,
}
