package submitgen

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Schema returns the JSON Schema (draft 2020-12) of job descriptions, for
// editors that complete and check YAML against a schema. It is generated from
// the Job type's yaml and desc tags, so it always describes exactly what
// Decode accepts; templates/job.schema.json is a checked-in copy kept equal by
// a test.
func Schema() ([]byte, error) {
	s := typeSchema(reflect.TypeOf(Job{}))
	addFieldRules(s, "")
	for k, v := range jobRules() {
		s[k] = v
	}
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["title"] = "dmtcp-condor job description"
	s["description"] = "A job to run under DMTCP on HTCondor; `dmtcp-condor render` turns it into a submit file."
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding JSON Schema: %w", err)
	}
	return append(out, '\n'), nil
}

// schemaer is implemented by scalar types whose YAML form is not their Go kind.
type schemaer interface{ jsonSchema() map[string]any }

// constrainer adds rules across a struct's fields (such as "one of").
type constrainer interface{ schemaConstraints() map[string]any }

// scalarText is the schema of a list item or map value read as text: YAML
// numbers and booleans are accepted there and kept as written.
var scalarText = []string{"string", "number", "boolean"}

func typeSchema(t reflect.Type) map[string]any {
	if t.Kind() != reflect.Pointer {
		if s, ok := reflect.Zero(t).Interface().(schemaer); ok {
			return s.jsonSchema()
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return typeSchema(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Slice:
		items := typeSchema(t.Elem())
		if t.Elem().Kind() == reflect.String {
			items = map[string]any{"type": scalarText}
		}
		return map[string]any{"type": "array", "items": items}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": map[string]any{"type": scalarText}}
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			key := yamlKey(f)
			if key == "" {
				continue
			}
			p := typeSchema(f.Type)
			p["description"] = f.Tag.Get("desc")
			props[key] = p
			if strings.HasSuffix(f.Tag.Get("desc"), "Required.") {
				required = append(required, key)
			}
		}
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		if c, ok := reflect.Zero(t).Interface().(constrainer); ok {
			for k, v := range c.schemaConstraints() {
				s[k] = v
			}
		}
		return s
	}
	panic(fmt.Sprintf("submitgen: no JSON Schema for %s", t))
}

func (DMTCPSource) schemaConstraints() map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"required": []string{"bundle"}},
		map[string]any{"required": []string{"prefix"}},
	}}
}

func (Queue) schemaConstraints() map[string]any {
	return map[string]any{"not": map[string]any{"required": []string{"items", "from_file"}}}
}

// fileNamePattern is a name that fits a file list: no comma, no leading or
// trailing whitespace (HTCondor trims it), no trailing backslash (a line
// continuation), no line break or NUL (see builder.fileName).
const fileNamePattern = `^(?:[^,\s\\]|[^,\s][^,\n\r\x00]*[^,\s\\])$`

// noLineBreaks is every string value: a submit file cannot carry them.
const noLineBreaks = `^[^\n\r\x00]*$`

