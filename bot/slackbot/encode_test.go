package slackbot

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"taskbot/bot"
)

// TestMarshalMatchesEncodingJSON checks the fast encoder against
// encoding/json on real and hostile replies.
func TestMarshalMatchesEncodingJSON(t *testing.T) {
	b := newBot(t)
	replies := []bot.Reply{
		b.Handle(t.Context(), botReq("task 6")),
		b.Handle(t.Context(), botReq("task 个性1")),
		b.Handle(t.Context(), botReq("help")),
		b.Handle(t.Context(), botReq("task zz")),
		{Title: "a\"b\\c\n\t\r\x01<>&\u2028\u2029\xff end", Sections: []bot.Section{{Heading: "h", Fields: []bot.Field{{Label: "l", Value: "v"}}, More: 3}}, Footnotes: []string{"f"}},
		{Title: strings.Repeat("长", 300)},
	}
	for i, r := range replies {
		for _, m := range render(r, renderOptions{Share: "task 6", Note: "由 <@U1> 公开"}) {
			resp := &response{ResponseType: "ephemeral", Text: m.Text, Blocks: m.Blocks}
			fast, err := resp.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			type plainResponse response // no MarshalJSON
			slow, err := json.Marshal((*plainResponse)(resp))
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			if err := json.Unmarshal(fast, &got); err != nil {
				t.Fatalf("reply %d: fast encoding is not JSON: %v\n%s", i, err, fast)
			}
			json.Unmarshal(slow, &want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("reply %d: (-encoding/json +fast):\n%s", i, diff)
			}
		}
	}
}
