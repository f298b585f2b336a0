package submitgen

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dmtcp-condor/dmtcp-condor/internal/duration"
	"github.com/dmtcp-condor/dmtcp-condor/internal/signals"
)

// decodeScalar is the body of every UnmarshalYAML below: the value must be a
// single YAML scalar (want says what it should look like otherwise), parsed
// by the type's own Parse function.
func decodeScalar[T any](n *yaml.Node, want string, parse func(string) (T, error), dst *T) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected %s", want)
	}
	v, err := parse(n.Value)
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

// The scalar types below decode themselves from YAML so that a description can
// say "30m" or 1800, "SIGINT" or 2, "2GB" or 2048, and each reports what it
// expected in words a user can act on. The decoder adds file, line and key.

// Mode is the checkpoint mode: ModeEvict, ModeSelf or ModeBoth.
type Mode string

// The checkpoint modes. See Checkpoint.Mode for what each means in HTCondor.
const (
	ModeEvict Mode = "evict"
	ModeSelf  Mode = "self"
	ModeBoth  Mode = "both"
)

// modes lists the valid modes in the order help text shows them.
var modes = []Mode{ModeEvict, ModeSelf, ModeBoth}

// ParseMode reads a checkpoint mode name.
func ParseMode(s string) (Mode, error) {
	v := Mode(s)
	for _, ok := range modes {
		if v == ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown checkpoint mode %q; use evict, self or both (in lower case)", s)
}

// UnmarshalYAML accepts one of the mode names.
func (m *Mode) UnmarshalYAML(n *yaml.Node) error {
	return decodeScalar(n, "one of evict, self, both", ParseMode, m)
}

func (Mode) jsonSchema() map[string]any {
	return map[string]any{"type": "string", "enum": []string{"evict", "self", "both"}}
}

// Engine is the shim's checkpoint engine: EngineDMTCP or EngineCondorSyscall.
type Engine string

// The engines. See Job.Engine.
const (
	EngineDMTCP         Engine = "dmtcp"
	EngineCondorSyscall Engine = "condor-syscall"
)

// ParseEngine reads an engine name.
func ParseEngine(s string) (Engine, error) {
	switch v := Engine(s); v {
	case EngineDMTCP, EngineCondorSyscall:
		return v, nil
	}
	return "", fmt.Errorf("unknown engine %q; use dmtcp, or condor-syscall for programs linked with HTCondor's old checkpoint library (in lower case)", s)
}

// UnmarshalYAML accepts one of the engine names.
func (e *Engine) UnmarshalYAML(n *yaml.Node) error {
	return decodeScalar(n, "one of dmtcp, condor-syscall", ParseEngine, e)
}

func (Engine) jsonSchema() map[string]any {
	return map[string]any{"type": "string", "enum": []string{string(EngineDMTCP), string(EngineCondorSyscall)}}
}

// Duration is a length of time written as whole seconds (1800, "1800") or
// hours, minutes and seconds ("30m", "1h30m"), the forms the shim's
// --ckptint accepts: both read them with package duration. It is rendered
// as whole seconds for HTCondor and the shim.
type Duration time.Duration

// ParseDuration reads a Duration from text (see duration.Parse). Negative
// values parse (validation rejects them with the field's name) so the
// error can say which field.
func ParseDuration(s string) (Duration, error) {
	d, err := duration.Parse(s)
	return Duration(d), err
}

// UnmarshalYAML accepts an integer number of seconds or a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	return decodeScalar(n, "a duration like 30m or a number of seconds like 1800", ParseDuration, d)
}

// Seconds is the duration in whole seconds, the unit of HTCondor and the shim.
func (d Duration) Seconds() int64 { return int64(time.Duration(d) / time.Second) }

// String writes the duration the way a user would (30m0s becomes 30m).
func (d Duration) String() string { return duration.Format(time.Duration(d)) }

// MarshalYAML writes the duration as a user would ("30m"), so a description
// written by the wizard reads like a hand-written one.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func (Duration) jsonSchema() map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "integer", "minimum": 0, "description": "seconds"},
		map[string]any{"type": "string", "pattern": "^[0-9]+$|" + duration.Pattern, "description": "a duration such as 30m or 1h30m (each unit once, largest first), or seconds"},
	}}
}

// Signal is the name of the signal HTCondor sends on eviction ("SIGINT").
type Signal string

