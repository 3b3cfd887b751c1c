package bot

import (
	"fmt"
	"time"

	"taskbot/storage"
)

// SoonDays is how close a due date must be for a milestone to turn yellow.
const SoonDays = 7

// DueStatus classifies an open item due on due, as of today: red when past,
// yellow when due within SoonDays (today included), green otherwise.
func DueStatus(due, today storage.Date) Status {
	switch d := today.DaysUntil(due); {
	case d < 0:
		return StatusRed
	case d <= SoonDays:
		return StatusYellow
	}
	return StatusGreen
}

// DaysLabel says how far due is from today in Chinese: 剩余 N 天, 今天到期 or
// 已逾期 N 天.
func DaysLabel(due, today storage.Date) string {
	switch d := today.DaysUntil(due); {
	case d > 0:
		return fmt.Sprintf("剩余 %d 天", d)
	case d == 0:
		return "今天到期"
	default:
		return fmt.Sprintf("已逾期 %d 天", -d)
	}
}

// MilestoneStatus returns the status and label of m as of today; a done
// milestone shows the day it was marked done, in loc.
func MilestoneStatus(m *storage.Milestone, today storage.Date, loc *time.Location) (Status, string) {
	if m.DoneAt != nil {
		return StatusDone, fmt.Sprintf("已完成（%s）", storage.DateIn(*m.DoneAt, loc))
	}
	return DueStatus(m.Due, today), DaysLabel(m.Due, today)
}
