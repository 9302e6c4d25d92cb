package exposure

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/rampart-scan/rampart/model"
)

// Every function in this file reads bytes a server chose. They are pure, bounded and never
// panic (each has a fuzz target); they fill facts and report whether they recognised the
// protocol.

func ptr[T any](v T) *T { return &v }

func setExtra(f *model.ServiceFacts, k, v string) {
	if f.Extra == nil {
		f.Extra = map[string]string{}
	}
	if len(f.Extra) < 16 {
		f.Extra[k] = clean(v)
	}
}

// setExtraEscaped stores a value that escape already bounded and escaped.
func setExtraEscaped(f *model.ServiceFacts, k, v string) {
	if f.Extra == nil {
		f.Extra = map[string]string{}
	}
	if len(f.Extra) < 16 {
		f.Extra[k] = v
	}
}

// firstLine returns b up to the first CR or LF.
func firstLine(b []byte) string {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// classifyBanner recognises a server-first greeting. It sets Service (and Product/Version
// when the greeting names them) and reports whether it recognised one. An SMTP/FTP "220"
// greeting that names neither is reported as SvcSMTP with ambiguous set: the caller tells
// them apart with EHLO.
func classifyBanner(b []byte, f *model.ServiceFacts) (ambiguous220 bool, ok bool) {
	if len(b) == 0 {
		return false, false
	}
	line := firstLine(b)
	switch {
	case strings.HasPrefix(line, "SSH-"):
		return false, parseSSH(line, f)
	case len(b) >= 5 && looksMySQL(b):
		return false, parseMySQLGreeting(b, f)
	case strings.HasPrefix(line, "RFB ") && len(line) >= 11:
		f.Service = model.SvcVNC
		f.Version = clean(strings.TrimPrefix(line, "RFB "))
		f.StartTLS = ptr(false)
		return false, true
	case b[0] == 0xff && len(b) >= 2 && b[1] >= 0xfb && b[1] <= 0xfe: // IAC WILL/WONT/DO/DONT
		f.Service = model.SvcTelnet
		f.StartTLS = ptr(false)
		return false, true
	case strings.HasPrefix(line, "* OK") || strings.HasPrefix(line, "* PREAUTH") || strings.HasPrefix(line, "* BYE"):
		f.Service = model.SvcIMAP
		if bytes.Contains(b, []byte("CAPABILITY")) {
			f.StartTLS = ptr(containsFold(b, "STARTTLS"))
		}
		productFromGreeting(line, f)
		return false, true
	case strings.HasPrefix(line, "+OK"):
		f.Service = model.SvcPOP3
		productFromGreeting(line, f)
		return false, true
	case strings.HasPrefix(line, "220"):
		up := strings.ToUpper(line)
		switch {
		case strings.Contains(up, "FTP"):
			f.Service = model.SvcFTP
		case strings.Contains(up, "SMTP") || strings.Contains(up, "POSTFIX") || strings.Contains(up, "EXIM") ||
			strings.Contains(up, "SENDMAIL") || strings.Contains(up, " MAIL"):
			f.Service = model.SvcSMTP
		default:
			f.Service = model.SvcSMTP
			return true, true
		}
		productFrom220(line, f)
		return false, true
	case strings.HasPrefix(line, "421") || strings.HasPrefix(line, "554"):
		// SMTP servers refusing service still greet with a reply code and a name.
		if strings.Contains(strings.ToUpper(line), "SMTP") {
			f.Service = model.SvcSMTP
			return false, true
		}
	case (strings.HasPrefix(line, "200 ") || strings.HasPrefix(line, "201 ")) && !strings.Contains(asciiLower(line), "ftp"):
		// NNTP greets with 200 (posting allowed) or 201 (no posting), RFC 3977 §5.1.
		f.Service = model.SvcNNTP
		return false, true
	case strings.HasPrefix(line, `"IMPLEMENTATION"`) || strings.HasPrefix(line, `"SIEVE"`) || strings.HasPrefix(line, `"SASL"`):
		// ManageSieve greets with its capability list, RFC 5804 §1.7.
		f.Service = model.SvcSieve
		return false, true
	case isIRCLine(line):
		f.Service = model.SvcIRC
		return false, true
	case strings.HasPrefix(line, "<?xml") || strings.HasPrefix(line, "<stream:"):
		return false, parseXMPP(b, f)
	}
	return false, false
}

func containsFold(b []byte, s string) bool {
	return bytes.Contains(bytes.ToUpper(b), []byte(strings.ToUpper(s)))
}

// productFrom220 picks well-known product names out of an FTP or SMTP greeting.
func productFrom220(line string, f *model.ServiceFacts) {
	for _, p := range []string{"vsFTPd", "ProFTPD", "Pure-FTPd", "FileZilla", "Postfix", "Exim", "Sendmail", "OpenSMTPD", "Microsoft ESMTP", "Microsoft FTP"} {
		i := strings.Index(asciiLower(line), asciiLower(p))
		if i < 0 {
			continue
		}
		f.Product = p
		rest := strings.TrimLeft(line[i+len(p):], " /")
		if v, _, _ := strings.Cut(rest, " "); v != "" && (v[0] >= '0' && v[0] <= '9') {
			f.Version = clean(strings.TrimRight(v, ")"))
		}
		return
	}
}

// productFromGreeting names the IMAP/POP3 server software a greeting mentions.
func productFromGreeting(line string, f *model.ServiceFacts) {
	low := asciiLower(line)
	for _, p := range []string{"Dovecot", "Cyrus", "Courier", "Zimbra", "Microsoft Exchange", "UW"} {
		if strings.Contains(low, asciiLower(p)+" ") || strings.HasSuffix(low, asciiLower(p)) {
			f.Product = p
			return
		}
	}
}

// parseSSH reads an RFC 4253 identification string: SSH-protoversion-softwareversion SP comments.
func parseSSH(line string, f *model.ServiceFacts) bool {
	rest, ok := strings.CutPrefix(line, "SSH-")
	if !ok {
		return false
	}
	proto, sw, ok := strings.Cut(rest, "-")
	if !ok || (proto != "2.0" && proto != "1.99" && !strings.HasPrefix(proto, "1.")) {
		return false
	}
	f.Service = model.SvcSSH
	setExtra(f, "protocol", proto)
	sw, _, _ = strings.Cut(sw, " ")
	if p, v, ok := strings.Cut(sw, "_"); ok {
		f.Product, f.Version = clean(p), clean(v)
	} else {
		f.Product = clean(sw)
	}
	return true
}

// looksMySQL: a MySQL packet header (3-byte length, sequence 0) carrying a protocol-10
// handshake or an error packet.
func looksMySQL(b []byte) bool {
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	return b[3] == 0 && n > 0 && n < 1<<16 && (b[4] == 0x0a || b[4] == 0xff)
}

// mysqlComplete reports whether b holds a whole first MySQL packet.
func mysqlComplete(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	return len(b) >= 4+n
}

// parseMySQLGreeting reads the initial handshake packet (protocol 10) or an error packet.
func parseMySQLGreeting(b []byte, f *model.ServiceFacts) bool {
	if len(b) < 5 || !looksMySQL(b) {
		return false
	}
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	p := b[4:]
	if len(p) > n {
		p = p[:n]
	}
	if p[0] == 0xff { // ERR_Packet: 0xff, code(2), message
		f.Service = model.SvcMySQL
		if len(p) >= 3 {
			setExtra(f, "error_code", strconv.Itoa(int(binary.LittleEndian.Uint16(p[1:3]))))
			msg := p[3:]
			if len(msg) > 0 && msg[0] == '#' && len(msg) >= 6 {
				msg = msg[6:]
			}
			setExtra(f, "error", string(msg))
		}
		return true
	}
	end := bytes.IndexByte(p[1:], 0)
	if end < 0 {
		return false
	}
	ver := string(p[1 : 1+end])
	f.Service = model.SvcMySQL
	f.Product = "MySQL"
	if i := strings.Index(ver, "MariaDB"); i >= 0 {
		f.Product = "MariaDB"
		ver = strings.TrimPrefix(ver, "5.5.5-")
	}
	f.Version = clean(ver)
	// After the version: thread id (4), auth data (8), filler (1), capability flags (2).
	caps := 1 + end + 1 + 4 + 8 + 1
	if len(p) >= caps+2 {
		flags := binary.LittleEndian.Uint16(p[caps : caps+2])
		f.StartTLS = ptr(flags&0x0800 != 0) // CLIENT_SSL
	}
	return true
}

// isIRCLine: ":prefix COMMAND …" or "NOTICE AUTH …"/"ERROR :…" as IRC servers send them.
func isIRCLine(line string) bool {
	if strings.HasPrefix(line, "NOTICE AUTH") || strings.HasPrefix(line, "NOTICE * :") || strings.HasPrefix(line, "ERROR :Closing") {
		return true
	}
	if !strings.HasPrefix(line, ":") {
		return false
	}
	fields := strings.Fields(line)
	if len(fields) < 3 {
		return false
	}
	cmd := fields[1]
	if len(cmd) == 3 && isDigits(cmd) {
		return true
	}
	switch cmd {
	case "NOTICE", "CAP", "PONG", "ERROR", "PRIVMSG":
		return true
	}
	return false
}

// parseIRC reads the reply to "CAP LS 302" + "PING": IRC lines, and whether CAP LS offers tls.
func parseIRC(b []byte, f *model.ServiceFacts) bool {
	seen := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if !isIRCLine(line) {
			continue
		}
		seen = true
		fields := strings.Fields(line)
		if len(fields) >= 4 && fields[1] == "CAP" && fields[3] == "LS" {
			caps := strings.Fields(strings.TrimPrefix(strings.Join(fields[4:], " "), ":"))
			tls := false
			for _, c := range caps {
				name, _, _ := strings.Cut(c, "=")
				if name == "tls" || name == "sts" {
					tls = true
				}
			}
			f.StartTLS = ptr(tls)
		}
	}
	if seen {
		f.Service = model.SvcIRC
	}
	return seen
}

