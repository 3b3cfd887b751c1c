package seeds_test

import (
	"context"
	"sync"
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
	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := storage.Open(dsn)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			_, _, errs[i] = seeds.Load(context.Background(), s, seeds.Xuchang())
		}()
	}
	wg.Wait()
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
			t.Log(err)
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d simultaneous starts failed", failed, n)
	}
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
