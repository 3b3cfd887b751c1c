// Package console is the terminal adapter: lines from a reader go to the
// bot, replies go to a writer. It is the default when Slack is not set up.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"taskbot/bot"
)

// MaxLine is the longest input line the console accepts, in bytes.
const MaxLine = 16 << 10

// Console runs the bot over a terminal or a pipe.
type Console struct {
	Bot *bot.Bot
	In  io.Reader
	Out io.Writer
	// User is who the console acts as (--as).
	User string
	// Interactive greets the user and prints a prompt before each line.
	Interactive bool
	// Send, when set, sends the reply's notices on (to Slack) through the
	// outbox; the console prints them either way. Holder names this
	// process in outbox leases.
	Send   bot.Sender
	Holder string
	// Dir is where files that come with a reply (the Excel ledger) are
	// saved; "" is the current directory.
	Dir string
}

const prompt = "taskbot> "

// ErrUnwritable stops a session whose database cannot be written.
var ErrUnwritable = errors.New("数据库无法写入（磁盘已满或文件只读），已停止；后续输入未处理")

// Run answers lines until EOF (or "exit" when interactive) or until ctx is
// done. Blank lines are skipped. It returns nil at EOF.
func (c *Console) Run(ctx context.Context) error {
	r := bufio.NewReaderSize(c.In, 4096)
	if c.Interactive {
		fmt.Fprint(c.Out, greeting)
	}
	for {
		if ctx.Err() != nil {
			return nil
		}
		if c.Interactive {
			fmt.Fprint(c.Out, prompt)
		}
		line, tooLong, err := readLine(r)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("console: read: %w", err)
		}
		text := strings.TrimSpace(line)
		switch {
		case tooLong:
			fmt.Fprintf(c.Out, "⚠️ 输入过长（超过 %d 字节），已忽略。\n\n", MaxLine)
		case text == "":
		case c.Interactive && isQuit(text):
			return nil
		default:
			reply := c.Bot.Handle(ctx, bot.Request{Text: text, User: c.User})
			fmt.Fprintln(c.Out, strings.TrimRight(reply.Text(), "\n"))
			if reply.Unavailable {
				// Going on would lose every line after this one.
				return ErrUnwritable
			}
			c.save(reply.Upload)
			c.notices(ctx, reply.Notices)
			fmt.Fprintln(c.Out)
		}
		if errors.Is(err, io.EOF) {
			if c.Interactive {
				fmt.Fprintln(c.Out)
			}
			return nil
		}
	}
}

// readLine reads one line of at most MaxLine bytes; a longer line is read
// to its end and reported as too long.
func readLine(r *bufio.Reader) (line string, tooLong bool, err error) {
	var b strings.Builder
	for {
		chunk, isPrefix, err := r.ReadLine()
		if b.Len()+len(chunk) > MaxLine {
			tooLong = true
		} else {
			b.Write(chunk)
		}
		if err != nil || !isPrefix {
			return b.String(), tooLong, err
		}
	}
}

func isQuit(s string) bool {
	switch strings.ToLower(strings.TrimLeft(s, "/")) {
	case "exit", "quit", "q", "退出":
		return true
	}
	return false
}

const greeting = `taskbot · 许昌市中央生态环境保护督察整改任务清单
试试这些命令（“/”可省略）：
  task 6          查看共性任务6的任务卡片
  task 个性1      查看个性任务1
  help            全部命令
提示：清单时限在 2021–2024 年，可用 taskbot console --at 2021-09-23 按当时的日期查看。
输入 exit 退出。

`

// IsTerminal reports whether r is a terminal (then the console greets and
// prompts).
func IsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// save writes a reply's file into Dir and says where.
func (c *Console) save(up *bot.Upload) {
	if up == nil {
		return
	}
	path := filepath.Join(c.Dir, up.Name)
	if err := os.WriteFile(path, up.Data, 0o644); err != nil {
		fmt.Fprintf(c.Out, "⚠️ 文件未能保存到 %s：%v\n", path, err)
		return
	}
	fmt.Fprintf(c.Out, "已保存：%s\n", path)
}
