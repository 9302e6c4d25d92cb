package starttls

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// XMPP client-to-server and server-to-server (RFC 6120 §4, §5). The client opens a stream to
// the service domain; the server answers with its stream header and <stream:features>, which
// lists <starttls/> (with <required/> when TLS is mandatory-to-negotiate) and, before TLS,
// possibly SASL <mechanisms>. <starttls/> answered by <proceed/> is the go-ahead, <failure/>
// a refusal. The stream element never closes, so the reply is read token by token.

const (
	nsStreams = "http://etherx.jabber.org/streams"
	nsTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsCaps    = "http://jabber.org/protocol/caps"
	nsIQAuth  = "http://jabber.org/features/iq-auth"

	maxXMLTokens = 4096 // tokens in the pre-TLS part of a stream
	maxXMLDepth  = 16
)

func xmppClientDialogue(s *session) error { return xmppDialogue(s, false) }

func xmppServerDialogue(s *session) error { return xmppDialogue(s, true) }

func xmppDialogue(s *session, server bool) error {
	if s.opts.Domain == "" {
		return errors.New("XMPP needs the service domain (Options.Domain) for the stream's to=")
	}
	var hdr strings.Builder
	hdr.WriteString("<?xml version='1.0'?><stream:stream xmlns:stream='" + nsStreams + "'")
	if server {
		hdr.WriteString(" xmlns='jabber:server' xmlns:db='jabber:server:dialback'")
		if s.opts.From != "" {
			hdr.WriteString(" from='" + xmlAttr(s.opts.From) + "'")
		}
	} else {
		hdr.WriteString(" xmlns='jabber:client'")
	}
	hdr.WriteString(" to='" + xmlAttr(s.opts.Domain) + "' version='1.0' xml:lang='en'>")
	if err := s.w.send(hdr.String()); err != nil {
		return err
	}
	// A non-XMPP service answers with text; fail on its first byte instead of waiting for a
	// '<' that never comes.
	if b, err := s.w.peekByte(); err != nil {
		return fmt.Errorf("stream header: %w", err)
	} else if b != '<' && b != ' ' && b != '\t' && b != '\r' && b != '\n' && b != 0xef { // 0xef: UTF-8 BOM
		return fmt.Errorf("%w: stream starts with 0x%02x, not XML", ErrProtocol, b)
	}
	x := newXMPPReader(s.w)
	stream, err := x.streamHeader()
	if err != nil {
		return fmt.Errorf("stream header: %w", err)
	}
	s.setGreeting(stream)
	feats, err := x.features()
	if err != nil {
		return fmt.Errorf("stream features: %w", err)
	}
	for _, c := range feats.caps {
		s.addCap(c)
	}
	s.addSASL(feats.mechanisms)
	if feats.iqAuth {
		// XEP-0078 non-SASL authentication sends the password itself unless digest is used.
		s.addPlainAuth("iq-auth")
	}
	if feats.capsNode != "" {
		s.hint(feats.capsNode)
		if s.facts.Software == "" {
			s.facts.Software = clean(feats.capsNode, maxCapLen)
		}
	}
	s.facts.Offered, s.facts.Required = feats.starttls, feats.required
	if !feats.starttls {
		if err := s.notOffered("no <starttls/> in stream features"); err != nil {
			return err
		}
	}
	if err := s.w.send("<starttls xmlns='" + nsTLS + "'/>"); err != nil {
		return err
	}
	verdict, err := x.tlsVerdict()
	if err != nil {
		return fmt.Errorf("starttls answer: %w", err)
	}
	if verdict != "proceed" {
		return s.refused(verdict, "")
	}
	return nil
}

// xmlAttr escapes s for a single-quoted attribute value.
func xmlAttr(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // writing to a Builder cannot fail
	return strings.ReplaceAll(b.String(), "'", "&#39;")
}

// xmppReader pulls tokens from the pre-TLS stream with bounds on count and depth.
type xmppReader struct {
	d      *xml.Decoder
	tokens int
}

