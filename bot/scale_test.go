package bot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"taskbot/bot"
	"taskbot/seeds"
	"taskbot/storage"
	"taskbot/storage/synth"
)

// scaleTasks is the size of the generated list the query floors are
// measured on (issue: each query under 10 ms at 10,000 tasks).
const scaleTasks = 10000

var scale struct {
	once sync.Once
	dir  string
	bot  *bot.Bot
	err  error
}

// scaleBot opens (once per process) a temp SQLite file holding 10,000
// generated tasks.
func scaleBot(tb testing.TB) *bot.Bot {
	scale.once.Do(func() {
		scale.dir, scale.err = os.MkdirTemp("", "taskbot-scale")
		if scale.err != nil {
			return
		}
		var store *storage.Store
		store, scale.err = storage.Open(filepath.Join(scale.dir, "scale.db"))
		if scale.err != nil {
			return
		}
		ctx := context.Background()
		tasks := synth.Tasks(scaleTasks, 42, synth.Sentences(string(seeds.Xuchang)))
		if _, scale.err = store.Seed(ctx, tasks, "synthetic"); scale.err != nil {
			return
		}
		if scale.err = store.ApplyUnits(ctx, synth.Specs()); scale.err != nil {
			return
		}
		// As taskbot does at start: the index is built once, not per search.
		if scale.err = store.WarmSearch(ctx); scale.err != nil {
			return
		}
		scale.bot = bot.New(store, shanghai(tb), nil)
	})
	if scale.err != nil {
		tb.Fatal(scale.err)
	}
	return scale.bot
}

func TestMain(m *testing.M) {
	code := m.Run()
	if scale.dir != "" {
		os.RemoveAll(scale.dir)
	}
	os.Exit(code)
}

func shanghai(tb testing.TB) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

var scaleQueries = []string{
	"unit 市生态环境局", // a lead unit: ~13% of tasks
	"unit 长葛市",    // a county: most tasks, through the collective
	"due 30",
	"overdue",
	"search 污水",     // a common word
	"search 垃圾 渗滤液", // two words
}

// scaleOverview has no floor in the issue; benchmarked so that it stays
// in the milliseconds (leader) and tens of milliseconds (units).
var scaleOverview = []string{"leader 常务副市长", "units"}

// BenchmarkScale measures each query on 10,000 tasks:
//
//	go test ./bot -run='^$' -bench=Scale -benchtime=200x
func BenchmarkScale(b *testing.B) {
	bt := scaleBot(b)
	now := time.Date(2022, 6, 15, 9, 0, 0, 0, shanghai(b))
	for _, q := range append(scaleQueries, scaleOverview...) {
		b.Run(q, func(b *testing.B) {
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				t0 := time.Now()
				r := bt.Handle(ctx, bot.Request{Text: q, Now: now})
				lat = append(lat, time.Since(t0))
				if r.Error {
					b.Fatalf("Handle(%q) = error %q", q, r.Title)
				}
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// TestScaleFloor fails when a query on 10,000 tasks takes 10 ms or more
// (median of 15 runs, so one slow run on a busy machine does not fail it).
func TestScaleFloor(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10,000-task database")
	}
	if raceEnabled {
		t.Skip("timings mean nothing under the race detector")
	}
	bt := scaleBot(t)
	now := time.Date(2022, 6, 15, 9, 0, 0, 0, shanghai(t))
	ctx := context.Background()
	for _, q := range scaleQueries {
		var lat []time.Duration
		for i := 0; i < 15; i++ {
			t0 := time.Now()
			r := bt.Handle(ctx, bot.Request{Text: q, Now: now})
			lat = append(lat, time.Since(t0))
			if r.Error {
				t.Fatalf("Handle(%q) = error %q", q, r.Title)
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		if med := lat[len(lat)/2]; med >= 10*time.Millisecond {
			t.Errorf("Handle(%q) median %v on %d tasks; want < 10ms", q, med, scaleTasks)
		}
	}
}

// freshCopy copies the 10,000-task database (VACUUM INTO) and opens the
// copy, so a pass that writes starts from the same state every time.
func freshCopy(tb testing.TB, i int) *bot.Bot {
	src := scaleBot(tb)
	path := filepath.Join(scale.dir, fmt.Sprintf("copy-%d.db", i))
	os.Remove(path)
	if err := src.Store.DB().Exec("VACUUM INTO ?", path).Error; err != nil {
		tb.Fatal(err)
	}
	store, err := storage.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close(); os.Remove(path) })
	return bot.New(store, src.Loc, nil)
}

// BenchmarkRemindPass measures reminder passes on 10,000 tasks as of
// 2022-06-15 (issue: under 200 ms), each on a fresh copy of the database:
//
//   - backlog: the first pass ever, which claims and queues every step due
//     at once (5,681 milestones: half the list is overdue that day);
//
//   - daily: the pass of a day after the previous day's pass ran;
//
//   - again: a second pass the same day, which finds nothing new.
//
//     go test ./bot -run='^$' -bench='RemindPass|Digest' -benchtime=10x
func BenchmarkRemindPass(b *testing.B) {
	now := time.Date(2022, 6, 15, 9, 0, 0, 0, shanghai(b))
	p := bot.DefaultRemindPolicy()
	ctx := context.Background()
	for _, bm := range []struct {
		name   string
		before []time.Time // passes run before the timed one
		at     time.Time
		some   bool // the timed pass must queue something
	}{
		{"backlog", nil, now, true},
		{"daily", []time.Time{now.AddDate(0, 0, -1)}, now, true},
		{"again", []time.Time{now}, now.Add(time.Hour), false},
	} {
		b.Run(bm.name, func(b *testing.B) {
			var msgs int
			i := 0
			for b.Loop() {
				b.StopTimer()
				bt := freshCopy(b, i)
				i++
				for _, t := range bm.before {
					if _, err := bt.RunReminders(ctx, t, p); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				q, err := bt.RunReminders(ctx, bm.at, p)
				if err != nil || (len(q) > 0) != bm.some {
					b.Fatalf("RunReminders = %d, %v", len(q), err)
				}
				msgs = len(q)
			}
			b.ReportMetric(float64(msgs), "messages")
		})
	}
}

// BenchmarkDigest measures the daily digest on 10,000 tasks (issue: under
// 200 ms).
func BenchmarkDigest(b *testing.B) {
	bt := scaleBot(b)
	now := time.Date(2022, 6, 15, 9, 0, 0, 0, shanghai(b))
	for b.Loop() {
		if _, err := bt.Digest(context.Background(), now, bot.DefaultDigestPolicy()); err != nil {
			b.Fatal(err)
		}
	}
}
