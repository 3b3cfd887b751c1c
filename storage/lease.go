package storage

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// Lease is a named piece of work one process does at a time, whatever the
// number of processes: a task's thread parent being posted, a scheduled
// job's tick. The holder has it until Until; after that anyone may take it
// over. Done marks work finished: the lease is then never taken again.
type Lease struct {
	Name   string    `gorm:"primaryKey;size:128"`
	Holder string    `gorm:"size:128;not null"`
	Until  time.Time `gorm:"not null;index"`
	Done   bool      `gorm:"not null;default:false"`
}

// Acquire takes the lease name for holder until now+ttl, when nobody holds
// it, its holder's time ran out or the holder is holder itself, and it is
// not done. It reports whether holder now has it (of two callers one
// wins), and whether it resumed a lease that was already there: taken
// over from a holder whose time ran out (a process that died with the
// work half done; Release deletes the lease), or held by holder itself
// from an attempt that neither finished nor gave up. Either way the work
// may have had effects already.
func (s *Store) Acquire(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (got, resumed bool, err error) {
	now = now.UTC()
	db := s.db.WithContext(ctx)
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&Lease{Name: name, Holder: holder, Until: now.Add(ttl)})
	if res.Error != nil {
		return false, false, Internal(res.Error)
	}
	if res.RowsAffected == 1 {
		return true, false, nil
	}
	res = db.Model(&Lease{}).Where("name = ? AND NOT done AND holder = ?", name, holder).Update("until", now.Add(ttl))
	if res.Error != nil {
		return false, false, Internal(res.Error)
	}
	if res.RowsAffected == 1 {
		return true, true, nil
	}
	res = db.Model(&Lease{}).Where("name = ? AND NOT done AND until < ?", name, now).
		Updates(map[string]any{"holder": holder, "until": now.Add(ttl)})
	if res.Error != nil {
		return false, false, Internal(res.Error)
	}
	return res.RowsAffected == 1, res.RowsAffected == 1, nil
}

// Release gives the lease up (the work was not done: anyone may take it).
func (s *Store) Release(ctx context.Context, name, holder string) error {
	err := s.db.WithContext(ctx).Where("name = ? AND holder = ? AND NOT done", name, holder).Delete(&Lease{}).Error
	if err != nil {
		return Internal(err)
	}
	return nil
}

// Finish marks the lease's work done: nobody takes it again.
func (s *Store) Finish(ctx context.Context, name, holder string) error {
	err := s.db.WithContext(ctx).Model(&Lease{}).Where("name = ? AND holder = ?", name, holder).Update("done", true).Error
	if err != nil {
		return Internal(err)
	}
	return nil
}

// ExpiredLeases returns the names starting with prefix whose work is not
// done and whose holder's time ran out by now: work a process left
// unfinished (it died), for another to take over.
func (s *Store) ExpiredLeases(ctx context.Context, prefix string, now time.Time) ([]string, error) {
	var names []string
	err := s.db.WithContext(ctx).Model(&Lease{}).Where(`name LIKE ? ESCAPE '\' AND NOT done AND until < ?`, likePrefix(prefix), now.UTC()).
		Order("name").Pluck("name", &names).Error
	if err != nil {
		return nil, Internal(err)
	}
	return names, nil
}

// ForgetLeases deletes done leases whose time ended before cutoff.
func (s *Store) ForgetLeases(ctx context.Context, cutoff time.Time) error {
	if err := s.db.WithContext(ctx).Where("done AND until < ?", cutoff.UTC()).Delete(&Lease{}).Error; err != nil {
		return Internal(err)
	}
	return nil
}
