package slackbot

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"taskbot/bot"
	"taskbot/internal/testenv"
)

const testSecret = "test-signing-secret"

// testNow is the pinned clock: 2026-03-02 09:00 in Xuchang.
var testNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

// newBot is a bot over the embedded list in a temp SQLite file, its clock
// (as-of and wall) pinned at testNow; opts add an organisation.
func newBot(tb testing.TB, opts ...testenv.Option) *bot.Bot {
	tb.Helper()
	return bot.New(testenv.Store(tb, append([]testenv.Option{testenv.AsOf(testNow), testenv.Wall(testNow)}, opts...)...), nil)
}

// posted is one Web API call recorded by the fake Slack.
type posted struct {
	Method   string
	Channel  string
	ThreadTS string
	User     string
	Text     string
	Blocks   slack.Blocks
	Metadata string // message metadata, JSON, as sent
	TS       string // the ts Slack gave it
}

// fakeSlack is slacktest's Web API server with chat.postMessage and
// chat.postEphemeral replaced by handlers that record what was sent and
// can be told to fail the next calls.
type fakeSlack struct {
	srv *slacktest.Server

	mu    sync.Mutex
	posts []posted
	fail  []func(w http.ResponseWriter) // consumed one per call
	hold  chan struct{}                 // when set, calls wait for it to close
	calls int
	open  []slack.ModalViewRequest              // views.open
	homes map[string][]slack.HomeTabViewRequest // views.publish, by user
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", f.handler("chat.postMessage"))
		c.Handle("/chat.postEphemeral", f.handler("chat.postEphemeral"))
		// The conversation as posted (a user's DM is named by the user).
		history := func(w http.ResponseWriter, r *http.Request, thread bool) {
			r.ParseForm()
			channel, ts := r.Form.Get("channel"), r.Form.Get("ts")
			f.mu.Lock()
			var msgs []map[string]any
			for i := len(f.posts) - 1; i >= 0; i-- {
				p := f.posts[i]
				if p.Method != "chat.postMessage" || p.Channel != channel || (thread && p.ThreadTS != ts) || (!thread && p.ThreadTS != "") {
					continue
				}
				m := map[string]any{"type": "message", "ts": p.TS, "text": p.Text}
				if p.Metadata != "" && r.Form.Get("include_all_metadata") == "1" {
					m["metadata"] = json.RawMessage(p.Metadata)
				}
				msgs = append(msgs, m)
			}
			f.mu.Unlock()
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "messages": msgs, "has_more": false})
		}
		c.Handle("/conversations.history", func(w http.ResponseWriter, r *http.Request) { history(w, r, false) })
		c.Handle("/conversations.replies", func(w http.ResponseWriter, r *http.Request) { history(w, r, true) })
		c.Handle("/conversations.open", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": map[string]any{"id": r.Form.Get("users")}})
		})
		c.Handle("/views.open", func(w http.ResponseWriter, r *http.Request) {
			var req struct {
				View slack.ModalViewRequest `json:"view"`
			}
			decodeView(r, &req)
			f.mu.Lock()
			f.open = append(f.open, req.View)
			f.mu.Unlock()
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "view": map[string]any{"id": "V2"}})
		})
		c.Handle("/views.publish", func(w http.ResponseWriter, r *http.Request) {
			var req struct {
				User string                   `json:"user_id"`
				View slack.HomeTabViewRequest `json:"view"`
			}
			decodeView(r, &req)
			f.mu.Lock()
			if f.homes == nil {
				f.homes = map[string][]slack.HomeTabViewRequest{}
			}
			f.homes[req.User] = append(f.homes[req.User], req.View)
			f.mu.Unlock()
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "view": map[string]any{"id": "V1"}})
		})
	})
	f.srv.Start()
	t.Cleanup(f.srv.Stop)
	return f
}