// parseXMPP reads the reply to a client stream header.
func parseXMPP(b []byte, f *model.ServiceFacts) bool {
	s := string(b)
	if !strings.Contains(s, "<stream:stream") && !strings.Contains(s, "http://etherx.jabber.org/streams") {
		return false
	}
	f.Service = model.SvcXMPP
	if strings.Contains(s, "<stream:features") {
		f.StartTLS = ptr(strings.Contains(s, "urn:ietf:params:xml:ns:xmpp-tls"))
		if i := strings.Index(s, "urn:ietf:params:xml:ns:xmpp-tls"); i >= 0 {
			rest := s[i:]
			if end := strings.Index(rest, "</starttls>"); end >= 0 && strings.Contains(rest[:end], "<required") {
				setExtra(f, "starttls_required", "true")
			}
		}
	}
	if strings.Contains(s, "<stream:error") {
		setExtra(f, "stream_error", "yes")
	}
	return true
}

// smtpDone is satisfied once the last line of b is a final reply line ("250 …").
func smtpDone(b []byte) bool {
	lines := strings.Split(strings.TrimRight(string(b), "\r\n"), "\n")
	if !bytes.HasSuffix(b, []byte("\n")) {
		return false
	}
	last := strings.TrimRight(lines[len(lines)-1], "\r")
	return len(last) >= 4 && isDigits(last[:3]) && last[3] == ' ' ||
		len(last) == 3 && isDigits(last)
}

