package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"taskbot/bot/slackbot"
	"taskbot/config"
	"taskbot/internal/fakeslack"
	"taskbot/internal/testenv"
	"taskbot/storage"
)

// TestMain lets a test run this very binary as taskbot (see startTaskbot):
// real processes, killed for real.
func TestMain(m *testing.M) {
	if os.Getenv("TASKBOT_TEST_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// proc is a taskbot process started by a test.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error // set when done is closed
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startTaskbot starts `taskbot args…` in its own process with exactly env
// (nothing inherited); it is killed when the test ends, and its output is
// logged when the test fails.
func startTaskbot(t *testing.T, name string, env map[string]string, args ...string) *proc {
	t.Helper()
	return startTaskbotInput(t, name, env, "", args...)
}

// startTaskbotInput is startTaskbot with stdin.
func startTaskbotInput(t *testing.T, name string, env map[string]string, stdin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = []string{"TASKBOT_TEST_AS_MAIN=1", "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{name: name, cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("output of %s:\n%s", p.name, p.out)
		}
	})
	return p
}

// kill kills the process with SIGKILL, as a crash or the OOM killer
// would, and waits for it.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop asks the process to shut down (SIGTERM) and returns how it ended.
func (p *proc) stop(t *testing.T) error {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(time.Minute):
		t.Fatalf("%s did not stop within a minute of SIGTERM", p.name)
		return nil
	}
}

// replicaOrg writes the example organisation with a channel for every unit
// (so that a reminder pass sends a message per unit) and a supervisor, and
// returns its path.
func replicaOrg(t *testing.T) string {
	t.Helper()
	f, err := config.ParseFile(config.Xuchang())
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.Units {
		f.Units[i].Channel = fmt.Sprintf("C_U%02d", i)
	}
	f.Supervisors = []string{"督查室 " + replicaSupervisor}
	b, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "org.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	replicaSupervisor = "U0000SUP1"
	replicaSecret     = "replica-signing-secret"
)

// replicaEnv is the environment of a taskbot on db talking to fake, with
// leases of lease.
func replicaEnv(db, org string, fake *fakeslack.Server, token string, lease time.Duration) map[string]string {
	return map[string]string{
		"TASKBOT_DB": db, "TASKBOT_CONFIG": org, "TASKBOT_CHANNEL": "C_TRACK", "TASKBOT_DIGEST_CHANNEL": "C_DUCHA",
		"SLACK_BOT_TOKEN": token, "SLACK_API_URL": fake.URL(), "SLACK_SIGNING_SECRET": replicaSecret,
		"TASKBOT_LEASE": lease.String(),
	}
}

