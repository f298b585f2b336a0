package submitgen

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// schemaCannotSay are bad descriptions the JSON Schema accepts although
// render refuses them, each with why a schema cannot express the rule
// (it relates values to each other or needs a parser). Everything else
// render refuses, the schema refuses too.
var schemaCannotSay = map[string]string{
	"zero interval self":           "an interval of 0 is refused only in modes self and both, and 0 has many spellings (0, 0s, 0m0s)",
	"shared stdout":                "a name must hold {process} only when the queue has more than one job",
	"item without items":           "{item} is allowed only when queue.items or queue.from_file is set",
	"bundle clash":                 "an input file's base name is reserved only with dmtcp.bundle",
	"requirements escape":          "one ClassAd expression needs a parser (balanced parentheses are not a regular language)",
	"requirements open":            "one ClassAd expression needs a parser",
	"requirements two":             "one ClassAd expression needs a parser",
	"requirements macro":           "one ClassAd expression needs a parser",
	"requirements string":          "one ClassAd expression needs a parser",
	"requirements empty parens":    "one ClassAd expression needs a parser",
	"stdout program":               "stdout is compared with the program's base name",
	"stdin is stdout":              "stdout is compared with stdin's base name",
	"stdout is stderr":             "stdout is compared with stderr",
	"stdout input file":            "stdout is compared with the input files' base names",
	"stdout bundle bin":            "bin and lib are reserved only with dmtcp.bundle",
	"second document":              "a schema judges one document; the second is YAML-level",
	"second document after marker": "a schema judges one document; the second is YAML-level",
	"huge count with items":        "the number of jobs is count times the number of items",
	"compress budget evict":        "compress_budget depends on the mode, whose default (both) a schema cannot apply",
	"compress budget no compress":  "compress_budget depends on compress",
}

// TestSchemaAgreesWithRender validates the shipped examples and the bad
// descriptions against templates/job.schema.json with a real JSON Schema
// validator (draft 2020-12) and checks that it accepts exactly what render
// accepts, apart from schemaCannotSay.
func TestSchemaAgreesWithRender(t *testing.T) {
	data, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("job.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("job.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	type example struct {
		name, yaml string
		good       bool
	}
	var cases []example
	paths, _ := filepath.Glob(filepath.Join(goldenDir, "*.yaml"))
	paths = append(paths, filepath.Join("..", "templates", "example.yaml"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, example{filepath.Base(p), string(b), true})
	}
	for _, b := range badDescriptions {
		cases = append(cases, example{b.name, b.yaml, false})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			job, rerr := Decode("job.yaml", []byte(tc.yaml))
			if rerr == nil {
				rerr = job.Validate()
			}
			if (rerr == nil) != tc.good {
				t.Fatalf("render: %v, want good=%v", rerr, tc.good)
			}
			var v any
			if err := yaml.Unmarshal([]byte(tc.yaml), &v); err != nil {
				return // not YAML: no document for a schema to judge
			}
			j, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("as JSON: %v", err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
			if err != nil {
				t.Fatal(err)
			}
			serr := sch.Validate(inst)
			switch why, known := schemaCannotSay[tc.name]; {
			case tc.good && serr != nil:
				t.Errorf("render accepts it, the schema refuses it: %#v", serr)
			case !tc.good && serr == nil && !known:
				t.Errorf("render refuses it (%v), the schema accepts it", rerr)
			case !tc.good && serr != nil && known:
				t.Errorf("the schema refuses it now (%v); remove it from schemaCannotSay (%s)", serr, why)
			}
		})
	}
}
