package bot_test

import (
	"context"
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
	"leader 常务副市长",
}

// BenchmarkScale measures each query on 10,000 tasks:
//
//	go test ./bot -run='^$' -bench=Scale -benchtime=200x
func BenchmarkScale(b *testing.B) {
	bt := scaleBot(b)
	now := time.Date(2022, 6, 15, 9, 0, 0, 0, shanghai(b))
	for _, q := range scaleQueries {
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
