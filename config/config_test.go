package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != DefaultDB || c.TZ != DefaultTZ || c.Location.String() != "Asia/Shanghai" {
		t.Errorf("Load() = db %q tz %q loc %v; want defaults", c.DB, c.TZ, c.Location)
	}
	s := c.Schedule
	if s.RemindCron != DefaultRemindCron || !slices.Equal(s.Offsets, []int{30, 7, 3, 1, 0}) || s.OverdueWeekday != time.Monday ||
		s.EscalateAfter != 14 || s.NudgeAfter != 30 || !s.Workdays {
		t.Errorf("Load().Schedule = %+v; want the defaults", s)
	}
	if c.SlackConfigured() {
		t.Error("SlackConfigured() with no tokens")
	}
}

func TestLoadErrorsNameTheVariableNotTheValue(t *testing.T) {
	const secret = "xoxp-SECRET-VALUE-123"
	tests := []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{"TASKBOT_TZ": "Mars/Olympus"}, "TASKBOT_TZ"},
		{map[string]string{"SLACK_BOT_TOKEN": secret}, "SLACK_BOT_TOKEN"},
		{map[string]string{"SLACK_APP_TOKEN": secret}, "SLACK_APP_TOKEN"},
		{map[string]string{"SLACK_API_URL": "ftp://x/"}, "SLACK_API_URL"},
		{map[string]string{"TASKBOT_REMIND_OFFSETS": "30,x"}, "TASKBOT_REMIND_OFFSETS"},
		{map[string]string{"TASKBOT_OVERDUE_WEEKDAY": "someday"}, "TASKBOT_OVERDUE_WEEKDAY"},
		{map[string]string{"TASKBOT_OVERDUE_WEEKDAY": "0"}, "TASKBOT_OVERDUE_WEEKDAY"},
		{map[string]string{"TASKBOT_OVERDUE_WEEKDAY": "8"}, "TASKBOT_OVERDUE_WEEKDAY"},
		{map[string]string{"TASKBOT_ESCALATE_AFTER": "-1"}, "TASKBOT_ESCALATE_AFTER"},
		{map[string]string{"TASKBOT_WORKDAYS": "maybe"}, "TASKBOT_WORKDAYS"},
		{map[string]string{"SLACK_BOT_TOKEN": "xoxb-SECRET-VALUE "}, "SLACK_BOT_TOKEN"},
		{map[string]string{"SLACK_APP_TOKEN": "xapp-SECRET-VALUE\n"}, "SLACK_APP_TOKEN"},
		{map[string]string{"SLACK_SIGNING_SECRET": " SECRET-VALUE"}, "SLACK_SIGNING_SECRET"},
		{map[string]string{"SLACK_BOT_TOKEN": "xoxb-SECRET VALUE"}, "SLACK_BOT_TOKEN"},
		{map[string]string{"TASKBOT_LEASE": "10"}, "TASKBOT_LEASE"},
		{map[string]string{"TASKBOT_LEASE": "500ms"}, "TASKBOT_LEASE"},
		{map[string]string{"TASKBOT_LEASE": "25h"}, "TASKBOT_LEASE"},
	}
	for _, tt := range tests {
		_, err := Load(env(tt.env))
		if err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("Load(%v) = %v; want an error naming %s", tt.env, err, tt.name)
			continue
		}
		if strings.Contains(err.Error(), "SECRET-VALUE") {
			t.Errorf("Load error leaks the value: %v", err)
		}
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	c, err := Load(env(map[string]string{"SLACK_BOT_TOKEN": "xoxb-SECRET1", "SLACK_APP_TOKEN": "xapp-SECRET2", "SLACK_SIGNING_SECRET": "SECRET3",
		"SLACK_API_URL": "http://proxy:SECRET4@slack.example/api/", "TASKBOT_DB": "postgres://taskbot:SECRET5@db:5432/taskbot"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{c.String(), fmt.Sprint(c), fmt.Sprintf("%v %+v", c, c), c.LogValue().String()} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("config printed with a secret: %s", s)
		}
	}
	if !c.SlackConfigured() {
		t.Error("SlackConfigured() = false with tokens set")
	}
	if v := c.LogValue().String(); !strings.Contains(v, "proxy:xxxxx@slack.example") || !strings.Contains(v, "taskbot:xxxxx@db:5432") {
		t.Errorf("config printed as %s; want the URLs with their passwords hidden", v)
	}
}