// freeAddr returns a local address nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitFor polls cond until it holds, failing the test after a minute (the
// processes' own timers drive progress: leases expire, the outbox is
// flushed every second).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// slash posts a signed slash command to a replica and returns the status.
func slash(addr, command, text, trigger string) (int, error) {
	form := url.Values{"command": {command}, "text": {text}, "user_id": {replicaSupervisor}, "channel_id": {"C_CMD"},
		"team_id": {"T1"}, "trigger_id": {trigger}, "response_url": {"http://127.0.0.1:1/unused"}}
	body := form.Encode()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/slack/commands", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", slackbot.Sign(replicaSecret, ts, []byte(body)))
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// outboxRows reads every outbox message of the database at dsn.
func outboxRows(t *testing.T, dsn string) []storage.Outbox {
	t.Helper()
	st, err := storage.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var rows []storage.Outbox
	if err := st.DB().Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// checkDeliveredOnce fails unless every outbox message of rows is sent and
// in Slack exactly once (each of its parts), and nothing else carrying an
// outbox id was posted.
func checkDeliveredOnce(t *testing.T, rows []storage.Outbox, fake *fakeslack.Server) {
	t.Helper()
	posted := fake.Outbox()
	ids := map[uint]bool{}
	for _, r := range rows {
		ids[r.ID] = true
		switch {
		case r.SentAt == nil:
			t.Errorf("outbox %d (%s) not sent: attempts %d, last error %q, dead %v", r.ID, r.Key, r.Attempts, r.LastError, r.DeadAt != nil)
		case posted[fakeslack.OutboxPart{ID: r.ID}] != 1:
			t.Errorf("outbox %d (%s) posted %d times; want once", r.ID, r.Key, posted[fakeslack.OutboxPart{ID: r.ID}])
		}
	}
	for part, n := range posted {
		if !ids[part.ID] {
			t.Errorf("posted outbox id %d, which the database does not have", part.ID)
		} else if n != 1 {
			t.Errorf("outbox %d part %d posted %d times; want once", part.ID, part.Part, n)
		}
	}
}

// checkParents fails unless each task's thread parent (they begin with the
// task's code) was posted once in C_TRACK, and returns the count per task.
func checkParents(t *testing.T, fake *fakeslack.Server) map[string]int {
	t.Helper()
	parents := map[string]int{}
	for _, p := range fake.Posts() {
		if p.Channel == "C_TRACK" && p.ThreadTS == "" {
			code, _, _ := strings.Cut(strings.TrimPrefix(p.Text, "【"), "】")
			parents[code]++
		}
	}
	for code, n := range parents {
		if n != 1 {
			t.Errorf("%d thread parents posted for %s; want 1", n, code)
		}
	}
	return parents
}

// TestReplicasExactlyOnce runs two `serve` replicas, real processes, on
// one database with the scheduler firing every second as of 2021-09-23,
// and sends them signed slash commands that record progress while they
// run. The replica that posts the first outbox message is killed with
// SIGKILL in the worst place: Slack has accepted that message and the
// replica has not heard back. The survivor takes over the dead one's
// unfinished work once its leases run out (TASKBOT_LEASE=2s):
// every reminder, digest and progress post is in Slack exactly once, the
// task's thread parent once, and every acknowledged command is recorded
// once.
func TestReplicasExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	fake := fakeslack.New(t)
	db, org := testenv.DSN(t, "replicas.db"), replicaOrg(t)
	stalled := make(chan fakeslack.Post, 1)
	var once sync.Once
	fake.Intercept(func(p fakeslack.Post) <-chan struct{} {
		if p.Metadata == "" {
			return nil
		}
		var wait <-chan struct{}
		once.Do(func() {
			stalled <- p
			wait = make(chan struct{}) // never answered: its sender dies waiting
		})
		return wait
	})
	start := func(name, token string) (*proc, string) {
		env := replicaEnv(db, org, fake, token, 2*time.Second)
		env["TASKBOT_REMIND_CRON"], env["TASKBOT_DIGEST_CRON"] = "@every 1s", "@every 1s"
		env["TASKBOT_REPORT_CRON"] = "0 0 1 1 *" // not today
		addr := freeAddr(t)
		return startTaskbot(t, name, env, "serve", "-v", "--at", "2021-09-23", "--http", addr), addr
	}
	replicas := map[string]*proc{}
	a, addrA := start("replica A", "xoxb-replica-a")
	b, addrB := start("replica B", "xoxb-replica-b")
	replicas["xoxb-replica-a"], replicas["xoxb-replica-b"] = a, b
	survivor := b
	for _, addr := range []string{addrA, addrB} {
		waitFor(t, "both replicas to answer /healthz", func() bool {
			resp, err := http.Get("http://" + addr + "/healthz")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil && resp.StatusCode == http.StatusOK
		})
	}

	// Commands go to both replicas, before and after A dies.
	type sent struct {
		marker string
		acked  bool
	}
	var mu sync.Mutex
	var cmds []sent
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Go(func() {
			addr := addrA
			if i%2 == 1 {
				addr = addrB
			}
			marker := fmt.Sprintf("复核标记%02d", i)
			code, err := slash(addr, "/progress", "6 "+marker, fmt.Sprintf("trig%d", i))
			mu.Lock()
			cmds = append(cmds, sent{marker, err == nil && code == http.StatusOK})
			mu.Unlock()
		})
		if i == 8 {
			select {
			case p := <-stalled:
				victim := replicas[p.Token]
				if victim == b {
					survivor = a
				}
				t.Logf("killing %s while Slack holds its post to %s", victim.name, p.Channel)
				victim.kill()
			case <-time.After(time.Minute):
				t.Fatalf("no outbox message posted within a minute; posts: %d", len(fake.Posts()))
			}
		}
	}
	wg.Wait()

	st, err := storage.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	waitFor(t, "every message to be sent", func() bool {
		pending, err := st.CountPendingOutbox(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var digests, reminders int64
		st.DB().Model(&storage.Outbox{}).Where("key LIKE ?", "digest:%").Count(&digests)
		st.DB().Model(&storage.Outbox{}).Where("key LIKE ?", "rem:%").Count(&reminders)
		return pending == 0 && digests == 1 && reminders > 0
	})
	if err := survivor.stop(t); err != nil {
		t.Errorf("%s: %v", survivor.name, err)
	}

	rows := outboxRows(t, db)
	checkDeliveredOnce(t, rows, fake)
	kinds := map[string]int{}
	for _, r := range rows {
		kinds[r.Kind]++
	}
	t.Logf("outbox by kind: %v; %d posts", kinds, len(fake.Posts()))

	if parents := checkParents(t, fake); parents["共性6"] != 1 {
		t.Errorf("task 6's thread parent posted %d times; want once", parents["共性6"])
	}

	// Every acknowledged command recorded once; one the dead replica
	// never answered at most once.
	task, err := st.FindTask(ctx, 1, 6)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := st.TaskProgress(ctx, task.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	acked := 0
	for _, c := range cmds {
		n := 0
		for _, e := range entries {
			if strings.Contains(e.Text, c.marker) {
				n++
			}
		}
		switch {
		case c.acked && n != 1:
			t.Errorf("acknowledged command %q recorded %d times; want once", c.marker, n)
		case !c.acked && n > 1:
			t.Errorf("unanswered command %q recorded %d times; want at most once", c.marker, n)
		}
		if c.acked {
			acked++
		}
	}
	if acked < len(cmds)/2 {
		t.Errorf("%d of %d commands acknowledged; want at least the survivor's half", acked, len(cmds))
	}
}

// TestDeliveryKilledAtRandom kills `remind` with SIGKILL at 20 points of
// its delivery, chosen at random (a fixed seed): half while Slack holds a
// post it accepted (the sender never hears back), half just after Slack
// answered (before or after the sender marked it sent). Reruns, as cron
// or an operator would make them, take over what the killed one left once
// its lease ran out. Every time, the messages are those of an
// uninterrupted run, each in Slack exactly once: 0 lost, 0 doubled.
func TestDeliveryKilledAtRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	org := replicaOrg(t)
	const day = "2021-09-23"
	remind := func(db string, fake *fakeslack.Server) *proc {
		return startTaskbot(t, "remind", replicaEnv(db, org, fake, "xoxb-remind", time.Second), "remind", "--at", day)
	}
	// finish waits for a run. Exit status 1 is a run that could not send
	// everything (a thread parent another process was posting): the
	// messages stay queued for the next run, as it says.
	finish := func(t *testing.T, p *proc) {
		t.Helper()
		<-p.done
		var exit *exec.ExitError
		if p.err != nil && !(errors.As(p.err, &exit) && exit.ExitCode() == 1 && strings.Contains(p.out.String(), "仍在队列中")) {
			t.Fatalf("remind: %v\n%s", p.err, p.out)
		}
	}

	// The uninterrupted run: what every killed one must end up with.
	fake := fakeslack.New(t)
	db := testenv.DSN(t, "whole.db")
	finish(t, remind(db, fake))
	want := outboxRows(t, db)
	checkDeliveredOnce(t, want, fake)
	checkParents(t, fake)
	if len(want) < 5 {
		t.Fatalf("an uninterrupted run sent %d messages; want one per unit with a channel", len(want))
	}
	posts := len(fake.Posts()) // messages and the thread parents they open
	wantKeys := map[string]bool{}
	for _, r := range want {
		wantKeys[r.Key] = true
	}

	rng := rand.New(rand.NewPCG(14, 20))
	for round := range 20 {
		hold := round%2 == 0
		k := 1 + rng.IntN(posts) // die at the k-th post
		t.Run(fmt.Sprintf("round%02d_post%d_hold%v", round, k, hold), func(t *testing.T) {
			fake := fakeslack.New(t)
			db := testenv.DSN(t, "killed.db")
			reached := make(chan struct{})
			var mu sync.Mutex
			n := 0
			fake.Intercept(func(fakeslack.Post) <-chan struct{} {
				mu.Lock()
				defer mu.Unlock()
				if n++; n != k {
					return nil
				}
				close(reached)
				if hold {
					return make(chan struct{}) // the sender never hears back
				}
				return nil
			})
			p := remind(db, fake)
			select {
			case <-reached:
				p.kill()
			case <-p.done:
				// At the last post, without holding, it may finish before
				// the kill: then it was reached all the same.
				select {
				case <-reached:
				default:
					t.Fatalf("remind ended before its post %d of %d: %v\n%s", k, posts, p.err, p.out)
				}
			}
			fake.Intercept(nil)
			// Rerun until nothing is left: a rerun within the dead one's
			// lease leaves its messages alone and says so.
			var rows []storage.Outbox
			waitFor(t, "the reruns to deliver everything", func() bool {
				finish(t, remind(db, fake))
				rows = outboxRows(t, db)
				for _, r := range rows {
					if r.SentAt == nil {
						return false
					}
				}
				return true
			})
			checkDeliveredOnce(t, rows, fake)
			checkParents(t, fake)
			got := map[string]bool{}
			for _, r := range rows {
				got[r.Key] = true
			}
			for key := range wantKeys {
				if !got[key] {
					t.Errorf("message %s lost", key)
				}
			}
			if len(got) != len(wantKeys) {
				t.Errorf("%d messages; an uninterrupted run has %d", len(got), len(wantKeys))
			}
		})
	}
}