// parseEHLO reads an EHLO reply: whether it is an SMTP 250 and whether it offers STARTTLS.
func parseEHLO(b []byte) (smtp bool, starttls bool) {
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if len(line) < 4 || !strings.HasPrefix(line, "250") {
			continue
		}
		smtp = true
		if strings.EqualFold(strings.TrimSpace(line[4:]), "STARTTLS") {
			starttls = true
		}
	}
	return smtp, starttls
}

// parseFTPFeat reads a FEAT reply: whether it is a 211 list and whether it offers AUTH TLS.
func parseFTPFeat(b []byte) (ftp bool, authTLS bool) {
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "211") {
			ftp = true
		}
		u := strings.ToUpper(line)
		if u == "AUTH TLS" || strings.HasPrefix(u, "AUTH TLS") || strings.HasPrefix(u, "AUTH SSL") {
			authTLS = true
		}
	}
	return ftp, authTLS
}

// parsePOP3Capa reads a CAPA reply ("+OK" … "."): whether it lists STLS.
func parsePOP3Capa(b []byte) (ok bool, stls bool) {
	if !bytes.HasPrefix(b, []byte("+OK")) {
		return false, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.EqualFold(strings.TrimSpace(line), "STLS") {
			stls = true
		}
	}
	return true, stls
}

// parseIMAPCapability reads "* CAPABILITY …" untagged lines: whether STARTTLS is listed.
func parseIMAPCapability(b []byte) (ok bool, starttls bool) {
	for _, line := range strings.Split(string(b), "\n") {
		u := strings.ToUpper(strings.TrimSpace(line))
		if strings.HasPrefix(u, "* CAPABILITY") || strings.HasPrefix(u, "* OK [CAPABILITY") {
			ok = true
			for _, c := range strings.Fields(u) {
				if strings.Trim(c, "[]") == "STARTTLS" {
					starttls = true
				}
			}
		}
	}
	return ok, starttls
}

