package bundle

// An InputError is an input of Build, Resolve, CheckVersion or OutputPath
// (or of packaging.Build) that cannot be used. Input names it by its
// field in Options or Source ("Version", "Shim", "CLI", "NameTemplate",
// "Compression", "Install", "OutDir", ...), and the message names the
// value in the library's words ("shim_dmtcp /x is not static"), never by
// a command-line flag: each command knows its own flag for a field and
// adds it (errors.As) where it reports the error.
type InputError struct {
	Input string // the field that holds the bad value
	Err   error  // what is wrong with it, and what to do
}

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// badInput is an InputError for field input.
func badInput(input string, err error) error { return &InputError{Input: input, Err: err} }
