package bot

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"taskbot/internal/testenv"
)

// TestPassOncePerTick: two replicas fire the same scheduled pass at the
// same tick (seconds apart): it runs once. A pass that fails gives the tick
// back. A replica that died mid-pass leaves an expired lease, and the next
// Flush of another replica runs that tick, as of the tick.
func TestPassOncePerTick(t *testing.T) {
	ctx := context.Background()
	store := testenv.Store(t, testenv.Wall(time.Date(2021, 9, 23, 1, 0, 0, 0, time.UTC)))
	a, b := New(store, nil), New(store, nil)
	var mu sync.Mutex
	var ran []time.Time
	fail := false
	pass := func(ctx context.Context, now time.Time) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return errors.New("slack down")
		}
		ran = append(ran, now)
		return nil
	}
	tick := time.Date(2021, 9, 23, 1, 0, 0, 0, time.UTC)
	if err := a.oncePerTick("remind", pass)(ctx, tick); err != nil {
		t.Fatal(err)
	}
	if err := b.oncePerTick("remind", pass)(ctx, tick.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 1 {
		t.Fatalf("the pass ran %d times at one tick on two replicas; want 1", len(ran))
	}
	// A failure gives the tick back: another replica may run it.
	next := tick.Add(24 * time.Hour)
	fail = true
	if err := a.oncePerTick("remind", pass)(ctx, next); err == nil {
		t.Fatal("a failing pass reported no error")
	}
	fail = false
	if err := b.oncePerTick("remind", pass)(ctx, next); err != nil || len(ran) != 2 {
		t.Fatalf("after a failure the other replica ran it: %v, %d runs; want 2", err, len(ran))
	}
	// A replica died mid-pass: its lease expired unfinished.
	dead := tick.Add(48 * time.Hour)
	if ok, _, err := store.Acquire(ctx, tickLease("remind", dead), "dead", store.Clock.WallNow().Add(-time.Hour), DefaultLease); err != nil || !ok {
		t.Fatalf("the dead replica's lease: %v %v", ok, err)
	}
	if err := b.takeOverTicks(ctx, map[string]Job{"remind": pass}); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 3 || !ran[2].Equal(dead) {
		t.Fatalf("runs %v; want the dead replica's tick %v taken over", ran, dead)
	}
	if err := a.takeOverTicks(ctx, map[string]Job{"remind": pass}); err != nil || len(ran) != 3 {
		t.Errorf("a second takeover ran it again: %v, %d runs", err, len(ran))
	}
}
