package bot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"taskbot/bot"
	"taskbot/internal/testenv"
	"taskbot/seeds"
	"taskbot/storage"
	"taskbot/storage/synth"
)

// scaleTasks is the size of the generated list the queries are checked
// and benchmarked on: 10,000, or TASKBOT_SCALE_TASKS for the benchmarks
// at 100,000 (issue 15: every query under 10 ms there too).
var scaleTasks = func() int {
	if n, err := strconv.Atoi(os.Getenv("TASKBOT_SCALE_TASKS")); err == nil && n >= 1000 {
		return n
	}
	return 10000
}()

// scaleLists is how many lists the scale fixture holds: the generated one
// and TASKBOT_SCALE_LISTS-1 more (at most 4), each the seed's 24 tasks,
// so that `units` and `stats` are measured grouping by list.
var scaleLists = func() int {
	if n, err := strconv.Atoi(os.Getenv("TASKBOT_SCALE_LISTS")); err == nil && n > 1 {
		return min(n, 1+len(scaleListNames))
	}
	return 1
}()

// scaleListNames name the scale fixture's lists after the first.
var scaleListNames = []string{"省督察二轮", "回头看", "大气专项", "水专项"}

// scale is the 10,000-task fixture, built once per test binary: the
// generator's tasks (the oracle) and a bot over a store seeded with them.
var scale struct {
	once  sync.Once
	dir   string
	tasks []storage.Task
	bot   *bot.Bot
	err   error
	drop  func() // the PostgreSQL schema, when the tests run there
	keep  bool   // TASKBOT_SCALE_DIR: the directory is the caller's
}

// scaleBot opens (once per process) a temp SQLite file holding 10,000
// generated tasks and the collective of synth.Specs.
func scaleBot(tb testing.TB) *bot.Bot {
	tb.Helper()
	scale.once.Do(func() {
		// TASKBOT_SCALE_DIR keeps the SQLite file (or the PostgreSQL
		// schema) between runs (building 100,000 tasks takes a minute);
		// the seed is skipped when it is there already.
		if scale.dir = os.Getenv("TASKBOT_SCALE_DIR"); scale.dir != "" {
			scale.keep = true
		} else if scale.dir, scale.err = os.MkdirTemp("", "taskbot-scale"); scale.err != nil {
			return
		}
		scale.tasks = synth.Tasks(scaleTasks, 42, synth.Sentences(string(seeds.Xuchang())))
		var store *storage.Store
		name := fmt.Sprintf("scale-%d", scaleTasks)
		if scaleLists > 1 {
			name += fmt.Sprintf("-%dlists", scaleLists)
		}
		dsn := filepath.Join(scale.dir, name+".db")
		if pg := testenv.PostgresURL(); pg != "" && scale.keep {
			// Kept too: a schema named after the size, made once.
			dsn, scale.err = testenv.KeptPostgresSchema(pg, strings.ReplaceAll(name, "-", "_"))
			if scale.err != nil {
				return
			}
		} else if pg != "" {
			if dsn, scale.drop, scale.err = testenv.NewPostgresSchema(pg); scale.err != nil {
				return
			}
		}
		store, scale.err = testenv.Open(dsn,
			testenv.Tasks(scale.tasks, "synthetic"), testenv.Units(synth.Specs()...),
			testenv.People(storage.PeopleSpec{Supervisors: []storage.PersonRef{{SlackID: scaleSupervisor}}}))
		if scale.err != nil {
			return
		}
		for i := 2; i <= scaleLists; i++ {
			if _, _, scale.err = seeds.Import(context.Background(), store, seeds.Xuchang(), scaleListNames[i-2], false); scale.err != nil {
				return
			}
		}
		// About one share in a hundred reported done, awaiting review.
		scale.err = store.DB().Exec(`UPDATE shares SET state = 'reported', reported_at = '2022-06-01 01:00:00+00:00'
			WHERE id % 97 = 0`).Error
		if scale.err != nil {
			return
		}
		if store.Dialect() == storage.Postgres {
			// Planner statistics and the visibility map, as autovacuum
			// keeps them in a running database (right after a bulk load
			// there are none, and no index-only scans).
			if scale.err = store.DB().Exec("VACUUM ANALYZE").Error; scale.err != nil {
				return
			}
		}
		// As taskbot does at start: the index is built once, not per search.
		if scale.err = store.WarmSearch(context.Background()); scale.err != nil {
			return
		}
		scale.bot = bot.New(store, nil)
	})
	if scale.err != nil {
		tb.Fatal(scale.err)
	}
	return scale.bot
}

