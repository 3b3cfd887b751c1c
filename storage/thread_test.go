package storage_test

import (
	"context"
	"testing"

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
