package storage

import (
	"context"
	"time"
)

// WeekCounts are what happened in [since, until): shares confirmed,
// requests decided, and entries by unit.
type WeekCounts struct {
	Confirmed int
	// ConfirmedBy counts the confirmations by unit name.
	ConfirmedBy map[string]int
	Decided     int
	// EntriesBy counts the progress entries by unit name ("" for entries
	// made for no unit).
	EntriesBy map[string]int
}

// CountWeek returns the WeekCounts of [since, until). It returns
// EINTERNAL when a query fails.
func (s *Store) CountWeek(ctx context.Context, since, until time.Time) (WeekCounts, error) {
	w := WeekCounts{ConfirmedBy: map[string]int{}, EntriesBy: map[string]int{}}
	var rows []struct {
		Name string
		N    int
	}
	// From the shares themselves: a milestone's 销号 confirms every share
	// at once without an entry per unit.
	err := s.db.WithContext(ctx).Raw(`SELECT u.name AS name, COUNT(*) AS n FROM shares s JOIN units u ON u.id = s.unit_id
		WHERE s.state = ? AND NOT s.retired AND s.decided_at >= ? AND s.decided_at < ? GROUP BY u.name`, ShareConfirmed, since.UTC(), until.UTC()).Scan(&rows).Error
	if err != nil {
		return w, Internal(err)
	}
	for _, r := range rows {
		w.ConfirmedBy[r.Name] += r.N
		w.Confirmed += r.N
	}
	var n int64
	err = s.db.WithContext(ctx).Model(&Audit{}).Where("action IN ? AND progress_id IS NOT NULL AND at >= ? AND at < ?",
		[]string{ActionClosed, ActionMilestoneApproved, ActionSentBack, ActionExtensionApproved, ActionExtensionRejected},
		since.UTC(), until.UTC()).Count(&n).Error
	if err != nil {
		return w, Internal(err)
	}
	w.Decided = int(n)
	rows = nil
	err = s.db.WithContext(ctx).Raw(`SELECT unit_name AS name, COUNT(*) AS n FROM progresses WHERE created_at >= ? AND created_at < ?
		GROUP BY unit_name`, since.UTC(), until.UTC()).Scan(&rows).Error
	if err != nil {
		return w, Internal(err)
	}
	for _, r := range rows {
		w.EntriesBy[r.Name] = r.N
	}
	return w, nil
}
