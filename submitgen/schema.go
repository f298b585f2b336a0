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
