package console

import (
	"context"
	"fmt"

	"taskbot/bot"
)

// notices prints what the reply asks to tell other people, one line each,
// and hands them to Deliver when Slack is configured.
func (c *Console) notices(ctx context.Context, ns []bot.Notice) {
	for _, n := range ns {
		fmt.Fprintln(c.Out, n.Summary())
	}
	if c.Deliver == nil || len(ns) == 0 {
		return
	}
	if err := c.Deliver(ctx, ns); err != nil {
		fmt.Fprintf(c.Out, "⚠️ 通知未能全部发送到 Slack：%v\n", err)
	}
}
