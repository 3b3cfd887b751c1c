// Command loadtest fires signed "/task 6" slash commands at a taskbot serving
// HTTP on loopback, like Slack would, and prints requests/s and latency
// percentiles. It refuses any host but 127.0.0.1.
//
//	go run ./scripts/loadtest -url http://127.0.0.1:8089/slack/commands -secret S
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"taskbot/bot/slackbot"
)

func main() {
	target := flag.String("url", "http://127.0.0.1:8089/slack/commands", "slash-command endpoint (127.0.0.1 only)")
	secret := flag.String("secret", os.Getenv("SLACK_SIGNING_SECRET"), "signing secret (env SLACK_SIGNING_SECRET)")
	text := flag.String("text", "6", "text of the /task command")
	dur := flag.Duration("d", 10*time.Second, "how long to fire")
	max := flag.Int("n", 200000, "stop after this many requests")
	conc := flag.Int("c", 8, "concurrent connections")
	warm := flag.Int("warm", 500, "warm-up requests, not measured")
	flag.Parse()
	if err := run(*target, *secret, *text, *dur, *max, *conc, *warm); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(target, secret, text string, dur time.Duration, max, conc, warm int) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	if u.Hostname() != "127.0.0.1" {
		return fmt.Errorf("refusing to target %q: only 127.0.0.1", u.Hostname())
	}
	if secret == "" {
		return fmt.Errorf("no signing secret (-secret or SLACK_SIGNING_SECRET)")
	}
	body := []byte(url.Values{
		"token": {"x"}, "team_id": {"T1"}, "channel_id": {"C1"}, "user_id": {"U1"}, "user_name": {"load"},
		"command": {"/task"}, "text": {text}, "response_url": {"http://127.0.0.1:9/unused"}, "trigger_id": {"1.2.3"},
	}.Encode())
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc, DisableCompression: true},
	}
	fire := func() (time.Duration, error) {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", slackbot.Sign(secret, ts, body))
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != http.StatusOK || n < 1000 {
			return d, fmt.Errorf("status %d, %d bytes", resp.StatusCode, n)
		}
		return d, nil
	}
	for range warm {
		if _, err := fire(); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var sent, failed atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range conc {
		wg.Go(func() {
			for ctx.Err() == nil && sent.Add(1) <= int64(max) {
				d, err := fire()
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat[i] = append(lat[i], d)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return fmt.Errorf("no successful requests (%v)", firstErr.Load())
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(int(float64(len(all))*p), len(all)-1)] }
	fmt.Printf("requests: %d ok, %d failed in %.2fs (%d connections)\n", len(all), failed.Load(), elapsed.Seconds(), conc)
	fmt.Printf("throughput: %.0f requests/s\n", float64(len(all))/elapsed.Seconds())
	fmt.Printf("latency: p50 %.2fms  p90 %.2fms  p99 %.2fms  max %.2fms\n",
		ms(pct(0.50)), ms(pct(0.90)), ms(pct(0.99)), ms(all[len(all)-1]))
	if e := firstErr.Load(); e != nil {
		fmt.Printf("first error: %v\n", e)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