func (f *fakeSlack) handler(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.calls++
		hold := f.hold
		var fail func(http.ResponseWriter)
		if len(f.fail) > 0 {
			fail, f.fail = f.fail[0], f.fail[1:]
		}
		f.mu.Unlock()
		if hold != nil {
			<-hold
		}
		if fail != nil {
			fail(w)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p := posted{Method: method, Channel: r.Form.Get("channel"), ThreadTS: r.Form.Get("thread_ts"),
			User: r.Form.Get("user"), Text: r.Form.Get("text"), Metadata: r.Form.Get("metadata")}
		if b := r.Form.Get("blocks"); b != "" {
			if err := json.Unmarshal([]byte(b), &p.Blocks); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		f.mu.Lock()
		p.TS = "1772413200.00" + strconv.Itoa(1001+len(f.posts))
		f.posts = append(f.posts, p)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": p.Channel, "ts": p.TS, "message_ts": "1772413200.000200"})
	}
}

// decodeView reads a views.* call: JSON, or form fields.
func decodeView(r *http.Request, into any) {
	body, _ := io.ReadAll(r.Body)
	if json.Unmarshal(body, into) != nil {
		vals, _ := url.ParseQuery(string(body))
		user, _ := json.Marshal(vals.Get("user_id"))
		raw, _ := json.Marshal(map[string]json.RawMessage{"view": json.RawMessage(vals.Get("view")), "user_id": user})
		json.Unmarshal(raw, into)
	}
}

// opened returns the views opened (views.open) so far.
func (f *fakeSlack) opened() []slack.ModalViewRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.open)
}

// published returns the Home views published (views.publish) for user so
// far.
func (f *fakeSlack) published(user string) []slack.HomeTabViewRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.homes[user])
}

func (f *fakeSlack) failNext(fs ...func(w http.ResponseWriter)) {
	f.mu.Lock()
	f.fail = append(f.fail, fs...)
	f.mu.Unlock()
}

func (f *fakeSlack) recorded() []posted {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]posted(nil), f.posts...)
}

func rateLimited(after string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", after)
		w.WriteHeader(http.StatusTooManyRequests)
	}
}

func slackErr(code string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":false,"error":"`+code+`"}`)
	}
}

// hooks records messages posted to response URLs.
type hooks struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []hookMsg
}

type hookMsg struct {
	Path string
	Msg  slack.WebhookMessage
}

func newHooks(t *testing.T) *hooks {
	h := &hooks{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m slack.WebhookMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.msgs = append(h.msgs, hookMsg{r.URL.Path, m})
		h.mu.Unlock()
		io.WriteString(w, "ok")
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hooks) recorded() []hookMsg {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookMsg(nil), h.msgs...)
}

func (h *hooks) url(name string) string { return h.srv.URL + "/commands/T1/" + name }

// testEnv is an Adapter over a real store, talking to a fake Slack.
type testEnv struct {
	a     *Adapter
	slack *fakeSlack
	hooks *hooks
	log   *bytes.Buffer
	waits []time.Duration
	mu    sync.Mutex
}

func newEnv(t *testing.T, opts ...testenv.Option) *testEnv {
	t.Helper()
	e := &testEnv{slack: newFakeSlack(t), hooks: newHooks(t), log: new(bytes.Buffer)}
	log := slog.New(slog.NewTextHandler(syncWriter{w: e.log, mu: &e.mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api := slack.New("xoxb-test-token", slack.OptionAPIURL(e.slack.srv.GetAPIURL()))
	p := NewPoster(api, log)
	p.wait = func(ctx context.Context, d time.Duration) error {
		e.mu.Lock()
		e.waits = append(e.waits, d)
		e.mu.Unlock()
		return ctx.Err()
	}
	e.a = New(newBot(t, opts...), p, log)
	e.a.SigningSecret = testSecret
	t.Cleanup(func() { e.a.Shutdown(context.Background()) })
	return e
}

func (e *testEnv) logText() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.log.String()
}

type syncWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (s syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// signed builds a request to path signed as Slack would at testNow.
func signed(path, contentType string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	ts := strconv.FormatInt(testNow.Unix(), 10)
	r.Header.Set("X-Slack-Request-Timestamp", ts)
	r.Header.Set("X-Slack-Signature", Sign(testSecret, ts, body))
	return r
}

func commandForm(command, text, responseURL string) []byte {
	return []byte(url.Values{
		"token": {"legacy"}, "team_id": {"T1"}, "channel_id": {"C1"}, "user_id": {"U1"}, "user_name": {"zhang"},
		"command": {command}, "text": {text}, "response_url": {responseURL}, "trigger_id": {"1.2.3"},
	}.Encode())
}

func (e *testEnv) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.a.HTTPHandler().ServeHTTP(w, r)
	return w
}

// blocksText is all the text of blocks, for "contains" checks.
func blocksText(bs []slack.Block) string {
	b, _ := json.Marshal(bs)
	var s strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if t, ok := v["text"].(string); ok {
				s.WriteString(t)
				s.WriteByte('\n')
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var v any
	json.Unmarshal(b, &v)
	walk(v)
	return s.String()
}

func blockTypes(bs []slack.Block) []string {
	var out []string
	for _, b := range bs {
		out = append(out, string(b.BlockType()))
	}
	return out
}