// parseRedis reads the reply to PING.
func parseRedis(b []byte, f *model.ServiceFacts) bool {
	line := firstLine(b)
	switch {
	case strings.HasPrefix(line, "+PONG"):
		f.AuthRequired = ptr(false)
	case strings.HasPrefix(line, "-NOAUTH"), strings.HasPrefix(line, "-DENIED"), strings.HasPrefix(line, "-WRONGPASS"):
		f.AuthRequired = ptr(true)
	case strings.HasPrefix(line, "-ERR operation not permitted"): // Redis before 6 with requirepass
		f.AuthRequired = ptr(true)
	default:
		return false
	}
	f.Service = model.SvcRedis
	f.Product = "Redis"
	return true
}

// parseRedisInfo picks redis_version out of an INFO server bulk reply.
func parseRedisInfo(b []byte, f *model.ServiceFacts) {
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			f.Version = clean(v)
			return
		}
	}
}

// redisInfoDone: a RESP bulk string "$<n>\r\n<n bytes>\r\n" is complete, or an error line.
func redisInfoDone(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		return hasLine(b)
	}
	i := bytes.Index(b, []byte("\r\n"))
	if len(b) == 0 || b[0] != '$' || i < 0 {
		return false
	}
	n, err := strconv.Atoi(string(b[1:i]))
	if err != nil || n < 0 {
		return true
	}
	return len(b) >= i+2+n+2
}

// parseMemcached reads the reply to "version".
func parseMemcached(b []byte, f *model.ServiceFacts) bool {
	v, ok := strings.CutPrefix(firstLine(b), "VERSION ")
	if !ok {
		return false
	}
	f.Service = model.SvcMemcached
	f.Product = "Memcached"
	f.Version = clean(strings.TrimSpace(v))
	f.AuthRequired = ptr(false)
	return true
}

// parsePostgres reads the one-byte reply to an SSLRequest, or an ErrorResponse.
func parsePostgres(b []byte, f *model.ServiceFacts) bool {
	switch {
	case len(b) == 1 && b[0] == 'S':
		f.StartTLS = ptr(true)
	case len(b) == 1 && b[0] == 'N':
		f.StartTLS = ptr(false)
	case len(b) >= 6 && b[0] == 'E' && bytes.Contains(b, []byte("SFATAL")):
		n := binary.BigEndian.Uint32(b[1:5])
		if n < 4 || n > 1<<16 {
			return false
		}
	default:
		return false
	}
	f.Service = model.SvcPostgres
	f.Product = "PostgreSQL"
	return true
}

// parseMQTTConnack reads a CONNACK (0x20, remaining length 2, flags, return code).
func parseMQTTConnack(b []byte, f *model.ServiceFacts) bool {
	if len(b) < 4 || b[0] != 0x20 || b[1] != 0x02 {
		return false
	}
	rc := b[3]
	f.Service = model.SvcMQTT
	setExtra(f, "connack_code", strconv.Itoa(int(rc)))
	switch rc {
	case 0:
		f.AuthRequired = ptr(false)
	case 4, 5:
		f.AuthRequired = ptr(true)
	}
	return true
}

// parseRDP reads a TPKT + X.224 Connection Confirm, with the RDP negotiation response.
func parseRDP(b []byte, f *model.ServiceFacts) bool {
	if len(b) < 11 || b[0] != 3 || b[1] != 0 {
		return false
	}
	tlen := int(binary.BigEndian.Uint16(b[2:4]))
	if tlen < 11 || b[5]&0xf0 != 0xd0 {
		return false
	}
	f.Service = model.SvcRDP
	if len(b) >= 19 && tlen >= 19 {
		switch b[11] {
		case 2: // RDP_NEG_RSP: selectedProtocol
			proto := binary.LittleEndian.Uint32(b[15:19])
			names := map[uint32]string{0: "rdp", 1: "ssl", 2: "hybrid", 8: "hybrid_ex", 4: "rdstls"}
			name, ok := names[proto]
			if !ok {
				name = strconv.Itoa(int(proto))
			}
			setExtra(f, "selected_protocol", name)
			setExtra(f, "nla", strconv.FormatBool(proto == 2 || proto == 8))
		case 3: // RDP_NEG_FAILURE
			setExtra(f, "negotiation_failure", strconv.Itoa(int(binary.LittleEndian.Uint32(b[15:19]))))
		}
	}
	return true
}