func TestMain(m *testing.M) {
	code := m.Run()
	if scale.bot != nil {
		scale.bot.Store.Close()
	}
	if scale.dir != "" && !scale.keep {
		os.RemoveAll(scale.dir)
	}
	if scale.drop != nil {
		scale.drop()
	}
	os.Exit(code)
}

// scaleNow is the day the scale queries are asked: about half of the
// generated milestones are overdue by then.
func scaleNow(tb testing.TB) time.Time { return testenv.At(tb, "2022-06-15 09:00") }

// scaleSupervisor is the scale fixture's inspection office (pending shows
// it every request).
const scaleSupervisor = "U0000SUP1"

var scaleQueries = []string{
	"task 6",      // a card: under 1 ms (taskFloor)
	"pending",     // ~1,000 shares reported done
	"unit 市生态环境局", // a lead unit: ~13% of tasks
	"unit 长葛市",    // a county: most tasks, through the collective
	"due 30",
	"overdue",
	"search 污水",     // a common word
	"search 垃圾 渗滤液", // two words
}

// scaleOverview has no floor in the issue; benchmarked so that it stays
// in the milliseconds (leader) and tens of milliseconds (units).
var scaleOverview = []string{"leader 常务副市长", "leader 副市长", "leader", "units", "stats", "stats 各县（市、区）", "stats 长葛市"}

// scaleFloor is the bound on each of scaleQueries at 10,000 tasks;
// taskFloor the bound on a task card (issue 14: on PostgreSQL too).
const (
	scaleFloor = 10 * time.Millisecond
	taskFloor  = time.Millisecond
)

// BenchmarkScale measures each query on 10,000 tasks and reports the
// median and 99th percentile of single requests. It fails when the median
// of one of scaleQueries reaches scaleFloor (not under the race detector,
// which slows code several times):
//
//	go test ./bot -run='^$' -bench=Scale -benchtime=200x
func BenchmarkScale(b *testing.B) {
	uncached := bot.New(scaleBot(b).Store, nil)
	uncached.NoCache = true
	benchQueries(b, uncached, append(scaleQueries, scaleOverview...), true)
}

// BenchmarkScaleCached measures the same queries answered from the read
// model (the reply cache under the data version): what a repeated
// question costs, one data-version read.
//
//	go test ./bot -run='^$' -bench=ScaleCached -benchtime=200x
func BenchmarkScaleCached(b *testing.B) {
	benchQueries(b, scaleBot(b), append(scaleQueries, scaleOverview...), false)
}

