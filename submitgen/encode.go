package submitgen

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Marshal writes job as a YAML description that Decode reads back to the
// same job, leaving out every key that has its default. The wizard uses it so
// what it writes is an ordinary description the user can edit later.
func Marshal(job *Job) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# dmtcp-condor job description; render it with: dmtcp-condor render FILE\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(job); err != nil {
		return nil, fmt.Errorf("encoding job description: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding job description: %w", err)
	}
	return buf.Bytes(), nil
}
