// Command loadtest fires signed "/task 6" slash commands at a taskbot serving
// HTTP on loopback, like Slack would, and prints requests/s and latency
// percentiles. It refuses any host but 127.0.0.1.
//
//	go run ./scripts/loadtest -url http://127.0.0.1:8089/slack/commands -secret S
//
// With -floor URL it measures, side by side in one run, a no-op server that
// only verifies the signature (start one with -serve-noop ADDR, in a process
// of its own), alternating floor and taskbot for -rounds rounds, and prints
// taskbot ÷ floor for throughput and p99.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
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
	floor := flag.String("floor", "", "also measure this no-op endpoint (127.0.0.1 only), side by side")
	serveNoop := flag.String("serve-noop", "", "serve the no-op floor on `addr` (127.0.0.1:PORT) instead of firing")
	secret := flag.String("secret", os.Getenv("SLACK_SIGNING_SECRET"), "signing secret (env SLACK_SIGNING_SECRET)")
	text := flag.String("text", "6", "text of the /task command")
	dur := flag.Duration("d", 10*time.Second, "how long to fire, per measurement")
	max := flag.Int("n", 1000000, "stop a measurement after this many requests")
	conc := flag.Int("c", 32, "concurrent connections")
	warm := flag.Int("warm", 500, "warm-up requests, not measured")
	rounds := flag.Int("rounds", 2, "with -floor: floor/taskbot pairs to measure")
	flag.Parse()
	var err error
	switch {
	case *secret == "":
		err = fmt.Errorf("no signing secret (-secret or SLACK_SIGNING_SECRET)")
	case *serveNoop != "":
		err = noop(*serveNoop, *secret)
	default:
		err = compare(*target, *floor, *secret, *text, *dur, *max, *conc, *warm, *rounds)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// noop is the floor: an HTTP server that reads the body, verifies the
// signature as taskbot does, and answers a fixed ephemeral message of a
// card's size. Nothing is looked up, rendered or encoded.
func noop(addr, secret string) error {
	if host, _, err := net.SplitHostPort(addr); err != nil || host != "127.0.0.1" {
		return fmt.Errorf("refusing to serve on %q: only 127.0.0.1:PORT", addr)
	}
	answer := []byte(`{"response_type":"ephemeral","text":"` + string(bytes.Repeat([]byte("x"), 3000)) + `"}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if err := slackbot.Verify(r.Header, body, secret, time.Now()); err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		w.Write(answer)
	})
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	return srv.ListenAndServe()
}

// result is one measurement.
type result struct {
	ok, failed int
	rps        float64
	p50, p99   time.Duration
	max        time.Duration
	firstErr   any
}

func compare(target, floor, secret, text string, dur time.Duration, max, conc, warm, rounds int) error {
	for _, u := range []string{target, floor} {
		if u == "" {
			continue
		}
		pu, err := url.Parse(u)
		if err != nil {
			return err
		}
		if pu.Hostname() != "127.0.0.1" {
			return fmt.Errorf("refusing to target %q: only 127.0.0.1", pu.Hostname())
		}
	}
	body := []byte(url.Values{
		"token": {"x"}, "team_id": {"T1"}, "channel_id": {"C1"}, "user_id": {"U1"}, "user_name": {"load"},
		"command": {"/task"}, "text": {text}, "response_url": {"http://127.0.0.1:9/unused"}, "trigger_id": {"1.2.3"},
	}.Encode())
	if floor == "" {
		r, err := measure(target, secret, body, dur, max, conc, warm)
		if err != nil {
			return err
		}
		print("taskbot", r, conc)
		return nil
	}
	var ratios, p99s []float64
	for i := range rounds {
		f, err := measure(floor, secret, body, dur, max, conc, warm)
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		print(fmt.Sprintf("round %d floor  ", i+1), f, conc)
		t, err := measure(target, secret, body, dur, max, conc, warm)
		if err != nil {
			return fmt.Errorf("taskbot: %w", err)
		}
		print(fmt.Sprintf("round %d taskbot", i+1), t, conc)
		ratios = append(ratios, t.rps/f.rps)
		p99s = append(p99s, float64(t.p99)/float64(f.p99))
	}
	fmt.Printf("taskbot ÷ floor: throughput %s (floor ≥ 0.60), p99 %s (floor ≤ 2.0)\n", span(ratios), span(p99s))
	return nil
}

func span(xs []float64) string {
	lo, hi := slices.Min(xs), slices.Max(xs)
	if fmt.Sprintf("%.2f", lo) == fmt.Sprintf("%.2f", hi) {
		return fmt.Sprintf("%.2f", lo)
	}
	return fmt.Sprintf("%.2f–%.2f", lo, hi)
}

func print(name string, r result, conc int) {
	fmt.Printf("%s: %d ok, %d failed, %.0f requests/s, p50 %.2fms p99 %.2fms max %.2fms (%d connections)\n",
		name, r.ok, r.failed, r.rps, ms(r.p50), ms(r.p99), ms(r.max), conc)
	if r.firstErr != nil {
		fmt.Printf("  first error: %v\n", r.firstErr)
	}
}

func measure(target, secret string, body []byte, dur time.Duration, max, conc, warm int) (result, error) {
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc, DisableCompression: true},
	}
	defer client.CloseIdleConnections()
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
			return result{}, fmt.Errorf("warm-up: %w", err)
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
		return result{}, fmt.Errorf("no successful requests (%v)", firstErr.Load())
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(int(float64(len(all))*p), len(all)-1)] }
	return result{ok: len(all), failed: int(failed.Load()), rps: float64(len(all)) / elapsed.Seconds(),
		p50: pct(0.50), p99: pct(0.99), max: all[len(all)-1], firstErr: firstErr.Load()}, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
