package submitgen

import "testing"

// TestClassAdExprAccepts: real requirements expressions parse.
func TestClassAdExprAccepts(t *testing.T) {
	for _, s := range []string{
		`TARGET.Memory > 4096`,
		`(Arch == "X86_64") && (OpSys == "LINUX")`,
		`TARGET.has_avx2 =?= true || MY.Foo =!= undefined`,
		`regexp("^node[0-9]+", Machine) && !IsWarm`,
		`member(Machine, {"a", "b"}) ? true : false`,
		`Memory >= 1.5e3 * 2 - -1 % 3`,
		`x is undefined && y isnt error`,
		`[a = 1; b = "x"].a == 1`,
		`Name == "quote \" inside"`,
		`'odd attr' > 1`,
		`((((Cpus))))`,
		`a[1] + b.c.d`,
		`f()`,
	} {
		if err := checkClassAdExpr(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

// TestClassAdExprRejects: text that is not exactly one expression.
func TestClassAdExprRejects(t *testing.T) {
	for _, s := range []string{
		``, `   `, `true) || (true`, `(true`, `true)`, `a b`, `a &&`, `&& a`, `a ? b`, `"open`, `f(a,)`,
		`a; b`, `a = 1`, `$(Arch)`, `a # comment`, `{1, 2`, `[a = 1`, `a.`, `a[1`, `x == 'y`,
	} {
		if err := checkClassAdExpr(s); err == nil {
			t.Errorf("%q: accepted, want an error", s)
		}
	}
}

// FuzzClassAdExpr: the parser never panics, and whatever it accepts stays
// one expression when wrapped and ANDed as the generator writes it.
func FuzzClassAdExpr(f *testing.F) {
	for _, s := range []string{`TARGET.Memory > 4096`, `true) || (true`, `[a = 1; b = {1, "x"}].a`, `a ? b : c`, `"s\"t"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if checkClassAdExpr(s) != nil {
			return
		}
		if err := checkClassAdExpr("(x) && (" + s + ")"); err != nil {
			t.Errorf("%q accepted alone but not inside the generator's clause: %v", s, err)
		}
	})
}