// fieldRules are the rules of single fields that validation checks, for
// the schema, built from the same regexps and tables as the checks; paths
// as in errors, "[]" for every list item.
func fieldRules() map[string]map[string]any {
	file := map[string]any{"pattern": fileNamePattern}
	stdio := map[string]any{"pattern": fileNamePattern, "allOf": []any{
		map[string]any{"not": map[string]any{"pattern": "/"}},
		map[string]any{"not": map[string]any{"enum": []string{".", "..", ckptDir, "dmtcp.{cluster}.{process}.log", "shim.{cluster}.{process}.out", "shim.{cluster}.{process}.err", "job.{cluster}.log"}}},
	}}
	var owned []string
	for _, o := range ownedNames() {
		var b strings.Builder
		b.WriteString("_*")
		for _, r := range o {
			b.WriteString(anyCase(string(r)) + "_*")
		}
		owned = append(owned, b.String())
	}
	return map[string]map[string]any{
		"stdin":           file,
		"stdout":          stdio,
		"stderr":          stdio,
		"input_files[]":   file,
		"output_files[]":  {"pattern": fileNamePattern, "not": map[string]any{"pattern": `^/|^\.\.?/?$|^\.\./`}},
		"dmtcp.bundle":    file,
		"dmtcp.prefix":    {"pattern": "^/"},
		"queue.from_file": {"pattern": fromFileRE.String()},
		"queue.items[]":   {"pattern": `^[^\s'",()$/#]+$`},
		"queue.count":     {"minimum": 1, "maximum": MaxJobsPerSubmission},
		"checkpoint.exit_code": {"minimum": 1, "maximum": 255,
			"not": map[string]any{"minimum": firstShimFailure, "maximum": firstShimFailure + len(ShimExitCodes) - 1}},
		"platform.arch":                       {"pattern": attrValueRE.String()},
		"platform.opsys":                      {"pattern": attrValueRE.String()},
		"platform.opsys_and_ver":              {"pattern": attrValueRE.String()},
		"platform.microarch":                  {"pattern": attrValueRE.String()},
		"platform.cpu_flags[]":                {"pattern": `^[A-Za-z0-9_]+$`},
		"platform.legacy.checkpoint_platform": {"pattern": `^[^"\\]*$`},
		"platform.legacy.os_kernel_release":   {"pattern": `^[^"\\]*$`},
		"checkpoint.vacate_time":              {"not": map[string]any{"enum": []any{0, "0"}}},
		"environment{}": {"propertyNames": map[string]any{"pattern": `^[A-Za-z_][A-Za-z0-9_]*$`,
			"not": map[string]any{"anyOf": []any{map[string]any{"pattern": "^SHIM_DMTCP_"}, map[string]any{"const": "DMTCP_TMPDIR"}}}}},
		"submit{}": {"propertyNames": map[string]any{"pattern": `^(?:\+|[Mm][Yy]\.)?[A-Za-z_][A-Za-z0-9_]*$`,
			"not": map[string]any{"pattern": `^(?:\+|[Mm][Yy]\.)?(?:` + strings.Join(owned, "|") + `|_*` + anyCase("dmtcp") + `_*` + anyCase("ckpt") + `.*)$`}}},
	}
}

// ownedNames are the names of owned, flattened.
func ownedNames() []string {
	var names []string
	for _, o := range owned {
		names = append(names, o.names...)
	}
	return names
}

// jobRules are the rules across fields that a schema can state: DMTCP is
// required unless the engine is condor-syscall, which takes no prefix and
// no compression.
func jobRules() map[string]any {
	return map[string]any{
		"if": map[string]any{"required": []string{"engine"}, "properties": map[string]any{"engine": map[string]any{"const": string(EngineCondorSyscall)}}},
		"then": map[string]any{"properties": map[string]any{
			"dmtcp":      map[string]any{"not": map[string]any{"required": []string{"prefix"}}},
			"checkpoint": map[string]any{"not": map[string]any{"required": []string{"compress"}}},
		}},
		"else": map[string]any{"required": []string{"dmtcp"}},
	}
}

// addFieldRules walks the generated schema and adds fieldRules, and the
// rule that no string carries a line break, NUL or the text $(DOLLAR).
func addFieldRules(s map[string]any, path string) {
	rules := fieldRules()
	var walk func(s map[string]any, path string)
	walk = func(s map[string]any, path string) {
		if r, ok := rules[path]; ok {
			for k, v := range r {
				if old, clash := s[k]; clash {
					s["allOf"] = append(asList(s["allOf"]), map[string]any{k: old})
				}
				s[k] = v
			}
		}
		if hasType(s, "string") {
			s["allOf"] = append(asList(s["allOf"]), map[string]any{"pattern": noLineBreaks})
			if !strings.HasPrefix(path, "submit") { // pass-through values may use macros
				s["allOf"] = append(asList(s["allOf"]), map[string]any{"not": map[string]any{"type": "string", "pattern": `\$\(DOLLAR`}})
			}
		}
		if props, ok := s["properties"].(map[string]any); ok {
			for k, v := range props {
				walk(v.(map[string]any), joinPath(path, k))
			}
		}
		if items, ok := s["items"].(map[string]any); ok {
			walk(items, path+"[]")
		}
		if values, ok := s["additionalProperties"].(map[string]any); ok {
			walk(values, path+".*")
		}
		if s["type"] == "object" && path != "" {
			if r, ok := rules[path+"{}"]; ok {
				for k, v := range r {
					s[k] = v
				}
			}
		}
	}
	walk(s, path)
}

// hasType says whether schema s allows JSON type t.
func hasType(s map[string]any, t string) bool {
	switch v := s["type"].(type) {
	case string:
		return v == t
	case []string:
		for _, x := range v {
			if x == t {
				return true
			}
		}
	}
	return false
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
