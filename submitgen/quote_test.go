package submitgen

import (
	"reflect"
	"strings"
	"testing"
)

// manualExamples are the HTCondor manual's new-style arguments examples with
// the argv a job sees, plus the same argv as HTCondor's own encoder writes it
// (each run of whitespace or ' quoted separately).
var manualExamples = []struct {
	value string
	argv  []string
}{
	{`"one ""two"" 'spacey ''quoted'' argument'"`, []string{"one", `"two"`, "spacey 'quoted' argument"}},
	{`"one 'two with spaces' 3"`, []string{"one", "two with spaces", "3"}},
	{`"This '''quoted''' arg' 'string 'contains ''many'' """"surprises\'"`, []string{"This", "'quoted'", "arg string", `contains 'many' ""surprises\`}},
	// HTCondor's encoder output for the argv just above.
	{`"This '''quoted''' arg' 'string contains' '''many''' '""""surprises\"`, []string{"This", "'quoted'", "arg string", `contains 'many' ""surprises\`}},
	{`"it''''s"`, []string{"it's"}},
	{`"  a   b  "`, []string{"a", "b"}},
	{`""`, []string{}},
	{`"''"`, []string{""}},
	{`"a '' b"`, []string{"a", "", "b"}},
	{`"cost=$(DOLLAR)5"`, []string{"cost=$5"}},
}

func TestParseArgumentsManualExamples(t *testing.T) {
	for _, tc := range manualExamples {
		got, err := parseArguments(tc.value)
		if err != nil {
			t.Errorf("parseArguments(%s): %v", tc.value, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.argv) {
			t.Errorf("parseArguments(%s) = %q, want %q", tc.value, got, tc.argv)
		}
	}
}

func TestParseArgumentsRejects(t *testing.T) {
	for _, value := range []string{
		`one two`,         // not enclosed in "..."
		`"a"b"`,           // lone "
		`"'unterminated"`, // open '
		`"$HOME"`,         // unescaped $
		`"$(Cluster)"`,    // a macro other than DOLLAR
		`"`,               // too short
	} {
		if got, err := parseArguments(value); err == nil {
			t.Errorf("parseArguments(%s) = %q, want an error", value, got)
		}
	}
}

func TestQuoteArguments(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"one", `"two"`, "spacey 'quoted' argument"}, `"one ""two"" 'spacey ''quoted'' argument'"`},
		{[]string{"one", "two with spaces", "3"}, `"one 'two with spaces' 3"`},
		{[]string{"This", "'quoted'", "arg string", `contains 'many' ""surprises\`}, `"This '''quoted''' 'arg string' 'contains ''many'' """"surprises\'"`},
		{nil, `""`},
		{[]string{""}, `"''"`},
		{[]string{"a", "", "b"}, `"a '' b"`},
		{[]string{"$HOME", "cost=$5", "$$(x)"}, `"$(DOLLAR)HOME cost=$(DOLLAR)5 $$(DOLLARDOLLAR)(x)"`},
		{[]string{`a\b`, `c\`}, `"a\b c\"`},
		{[]string{"tab\there"}, "\"'tab\there'\""},
		{[]string{"#not-a-comment", "a,b", "x=y"}, `"#not-a-comment a,b x=y"`},
		{[]string{"ünïcode €"}, `"'ünïcode €'"`},
	} {
		got, err := QuoteArguments(tc.argv)
		if err != nil {
			t.Errorf("QuoteArguments(%q): %v", tc.argv, err)
			continue
		}
		if got != tc.want {
			t.Errorf("QuoteArguments(%q)\n got %s\nwant %s", tc.argv, got, tc.want)
		}
		back, err := parseArguments(got)
		if err != nil || (len(back) > 0 || len(tc.argv) > 0) && !reflect.DeepEqual(back, tc.argv) {
			t.Errorf("parseArguments(QuoteArguments(%q)) = %q, %v", tc.argv, back, err)
		}
	}
}

func TestQuoteArgumentsRejectsLineBreaksAndNUL(t *testing.T) {
	for _, arg := range []string{"a\nb", "a\rb", "a\x00b"} {
		if got, err := QuoteArguments([]string{"ok", arg}); err == nil {
			t.Errorf("QuoteArguments(%q) = %s, want an error", arg, got)
		} else if !strings.Contains(err.Error(), "argument 2") {
			t.Errorf("error %q does not name argument 2", err)
		}
	}
}

func TestQuoteEnvironment(t *testing.T) {
	for _, tc := range []struct {
		env  []EnvVar
		want string
	}{
		{[]EnvVar{{"B", "x y"}, {"A", "1"}}, `"A=1 B='x y'"`},
		{[]EnvVar{{"Q", "it's"}}, `"Q='it''s'"`},
		{[]EnvVar{{"E", "a=b;c"}}, `"E=a=b;c"`},
		{[]EnvVar{{"E", ""}}, `"E="`},
		{[]EnvVar{{"P", `$PATH:"x"`}}, `"P=$(DOLLAR)PATH:""x"""`},
	} {
		got, err := QuoteEnvironment(tc.env)
		if err != nil {
			t.Errorf("QuoteEnvironment(%v): %v", tc.env, err)
			continue
		}
		if got != tc.want {
			t.Errorf("QuoteEnvironment(%v)\n got %s\nwant %s", tc.env, got, tc.want)
		}
	}
	for _, bad := range []string{"", "1A", "A-B", "A=B", "A B"} {
		if _, err := QuoteEnvironment([]EnvVar{{bad, "v"}}); err == nil {
			t.Errorf("QuoteEnvironment accepted the name %q", bad)
		}
	}
}

func TestParseEnvironment(t *testing.T) {
	got, err := parseEnvironment(`"A=1 B='x y' C=a=b D="`)
	want := []EnvVar{{"A", "1"}, {"B", "x y"}, {"C", "a=b"}, {"D", ""}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseEnvironment = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{`"A"`, `"=1"`} {
		if _, err := parseEnvironment(bad); err == nil {
			t.Errorf("parseEnvironment(%s) succeeded, want an error", bad)
		}
	}
}

// FuzzArguments checks that for any argv our own parser of the new syntax
// gives back exactly what the encoder was given. Arguments are separated by
// NUL in the fuzz input (NUL itself cannot be encoded, see the test above).
func FuzzArguments(f *testing.F) {
	for _, tc := range manualExamples {
		f.Add(strings.Join(tc.argv, "\x00"))
	}
	f.Add("a\x00\x00b")
	f.Add("'\x00\"\x00$(DOLLAR)\x00\\")
	f.Fuzz(func(t *testing.T, s string) {
		argv := strings.Split(s, "\x00")
		enc, err := QuoteArguments(argv)
		if err != nil {
			if !strings.ContainsAny(s, "\r\n") {
				t.Fatalf("QuoteArguments(%q): %v", argv, err)
			}
			return
		}
		got, err := parseArguments(enc)
		if err != nil {
			t.Fatalf("parseArguments(%s) for argv %q: %v", enc, argv, err)
		}
		if !reflect.DeepEqual(got, argv) {
			t.Fatalf("round trip of %q through %s gave %q", argv, enc, got)
		}
	})
}

// FuzzEnvironment is FuzzArguments for environment values: any value comes
// back unchanged under its name.
func FuzzEnvironment(f *testing.F) {
	f.Add("x y", "it's")
	f.Add("", "a=b")
	f.Add(`"$`, "\t")
	f.Fuzz(func(t *testing.T, v1, v2 string) {
		env := []EnvVar{{"A", v1}, {"B_2", v2}}
		enc, err := QuoteEnvironment(env)
		if err != nil {
			if !strings.ContainsAny(v1+v2, "\r\n\x00") {
				t.Fatalf("QuoteEnvironment(%q): %v", env, err)
			}
			return
		}
		got, err := parseEnvironment(enc)
		if err != nil {
			t.Fatalf("parseEnvironment(%s): %v", enc, err)
		}
		if !reflect.DeepEqual(got, env) {
			t.Fatalf("round trip of %q through %s gave %q", env, enc, got)
		}
	})
}
