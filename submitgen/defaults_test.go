package submitgen

import (
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestDefaultsAreTaught ties the copies of render's defaults that cannot
// use the constants: the fields' help (struct tags, and from them the
// schema and the docs) and templates/example.yaml, the description users
// start from, which spells each default out.
func TestDefaultsAreTaught(t *testing.T) {
	job, err := Load(filepath.Join("..", "templates", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := job.Checkpoint
	ct := reflect.TypeOf(c)
	for _, d := range []struct {
		field, def string
		example    any
		want       any
	}{
		{"Interval", DefaultInterval.String(), c.Interval, DefaultInterval},
		{"ExitCode", strconv.Itoa(defaultExitCode), c.ExitCode, defaultExitCode},
		{"Signal", string(defaultSignal), c.Signal, defaultSignal},
		{"CompressBudget", defaultCompressBudget.String(), c.CompressBudget, defaultCompressBudget},
	} {
		f, ok := ct.FieldByName(d.field)
		if !ok {
			t.Fatalf("Checkpoint has no field %s", d.field)
		}
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if desc := f.Tag.Get("desc"); !strings.Contains(desc, "Default: "+d.def+".") {
			t.Errorf("checkpoint.%s's help says %q, but the default is %s", key, desc, d.def)
		}
		got := reflect.ValueOf(d.example)
		if got.Kind() == reflect.Pointer {
			if got.IsNil() {
				t.Errorf("templates/example.yaml does not set checkpoint.%s; it shows the default, %s", key, d.def)
				continue
			}
			got = got.Elem()
		}
		if got.Interface() != d.want {
			t.Errorf("templates/example.yaml sets checkpoint.%s to %v, but the default is %s", key, got.Interface(), d.def)
		}
	}
}
