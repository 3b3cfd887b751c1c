package bot

import (
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"

	"taskbot/storage"
)

// Calendar says which days are working days.
type Calendar interface {
	Working(d storage.Date) bool
}

// ChinaCalendar is the mainland China working calendar: Monday to Friday,
// minus statutory holidays, plus the make-up working days (调休) that the
// State Council announces with them. The holiday table comes from lunar-go,
// maintained from the official notices (years 2001–2027 in v1.4.7); outside
// it, only weekends are days off.
type ChinaCalendar struct{}

// Working reports whether d is a working day.
func (ChinaCalendar) Working(d storage.Date) bool {
	if h := HolidayUtil.GetHolidayByYmd(d.Year, int(d.Month), d.Day); h != nil {
		return h.IsWork()
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// EveryDay is a calendar in which every day is a working day (working-day
// adjustment off).
type EveryDay struct{}

// Working reports true.
func (EveryDay) Working(storage.Date) bool { return true }

// OnOrBeforeWorking returns d when it is a working day, otherwise the
// working day before it (searching at most 30 days back).
func OnOrBeforeWorking(cal Calendar, d storage.Date) storage.Date {
	for i := 0; i < 30 && !cal.Working(d); i++ {
		d = d.AddDays(-1)
	}
	return d
}

// OnOrAfterWorking returns d when it is a working day, otherwise the
// working day after it (searching at most 30 days ahead).
func OnOrAfterWorking(cal Calendar, d storage.Date) storage.Date {
	for i := 0; i < 30 && !cal.Working(d); i++ {
		d = d.AddDays(1)
	}
	return d
}
