package seeds_test

import (
	"context"
	"testing"

	"taskbot/internal/testenv"
	"taskbot/seeds"
	"taskbot/storage"
)

// TestSimultaneousStarts: 40 starts on one new database at once, each
// opening it and seeding the list as `taskbot` does on start, all succeed
// and the list is there once.
func TestSimultaneousStarts(t *testing.T) {
	dsn := testenv.DSN(t, "taskbot.db")
	testenv.AtOnce(t, 40, func() error {
		s, err := storage.Open(dsn)
		if err != nil {
			return err
		}
		defer s.Close()
		_, _, err = seeds.Load(context.Background(), s, seeds.Xuchang(), nil)
		return err
	})
	s, err := storage.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var tasks int64
	if err := s.DB().Model(&storage.Task{}).Count(&tasks).Error; err != nil || tasks != 24 {
		t.Errorf("%d tasks after the starts, %v; want 24", tasks, err)
	}
}
