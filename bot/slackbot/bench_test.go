package slackbot

import (
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"slices"
	"testing"
	"time"
)

// BenchmarkHTTPTask6 measures a signed "/task 6" through the real handler
// and store, and reports the 50th and 99th percentile of single requests.
// It runs with the collector target `taskbot serve` sets (GCPercent).
//
//	go test ./bot/slackbot -run '^$' -bench HTTPTask6 -benchtime 5000x
func BenchmarkHTTPTask6(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(GCPercent))
	a := New(newBot(b), nil, nil)
	a.SigningSecret = testSecret
	h := a.HTTPHandler()
	body := commandForm("/task", "6", "https://hooks.slack.com/commands/T1/1/x")
	durs := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := signed("/slack/commands", "application/x-www-form-urlencoded", body)
		w := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(w, r)
		durs = append(durs, time.Since(start))
		if w.Code != http.StatusOK || w.Body.Len() < 1000 {
			b.Fatalf("status %d, %d bytes", w.Code, w.Body.Len())
		}
	}
	b.StopTimer()
	slices.Sort(durs)
	if len(durs) > 0 {
		b.ReportMetric(float64(durs[len(durs)*50/100].Microseconds()), "p50-µs")
		b.ReportMetric(float64(durs[min(len(durs)*99/100, len(durs)-1)].Microseconds()), "p99-µs")
	}
}
