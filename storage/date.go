package storage

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// Date is a calendar day with no time of day and no zone. Deadlines in the
// task list are days, so they are stored as "YYYY-MM-DD" text, which sorts
// and compares correctly in SQL on every backend.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the date y-m-d, normalising overflow the way time.Date does
// (day 0 of a month is the last day of the month before).
func NewDate(y int, m time.Month, d int) Date {
	return dateOf(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// DateIn returns the calendar day of t in loc (UTC when loc is nil). The
// zone is a parameter so that no caller counts days in the wrong one by
// forgetting to convert t first; most callers use Clock.Day.
func DateIn(t time.Time, loc *time.Location) Date { return dateOf(t.In(zone(loc))) }

// dateOf is the calendar day of t in t's own location.
func dateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// MonthEnd returns the last day of month m of year y (February included).
func MonthEnd(y int, m time.Month) Date { return NewDate(y, m+1, 0) }

// ParseDate parses "YYYY-MM-DD". It returns an error for any other form or an
// impossible day such as 2023-02-29.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, Errorf(EINVALID, "日期“%s”无效，应为 YYYY-MM-DD，如 2021-09-23。", s)
	}
	return dateOf(t), nil
}

// String formats the date as "YYYY-MM-DD"; the zero Date formats as "".
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	if d.Year < 0 || d.Year > 9999 {
		return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
	}
	// By hand: dates are formatted for every key and query parameter.
	b := [10]byte{'0', '0', '0', '0', '-', '0', '0', '-', '0', '0'}
	y, m, dd := d.Year, int(d.Month), d.Day
	b[0], b[1], b[2], b[3] = byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10)
	b[5], b[6] = byte('0'+m/10), byte('0'+m%10)
	b[8], b[9] = byte('0'+dd/10), byte('0'+dd%10)
	return string(b[:])
}

// IsZero reports whether d is the zero Date (no date).
func (d Date) IsZero() bool { return d == Date{} }

// In returns the start of the day d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return NewDate(d.Year, d.Month, d.Day+n) }

// DaysUntil returns the number of days from d to o: positive when o is later.
func (d Date) DaysUntil(o Date) int { return o.dayNumber() - d.dayNumber() }

// dayNumber counts days from 1970-01-01 in the proleptic Gregorian calendar
// (H. Hinnant's days_from_civil), without going through time.Time.
func (d Date) dayNumber() int {
	y, m := d.Year, int(d.Month)
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d.Day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// Before reports whether d is earlier than o.
func (d Date) Before(o Date) bool {
	if d.Year != o.Year {
		return d.Year < o.Year
	}
	if d.Month != o.Month {
		return d.Month < o.Month
	}
	return d.Day < o.Day
}

// WeekStart is the Monday of d's week (weeks run Monday to Sunday, as
// offices count them).
func (d Date) WeekStart() Date { return d.AddDays(-((int(d.Weekday()) + 6) % 7)) }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.In(time.UTC).Weekday() }

// Value stores the date as "YYYY-MM-DD", or NULL for the zero Date.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// Scan reads a date stored by Value. It accepts text, bytes, a time.Time
// (some drivers parse DATE columns) and NULL.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
		return nil
	case string:
		return d.scanString(v)
	case []byte:
		return d.scanString(string(v))
	case time.Time:
		*d = dateOf(v)
		return nil
	}
	return fmt.Errorf("storage: cannot scan %T into Date", src)
}

func (d *Date) scanString(s string) error {
	if len(s) > 10 {
		s = s[:10]
	}
	if p, ok := fastParse(s); ok {
		*d = p
		return nil
	}
	p, err := ParseDate(s)
	if err != nil {
		return fmt.Errorf("storage: bad stored date %q", s)
	}
	*d = p
	return nil
}

// MarshalText formats the date as "YYYY-MM-DD" (used by encoding/json).
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses "YYYY-MM-DD"; the empty string is the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// fastParse reads a well-formed "YYYY-MM-DD" of a real day without
// time.Parse; anything else is left to ParseDate.
func fastParse(s string) (Date, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, false
	}
	n := func(b string) (int, bool) {
		v := 0
		for i := 0; i < len(b); i++ {
			if b[i] < '0' || b[i] > '9' {
				return 0, false
			}
			v = v*10 + int(b[i]-'0')
		}
		return v, true
	}
	y, ok1 := n(s[:4])
	m, ok2 := n(s[5:7])
	d, ok3 := n(s[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > MonthEnd(y, time.Month(m)).Day {
		return Date{}, false
	}
	return Date{y, time.Month(m), d}, true
}
