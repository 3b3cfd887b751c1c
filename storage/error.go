package storage

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes shared by every layer. The bot turns them into what the user
// reads; only EINTERNAL hides its message (the detail goes to the log).
const (
	EINVALID   = "invalid"
	ENOTFOUND  = "not_found"
	EFORBIDDEN = "forbidden"
	ECONFLICT  = "conflict"
	EINTERNAL  = "internal"
	// EUNAVAILABLE: the database cannot be written (disk full, read-only
	// file): nothing more will be saved until an operator acts.
	EUNAVAILABLE = "unavailable"
)

// unavailableMessage is what users read when the database cannot be written.
const unavailableMessage = "数据库无法写入（磁盘已满或文件只读），本次内容未保存。请联系管理员处理后重试。"

// dbUnwritable reports whether err says the database cannot be written at
// all, as SQLite and PostgreSQL word it.
func dbUnwritable(err error) bool {
	if err == nil {
		return false
	}
	m := strings.ToLower(err.Error())
	for _, s := range []string{"database or disk is full", "no space left on device", "readonly database",
		"read-only file system", "could not extend file", "disk full", "read-only transaction"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// Error is the application error: a code and a message that is safe to show
// the user (in Chinese). Wrapped lower-level errors are kept in Err for logs.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error returns the message, with the wrapped error for logs.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the wrapped lower-level error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps err as an EINTERNAL error whose message never reaches users.
func Internal(err error) *Error {
	if dbUnwritable(err) {
		return &Error{Code: EUNAVAILABLE, Message: unavailableMessage, Err: err}
	}
	return &Error{Code: EINTERNAL, Message: "内部错误", Err: err}
}

// ErrorCode returns the code of err: the code of an *Error in its chain, ""
// for nil, EUNAVAILABLE for a driver's error saying the database cannot be
// written, and EINTERNAL for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Code // Internal already told an unwritable database apart
	case dbUnwritable(err):
		return EUNAVAILABLE
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err: the message of an
// *Error that is not internal, otherwise a generic Chinese message.
func ErrorMessage(err error) string {
	var e *Error
	switch code := ErrorCode(err); {
	case code == EUNAVAILABLE:
		return unavailableMessage
	case errors.As(err, &e) && code != EINTERNAL:
		return e.Message
	}
	return "内部错误，请稍后再试或联系管理员。"
}
