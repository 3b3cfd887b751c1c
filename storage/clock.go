package storage

import "time"

// Clock is taskbot's one notion of time, shared by the store, the core and
// the adapters (main builds one and hands it to the store; everyone else
// reads it from there).
//
// Two instants, one zone: AsOf is the moment a command or job runs "as of"
// (wall time, or 09:00 of the chosen day under --at); answers are computed
// and entries stamped with it. Wall is real time, for bookkeeping that must
// not follow --at: outbox leases and retries, signature windows, event
// expiry. Days are always counted in Loc.
type Clock struct {
	// AsOf returns the "as of" moment; nil means time.Now.
	AsOf func() time.Time
	// Wall returns real time; nil means time.Now.
	Wall func() time.Time
	// Loc is the zone days are counted in; nil means UTC.
	Loc *time.Location
}

// Now returns the "as of" moment in Loc.
func (c Clock) Now() time.Time { return in(call(c.AsOf), c.Loc) }

// WallNow returns real time in Loc.
func (c Clock) WallNow() time.Time { return in(call(c.Wall), c.Loc) }

// Zone is Loc, or UTC when Loc is nil.
func (c Clock) Zone() *time.Location { return zone(c.Loc) }

// Today is the calendar day of Now in Loc.
func (c Clock) Today() Date { return c.Day(c.Now()) }

// Day is the calendar day of t in Loc, whatever t's own location.
func (c Clock) Day(t time.Time) Date { return DateIn(t, c.Loc) }

// Pinned returns the clock with AsOf fixed at 09:00 (in Loc) on day d: the
// clock of a command run with --at.
func (c Clock) Pinned(d Date) Clock {
	t := time.Date(d.Year, d.Month, d.Day, 9, 0, 0, 0, zone(c.Loc))
	c.AsOf = func() time.Time { return t }
	return c
}

func call(f func() time.Time) time.Time {
	if f == nil {
		return time.Now()
	}
	return f()
}

func zone(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

func in(t time.Time, loc *time.Location) time.Time { return t.In(zone(loc)) }
