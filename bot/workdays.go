package bot

import (
	"strings"
	"sync"
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
	if work, ok := chinaDays()[d]; ok {
		return work
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// chinaDays is lunar-go's table of holidays (false) and make-up working
// days (true), read once: lunar-go answers each lookup by scanning its
// data string, far too slow for a reminder pass over thousands of dates.
// Immutable after it is built.
var chinaDays = sync.OnceValue(func() map[storage.Date]bool {
	days := map[storage.Date]bool{}
	for y := 1999; y <= 2035; y++ {
		for e := HolidayUtil.GetHolidaysByYear(y).Front(); e != nil; e = e.Next() {
			h, ok := e.Value.(*HolidayUtil.Holiday)
			if !ok {
				continue
			}
			day := strings.ReplaceAll(h.GetDay(), "-", "")
			t, err := time.Parse("20060102", day)
			if err != nil || t.Year() != y {
				continue
			}
			days[storage.DateIn(t, time.UTC)] = h.IsWork()
		}
	}
	return days
})

// EveryDay is a calendar in which every day is a working day (working-day
// adjustment off).
type EveryDay struct{}

// Working reports true.
func (EveryDay) Working(storage.Date) bool { return true }

// OnOrBeforeWorking returns d when it is a working day, otherwise the
// working day before it (searching at most maxShift days back).
func OnOrBeforeWorking(cal Calendar, d storage.Date) storage.Date {
	for i := 0; i < maxShift && !cal.Working(d); i++ {
		d = d.AddDays(-1)
	}
	return d
}

// OnOrAfterWorking returns d when it is a working day, otherwise the
// working day after it (searching at most maxShift days ahead).
func OnOrAfterWorking(cal Calendar, d storage.Date) storage.Date {
	for i := 0; i < maxShift && !cal.Working(d); i++ {
		d = d.AddDays(1)
	}
	return d
}
