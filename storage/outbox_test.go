package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"taskbot/storage"
)

// TestOutbox walks messages through the outbox: enqueued once, leased by
// one holder at a time, kept in order within a group, retried, given up.
func TestOutbox(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s := f.s
	now := fixtureStart
	for _, m := range []storage.Outbox{
		{Key: "thread:1:a", Kind: "thread", Group: "task:1", Payload: "a"},
		{Key: "thread:1:b", Kind: "thread", Group: "task:1", Payload: "b"},
		{Key: "digest:2021-11-01", Kind: "digest", Payload: "d"},
		{Key: "remind:a_b", Kind: "remind", Payload: "r", NextAttemptAt: now.Add(time.Hour)},
	} {
		if added, err := s.Enqueue(ctx, m); err != nil || !added {
			t.Fatalf("Enqueue(%s) = %v, %v; want true", m.Key, added, err)
		}
	}
	if added, err := s.Enqueue(ctx, storage.Outbox{Key: "thread:1:a", Kind: "thread", Payload: "again"}); err != nil || added {
		t.Errorf("Enqueue(thread:1:a) again = %v, %v; want false", added, err)
	}
	pending := func() int {
		t.Helper()
		n, err := s.CountPendingOutbox(ctx)
		if err != nil {
			t.Fatalf("CountPendingOutbox error: %v", err)
		}
		return n
	}
	dead := func() int {
		t.Helper()
		n, err := s.CountDeadOutbox(ctx)
		if err != nil {
			t.Fatalf("CountDeadOutbox error: %v", err)
		}
		return n
	}
	lease := func(holder string, at time.Time, prefixes ...string) []string {
		t.Helper()
		ms, err := s.Lease(ctx, holder, at, time.Minute, 10, prefixes)
		if err != nil {
			t.Fatalf("Lease(%s, %v, %q) error: %v", holder, at, prefixes, err)
		}
		var keys []string
		for _, m := range ms {
			keys = append(keys, m.Key)
			if m.LeasedBy != holder {
				t.Errorf("Lease(%s) returned %s leased by %q", holder, m.Key, m.LeasedBy)
			}
		}
		return keys
	}
	if n := pending(); n != 4 {
		t.Errorf("CountPendingOutbox = %d; want 4", n)
	}

	// The second of a group waits for the first; a future message waits
	// for its time; a prefix selects.
	if got := lease("a", now, "digest:"); !cmp.Equal(got, []string{"digest:2021-11-01"}) {
		t.Errorf("Lease(a, digest:) = %v; want [digest:2021-11-01]", got)
	}
	if got := lease("a", now); !cmp.Equal(got, []string{"thread:1:a"}) {
		t.Errorf("Lease(a) = %v; want [thread:1:a]", got)
	}
	// Held messages are not leased again before their lease ends.
	if got := lease("b", now.Add(30*time.Second)); len(got) != 0 {
		t.Errorf("Lease(b) during a's lease = %v; want none", got)
	}
	// LIKE's wildcards in a prefix match only themselves.
	for _, p := range []string{"remind:%", "remind:_", `remind:\`} {
		if got := lease("b", now.Add(2*time.Hour), p); len(got) != 0 {
			t.Errorf("Lease(b, %q) = %v; want none", p, got)
		}
	}
	if got := lease("b", now.Add(2*time.Hour), "remind:a_"); !cmp.Equal(got, []string{"remind:a_b"}) {
		t.Errorf("Lease(b, remind:a_) = %v; want [remind:a_b]", got)
	}

	// Only the holder's word counts.
	if err := s.MarkSent(ctx, 1, "b", now); err != nil {
		t.Fatalf("MarkSent(1, b) error: %v", err)
	}
	if n := pending(); n != 4 {
		t.Errorf("CountPendingOutbox after MarkSent by a non-holder = %d; want 4", n)
	}
	ids := map[string]uint{}
	var rows []storage.Outbox
	if err := s.DB().Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, m := range rows {
		ids[m.Key] = m.ID
	}
	if err := s.MarkSent(ctx, ids["digest:2021-11-01"], "a", now); err != nil {
		t.Fatalf("MarkSent(digest, a) error: %v", err)
	}
	// A failure waits for its retry time, and holds its group back.
	if err := s.MarkFailed(ctx, ids["thread:1:a"], "a", "rate limited", now.Add(10*time.Minute)); err != nil {
		t.Fatalf("MarkFailed(thread:1:a) error: %v", err)
	}
	if got := lease("b", now.Add(5*time.Minute)); len(got) != 0 {
		t.Errorf("Lease(b) before the retry time = %v; want none", got)
	}
	if got := lease("b", now.Add(10*time.Minute)); !cmp.Equal(got, []string{"thread:1:a"}) {
		t.Errorf("Lease(b) at the retry time = %v; want [thread:1:a]", got)
	}
	// Given up, it no longer holds the group back.
	if err := s.MarkDead(ctx, ids["thread:1:a"], "b", "channel_not_found"); err != nil {
		t.Fatalf("MarkDead(thread:1:a) error: %v", err)
	}
	if got := lease("b", now.Add(11*time.Minute)); !cmp.Equal(got, []string{"thread:1:b"}) {
		t.Errorf("Lease(b) after the first of the group died = %v; want [thread:1:b]", got)
	}
	if p, d := pending(), dead(); p != 2 || d != 1 {
		t.Errorf("CountPendingOutbox, CountDeadOutbox = %d, %d; want 2, 1", p, d)
	}
	var gone storage.Outbox
	if err := s.DB().Take(&gone, ids["thread:1:a"]).Error; err != nil {
		t.Fatal(err)
	}
	if gone.Attempts != 2 || gone.LastError != "channel_not_found" || gone.DeadAt == nil || !gone.DeadAt.Equal(fixtureStart) {
		t.Errorf("dead message = {Attempts %d, LastError %q, DeadAt %v}; want 2, channel_not_found, %v",
			gone.Attempts, gone.LastError, gone.DeadAt, fixtureStart)
	}
}

// TestClaim: reminder steps are claimed once; a claim that loses any step
// writes nothing.
func TestClaim(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s := f.s
	step := func(key string) storage.ReminderStep {
		return storage.ReminderStep{Key: key, TaskID: f.water.ID, Step: key, FireOn: storage.NewDate(2021, 12, 1)}
	}
	queued, err := s.Claim(ctx, []storage.ReminderStep{step("s1"), step("s2")},
		[]storage.Outbox{{Key: "m1", Kind: "remind", Payload: "1"}, {Key: "m2", Kind: "remind", Payload: "2"}})
	if err != nil || len(queued) != 2 {
		t.Fatalf("Claim(s1, s2) = %d queued, %v; want 2", len(queued), err)
	}
	// A message already queued is skipped, not an error.
	queued, err = s.Claim(ctx, []storage.ReminderStep{step("s3")},
		[]storage.Outbox{{Key: "m2", Kind: "remind", Payload: "2"}, {Key: "m3", Kind: "remind", Payload: "3"}})
	if err != nil || len(queued) != 1 || queued[0].Key != "m3" {
		t.Errorf("Claim(s3) = %+v, %v; want only m3 queued", queued, err)
	}
	claimed, err := s.ClaimedSteps(ctx, []uint{f.water.ID, f.house.ID})
	if err != nil || !cmp.Equal(claimed, map[string]bool{"s1": true, "s2": true, "s3": true}) {
		t.Errorf("ClaimedSteps = %v, %v; want s1 s2 s3", claimed, err)
	}
	if claimed, err := s.ClaimedSteps(ctx, []uint{f.house.ID}); err != nil || len(claimed) != 0 {
		t.Errorf("ClaimedSteps(个性1) = %v, %v; want none", claimed, err)
	}
}