// ParseSignal normalises a signal name or Linux number to "SIGNAME": one
// of those signals.Table offers as an eviction signal. SIGKILL and SIGSTOP
// cannot be caught, SIGUSR2 is DMTCP's own checkpoint signal, and the rest
// mean faults or job control.
func ParseSignal(s string) (Signal, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	n, numErr := strconv.Atoi(s)
	for _, t := range signals.Table {
		if t.Evict() && ((numErr == nil && n == t.Num) || s == t.Name || "SIG"+s == t.Name) {
			return Signal(t.Name), nil
		}
	}
	var names []string
	for _, t := range signals.Table {
		if t.Evict() {
			names = append(names, t.Name)
		}
	}
	return "", fmt.Errorf("signal %q cannot be the eviction signal; use one of %s (SIGINT is the shim's default)", s, strings.Join(names, ", "))
}

// UnmarshalYAML accepts a signal name (with or without SIG) or number.
func (sig *Signal) UnmarshalYAML(n *yaml.Node) error {
	return decodeScalar(n, "a signal name like SIGINT or a number like 2", ParseSignal, sig)
}

func (Signal) jsonSchema() map[string]any {
	// What ParseSignal accepts: a trappable signal's name in any case,
	// with or without SIG, or its number, as a number or as text.
	var names, nums []string
	var ints []int
	for _, t := range signals.Table {
		if t.Evict() {
			names = append(names, anyCase(strings.TrimPrefix(t.Name, "SIG")))
			nums = append(nums, strconv.Itoa(t.Num))
			ints = append(ints, t.Num)
		}
	}
	pattern := `^\s*(?:(?:[Ss][Ii][Gg])?(?:` + strings.Join(names, "|") + `)|` + strings.Join(nums, "|") + `)\s*$`
	return map[string]any{"anyOf": []any{
		map[string]any{"type": "string", "pattern": pattern},
		map[string]any{"enum": ints},
	}, "examples": []string{"SIGINT", "SIGTERM"}}
}

// anyCase writes a regexp matching s in any case with character classes
// ([Ii][Nn][Tt]), which every JSON Schema regexp dialect reads.
func anyCase(s string) string {
	var b strings.Builder
	for _, r := range s {
		if lo, up := strings.ToLower(string(r)), strings.ToUpper(string(r)); lo != up {
			b.WriteString("[" + up + lo + "]")
		} else {
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	return b.String()
}

// Size is an amount of memory or disk in KiB, the smallest unit HTCondor uses.
type Size int64

// sizeUnits are the suffixes HTCondor accepts on request_memory/request_disk,
// all binary (K = KiB), largest first so rendering picks the shortest form.
var sizeUnits = []struct {
	suffix string
	kib    int64
}{{"T", 1 << 30}, {"G", 1 << 20}, {"M", 1 << 10}, {"K", 1}}

// sizeRE is a positive decimal number and an optional unit: K, M, G or T,
// alone or followed by B or iB, in any case. Anything else ("2IB", "NaN",
// "1e3") is an error rather than a guess.
var sizeRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?) ?(?:([KMGTkmgt])(?:[iI]?[bB])?)?$`)

// ParseSize reads "2GB", "512M", "1.5 GiB" or a bare number of MiB.
func ParseSize(s string) (Size, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	bad := fmt.Errorf("%q is not a size; write a positive number of MiB like 2048, or a number and a unit (K, M, G or T, with or without B or iB) like 2GB or 512MB", s)
	if m == nil {
		return 0, bad
	}
	mult := int64(1 << 10) // bare numbers are MiB
	for _, u := range sizeUnits {
		if strings.EqualFold(m[2], u.suffix) {
			mult = u.kib
		}
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil || !(f > 0) || f*float64(mult) > math.MaxInt64/2 {
		return 0, bad
	}
	return Size(math.Ceil(f * float64(mult))), nil
}

// UnmarshalYAML accepts a number of MiB or a size with a unit.
func (z *Size) UnmarshalYAML(n *yaml.Node) error {
	return decodeScalar(n, "a size like 2GB or a number of MiB", ParseSize, z)
}

// String renders the size with the largest unit that divides it ("2GB").
func (z Size) String() string {
	for _, u := range sizeUnits {
		if int64(z)%u.kib == 0 {
			return strconv.FormatInt(int64(z)/u.kib, 10) + u.suffix + "B"
		}
	}
	return strconv.FormatInt(int64(z), 10) + "KB"
}

// MarshalYAML writes the size with its unit ("2GB").
func (z Size) MarshalYAML() (any, error) { return z.String(), nil }

func (Size) jsonSchema() map[string]any {
	return map[string]any{"anyOf": []any{
		map[string]any{"type": "number", "exclusiveMinimum": 0, "description": "MiB"},
		map[string]any{"type": "string", "pattern": sizeRE.String(), "not": map[string]any{"pattern": `^0+(?:\.0+)?(?: ?[A-Za-z]*)$`}, "examples": []string{"2GB", "512MB"}},
	}}
}