func newXMPPReader(r io.Reader) *xmppReader {
	d := xml.NewDecoder(r)
	d.Strict = true
	return &xmppReader{d: d}
}

func (x *xmppReader) token() (xml.Token, error) {
	x.tokens++
	if x.tokens > maxXMLTokens {
		return nil, fmt.Errorf("%w: more than %d XML tokens", ErrLimit, maxXMLTokens)
	}
	t, err := x.d.RawToken()
	if err != nil {
		return nil, err
	}
	return t, nil
}

// next returns the next start or end element, skipping the XML declaration, comments and
// whitespace. Text outside elements is a protocol violation at the stream level; a
// <stream:error> is returned as an error naming its condition.
func (x *xmppReader) next() (xml.Token, error) {
	for {
		t, err := x.token()
		if err != nil {
			return nil, err
		}
		switch v := t.(type) {
		case xml.StartElement:
			if x.isStream(v.Name, "error") {
				return nil, x.streamError()
			}
			return v, nil
		case xml.EndElement:
			if x.isStream(v.Name, "stream") {
				return nil, fmt.Errorf("server closed the stream")
			}
			return v, nil
		case xml.CharData:
			if strings.TrimSpace(string(v)) != "" {
				return nil, fmt.Errorf("%w: text between stream elements", ErrProtocol)
			}
		case xml.Directive:
			return nil, fmt.Errorf("%w: XML directive in stream (RFC 6120 §11.1)", ErrProtocol)
		}
	}
}

// isStream reports whether n is stream:<local>. RawToken leaves prefixes unresolved, so the
// prefix is compared; every server uses "stream" as RFC 6120 §4.8.5 recommends.
func (x *xmppReader) isStream(n xml.Name, local string) bool {
	return n.Local == local && n.Space == "stream"
}

// streamHeader reads the server's <stream:stream> and summarises its attributes.
func (x *xmppReader) streamHeader() (string, error) {
	t, err := x.next()
	if err != nil {
		return "", err
	}
	st, ok := t.(xml.StartElement)
	if !ok || !x.isStream(st.Name, "stream") {
		return "", fmt.Errorf("%w: expected <stream:stream>", ErrProtocol)
	}
	var parts []string
	version := ""
	for _, a := range st.Attr {
		switch a.Name.Local {
		case "from", "version", "lang":
			parts = append(parts, a.Name.Local+"="+a.Value)
		}
		if a.Name.Local == "version" && a.Name.Space == "" {
			version = a.Value
		}
	}
	summary := "<stream:stream " + strings.Join(parts, " ") + ">"
	if version == "" || version[0] == '0' {
		// Pre-RFC 3920 servers send no features, hence no STARTTLS.
		return summary, fmt.Errorf("%w (stream version %q has no stream features)", ErrNotOffered, version)
	}
	return summary, nil
}

// streamError reads the condition out of a <stream:error> whose start was just read.
func (x *xmppReader) streamError() error {
	cond, text := "", ""
	depth := 1
	for depth > 0 {
		t, err := x.token()
		if err != nil {
			return fmt.Errorf("stream error %s (then %w)", cond, err)
		}
		switch v := t.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && v.Name.Local != "text" && cond == "" {
				cond = v.Name.Local
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 2 && len(text) < maxGreeting {
				text += string(v)
			}
		}
		if depth > maxXMLDepth {
			return fmt.Errorf("%w: XML nested deeper than %d", ErrLimit, maxXMLDepth)
		}
	}
	if text != "" {
		return fmt.Errorf("stream error %s: %s", clean(cond, 64), clean(text, 256))
	}
	return fmt.Errorf("stream error %s", clean(cond, 64))
}

// xmppFeatures is what <stream:features> advertised.
type xmppFeatures struct {
	starttls, required, iqAuth bool
	mechanisms                 []string
	caps                       []string // feature names, mechanisms as "mechanisms:PLAIN"
	capsNode                   string   // XEP-0115 <c node=…/>, names the server software
}