func benchQueries(b *testing.B, bt *bot.Bot, queries []string, floors bool) {
	now := scaleNow(b)
	for _, q := range queries {
		b.Run(q, func(b *testing.B) {
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				t0 := time.Now()
				r := bt.Handle(ctx, bot.Request{Text: q, User: scaleSupervisor, Now: now})
				lat = append(lat, time.Since(t0))
				if r.Error {
					b.Fatalf("Handle(%q) = error %q", q, r.Title)
				}
			}
			slices.Sort(lat)
			med := lat[len(lat)/2]
			b.ReportMetric(float64(med.Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			floor := scaleFloor
			if strings.HasPrefix(q, "task ") && scaleTasks <= 10000 {
				floor = taskFloor // issue 14's, at 10,000 tasks
			}
			if floors && slices.Contains(scaleQueries, q) && !raceEnabled && med >= floor {
				b.Errorf("Handle(%q) median %v on %d tasks; want < %v", q, med, scaleTasks, floor)
			}
		})
	}
}

// TestScaleAnswers checks the queries on 10,000 generated tasks against
// what the generator built (no timing: see BenchmarkScale): task cards,
// a unit's counts, the due and overdue windows, search and leader.
func TestScaleAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10,000-task database")
	}
	bt := scaleBot(t)
	now := scaleNow(t)
	today := storage.DateIn(now, now.Location())
	ask := func(t *testing.T, text string) bot.Reply {
		t.Helper()
		r := bt.Handle(context.Background(), bot.Request{Text: text, Now: now})
		if r.Error {
			t.Fatalf("Handle(%q) = error %q %v", text, r.Title, r.Footnotes)
		}
		return r
	}
	count := func(keep func(tk *storage.Task) bool) int {
		n := 0
		for i := range scale.tasks {
			if keep(&scale.tasks[i]) {
				n++
			}
		}
		return n
	}
	unitIn := func(tk *storage.Task, role, name string) bool {
		return slices.ContainsFunc(tk.Units, func(u storage.TaskUnit) bool { return u.Role == role && u.Unit.Name == name })
	}

	t.Run("task card", func(t *testing.T) {
		for _, n := range []int{1, 4321, scaleTasks - 1} {
			tk := &scale.tasks[n-1]
			text := ask(t, fmt.Sprintf("task %d", n)).Text()
			want := []string{fmt.Sprintf("【共性%d】%s", n, tk.Title)}
			for _, u := range tk.Units {
				want = append(want, u.Unit.Name)
			}
			for _, m := range tk.Measures {
				want = append(want, m.Text)
			}
			for i, m := range tk.Milestones {
				want = append(want, fmt.Sprintf("节点%d  %s  %s", i+1, m.Due, bot.DaysLabel(m.Due, today)))
			}
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("task %d lacks %q:\n%s", n, w, text)
				}
			}
		}
	})

	t.Run("unit", func(t *testing.T) {
		lead := count(func(tk *storage.Task) bool { return unitIn(tk, storage.RoleLead, "市生态环境局") })
		if got, want := ask(t, "unit 市生态环境局").Title, fmt.Sprintf("【市生态环境局】牵头 %d 项 · 责任 0 项", lead); got != want {
			t.Errorf("unit 市生态环境局 title = %q; want %q", got, want)
		}
		// 长葛市 is responsible directly or through the collective.
		resp := count(func(tk *storage.Task) bool {
			return unitIn(tk, storage.RoleResponsible, "长葛市") || unitIn(tk, storage.RoleResponsible, synth.Collective)
		})
		if got, want := ask(t, "unit 长葛市").Title, fmt.Sprintf("【长葛市】牵头 0 项 · 责任 %d 项", resp); got != want {
			t.Errorf("unit 长葛市 title = %q; want %q", got, want)
		}
	})

	// dues are the generated milestones' due days, all open, earliest first.
	var dues []storage.Date
	for _, tk := range scale.tasks {
		for _, m := range tk.Milestones {
			dues = append(dues, m.Due)
		}
	}
	slices.SortFunc(dues, func(a, b storage.Date) int { return b.DaysUntil(a) })
	within := func(from, to storage.Date) []storage.Date {
		var out []storage.Date
		for _, d := range dues {
			if !d.Before(from) && !to.Before(d) {
				out = append(out, d)
			}
		}
		return out
	}
	for _, tt := range []struct {
		text, title string
		want        []storage.Date
	}{
		{"due 30", "未来 30 天内到期的节点", within(today, today.AddDays(30))},
		{"overdue", "已逾期未完成的节点", within(dues[0], today.AddDays(-1))},
	} {
		t.Run(tt.text, func(t *testing.T) {
			r := ask(t, tt.text)
			if want := fmt.Sprintf("%s（共 %d 个）", tt.title, len(tt.want)); r.Title != want {
				t.Errorf("%s title = %q; want %q", tt.text, r.Title, want)
			}
			if len(tt.want) == 0 || len(r.Sections) != 1 {
				t.Fatalf("%s: %d milestones, %d sections; the fixture should give some, in one section", tt.text, len(tt.want), len(r.Sections))
			}
			s := r.Sections[0]
			if s.More != len(tt.want)-len(s.Items) || len(s.Items) != min(bot.MaxItems, len(tt.want)) {
				t.Errorf("%s lists %d and counts %d more; want %d listed of %d", tt.text, len(s.Items), s.More, min(bot.MaxItems, len(tt.want)), len(tt.want))
			}
			// Earliest first: the listed days are the earliest of the window.
			for i, it := range s.Items {
				if want := tt.want[i].String(); !strings.HasPrefix(it.Text, want+" ") {
					t.Errorf("%s item %d = %q; want due %s", tt.text, i, it.Text, want)
				}
			}
		})
	}

	t.Run("search", func(t *testing.T) {
		for _, words := range [][]string{{"污水"}, {"垃圾", "渗滤液"}} {
			want := count(func(tk *storage.Task) bool {
				text := tk.Title + tk.Problem + tk.Goal
				for _, m := range tk.Measures {
					text += m.Text
				}
				return !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(text, w) })
			})
			q := strings.Join(words, " ")
			r := ask(t, "search "+q)
			if got := fmt.Sprintf("搜索“%s”：共 %d 项任务", q, want); r.Title != got {
				t.Errorf("search %s title = %q; want %q", q, r.Title, got)
			}
			if want == 0 {
				t.Errorf("search %s: no generated task matches; the fixture should give some", q)
			}
		}
	})

	t.Run("leader", func(t *testing.T) {
		want := count(func(tk *storage.Task) bool {
			return slices.ContainsFunc(tk.Leaders, func(l storage.Leader) bool { return l.Post == "市政府常务副市长" })
		})
		if got := ask(t, "leader 常务副市长").Title; got != fmt.Sprintf("责任领导为“常务副市长”的任务（%d 项）", want) {
			t.Errorf("leader 常务副市长 title = %q; want %d tasks", got, want)
		}
		want = count(func(tk *storage.Task) bool {
			return slices.ContainsFunc(tk.Leaders, func(l storage.Leader) bool { return strings.Contains(l.Post, "副市长") })
		})
		if got := ask(t, "leader 副市长").Title; got != fmt.Sprintf("责任领导含“副市长”的任务（%d 项）", want) {
			t.Errorf("leader 副市长 title = %q; want %d tasks", got, want)
		}
		// The store fetches few tasks by post and many by walking the
		// urgency order: both ways give the same tasks in the same order.
		ctx := context.Background()
		for _, q := range []string{"常务副市长", "副市长"} {
			walk, err := bt.Store.LeaderTasks(ctx, q, 50)
			if err != nil {
				t.Fatal(err)
			}
			byPost, err := bt.Store.LeaderTasks(ctx, q, walk.Total)
			if err != nil {
				t.Fatal(err)
			}
			code := func(ts []storage.TaskSummary) []string {
				var out []string
				for _, tk := range ts {
					out = append(out, tk.Code)
				}
				return out
			}
			if len(byPost.Tasks) != walk.Total {
				t.Errorf("LeaderTasks(%q, %d) = %d tasks; want all %d", q, walk.Total, len(byPost.Tasks), walk.Total)
			} else if diff := cmp.Diff(code(byPost.Tasks[:50]), code(walk.Tasks)); diff != "" {
				t.Errorf("LeaderTasks(%q, 50) differs from the first 50 of all (-all +walk):\n%s", q, diff)
			}
		}
	})
}

