// Package submitgen turns a short job description into an HTCondor submit
// file that runs the program under DMTCP through shim_dmtcp.
//
// For most uses, Load a description, make a Renderer with NewRenderer("")
// and Render the job:
//
//	job, err := submitgen.Load("job.yaml")   // strict: unknown keys are errors
//	r, err := submitgen.NewRenderer("")       // or a site template directory
//	err = r.Render(w, job)                    // validates, then writes job.sub
//
// Every error about a description is an *Error that names the file, the line,
// the key and the fix, in the FILE:LINE: form editors understand.
//
// The description format is the Job type (its desc tags are the help text of
// the JSON Schema returned by Schema); templates/example.yaml is a commented
// example. Values in a description are literal text: arguments and
// environment are written in HTCondor's new quoting, every "$" becomes
// $(DOLLAR), and newline, CR and NUL are refused. The only macros a user can
// reach are the placeholders {cluster}, {process} and {item}.
//
// The generated file follows shim_dmtcp's contract (README.md, "The shim";
// contract_test.go ties the two): the shim is the executable, its options
// come before "--" and the program, kill_sig equals the shim's --signal, and
// the shim's failure exit codes (ShimExitCodes) put the job on hold with a
// readable reason. With a DMTCP bundle, the bundle's bin and lib directories are transferred without a
// trailing slash, so the sandbox holds bin/ and lib/dmtcp/ side by side and
// the shim runs with --dmtcp-prefix ".".
//
// QuoteArguments and QuoteEnvironment are the encoders; the tests read their
// output back with parsers of the same syntax (quote.go).
package submitgen
