package storage_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"taskbot/internal/testenv"
	"taskbot/storage"
)

// TestDeriveFreshAsStatements: a first seeding's unit_tasks and shares,
// worked out in Go (deriveFresh), are the rows the statements write, with
// the shares' IDs in the same order: for units named directly and through
// collectives, under an alias, in both roles, a collective within a
// collective, and tasks with and without milestones.
func TestDeriveFreshAsStatements(t *testing.T) {
	ctx := context.Background()
	org := []storage.UnitSpec{
		{Name: "各县（市、区）", Members: []string{"长葛市", "禹州市", "鄢陵县", "魏都区"}},
		{Name: "长葛市", Aliases: []string{"长葛"}},
		{Name: "城区片", Members: []string{"各县（市、区）", "魏都区", "建安区"}},
	}
	names := [][]string{
		{"市生态环境局", "各县（市、区）"},
		{"长葛", "各县（市、区）|长葛市"},
		{"城区片", "建安区|市生态环境局"},
		{"各县（市、区）", "城区片|禹州市"},
		{"市水利局", "市生态环境局|市水利局"},
	}
	var tasks []storage.Task
	for i := range 40 {
		t := storage.Task{Section: 1 + i/20, Number: 1 + i%20, Code: fmt.Sprintf("任务%d", i+1),
			Title: fmt.Sprintf("任务 %d", i+1), Problem: "问题", Deadline: "2023年6月底前"}
		if i%20 == 19 {
			t.Section, t.Number, t.Code = 9, i, fmt.Sprintf("个性%d", i) // out of order
		}
		u := names[i%len(names)]
		t.Units = append(t.Units, storage.TaskUnit{Role: storage.RoleLead, Unit: storage.Unit{Name: u[0]}})
		for _, n := range strings.Split(u[1], "|") {
			t.Units = append(t.Units, storage.TaskUnit{Role: storage.RoleResponsible, Unit: storage.Unit{Name: n}})
		}
		for k := range i % 4 { // none for one task in four: shares of the whole task
			due := storage.NewDate(2023, time.Month(3+k*2), 1+i%28)
			t.Milestones = append(t.Milestones, storage.Milestone{Due: due, PlannedDue: due, Text: fmt.Sprintf("节点%d", k+1)})
		}
		t.Immediate = i%4 == 0 && i%8 == 0
		tasks = append(tasks, t)
	}
	dump := func(inGo bool) (units, shares [][]string) {
		t.Helper()
		defer func(sqlite, postgres bool) {
			storage.DeriveInGo[storage.SQLite], storage.DeriveInGo[storage.Postgres] = sqlite, postgres
		}(storage.DeriveInGo[storage.SQLite], storage.DeriveInGo[storage.Postgres])
		storage.DeriveInGo[storage.SQLite], storage.DeriveInGo[storage.Postgres] = inGo, inGo
		s, err := storage.Open(testenv.DSN(t, fmt.Sprintf("derive-%v.db", inGo)))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.SeedFrom(ctx, append([]storage.Task(nil), tasks...), "v1", "test", org); err != nil {
			t.Fatal(err)
		}
		testenv.CheckShareCounts(t, s)
		// The shares' primary key holds (on PostgreSQL it was built
		// after them).
		err = s.DB().Exec(`INSERT INTO shares (id, task_id, list_id, milestone_id, unit_id, state, reason, decided_by, retired)
			SELECT id, task_id, list_id, milestone_id + 1000000, unit_id, state, reason, decided_by, retired FROM shares WHERE id = (SELECT MIN(id) FROM shares)`).Error
		if err == nil {
			t.Error("a second share of the same ID was written")
		}
		units = textRows(t, s.DB(), `SELECT u.name, ut.role, ut.task_id, COALESCE(v.name, ''), ut.rank, COALESCE(ut.next_due, ''), ut.section, ut.number
			FROM unit_tasks ut JOIN units u ON u.id = ut.unit_id LEFT JOIN units v ON v.id = ut.via_id ORDER BY u.name, ut.role, ut.task_id`)
		shares = textRows(t, s.DB(), `SELECT s.id - (SELECT MIN(id) FROM shares), s.task_id, s.list_id, s.milestone_id, u.name, s.state, s.reason,
			s.decided_by, s.retired, s.task_closed, COALESCE(s.due, '') FROM shares s JOIN units u ON u.id = s.unit_id ORDER BY s.id`)
		return units, shares
	}
	sqlUnits, sqlShares := dump(false)
	goUnits, goShares := dump(true)
	if len(sqlShares) < 200 || len(sqlUnits) < 200 {
		t.Fatalf("%d unit_tasks rows and %d shares; want a few hundred of each", len(sqlUnits), len(sqlShares))
	}
	if diff := cmp.Diff(sqlUnits, goUnits); diff != "" {
		t.Errorf("unit_tasks: statements (-) and deriveFresh (+) differ:\n%s", diff)
	}
	if diff := cmp.Diff(sqlShares, goShares); diff != "" {
		t.Errorf("shares: statements (-) and deriveFresh (+) differ:\n%s", diff)
	}
}

// TestFirstSeedingAfterTasksDeleted: tasks and shares deleted by hand
// leave unit_tasks rows (no foreign key holds them); the next seeding, a
// first one again, replaces them rather than adding to them.
func TestFirstSeedingAfterTasksDeleted(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	count := func() (n int64) {
		t.Helper()
		if err := s.DB().Table("unit_tasks").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, err := s.Seed(ctx, records(t), "v1"); err != nil {
		t.Fatal(err)
	}
	want := count()
	for _, q := range []string{"DELETE FROM shares", "DELETE FROM milestones", "DELETE FROM measures", "DELETE FROM leaders", "DELETE FROM task_units", "DELETE FROM tasks"} {
		if err := s.DB().Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if n := count(); n != want || n == 0 {
		t.Fatalf("%d unit_tasks rows left; want the %d of the seeding", n, want)
	}
	if _, err := s.Seed(ctx, records(t), "v2"); err != nil {
		t.Fatal(err)
	}
	var orphans int64
	if err := s.DB().Raw(`SELECT COUNT(*) FROM unit_tasks WHERE task_id NOT IN (SELECT id FROM tasks)`).Scan(&orphans).Error; err != nil {
		t.Fatal(err)
	}
	if n := count(); n != want || orphans != 0 {
		t.Errorf("after seeding again: %d unit_tasks rows, %d of deleted tasks; want %d, none", n, orphans, want)
	}
}