// forgetReminders deletes every claimed reminder step and queued message
// of the scale fixture, so that the next pass is its first.
func forgetReminders(tb testing.TB, b *bot.Bot) {
	tb.Helper()
	for _, table := range []string{"reminder_steps", "outboxes"} {
		if err := b.Store.DB().Exec("DELETE FROM " + table).Error; err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkRemindPass measures reminder passes on 10,000 tasks as of
// 2022-06-15 (issue: under 200 ms), each after the claims of the passes
// before were deleted (on either database):
//
//   - backlog: the first pass ever, which claims and queues every step due
//     at once, with the week's overdue lists (half the list is overdue
//     that day);
//
//   - daily: the pass of a day after the previous day's pass ran;
//
//   - again: a second pass the same day, which finds nothing new.
//
//     go test ./bot -run='^$' -bench='RemindPass|Digest' -benchtime=10x
func BenchmarkRemindPass(b *testing.B) {
	now := scaleNow(b)
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
			bt := scaleBot(b)
			b.Cleanup(func() { forgetReminders(b, bt) })
			for b.Loop() {
				b.StopTimer()
				forgetReminders(b, bt)
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
	now := scaleNow(b)
	for b.Loop() {
		if _, err := bt.Digest(context.Background(), now, bot.DefaultDigestPolicy()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatsMiss measures `stats` and `units` on 10,000 tasks when the
// reply cache is cold: something was committed before every question.
// After an entry (a meta row here) the counts of tasks and milestones are
// still kept; after a write to a milestone only that task's are counted
// again; on a new day every task's are. With TASKBOT_SCALE_LISTS=3 the
// database holds two more lists and `units` and `stats` group by list:
//
//	go test ./bot -run='^$' -bench=StatsMiss -benchtime=20x
func BenchmarkStatsMiss(b *testing.B) {
	bt := scaleBot(b)
	now := scaleNow(b)
	ctx := context.Background()
	for _, commit := range []struct{ name, sql string }{
		{"entry", `INSERT INTO meta (name, value) VALUES ('bench', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`},
		{"milestone", `UPDATE milestones SET text = text || ? WHERE id = 1`},
		{"next-day", ""}, // no write: the first question of each day
	} {
		qs := []string{"stats", "units"}
		if scaleLists > 1 {
			qs = append(qs, "stats "+scaleListNames[0]) // one list's, from share_counts
		}
		for _, q := range qs {
			b.Run(commit.name+"/"+q, func(b *testing.B) {
				var lat []time.Duration
				for i := 0; b.Loop(); i++ {
					b.StopTimer()
					at := now
					if commit.sql == "" {
						at = now.AddDate(0, 0, i+1)
					} else if err := bt.Store.DB().Exec(commit.sql, fmt.Sprint(i%10)).Error; err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					t0 := time.Now()
					if r := bt.Handle(ctx, bot.Request{Text: q, User: scaleSupervisor, Now: at}); r.Error {
						b.Fatal(r.Title)
					}
					lat = append(lat, time.Since(t0))
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			})
		}
	}
}
