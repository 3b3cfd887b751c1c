package storage_test

import (
	"context"
	"strings"
	"testing"

	"taskbot/seeds"
	"taskbot/storage"
)

// TestMigrateV1Shares opens a database written before per-unit shares: every
// entry, decision and binding survives; a milestone already done becomes
// confirmed shares for every unit with an audit entry saying so; open
// milestones get open shares; a second start changes nothing.
func TestMigrateV1Shares(t *testing.T) {
	ctx := context.Background()
	path := copyV1(t)
	count := func(s *storage.Store, table string) int64 {
		var n int64
		if err := s.DB().Table(table).Count(&n).Error; err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		return n
	}
	// What the previous version wrote (see testdata/make-v1-db.sh).
	want := map[string]int64{"progresses": 7, "memberships": 6, "outboxes": 15, "reminder_steps": 3, "threads": 0}
	s, err := storage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := seeds.Load(ctx, s, seeds.Xuchang(), nil); err != nil {
		t.Fatal(err)
	}
	for table, n := range want {
		if got := count(s, table); got != n {
			t.Errorf("%s has %d rows after the upgrade; want %d", table, got, n)
		}
	}
	audits := count(s, "audits")
	if audits < 12 { // v1 wrote 12; the upgrade only adds
		t.Errorf("audits has %d rows after the upgrade; want the 12 of v1 and more", audits)
	}

	// Task 7 milestone 1 (2021-09-30) was marked done by 长葛市 in v1: every
	// unit's share is confirmed, dated by the done date.
	t7, err := s.FindTask(ctx, 1, 7)
	if err != nil {
		t.Fatal(err)
	}
	shares, err := s.TaskShares(ctx, t7.ID)
	if err != nil {
		t.Fatal(err)
	}
	byState := map[int]map[string]int{}
	for _, sh := range shares {
		if byState[sh.Seq] == nil {
			byState[sh.Seq] = map[string]int{}
		}
		byState[sh.Seq][sh.State]++
		if sh.Seq == 1 && (sh.DecidedAt == nil || sh.DecidedAt.UTC().Format("2006-01-02") != "2021-09-27") {
			t.Errorf("共性7 节点1 %s decided at %v; want the v1 done date 2021-09-27", sh.Unit, sh.DecidedAt)
		}
	}
	// 市水利局 and the nine counties of 各县（市、区）.
	if got := byState[1]; got[storage.ShareConfirmed] != 10 || len(got) != 1 {
		t.Errorf("共性7 节点1 shares by state = %v; want 10 confirmed", got)
	}
	if got := byState[2]; got[storage.ShareOpen] != 10 || len(got) != 1 {
		t.Errorf("共性7 节点2 shares by state = %v; want 10 open", got)
	}
	if !t7.Milestones[0].Done() {
		t.Errorf("共性7 节点1 is no longer done after the upgrade")
	}
	as, err := s.TaskAudits(ctx, t7.ID)
	if err != nil {
		t.Fatal(err)
	}
	said := false
	for _, a := range as {
		said = said || a.Action == storage.ActionShareConfirmed && strings.Contains(a.Details, "升级为分单位报送")
	}
	if !said {
		t.Errorf("共性7 audits %+v; want one saying the done milestone became confirmed shares", as)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A second start: nothing is migrated again.
	s, err = storage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := seeds.Load(ctx, s, seeds.Xuchang(), nil); err != nil {
		t.Fatal(err)
	}
	if got := count(s, "audits"); got != audits {
		t.Errorf("audits went from %d to %d on a second start", audits, got)
	}
	again, _ := s.TaskShares(ctx, t7.ID)
	if len(again) != len(shares) {
		t.Errorf("共性7 has %d shares on a second start; want %d", len(again), len(shares))
	}
}
