package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsoleProgressFlows runs the extension and close-out flows end to
// end through the console, each step as the person --as names, on one
// database, and compares the transcript with a golden file.
func TestConsoleProgressFlows(t *testing.T) {
	db := filepath.Join(t.TempDir(), "taskbot.db")
	env := func(k string) string {
		if k == "TASKBOT_CONFIG" {
			return filepath.Join("testdata", "progress-org.yaml")
		}
		return ""
	}
	steps := []struct{ at, as, input string }{
		// A stranger is refused; nothing is stored.
		{"2021-09-20", "U0000XXX1", "progress 6 我来报一下"},
		// A member of 长葛市 reports on a task given to 各县（市、区）.
		{"2021-09-20", "李四", "progress 6 渗滤液调查已启动\nprogress 6 @长葛市 60% 调查核查进行中 https://example.gov.cn/a.pdf"},
		// Extension asked, refused to a non-supervisor, approved.
		{"2021-09-21", "张三", "progress 6 申请延期 1 2022-01-31 调查范围扩大\ntask 6 批准延期 1"},
		{"2021-09-22", "督查室王五", "task 6 批准延期 1\ntask 6 批准延期 1"},
		// A second request, rejected.
		{"2021-09-23", "U0000ZS01", "progress 6 申请延期 2 2023-06-30 资金未到位"},
		{"2021-09-24", "U0000SUP1", "task 6 驳回延期 2 理由不充分"},
		// Close-out: milestone done, request, sent back, requested again, closed.
		{"2021-12-20", "张三", "progress 6 完成 1 方案已制定 https://example.gov.cn/plan\nprogress 6 申请销号 全部完成 https://example.gov.cn/final"},
		{"2021-12-21", "U0000SUP1", "task 6 退回 缺少监测报告"},
		{"2021-12-22", "赵副市长", "progress 6 申请销号 已补充监测报告 https://example.gov.cn/monitor"},
		{"2021-12-23", "U0000SUP1", "task 6 销号\ntask 6\ntask 6 history"},
		{"2021-12-24", "张三", "progress 6 完成 2 补报"},
	}
	var out bytes.Buffer
	for _, s := range steps {
		fmt.Fprintf(&out, "━━ %s --as %s\n", s.at, s.as)
		var errOut bytes.Buffer
		err := run(context.Background(), []string{"console", "--db", db, "--at", s.at, "--as", s.as}, env,
			strings.NewReader(s.input+"\n"), &out, &errOut)
		if err != nil {
			t.Fatalf("run(console --as %s) = %v (stderr %q)", s.as, err, errOut.String())
		}
		if errOut.Len() != 0 {
			t.Logf("run(console --as %s) logged: %s", s.as, errOut.String())
		}
	}
	golden(t, "progress_console.golden", out.Bytes())
}