// parseVNCSecurity reads the security types a VNC server offers after the version exchange:
// RFB 3.7+: count (1 byte) and types; 3.3: one uint32 type. Type 1 is None (no auth).
func parseVNCSecurity(b []byte, v33 bool, f *model.ServiceFacts) {
	var types []byte
	if v33 {
		if len(b) < 4 {
			return
		}
		t := binary.BigEndian.Uint32(b)
		if t > 255 {
			return
		}
		types = []byte{byte(t)}
	} else {
		if len(b) < 1 || int(b[0]) > len(b)-1 {
			return
		}
		types = b[1 : 1+int(b[0])]
	}
	if len(types) == 0 {
		return
	}
	none := false
	var names []string
	for _, t := range types {
		names = append(names, strconv.Itoa(int(t)))
		if t == 1 {
			none = true
		}
	}
	setExtra(f, "security_types", strings.Join(names, ","))
	f.AuthRequired = ptr(!none)
}

// parseLDAPBind reads a BindResponse to an anonymous simple bind (message ID 1).
func parseLDAPBind(b []byte, f *model.ServiceFacts) bool {
	msg, ok := berElem(b, 0x30)
	if !ok {
		return false
	}
	id, ok := berElem(msg.body, 0x02)
	if !ok || len(id.body) != 1 || id.body[0] != 1 {
		return false
	}
	resp, ok := berElem(id.rest, 0x61)
	if !ok {
		return false
	}
	code, ok := berElem(resp.body, 0x0a)
	if !ok || len(code.body) != 1 {
		return false
	}
	f.Service = model.SvcLDAP
	setExtra(f, "anonymous_bind_result", strconv.Itoa(int(code.body[0])))
	f.AuthRequired = ptr(code.body[0] != 0)
	return true
}

type ber struct{ body, rest []byte }

// berElem reads one definite-length BER element with the given tag from the start of b.
func berElem(b []byte, tag byte) (ber, bool) {
	if len(b) < 2 || b[0] != tag {
		return ber{}, false
	}
	n, hdr := int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 3 || len(b) < 2+k {
			return ber{}, false
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		hdr += k
	}
	if len(b)-hdr < n {
		return ber{}, false
	}
	return ber{body: b[hdr : hdr+n], rest: b[hdr+n:]}, true
}

// ldapDone: the first BER element is complete.
func ldapDone(b []byte) bool {
	_, ok := berElem(b, 0x30)
	return ok || (len(b) > 0 && b[0] != 0x30)
}

// asciiLower lowers ASCII letters only, so byte offsets stay valid on any input.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// sieveDone: a ManageSieve capability list ends with an OK (or NO/BYE) line.
func sieveDone(b []byte) bool {
	return containsLinePrefix(b, "OK") || containsLinePrefix(b, "NO") || containsLinePrefix(b, "BYE")
}

// parseSieveCapabilities reads a ManageSieve capability list: whether "STARTTLS" is listed,
// and the implementation string.
func parseSieveCapabilities(b []byte, f *model.ServiceFacts) {
	st := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if strings.EqualFold(line, `"STARTTLS"`) {
			st = true
		}
		if v, ok := strings.CutPrefix(line, `"IMPLEMENTATION" `); ok && f.Product == "" {
			f.Product = clean(strings.Trim(v, `"`))
		}
	}
	f.StartTLS = ptr(st)
}

// parseNNTPCapabilities reads the reply to CAPABILITIES (101 and a list ending in "."):
// whether STARTTLS is listed.
func parseNNTPCapabilities(b []byte) (ok bool, starttls bool) {
	if !bytes.HasPrefix(b, []byte("101")) {
		return false, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.EqualFold(strings.TrimSpace(line), "STARTTLS") {
			starttls = true
		}
	}
	return true, starttls
}

// parseSIP reads a SIP response ("SIP/2.0 200 OK" and headers) to OPTIONS.
func parseSIP(b []byte, f *model.ServiceFacts) bool {
	if !bytes.HasPrefix(b, []byte("SIP/2.0 ")) {
		return false
	}
	f.Service = model.SvcSIP
	line := firstLine(b)
	if len(line) >= 11 && isDigits(line[8:11]) {
		setExtra(f, "status", line[8:11])
	}
	for _, h := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimRight(h, "\r"), ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "server", "user-agent":
			if f.Product == "" {
				f.Product = clean(strings.TrimSpace(v))
			}
		}
	}
	return true
}
