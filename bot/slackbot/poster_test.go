package slackbot

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"taskbot/bot"
	"taskbot/internal/fakeslack"
)

func botReq(text string) bot.Request {
	return bot.Request{Text: text, User: "U1", Now: testNow}
}

func TestPostRateLimited(t *testing.T) {
	e := newEnv(t)
	e.slack.FailNext(fakeslack.RateLimited("1"))
	reply := e.a.Bot.Handle(t.Context(), botReq("task 6"))
	ts, err := e.a.Poster.Post(t.Context(), "C1", "1772413000.000100", reply)
	if err != nil {
		t.Fatalf("Post after a 429: %v", err)
	}
	if ts == "" {
		t.Errorf("Post returned no ts")
	}
	if diff := cmp.Diff([]time.Duration{time.Second}, e.waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	got := e.slack.Posts()
	if len(got) != 1 {
		t.Fatalf("delivered %d times; want exactly 1", len(got))
	}
	if got[0].Channel != "C1" || got[0].ThreadTS != "1772413000.000100" {
		t.Errorf("posted to %s thread %s; want C1 thread 1772413000.000100", got[0].Channel, got[0].ThreadTS)
	}
	want := render(reply, renderOptions{})[0]
	if diff := cmp.Diff(blocksText(want.Blocks), blocksText(got[0].Blocks.BlockSet)); diff != "" {
		t.Errorf("blocks (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(blockTypes(want.Blocks), blockTypes(got[0].Blocks.BlockSet)); diff != "" {
		t.Errorf("block types (-want +got):\n%s", diff)
	}
	if !strings.Contains(got[0].Text, "【共性6】") {
		t.Errorf("fallback text %q lacks the title", got[0].Text)
	}
	if !strings.Contains(e.logText(), "rate limited") {
		t.Errorf("the 429 was not logged:\n%s", e.logText())
	}
}

func TestPostRateLimitedGivesUp(t *testing.T) {
	e := newEnv(t)
	e.a.Poster.MaxAttempts = 3
	e.slack.FailNext(fakeslack.RateLimited("2"), fakeslack.RateLimited("2"), fakeslack.RateLimited("2"))
	_, err := e.a.Poster.Post(t.Context(), "C1", "", bot.Reply{Title: "x"})
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) {
		t.Fatalf("Post = %v; want a RateLimitedError after 3 attempts", err)
	}
	if len(e.waits) != 2 || len(e.slack.Posts()) != 0 {
		t.Errorf("waited %v, delivered %d; want 2 waits and nothing delivered", e.waits, len(e.slack.Posts()))
	}
}

func TestPostMentionNotInChannel(t *testing.T) {
	e := newEnv(t)
	e.slack.FailNext(fakeslack.Error("not_in_channel"))
	w := e.serve(signed("/slack/events", "application/json", eventBody("EvNIC", mention("<@UBOT> 6", "1772413100.000100", ""))))
	e.a.wait()
	if w.Code != 500 {
		t.Errorf("status %d; want 500 (not processed)", w.Code)
	}
	got := e.slack.Posts()
	if len(got) != 1 || got[0].Method != "chat.postEphemeral" || got[0].User != "U1" || !strings.Contains(blocksText(got[0].Blocks.BlockSet), "/invite @taskbot") {
		t.Errorf("recorded %+v; want an ephemeral note to U1 asking to invite the bot", got)
	}
}

func TestPostWithoutToken(t *testing.T) {
	p := NewPoster(nil, nil)
	if _, err := p.Post(t.Context(), "C1", "", bot.Reply{Title: "x"}); !errors.Is(err, ErrNoToken) {
		t.Errorf("Post without token = %v; want ErrNoToken", err)
	}
}
