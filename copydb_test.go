package main

import (
	"context"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"taskbot/bot"
	"taskbot/internal/testenv"
	"taskbot/storage"
)

// TestCopyDB: a SQLite deployment with entries, decisions and a done
// milestone is copied with `taskbot copy-db` into an empty database (the
// test PostgreSQL when TASKBOT_TEST_POSTGRES is set): every table's count
// matches, the bot answers the same there, a milestone not open stays so,
// and new rows get new ids. A target with data is refused, untouched.
func TestCopyDB(t *testing.T) {
	ctx := context.Background()
	from := filepath.Join(t.TempDir(), "old.db")
	src, err := testenv.Open(from, testenv.AsOf(testenv.At(t, "2021-10-08 09:00")), testenv.Directory())
	if err != nil {
		t.Fatal(err)
	}
	b := bot.New(src, nil)
	for _, c := range []struct{ user, text string }{
		{"U0000LS01", "progress 7 完成 1 长葛市台账 https://example.gov.cn/cg"},
		{"U0000SUP1", "task 7 确认 1 长葛市"},
		{"U0000ZS01", "progress 6 申请延期 1 2022-01-31 资金未到位"},
	} {
		if r := b.Handle(ctx, bot.Request{Text: c.text, User: c.user}); r.Error {
			t.Fatalf("%s: %s", c.text, r.Text())
		}
	}
	// A milestone done (not open): its column's default is open.
	if err := src.DB().Exec("UPDATE milestones SET open = FALSE WHERE id = (SELECT MIN(id) FROM milestones)").Error; err != nil {
		t.Fatal(err)
	}
	want := b.Handle(ctx, bot.Request{Text: "task 7", User: "U0000SUP1"}).Text()
	wantOpen := milestonesOpen(t, src)
	src.Close()

	to := testenv.DSN(t, "new.db")
	out, _, err := runCLI(t, nil, "copy-db", "--from", from, "--to", to)
	if err != nil {
		t.Fatalf("copy-db: %v\n%s", err, out)
	}
	if !strings.Contains(out, "逐表核对一致") || !strings.Contains(out, "progresses") {
		t.Errorf("copy-db said:\n%s", out)
	}
	dst, err := storage.Open(to)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	dst.Clock = storage.Clock{Loc: src.Clock.Loc, AsOf: src.Clock.AsOf}
	// share_counts is not copied: the target's triggers counted the shares.
	if diff, err := dst.CheckShareCounts(ctx); err != nil || diff != "" {
		t.Errorf("share counts after the copy: %s %v", diff, err)
	}
	if got := bot.New(dst, nil).Handle(ctx, bot.Request{Text: "task 7", User: "U0000SUP1"}).Text(); got != want {
		t.Errorf("task 7 after the copy:\n%s\nwant, as before:\n%s", got, want)
	}
	if got := milestonesOpen(t, dst); len(got) != len(wantOpen) || !maps.Equal(got, wantOpen) {
		for id, o := range wantOpen {
			if got[id] != o {
				t.Logf("milestone %d open %v, want %v", id, got[id], o)
			}
		}
		t.Errorf("milestones' open flags differ after the copy")
	}
	if r := bot.New(dst, nil).Handle(ctx, bot.Request{Text: "progress 7 新的进展", User: "U0000LS01"}); r.Error {
		t.Errorf("a new entry after the copy: %s", r.Text())
	}
	if _, _, err := runCLI(t, nil, "copy-db", "--from", from, "--to", to); storage.ErrorCode(err) != storage.ECONFLICT {
		t.Errorf("copying into a database with data = %v; want a refusal", err)
	}
}

func milestonesOpen(t *testing.T, s *storage.Store) map[uint]bool {
	t.Helper()
	var ms []storage.Milestone
	if err := s.DB().Find(&ms).Error; err != nil {
		t.Fatal(err)
	}
	out := map[uint]bool{}
	for _, m := range ms {
		out[m.ID] = m.Open
	}
	return out
}
