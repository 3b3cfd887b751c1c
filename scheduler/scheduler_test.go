package scheduler

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"taskbot/internal/testenv"
)

// TestNextFireTimes evaluates real specs at chosen dates in Asia/Shanghai.
func TestNextFireTimes(t *testing.T) {
	loc := testenv.Shanghai(t)
	at := func(s string) time.Time { return testenv.At(t, s) }
	tests := []struct {
		spec, from, want string
	}{
		{DefaultRemindSpec, "2021-09-23 08:00", "2021-09-23 09:00"},
		{DefaultRemindSpec, "2021-09-23 09:00", "2021-09-24 09:00"},
		{DefaultDigestSpec, "2021-09-30 23:59", "2021-10-01 09:00"}, // month end → next month
		{DefaultDigestSpec, "2024-02-28 10:00", "2024-02-29 09:00"}, // leap day
		{"0 9 * * 1-5", "2021-09-24 10:00", "2021-09-27 09:00"},     // Friday → Monday
		{"30 8 1 * *", "2021-12-15 00:00", "2022-01-01 08:30"},
		{"@every 1m", "2021-09-23 09:00", "2021-09-23 09:01"},
	}
	for _, tt := range tests {
		s, err := Parse("TEST", tt.spec)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.spec, err)
		}
		got := s.Next(at(tt.from))
		if want := at(tt.want); !got.Equal(want) {
			t.Errorf("Parse(%q).Next(%s) = %s; want %s", tt.spec, tt.from, got.In(loc), want)
		}
	}
	// 09:00 in Shanghai is 01:00 UTC: the zone is honoured, not UTC.
	s, _ := Parse("TEST", DefaultRemindSpec)
	if got := s.Next(at("2021-09-23 08:00")).UTC().Hour(); got != 1 {
		t.Errorf("09:00 Asia/Shanghai fires at %02d:00 UTC; want 01:00", got)
	}
}

func TestParseRejects(t *testing.T) {
	for _, spec := range []string{"", "0 9 * *", "61 9 * * *", "0 25 * * *", "every day", "0 9 * * * *"} {
		_, err := Parse("TASKBOT_REMIND_CRON", spec)
		if err == nil {
			t.Errorf("Parse(%q) = nil error", spec)
			continue
		}
		if !strings.Contains(err.Error(), "TASKBOT_REMIND_CRON") || !strings.Contains(err.Error(), "0 9 * * *") {
			t.Errorf("Parse(%q) error %q; want the setting's name and an example", spec, err)
		}
	}
	if _, err := New(time.UTC, slog.New(slog.DiscardHandler), Entry{Name: "TASKBOT_DIGEST_CRON", Spec: "bad", Job: nil}); err == nil ||
		!strings.Contains(err.Error(), "TASKBOT_DIGEST_CRON") {
		t.Errorf("New with a bad spec = %v; want an error naming TASKBOT_DIGEST_CRON", err)
	}
}

// TestRunsJobsInZone starts a real cron and waits for a job: it gets now in
// the configured zone.
func TestRunsJobsInZone(t *testing.T) {
	loc := testenv.Shanghai(t)
	zones := make(chan string, 1)
	s, err := New(loc, slog.New(slog.DiscardHandler), Entry{Name: "tick", Spec: "@every 1s", Job: func(ctx context.Context, now time.Time) error {
		select {
		case zones <- now.Location().String():
		default: // the test has one already
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	select {
	case z := <-zones:
		if z != "Asia/Shanghai" {
			t.Errorf("job got now in %v; want Asia/Shanghai", z)
		}
	case <-time.After(time.Minute):
		t.Fatal("job never ran")
	}
}

// TestTimes: the moments a spec fires in a range, in the zone, both for a
// daily spec and one that fires twice a day.
func TestTimes(t *testing.T) {
	loc := testenv.Shanghai(t)
	from := time.Date(2021, 9, 30, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 0, 3)
	got, err := Times("TASKBOT_REMIND_CRON", "0 9 * * *", from, to, loc)
	if err != nil || len(got) != 3 || got[0] != time.Date(2021, 9, 30, 9, 0, 0, 0, loc) || got[2] != time.Date(2021, 10, 2, 9, 0, 0, 0, loc) {
		t.Errorf("Times(0 9 * * *) = %v, %v; want 09:00 on 09-30, 10-01, 10-02", got, err)
	}
	got, _ = Times("X", "30 8,14 * * 1-5", from, to, loc) // Thu, Fri, Sat
	if len(got) != 4 || got[1] != time.Date(2021, 9, 30, 14, 30, 0, 0, loc) {
		t.Errorf("Times(30 8,14 * * 1-5) = %v; want 4 moments, Thursday's second at 14:30", got)
	}
	if _, err := Times("TASKBOT_REMIND_CRON", "bad", from, to, loc); err == nil || !strings.Contains(err.Error(), "TASKBOT_REMIND_CRON") {
		t.Errorf("Times(bad) error = %v; want one naming the setting", err)
	}
}