// features reads <stream:features>…</stream:features>.
func (x *xmppReader) features() (*xmppFeatures, error) {
	t, err := x.next()
	if err != nil {
		return nil, err
	}
	st, ok := t.(xml.StartElement)
	if !ok || !x.isStream(st.Name, "features") {
		return nil, fmt.Errorf("%w: expected <stream:features>", ErrProtocol)
	}
	f := &xmppFeatures{}
	// path holds the local names of open elements inside features.
	var path []string
	var text strings.Builder
	for {
		t, err := x.token()
		if err != nil {
			return nil, err
		}
		switch v := t.(type) {
		case xml.StartElement:
			path = append(path, v.Name.Local)
			if len(path) > maxXMLDepth {
				return nil, fmt.Errorf("%w: XML nested deeper than %d", ErrLimit, maxXMLDepth)
			}
			text.Reset()
			ns := attr(v, "xmlns")
			switch {
			case len(path) == 1:
				f.caps = append(f.caps, v.Name.Local)
				switch {
				case v.Name.Local == "starttls" && ns == nsTLS:
					f.starttls = true
				case v.Name.Local == "auth" && ns == nsIQAuth:
					f.iqAuth = true
				case v.Name.Local == "c" && ns == nsCaps:
					f.capsNode = attr(v, "node")
				}
			case len(path) == 2 && path[0] == "starttls" && f.starttls && v.Name.Local == "required":
				f.required = true
				f.caps[len(f.caps)-1] = "starttls(required)"
			}
		case xml.CharData:
			if len(path) == 2 && text.Len() < maxCapLen {
				text.Write(v)
			}
		case xml.EndElement:
			if len(path) == 0 {
				if x.isStream(v.Name, "features") {
					return f, nil
				}
				return nil, fmt.Errorf("%w: unbalanced </%s>", ErrProtocol, clean(v.Name.Local, 32))
			}
			if v.Name.Local != path[len(path)-1] {
				return nil, fmt.Errorf("%w: </%s> closes <%s>", ErrProtocol, clean(v.Name.Local, 32), clean(path[len(path)-1], 32))
			}
			if len(path) == 2 && path[0] == "mechanisms" && v.Name.Local == "mechanism" {
				m := strings.TrimSpace(text.String())
				if len(f.mechanisms) < maxCaps {
					f.mechanisms = append(f.mechanisms, m)
					f.caps = append(f.caps, "mechanism:"+m)
				}
			}
			path = path[:len(path)-1]
		case xml.Directive:
			return nil, fmt.Errorf("%w: XML directive in stream (RFC 6120 §11.1)", ErrProtocol)
		}
	}
}

// tlsVerdict reads the answer to <starttls/>: "proceed" (consumed through its end tag) or
// the refusal's element name.
func (x *xmppReader) tlsVerdict() (string, error) {
	t, err := x.next()
	if err != nil {
		return "", err
	}
	st, ok := t.(xml.StartElement)
	if !ok {
		return "", fmt.Errorf("%w: expected <proceed/> or <failure/>", ErrProtocol)
	}
	if attr(st, "xmlns") != nsTLS {
		return "", fmt.Errorf("%w: unexpected <%s> in answer to <starttls/>", ErrProtocol, clean(st.Name.Local, 32))
	}
	if st.Name.Local != "proceed" {
		return clean(st.Name.Local, 32), nil
	}
	// Consume the end of <proceed/>: RawToken synthesises it for a self-closing element and
	// reads "</proceed>" otherwise, leaving nothing unread before the ClientHello.
	t, err = x.token()
	if err != nil {
		return "", err
	}
	if e, ok := t.(xml.EndElement); !ok || e.Name.Local != "proceed" {
		return "", fmt.Errorf("%w: <proceed> has content", ErrProtocol)
	}
	return "proceed", nil
}

// attr returns the value of the unprefixed attribute local (RawToken keeps "xmlns" as a
// plain attribute name).
func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
