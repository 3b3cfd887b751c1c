package storage_test

import (
	"encoding/json"
	"testing"
	"time"

	"taskbot/storage"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    storage.Date
		wantErr bool
	}{
		{"2021-12-31", storage.Date{Year: 2021, Month: time.December, Day: 31}, false},
		{"2024-02-29", storage.Date{Year: 2024, Month: time.February, Day: 29}, false},
		{"2023-02-29", storage.Date{}, true},
		{"2021-13-01", storage.Date{}, true},
		{"2021-1-5", storage.Date{}, true},
		{"2021/12/31", storage.Date{}, true},
		{"", storage.Date{}, true},
		{"2021-12-31T00:00:00Z", storage.Date{}, true},
	}
	for _, tt := range tests {
		got, err := storage.ParseDate(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("ParseDate(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestMonthEnd(t *testing.T) {
	tests := []struct {
		y    int
		m    time.Month
		want string
	}{
		{2024, time.February, "2024-02-29"},
		{2023, time.February, "2023-02-28"},
		{2000, time.February, "2000-02-29"},
		{1900, time.February, "1900-02-28"},
		{2021, time.April, "2021-04-30"},
		{2021, time.December, "2021-12-31"},
		{2022, time.January, "2022-01-31"},
	}
	for _, tt := range tests {
		if got := storage.MonthEnd(tt.y, tt.m).String(); got != tt.want {
			t.Errorf("MonthEnd(%d, %v) = %s; want %s", tt.y, tt.m, got, tt.want)
		}
	}
}

func TestDaysUntil(t *testing.T) {
	d := func(s string) storage.Date {
		t.Helper()
		v, err := storage.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		from, to string
		want     int
	}{
		{"2021-12-31", "2022-01-01", 1},
		{"2022-01-01", "2021-12-31", -1},
		{"2021-12-20", "2021-12-31", 11},
		{"2021-12-20", "2022-12-31", 376},
		{"2023-12-31", "2024-12-31", 366},
		{"2024-02-28", "2024-03-01", 2},
		{"2023-02-28", "2023-03-01", 1},
		{"2021-09-30", "2021-09-30", 0},
		// Days, not 24-hour periods: no daylight-saving drift.
		{"2021-03-01", "2021-04-01", 31},
		{"2021-10-01", "2021-11-01", 31},
	}
	for _, tt := range tests {
		if got := d(tt.from).DaysUntil(d(tt.to)); got != tt.want {
			t.Errorf("%s.DaysUntil(%s) = %d; want %d", tt.from, tt.to, got, tt.want)
		}
	}
	if got := d("2021-12-31").AddDays(1).String(); got != "2022-01-01" {
		t.Errorf("2021-12-31.AddDays(1) = %s; want 2022-01-01", got)
	}
	if !d("2021-12-31").Before(d("2022-01-01")) || d("2022-01-01").Before(d("2021-12-31")) {
		t.Errorf("Before is wrong across a year end")
	}
}

func TestDateInZone(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2021, 12, 31, 17, 0, 0, 0, time.UTC)
	if got := storage.DateIn(now, sh).String(); got != "2022-01-01" {
		t.Errorf("DateIn(%v, Shanghai) = %s; want 2022-01-01", now, got)
	}
	if got := storage.DateIn(now, nil).String(); got != "2021-12-31" {
		t.Errorf("DateIn(%v, UTC) = %s; want 2021-12-31", now, got)
	}
}

func TestDateScanValue(t *testing.T) {
	want := storage.NewDate(2024, time.February, 29)
	v, err := want.Value()
	if err != nil || v != "2024-02-29" {
		t.Fatalf("Value() = %v, %v; want \"2024-02-29\"", v, err)
	}
	for _, src := range []any{v, []byte("2024-02-29"), "2024-02-29 00:00:00+00:00", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)} {
		var got storage.Date
		if err := got.Scan(src); err != nil || got != want {
			t.Errorf("Scan(%#v) = %v, %v; want %v", src, got, err, want)
		}
	}
	var zero storage.Date
	if v, err := zero.Value(); v != nil || err != nil {
		t.Errorf("zero Date Value() = %v, %v; want nil (NULL)", v, err)
	}
	got := want
	if err := got.Scan(nil); err != nil || !got.IsZero() {
		t.Errorf("Scan(nil) = %v, %v; want the zero Date", got, err)
	}
	for _, bad := range []any{"yesterday", 42, "2023-02-29"} {
		var d storage.Date
		if err := d.Scan(bad); err == nil {
			t.Errorf("Scan(%#v) = %v; want an error", bad, d)
		}
	}

	// JSON uses the same text form; the zero Date is "".
	b, err := json.Marshal(struct{ A, B storage.Date }{A: want})
	if err != nil || string(b) != `{"A":"2024-02-29","B":""}` {
		t.Errorf("json.Marshal = %s, %v", b, err)
	}
	var back struct{ A, B storage.Date }
	if err := json.Unmarshal(b, &back); err != nil || back.A != want || !back.B.IsZero() {
		t.Errorf("json.Unmarshal(%s) = %+v, %v", b, back, err)
	}
}

// TestDateRoundTripSQLite stores a date through the driver and reads it back.
func TestDateRoundTripSQLite(t *testing.T) {
	s, _ := openStore(t)
	db := s.DB()
	if err := db.Exec("CREATE TABLE d (v varchar(10))").Error; err != nil {
		t.Fatal(err)
	}
	for _, want := range []storage.Date{storage.NewDate(2024, 2, 29), storage.NewDate(2021, 12, 31), {}} {
		if err := db.Exec("DELETE FROM d").Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("INSERT INTO d (v) VALUES (?)", want).Error; err != nil {
			t.Fatal(err)
		}
		var got storage.Date
		if err := db.Raw("SELECT v FROM d").Row().Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("round trip of %q through SQLite = %q", want, got)
		}
	}
}

// TestDateArithmeticAgreesWithTime checks the hand-written day arithmetic
// and formatting against package time over a long span.
func TestDateArithmeticAgreesWithTime(t *testing.T) {
	base := time.Date(1999, 12, 25, 0, 0, 0, 0, time.UTC)
	prev := storage.DateIn(base, base.Location())
	for i := 1; i < 40*366; i += 7 {
		tm := base.AddDate(0, 0, i)
		d := storage.DateIn(tm, tm.Location())
		if got, want := d.String(), tm.Format(time.DateOnly); got != want {
			t.Fatalf("String() = %s; want %s", got, want)
		}
		if got := prev.DaysUntil(d); got != int(tm.Sub(prev.In(time.UTC)).Hours()/24) {
			t.Fatalf("%s.DaysUntil(%s) = %d", prev, d, got)
		}
		if !prev.Before(d) || d.Before(prev) || d.Before(d) {
			t.Fatalf("Before(%s, %s) wrong", prev, d)
		}
		var back storage.Date
		if err := back.Scan(d.String()); err != nil || back != d {
			t.Fatalf("Scan(%s) = %v, %v", d, back, err)
		}
		prev = d
	}
	for _, bad := range []string{"2023-02-29", "2021-13-01", "2021-00-10", "20x1-01-01", "2021-1-1"} {
		var d storage.Date
		if err := d.Scan(bad); err == nil {
			t.Errorf("Scan(%q) = %v; want an error", bad, d)
		}
	}
}
