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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"taskbot/bot"
	"taskbot/internal/fakeslack"
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
	slack *fakeslack.Server
	hooks *hooks
	log   *bytes.Buffer
	waits []time.Duration
	mu    sync.Mutex
}

func newEnv(t *testing.T, opts ...testenv.Option) *testEnv {
	t.Helper()
	e := &testEnv{slack: fakeslack.New(t), hooks: newHooks(t), log: new(bytes.Buffer)}
	log := slog.New(slog.NewTextHandler(syncWriter{w: e.log, mu: &e.mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api := slack.New("xoxb-test-token", slack.OptionAPIURL(e.slack.URL()))
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

// version is the store's data version now.
func (e *testEnv) version(t *testing.T) int64 {
	t.Helper()
	return testenv.DataVersion(t, e.a.Bot.Store)
}
