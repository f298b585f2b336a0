package cli

import (
	"fmt"
	"strings"
)

// splitShellWords splits a line into words the way a POSIX shell would
// (without expansions): whitespace separates words, '...' is literal, "..."
// is literal except for \" \\ \$ \`, and a backslash outside quotes escapes
// the next character. The wizard asks for arguments "as you would type them
// in a shell" because that is what users already know how to write.
func splitShellWords(line string) ([]string, error) {
	words := []string{}
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\':
			inWord = true
			if i+1 == len(line) {
				return nil, fmt.Errorf("the line ends with a backslash; write \\\\ for a literal backslash")
			}
			i++
			cur.WriteByte(line[i])
		case c == '\'':
			inWord = true
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("a single quote is not closed")
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 1
		case c == '"':
			inWord = true
			closed := false
			for i++; i < len(line); i++ {
				if line[i] == '"' {
					closed = true
					break
				}
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte("\"\\$`", line[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(line[i])
			}
			if !closed {
				return nil, fmt.Errorf("a double quote is not closed")
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
