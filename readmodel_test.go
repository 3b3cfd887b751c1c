package main

import (
	"context"
	"strings"
	"testing"

	"taskbot/bot"
	"taskbot/internal/testenv"
)

// TestReadModelSeesEveryWrite: answers that only read are cached under the
// database's data version, and a write is visible on the very next
// request, wherever it was made: through this bot, through a second store
// on the same database (another replica in this process), and through a
// second process (a console run). On SQLite and on PostgreSQL.
func TestReadModelSeesEveryWrite(t *testing.T) {
	ctx := context.Background()
	db := testenv.DSN(t, "readmodel.db")
	open := func() *bot.Bot {
		st, err := testenv.Open(db, testenv.Directory())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return bot.New(st, nil)
	}
	a := open()
	now := testenv.At(t, "2021-10-08 09:00")
	ask := func(want string) {
		t.Helper()
		r := a.Handle(ctx, bot.Request{Text: "task 6", User: "U0000ZS01", Now: now})
		if r.Error || !strings.Contains(r.Text(), want) {
			t.Fatalf("task 6 lacks %q:\n%s", want, r.Text())
		}
	}
	write := func(b *bot.Bot, text string) {
		t.Helper()
		if r := b.Handle(ctx, bot.Request{Text: "progress 6 " + text, User: "U0000ZS01", Now: now}); r.Error {
			t.Fatalf("progress: %s", r.Text())
		}
	}
	ask("整改时限")
	ask("整改时限") // from the cache

	write(a, "本进程写入")
	ask("本进程写入")

	b := open() // another replica on the same database
	ask("本进程写入")
	write(b, "另一存储写入")
	ask("另一存储写入")

	// Another process: a console run by the inspection office.
	p := startTaskbotInput(t, "console", map[string]string{"TASKBOT_DB": db, "TASKBOT_CONFIG": replicaOrg(t)},
		"progress 6 另一进程写入\n", "console", "--as", replicaSupervisor, "--at", "2021-10-08")
	<-p.done
	if p.err != nil || !strings.Contains(p.out.String(), "另一进程写入") {
		t.Fatalf("console: %v\n%s", p.err, p.out)
	}
	ask("另一进程写入")
}
