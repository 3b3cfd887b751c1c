package storage

import (
	"errors"
	"fmt"
)

// Error codes shared by every layer. The bot turns them into what the user
// reads; only EINTERNAL hides its message (the detail goes to the log).
const (
	EINVALID   = "invalid"
	ENOTFOUND  = "not_found"
	EFORBIDDEN = "forbidden"
	ECONFLICT  = "conflict"
	EINTERNAL  = "internal"
)

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
	return &Error{Code: EINTERNAL, Message: "内部错误", Err: err}
}

// ErrorCode returns the code of err: the code of an *Error in its chain, ""
// for nil, and EINTERNAL for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err: the message of an
// *Error that is not internal, otherwise a generic Chinese message.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "内部错误，请稍后再试或联系管理员。"
}