// TestOverdueWeekday: TASKBOT_OVERDUE_WEEKDAY (issue 11, in place of
// TASKBOT_OVERDUE_EVERY) takes 1 Monday … 7 Sunday or an English name.
func TestOverdueWeekday(t *testing.T) {
	for _, tt := range []struct {
		v    string
		want time.Weekday
	}{
		{"", time.Monday},
		{"1", time.Monday},
		{"5", time.Friday},
		{"7", time.Sunday},
		{"wed", time.Wednesday},
		{" Friday ", time.Friday},
		{"SUN", time.Sunday},
	} {
		c, err := Load(env(map[string]string{"TASKBOT_OVERDUE_WEEKDAY": tt.v}))
		if err != nil || c.Schedule.OverdueWeekday != tt.want {
			t.Errorf("Load(TASKBOT_OVERDUE_WEEKDAY=%q).Schedule.OverdueWeekday = %v, %v; want %v", tt.v, c.Schedule.OverdueWeekday, err, tt.want)
		}
	}
}

func TestScheduleFromEnv(t *testing.T) {
	c, err := Load(env(map[string]string{"TASKBOT_REMIND_OFFSETS": "14, 3,0", "TASKBOT_NUDGE_AFTER": "0",
		"TASKBOT_WORKDAYS": "false", "TASKBOT_DIGEST_CHANNEL": "C1", "TASKBOT_REMIND_CRON": "30 8 * * *",
		"TASKBOT_LEASE": "90s"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Lease != 90*time.Second {
		t.Errorf("Lease = %v; want 1m30s from TASKBOT_LEASE=90s", c.Lease)
	}
	s := c.Schedule
	if !slices.Equal(s.Offsets, []int{14, 3, 0}) || s.NudgeAfter != 0 || s.Workdays || s.DigestChannel != "C1" || s.RemindCron != "30 8 * * *" {
		t.Errorf("Schedule = %+v", s)
	}
}

func TestParseFile(t *testing.T) {
	f, err := LoadFile("")
	if err != nil {
		t.Fatalf("embedded example: %v", err)
	}
	specs := f.UnitSpecs()
	var counties []string
	for _, sp := range specs {
		if sp.Name == "各县（市、区）" {
			counties = sp.Members
		}
	}
	for _, want := range []string{"魏都区", "建安区", "禹州市", "长葛市", "鄢陵县", "襄城县"} {
		if !slices.Contains(counties, want) {
			t.Errorf("各县（市、区） members %v lack %s", counties, want)
		}
	}
	for _, tt := range []struct{ yaml, want string }{
		{"units:\n  - name: 甲\n    colour: red\n", "colour"},
		{"units:\n  - aliases: [x]\n", "name is empty"},
		{"units:\n  - name: 甲\n  - name: 甲\n", "listed twice"},
		{"units:\n  - name: 甲\n    aliases: [丙]\n  - name: 乙\n    aliases: [丙]\n", "丙"},
		{"units: [\n", "yaml"},
	} {
		if _, err := ParseFile([]byte(tt.yaml)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseFile(%q) = %v; want an error mentioning %q", tt.yaml, err, tt.want)
		}
	}
	if _, err := LoadFile("/nonexistent/org.yaml"); err == nil || !strings.Contains(err.Error(), "TASKBOT_CONFIG") {
		t.Errorf("LoadFile(missing) = %v; want an error naming TASKBOT_CONFIG", err)
	}
}
