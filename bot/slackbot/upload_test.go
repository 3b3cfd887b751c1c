package slackbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"taskbot/bot"
)

// uploads records Slack's upload flow: files.getUploadURLExternal, the
// upload itself, files.completeUploadExternal.
type uploads struct {
	mu    sync.Mutex
	calls []string
	body  []byte
	form  map[string]string
}

func (u *uploads) add(call string) {
	u.mu.Lock()
	u.calls = append(u.calls, call)
	u.mu.Unlock()
}

// TestExportUploads: `/task export` answers, then uploads the ledger to the
// channel it was asked in through the three calls of Slack's upload flow,
// in order, with the file's bytes.
func TestExportUploads(t *testing.T) {
	rec := &uploads{form: map[string]string{}}
	file := []byte("PK\x03\x04 pretend xlsx bytes")
	upload := func(w http.ResponseWriter, r *http.Request) {
		rec.add("upload")
		if err := r.ParseMultipartForm(1 << 20); err == nil && r.MultipartForm != nil {
			for _, fh := range r.MultipartForm.File {
				f, _ := fh[0].Open()
				rec.body, _ = io.ReadAll(f)
			}
		} else {
			rec.body, _ = io.ReadAll(r.Body)
		}
		w.WriteHeader(http.StatusOK)
	}
	var api *slacktest.Server
	api = slacktest.NewTestServer(func(c slacktest.Customize) {
		// slack-go sends the upload only to Slack or to its API URL.
		c.Handle("/upload-here", upload)
		c.Handle("/files.getUploadURLExternal", func(w http.ResponseWriter, r *http.Request) {
			rec.add("files.getUploadURLExternal")
			r.ParseForm()
			rec.mu.Lock()
			rec.form["filename"], rec.form["length"] = r.Form.Get("filename"), r.Form.Get("length")
			rec.mu.Unlock()
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "upload_url": api.GetAPIURL() + "upload-here", "file_id": "F123"})
		})
		c.Handle("/files.completeUploadExternal", func(w http.ResponseWriter, r *http.Request) {
			rec.add("files.completeUploadExternal")
			r.ParseForm()
			rec.mu.Lock()
			rec.form["channel_id"], rec.form["files"] = r.Form.Get("channel_id"), r.Form.Get("files")
			rec.mu.Unlock()
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "files": []map[string]any{{"id": "F123", "title": "x"}}})
		})
	})
	api.Start()
	defer api.Stop()
	hooks := newHooks(t)
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	b := newBot(t)
	b.Ledger = func(ctx context.Context, now time.Time) (*bot.Upload, error) {
		return &bot.Upload{Name: "整改台账-2026-03-02.xlsx", Data: file}, nil
	}
	a := New(b, NewPoster(slack.New("xoxb-test-token", slack.OptionAPIURL(api.GetAPIURL())), log), log)
	a.SigningSecret = testSecret
	defer a.Shutdown(context.Background())

	w := httptest.NewRecorder()
	a.HTTPHandler().ServeHTTP(w, signed("/slack/commands", "application/x-www-form-urlencoded", commandForm("/task", "export", hooks.url("export"))))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "已导出整改台账") {
		t.Fatalf("/task export = %d %s; want the answer", w.Code, w.Body.String())
	}
	a.wait()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []string{"files.getUploadURLExternal", "upload", "files.completeUploadExternal"}
	if strings.Join(rec.calls, ",") != strings.Join(want, ",") {
		t.Errorf("calls = %v; want %v", rec.calls, want)
	}
	if !bytes.Equal(rec.body, file) {
		t.Errorf("uploaded %q; want the ledger's bytes %q", rec.body, file)
	}
	if rec.form["filename"] != "整改台账-2026-03-02.xlsx" || rec.form["length"] != strconv.Itoa(len(file)) || rec.form["channel_id"] != "C1" {
		t.Errorf("upload form = %v; want the file's name and length, to channel C1", rec.form)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// TestHomeOpened: app_home_opened publishes the person's Home tab
// (views.publish) within Slack's 100-block limit.
func TestHomeOpened(t *testing.T) {
	var mu sync.Mutex
	var views []map[string]any
	api := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/views.publish", func(w http.ResponseWriter, r *http.Request) {
			var req map[string]any
			body, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(body, &req); err != nil {
				r.ParseForm()
				json.Unmarshal([]byte(r.Form.Get("view")), &req)
				req = map[string]any{"user_id": r.Form.Get("user_id"), "view": req}
			}
			mu.Lock()
			views = append(views, req)
			mu.Unlock()
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "view": map[string]any{"id": "V1"}})
		})
	})
	api.Start()
	defer api.Stop()
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	a := New(newBot(t), NewPoster(slack.New("xoxb-test-token", slack.OptionAPIURL(api.GetAPIURL())), log), log)
	a.SigningSecret = testSecret
	defer a.Shutdown(context.Background())
	body := []byte(`{"type":"event_callback","event_id":"Ev1","event":{"type":"app_home_opened","user":"U0STRANGER","channel":"D1","tab":"home","event_ts":"1772413200.1"}}`)
	w := httptest.NewRecorder()
	a.HTTPHandler().ServeHTTP(w, signed("/slack/events", "application/json", body))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	a.wait()
	mu.Lock()
	defer mu.Unlock()
	if len(views) != 1 || views[0]["user_id"] != "U0STRANGER" {
		t.Fatalf("views.publish calls = %v; want one for U0STRANGER", views)
	}
	raw, _ := json.Marshal(views[0]["view"])
	if !strings.Contains(string(raw), `"home"`) || !strings.Contains(string(raw), "尚未绑定") {
		t.Errorf("published view = %s; want the home tab for someone not bound", raw)
	}
}

func TestRedactUpload(t *testing.T) {
	err := redactUpload(errors.New(`UploadToURL: Post "https://files.slack.com/upload/v1/ABC?sig=SECRET": EOF`))
	if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "files.slack.com") {
		t.Errorf("redactUpload kept the URL: %v", err)
	}
	rl := &slack.RateLimitedError{RetryAfter: time.Second}
	if got := redactUpload(rl); got != error(rl) {
		t.Errorf("redactUpload(429) = %v; want it unchanged for retry", got)
	}
}
