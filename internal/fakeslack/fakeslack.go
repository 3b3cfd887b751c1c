// Package fakeslack is a recording fake of the Slack Web API for tests:
// slacktest's server with the calls taskbot makes replaced by handlers
// that record what was sent, keep each conversation (so history and
// replies return what was posted, metadata included), and can be told to
// fail, hold or intercept the next calls. Tests in several packages, and
// the processes they start, talk to it over HTTP.
package fakeslack

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// Post is one chat.postMessage or chat.postEphemeral call, as recorded.
type Post struct {
	Method   string
	Token    string // the bearer token that made the call: which process
	Channel  string
	ThreadTS string
	User     string
	Text     string
	Blocks   slack.Blocks
	Metadata string // message metadata, JSON, as sent
	TS       string // the ts the fake gave it
}

// Server is the fake Web API. Its zero value is not usable: call New.
type Server struct {
	srv *slacktest.Server

	mu    sync.Mutex
	posts []Post
	fail  []func(w http.ResponseWriter)         // consumed one per call
	hold  chan struct{}                         // when set, calls wait for it to close
	after func(Post) <-chan struct{}            // see Intercept
	open  []slack.ModalViewRequest              // views.open
	homes map[string][]slack.HomeTabViewRequest // views.publish, by user
}

// New starts a fake, stopped when tb ends.
func New(tb testing.TB) *Server {
	f := &Server{}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", f.handler("chat.postMessage"))
		c.Handle("/chat.postEphemeral", f.handler("chat.postEphemeral"))
		c.Handle("/conversations.history", func(w http.ResponseWriter, r *http.Request) { f.history(w, r, false) })
		c.Handle("/conversations.replies", func(w http.ResponseWriter, r *http.Request) { f.history(w, r, true) })
		c.Handle("/conversations.open", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			// A user's DM is named by the user.
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": map[string]any{"id": r.Form.Get("users")}})
		})
		c.Handle("/users.lookupByEmail", func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "users_not_found"})
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
	tb.Cleanup(f.srv.Stop)
	return f
}

// URL is the Web API base URL, ending in "/" (SLACK_API_URL).
func (f *Server) URL() string { return f.srv.GetAPIURL() }

// history answers conversations.history (thread false) and
// conversations.replies: the messages posted there, newest first.
func (f *Server) history(w http.ResponseWriter, r *http.Request, thread bool) {
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

func (f *Server) handler(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
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
		token := r.Form.Get("token") // slack-go sends chat.* tokens in the form
		if token == "" {
			token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		p := Post{Method: method, Token: token,
			Channel: r.Form.Get("channel"), ThreadTS: r.Form.Get("thread_ts"),
			User: r.Form.Get("user"), Text: r.Form.Get("text"), Metadata: r.Form.Get("metadata")}
		if b := r.Form.Get("blocks"); b != "" {
			if err := json.Unmarshal([]byte(b), &p.Blocks); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		f.mu.Lock()
		p.TS = "1772413200." + strconv.Itoa(100001+len(f.posts))
		f.posts = append(f.posts, p)
		after := f.after
		f.mu.Unlock()
		if after != nil {
			if wait := after(p); wait != nil {
				select { // Slack has the message; the caller does not know yet
				case <-wait:
				case <-r.Context().Done():
					return
				}
			}
		}
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

// Opened returns the views opened (views.open) so far.
func (f *Server) Opened() []slack.ModalViewRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.open)
}

// Published returns the Home views published (views.publish) for user so
// far.
func (f *Server) Published(user string) []slack.HomeTabViewRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.homes[user])
}

// FailNext makes the next posts answer with fs, one each, in order.
func (f *Server) FailNext(fs ...func(w http.ResponseWriter)) {
	f.mu.Lock()
	f.fail = append(f.fail, fs...)
	f.mu.Unlock()
}

// Hold makes posts wait, before they are recorded, until ch is closed;
// nil stops holding new calls.
func (f *Server) Hold(ch chan struct{}) {
	f.mu.Lock()
	f.hold = ch
	f.mu.Unlock()
}

// Intercept calls after with each post once it is recorded, before it is
// answered: when after returns a channel, the answer waits until it is
// closed or the caller hangs up. That is the window in which Slack has a
// message and its sender does not know yet. Nil removes the hook.
func (f *Server) Intercept(after func(Post) <-chan struct{}) {
	f.mu.Lock()
	f.after = after
	f.mu.Unlock()
}

// Posts returns the posts recorded so far, oldest first.
func (f *Server) Posts() []Post {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.posts)
}

// OutboxPart is one outbox message part as tagged in a post's metadata.
type OutboxPart struct {
	ID   uint
	Part int
}

// Outbox returns, for each outbox message part found in the posts'
// metadata (event type taskbot_outbox), how many times it was posted.
func (f *Server) Outbox() map[OutboxPart]int {
	out := map[OutboxPart]int{}
	for _, p := range f.Posts() {
		var meta struct {
			EventType    string `json:"event_type"`
			EventPayload struct {
				ID   uint `json:"id"`
				Part int  `json:"part"`
			} `json:"event_payload"`
		}
		if p.Method == "chat.postMessage" && json.Unmarshal([]byte(p.Metadata), &meta) == nil && meta.EventType == "taskbot_outbox" {
			out[OutboxPart{meta.EventPayload.ID, meta.EventPayload.Part}]++
		}
	}
	return out
}

// RateLimited answers 429 with Retry-After after (seconds).
func RateLimited(after string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", after)
		w.WriteHeader(http.StatusTooManyRequests)
	}
}

// Error answers {"ok":false,"error":code}.
func Error(code string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":false,"error":"`+code+`"}`)
	}
}
