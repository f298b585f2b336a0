// Package duration reads the lengths of time a user writes for the shim's
// options (--ckptint 30m) and in a job description (interval: 30m), so that
// a value render accepts is one the shim accepts, and the other way round.
//
// A duration is a whole number of seconds ("1800"), or hours, minutes and
// seconds with each unit at most once and the largest first ("1h30m",
// "90s", "1.5h"). time.ParseDuration reads more: it adds "30m20m" up to
// 50m and accepts milliseconds, which a checkpoint interval or a timeout
// given in HTCondor's whole seconds cannot use, so both are errors here.
package duration

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Pattern is the regular expression of the unit form, without a sign:
// each of h, m and s at most once, largest first. A JSON Schema uses it to
// tell an editor what Parse accepts.
const Pattern = `^(?:` + num + `h(?:` + num + `m)?(?:` + num + `s)?|` + num + `m(?:` + num + `s)?|` + num + `s)$`

const num = `[0-9]+(?:\.[0-9]+)?`

var unitsRE = regexp.MustCompile(Pattern)

// Parse reads a duration: whole seconds, or hours, minutes and seconds,
// each unit once and largest first, adding up to whole seconds. A leading
// minus sign is read, so that the caller can say which value may not be
// negative, and what 0 means there.
func Parse(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return 0, fmt.Errorf("%s seconds is too long", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	body, neg := strings.CutPrefix(s, "-")
	d, err := time.ParseDuration(body)
	switch {
	case err == nil && d > 0 && d < time.Second:
		// "0.5s", "1ms": what was meant is clear, and too short.
		return 0, fmt.Errorf("%q is shorter than 1s: durations are whole seconds; give 0, or 1s or more", s)
	case !unitsRE.MatchString(body):
		return 0, fmt.Errorf("%q is not a duration; write hours, minutes and seconds, each unit once and largest first, like 30m, 1h30m or 90s, or a number of seconds like 1800", s)
	case err != nil:
		return 0, fmt.Errorf("%q is too long a duration; give at most a few days, such as 72h", s)
	case d%time.Second != 0:
		return 0, fmt.Errorf("%q is not a whole number of seconds; round it, such as 1m30s for 1.5m", s)
	}
	if neg {
		d = -d
	}
	return d, nil
}

// Format writes d the way a user would, and Parse reads back: "30m" rather
// than time.Duration's "30m0s", "1h" rather than "1h0m0s".
func Format(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
