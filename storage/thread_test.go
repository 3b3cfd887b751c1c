package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"taskbot/storage"
)

func TestThreads(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s := f.s
	want := storage.Thread{TaskID: f.water.ID, Channel: "C0TRACK", TS: "1635728400.000100", CreatedAt: fixtureStart}
	ignoreTask := cmpopts.IgnoreFields(storage.Thread{}, "Task")

	got, err := s.CreateThread(ctx, storage.Thread{TaskID: f.water.ID, Channel: "C0TRACK", TS: "1635728400.000100"})
	if err != nil {
		t.Fatalf("CreateThread(共性1) error: %v", err)
	}
	if diff := cmp.Diff(&want, got, ignoreTask); diff != "" {
		t.Errorf("CreateThread(共性1) mismatch (-want +got):\n%s", diff)
	}

	// Another process posted a second parent message: the first stays.
	got, err = s.CreateThread(ctx, storage.Thread{TaskID: f.water.ID, Channel: "C0TRACK", TS: "1635728400.000900"})
	if err != nil || got.TS != want.TS {
		t.Errorf("CreateThread(共性1) again = %+v, %v; want the first thread (TS %s)", got, err, want.TS)
	}
	if _, err := s.FindThreadByTS(ctx, "C0TRACK", "1635728400.000900"); storage.ErrorCode(err) != storage.ENOTFOUND {
		t.Errorf("FindThreadByTS(the losing message) = %v; want ENOTFOUND", err)
	}

	// A message is one task's thread only.
	before := dump(t, s)
	got, err = s.CreateThread(ctx, storage.Thread{TaskID: f.house.ID, Channel: "C0TRACK", TS: "1635728400.000100"})
	if storage.ErrorCode(err) != storage.ENOTFOUND {
		t.Errorf("CreateThread(个性1, 共性1's message) = %+v, %v; want ENOTFOUND", got, err)
	}
	if _, err := s.CreateThread(ctx, storage.Thread{TaskID: 9999, Channel: "C0TRACK", TS: "1635728400.000300"}); storage.ErrorCode(err) != storage.EINTERNAL {
		t.Errorf("CreateThread(9999) = %v; want EINTERNAL", err)
	}
	checkUnchanged(t, s, before, "refused threads")

	if got, err := s.FindThread(ctx, f.water.ID); err != nil || cmp.Diff(&want, got, ignoreTask) != "" {
		t.Errorf("FindThread(%d) = %+v, %v; want %+v", f.water.ID, got, err, want)
	}
	if got, err := s.FindThreadByTS(ctx, "C0TRACK", want.TS); err != nil || got.TaskID != f.water.ID {
		t.Errorf("FindThreadByTS(C0TRACK, %s) = %+v, %v; want 共性1's", want.TS, got, err)
	}
	if _, err := s.FindThreadByTS(ctx, "C0OTHER", want.TS); storage.ErrorCode(err) != storage.ENOTFOUND {
		t.Errorf("FindThreadByTS(C0OTHER, %s) = %v; want ENOTFOUND", want.TS, err)
	}

	all, err := s.Threads(ctx, []uint{f.water.ID, f.city.ID, f.house.ID, 9999})
	if err != nil {
		t.Fatalf("Threads error: %v", err)
	}
	if diff := cmp.Diff(map[uint]storage.Thread{f.water.ID: want}, all, ignoreTask); diff != "" {
		t.Errorf("Threads mismatch (-want +got):\n%s", diff)
	}
	if none, err := s.Threads(ctx, nil); err != nil || len(none) != 0 {
		t.Errorf("Threads(nil) = %v, %v; want an empty map", none, err)
	}
}

// TestAcquireReportsTakeover: a lease is taken when free, renewed by its
// holder, refused to others while it runs, and taken over once it ran
// out; the renewal and the takeover say they resumed it (the earlier
// attempt may have done part of the work). A released lease is free, not
// resumed; a finished one is never taken again.
func TestAcquireReportsTakeover(t *testing.T) {
	ctx := context.Background()
	s := newFixture(t).s
	now := fixtureStart
	steps := []struct {
		what, holder string
		at           time.Time
		got, took    bool
		then         func()
	}{
		{"free", "a", now, true, false, nil},
		{"its holder again", "a", now.Add(time.Second), true, true, nil},
		{"another while it runs", "b", now.Add(30 * time.Second), false, false, nil},
		{"another once it ran out", "b", now.Add(2 * time.Minute), true, true, func() {
			if err := s.Release(ctx, "job:x", "b"); err != nil {
				t.Fatal(err)
			}
		}},
		{"after a release", "c", now.Add(2 * time.Minute), true, false, func() {
			if err := s.Finish(ctx, "job:x", "c"); err != nil {
				t.Fatal(err)
			}
		}},
		{"finished", "d", now.Add(time.Hour), false, false, nil},
	}
	for _, st := range steps {
		got, took, err := s.Acquire(ctx, "job:x", st.holder, st.at, time.Minute)
		if err != nil || got != st.got || took != st.took {
			t.Fatalf("%s: Acquire = %v, %v, %v; want %v, %v", st.what, got, took, err, st.got, st.took)
		}
		if st.then != nil {
			st.then()
		}
	}
}
