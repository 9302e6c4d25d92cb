package httpsec

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// maxFields bounds the number of header fields kept from one response.
const maxFields = 256

// errHead marks a response head that is not HTTP/1.x.
var errHead = errors.New("not an HTTP/1.x response")

// readHead reads one response head: the status line and the header fields up to the empty
// line. It is lenient where browsers are (bytes outside the token/field grammar in values,
// bare LF line ends, obsolete line folding) and strict about the status line. The caller
// bounds the bytes the reader can deliver.
func readHead(br *bufio.Reader) (int, http.Header, error) {
	line, err := readLine(br)
	if err != nil {
		return 0, nil, err
	}
	proto, rest, _ := strings.Cut(line, " ")
	if !strings.HasPrefix(proto, "HTTP/1.") || len(proto) != 8 || proto[7] < '0' || proto[7] > '9' {
		return 0, nil, fmt.Errorf("%w: status line %q", errHead, sanitize(line, 60))
	}
	code := strings.TrimLeft(rest, " ")
	if len(code) > 3 {
		if code[3] != ' ' {
			return 0, nil, fmt.Errorf("%w: status line %q", errHead, sanitize(line, 60))
		}
		code = code[:3]
	}
	status, err := strconv.Atoi(code)
	if err != nil || len(code) != 3 || status < 100 {
		return 0, nil, fmt.Errorf("%w: status line %q", errHead, sanitize(line, 60))
	}
	h := http.Header{}
	var last string
	fields := 0
	for {
		line, err := readLine(br)
		if err != nil {
			return 0, nil, err
		}
		if line == "" {
			return status, h, nil
		}
		if line[0] == ' ' || line[0] == '\t' { // obs-fold continues the previous value
			if vs := h[last]; last != "" && len(vs) > 0 {
				vs[len(vs)-1] += " " + strings.Trim(line, " \t")
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !isToken(name) {
			last = ""
			continue // a line a browser would also drop
		}
		if fields++; fields > maxFields {
			continue
		}
		last = textproto.CanonicalMIMEHeaderKey(name)
		h[last] = append(h[last], strings.Trim(value, " \t"))
	}
}

// readLine reads one line without its CRLF (or bare LF).
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		frag, err := br.ReadSlice('\n')
		b = append(b, frag...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
	}
	b = b[:len(b)-1]
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return string(b), nil
}
