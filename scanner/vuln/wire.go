package vuln

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/rampart-scan/rampart/scanner/hello"
)

// Record content types and handshake message types the probes use.
const (
	recChangeCipherSpec uint8 = 20
	recAlert            uint8 = 21
	recHandshake        uint8 = 22
	recApplicationData  uint8 = 23
	recHeartbeat        uint8 = 24

	hsClientHello       uint8 = 1
	hsServerHello       uint8 = 2
	hsCertificate       uint8 = 11
	hsServerKeyExchange uint8 = 12
	hsCertificateReq    uint8 = 13
	hsServerHelloDone   uint8 = 14
	hsClientKeyExchange uint8 = 16
	hsFinished          uint8 = 20

	extHeartbeat            uint16 = 15
	extSessionTicket        uint16 = 35
	extExtendedMasterSecret uint16 = 23
	extRenegInfo            uint16 = 0xff01
)

const (
	// maxRecordBody is the largest record body accepted: 2^14 plus TLS 1.2's expansion.
	maxRecordBody = 1<<14 + 2048
	// maxFlight bounds every byte read on one connection.
	maxFlight = 256 << 10
)

// Errors of the record reader. errClosed is a clean close before a record started.
var (
	errClosed    = errors.New("connection closed by server")
	errTruncated = errors.New("connection closed in the middle of a record")
	errNotTLS    = errors.New("reply is not a TLS record")
	errTooLarge  = errors.New("server sent more than the read limit")
	errBadRecord = errors.New("malformed record")
	errBadHS     = errors.New("malformed handshake message")
)

// record is one TLS record as received.
type record struct {
	typ     uint8
	version uint16
	body    []byte
}

// recordReader reads TLS records (content types 20–24, any 3.x version) from r, never more
// than limit bytes in total, and reassembles handshake messages.
type recordReader struct {
	r     io.Reader
	limit int
	read  int
	hs    []byte // handshake bytes received and not yet consumed
}

func newRecordReader(r io.Reader, limit int) *recordReader {
	return &recordReader{r: r, limit: limit}
}

func (rr *recordReader) readFull(p []byte, first bool) error {
	if rr.read+len(p) > rr.limit {
		return errTooLarge
	}
	n, err := io.ReadFull(rr.r, p)
	rr.read += n
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF) && n == 0 && first:
		return errClosed
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return errTruncated
	}
	return err
}

// next reads one record.
func (rr *recordReader) next() (record, error) {
	var hdr [5]byte
	if err := rr.readFull(hdr[:], true); err != nil {
		return record{}, err
	}
	typ, n := hdr[0], int(hdr[3])<<8|int(hdr[4])
	if typ < recChangeCipherSpec || typ > recHeartbeat || hdr[1] != 3 {
		return record{}, fmt.Errorf("%w: header % x", errNotTLS, hdr[:])
	}
	if n > maxRecordBody {
		return record{}, fmt.Errorf("%w: record of %d bytes", errBadRecord, n)
	}
	body := make([]byte, n)
	if err := rr.readFull(body, false); err != nil {
		return record{}, err
	}
	return record{typ: typ, version: uint16(hdr[1])<<8 | uint16(hdr[2]), body: body}, nil
}

// unexpectedRecord is a non-handshake record met while reading handshake messages.
type unexpectedRecord struct{ rec record }

func (e *unexpectedRecord) Error() string {
	if e.rec.typ == recAlert && len(e.rec.body) >= 2 {
		return alertText(e.rec.body[0], e.rec.body[1])
	}
	return fmt.Sprintf("unexpected record type %d", e.rec.typ)
}

// alertOf returns the alert carried by err, if any.
func alertOf(err error) (alertError, bool) {
	var u *unexpectedRecord
	if errors.As(err, &u) && u.rec.typ == recAlert && len(u.rec.body) >= 2 {
		return alertError{u.rec.body[0], u.rec.body[1]}, true
	}
	return alertError{}, false
}

// handshake returns the next handshake message: type, body and its raw encoding (header
// included, for transcripts). A non-handshake record ends it with *unexpectedRecord.
func (rr *recordReader) handshake() (uint8, []byte, []byte, error) {
	for {
		if len(rr.hs) >= 4 {
			n := int(rr.hs[1])<<16 | int(rr.hs[2])<<8 | int(rr.hs[3])
			if n > rr.limit {
				return 0, nil, nil, fmt.Errorf("%w: handshake message of %d bytes", errTooLarge, n)
			}
			if len(rr.hs) >= 4+n {
				raw := rr.hs[: 4+n : 4+n]
				rr.hs = rr.hs[4+n:]
				return raw[0], raw[4:], raw, nil
			}
		}
		rec, err := rr.next()
		if err != nil {
			return 0, nil, nil, err
		}
		if rec.typ != recHandshake {
			return 0, nil, nil, &unexpectedRecord{rec: rec}
		}
		if len(rec.body) == 0 {
			return 0, nil, nil, fmt.Errorf("%w: empty handshake record", errBadRecord)
		}
		rr.hs = append(rr.hs, rec.body...)
	}
}

// flight is what the server sent from ServerHello to ServerHelloDone (TLS ≤ 1.2).
type flight struct {
	hello *hello.ServerHello
	// certs are the certificate DERs, leaf first.
	certs [][]byte
	// kx is the ServerKeyExchange body, when sent.
	kx         []byte
	certReq    bool
	transcript []byte // raw handshake messages, in order
}

// readFlight reads handshake messages until ServerHelloDone, or only the ServerHello when
// helloOnly is set.
func readFlight(rr *recordReader, helloOnly bool) (*flight, error) {
	f := &flight{}
	for {
		typ, body, raw, err := rr.handshake()
		if err != nil {
			return f, err
		}
		f.transcript = append(f.transcript, raw...)
		switch typ {
		case hsServerHello:
			if f.hello != nil {
				return f, fmt.Errorf("%w: second server hello", errBadHS)
			}
			sh, err := hello.ParseServerHello(body)
			if err != nil {
				return f, fmt.Errorf("server hello: %w", err)
			}
			f.hello = sh
			if helloOnly {
				return f, nil
			}
		case hsCertificate:
			if f.certs, err = parseCertificates(body); err != nil {
				return f, err
			}
		case hsServerKeyExchange:
			f.kx = body
		case hsCertificateReq:
			f.certReq = true
		case hsServerHelloDone:
			if f.hello == nil {
				return f, fmt.Errorf("%w: server hello done before server hello", errBadHS)
			}
			return f, nil
		}
		if f.hello == nil {
			return f, fmt.Errorf("%w: message %d before the server hello", errBadHS, typ)
		}
	}
}

// parseCertificates parses a TLS ≤ 1.2 Certificate message body.
func parseCertificates(body []byte) ([][]byte, error) {
	s := cryptobyte.String(body)
	var list cryptobyte.String
	if !s.ReadUint24LengthPrefixed(&list) || !s.Empty() {
		return nil, fmt.Errorf("%w: certificate list", errBadHS)
	}
	var out [][]byte
	for !list.Empty() {
		var der cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&der) || len(der) == 0 {
			return nil, fmt.Errorf("%w: certificate entry", errBadHS)
		}
		out = append(out, []byte(der))
	}
	return out, nil
}

// extension is one raw ClientHello extension.
type extension struct {
	typ  uint16
	data []byte
}

// helloSpec describes a ClientHello for a TLS ≤ 1.2 probe.
type helloSpec struct {
	version    uint16
	suites     []uint16
	serverName string
	sessionID  []byte
	// compression lists the compression methods offered; nil offers only null.
	compression []byte
	// extra extensions are appended after the usual ones.
	extra []extension
	// noSCSV leaves TLS_EMPTY_RENEGOTIATION_INFO_SCSV out (when renegotiation_info is sent).
	noSCSV bool
}

// commonGroups and commonSigSchemes are what mainstream clients offer.
var (
	commonGroups     = []uint16{29, 23, 24, 25, 30, 256, 257, 258}
	commonSigSchemes = []uint16{0x0403, 0x0503, 0x0603, 0x0807, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201}
)

// buildHello encodes the ClientHello handshake message described by spec, using the hello
// package's builder and then setting the compression methods and extra extensions.
func buildHello(spec helloSpec) ([]byte, error) {
	ch := &hello.ClientHello{
		Version:           spec.version,
		SessionID:         spec.sessionID,
		Suites:            spec.suites,
		RenegotiationSCSV: !spec.noSCSV,
		Groups:            commonGroups,
		PointFormats:      true,
	}
	if _, err := rand.Read(ch.Random[:]); err != nil {
		return nil, fmt.Errorf("client random: %w", err)
	}
	if net.ParseIP(spec.serverName) == nil {
		ch.ServerName = spec.serverName
	}
	if spec.version >= hello.VersionTLS12 {
		ch.SigSchemes = commonSigSchemes
	}
	msg, err := ch.Marshal()
	if err != nil {
		return nil, fmt.Errorf("client hello: %w", err)
	}
	if spec.compression == nil && len(spec.extra) == 0 {
		return msg, nil
	}
	return rewriteHello(msg, spec.compression, spec.extra)
}

// rewriteHello replaces the compression methods of an encoded ClientHello (when comp is not
// nil) and appends extensions.
func rewriteHello(msg, comp []byte, extra []extension) ([]byte, error) {
	s := cryptobyte.String(msg)
	var typ uint8
	var body, random, sid, suites, oldComp, exts cryptobyte.String
	var version uint16
	if !s.ReadUint8(&typ) || typ != hsClientHello || !s.ReadUint24LengthPrefixed(&body) || !s.Empty() ||
		!body.ReadUint16(&version) || !body.ReadBytes((*[]byte)(&random), 32) ||
		!body.ReadUint8LengthPrefixed(&sid) || !body.ReadUint16LengthPrefixed(&suites) ||
		!body.ReadUint8LengthPrefixed(&oldComp) {
		return nil, fmt.Errorf("%w: client hello to rewrite", errBadHS)
	}
	if !body.Empty() && (!body.ReadUint16LengthPrefixed(&exts) || !body.Empty()) {
		return nil, fmt.Errorf("%w: client hello extensions", errBadHS)
	}
	if comp == nil {
		comp = oldComp
	}
	var b cryptobyte.Builder
	b.AddUint8(hsClientHello)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(version)
		b.AddBytes(random)
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(sid) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(suites) })
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(comp) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddBytes(exts)
			for _, e := range extra {
				b.AddUint16(e.typ)
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(e.data) })
			}
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("rewrite client hello: %w", err)
	}
	return out, nil
}

// plainRecord frames body as one record of type typ.
func plainRecord(typ uint8, version uint16, body []byte) []byte {
	out := []byte{typ, byte(version >> 8), byte(version), byte(len(body) >> 8), byte(len(body))}
	return append(out, body...)
}

// prober holds what every probe shares.
type prober struct {
	dial  DialFunc
	opts  Options
	conns atomic.Int64
}

// session is one probe connection with its deadline and record reader.
type session struct {
	conn net.Conn
	rr   *recordReader
	stop func() bool
}

// open dials a connection whose whole exchange is bounded by the Timeout and by ctx.
func (p *prober) open(ctx context.Context) (*session, error) {
	c, err := p.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	p.conns.Add(1)
	if err := c.SetDeadline(time.Now().Add(p.opts.Timeout)); err != nil {
		c.Close()
		return nil, fmt.Errorf("set deadline: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	return &session{conn: c, rr: newRecordReader(c, maxFlight), stop: stop}, nil
}

func (s *session) Close() error {
	s.stop()
	return s.conn.Close()
}

// write sends b on the connection.
func (s *session) write(b []byte) error {
	if _, err := s.conn.Write(b); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// waitFor shortens the read deadline to at most d from now.
func (s *session) waitFor(d time.Duration) {
	_ = s.conn.SetReadDeadline(time.Now().Add(d))
}

// start sends the hello of spec and reads the server's first flight.
func (p *prober) start(ctx context.Context, spec helloSpec, helloOnly bool) (*session, *flight, []byte, error) {
	msg, err := buildHello(spec)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := p.open(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	rv := min(spec.version, hello.VersionTLS10) // record version of the first hello, as browsers do
	if err := s.write(hello.Record(rv, msg)); err != nil {
		s.Close()
		return nil, nil, nil, err
	}
	f, err := readFlight(s.rr, helloOnly)
	if err != nil {
		s.Close()
		return nil, f, msg, err
	}
	return s, f, msg, nil
}

// suitesFor returns the suites to offer in version v: the accepted ones that v defines,
// else every registry suite v defines (TLS 1.3 suites excluded).
func (p *prober) suitesFor(v uint16, keep func(hello.Suite) bool) []uint16 {
	var out []uint16
	add := func(s hello.Suite) {
		if s.TLS13() || s.MinVersion > v || (s.MaxVersion != 0 && s.MaxVersion < v) || s.ID == 0 || s.ID == 0x00ff {
			return
		}
		if keep == nil || keep(s) {
			out = append(out, s.ID)
		}
	}
	if len(p.opts.Suites) > 0 {
		for _, id := range p.opts.Suites {
			if s, ok := hello.LookupSuite(id); ok {
				add(s)
			}
		}
	}
	if len(out) == 0 {
		for _, s := range hello.Suites() {
			add(s)
		}
	}
	if len(out) > 4000 {
		out = out[:4000]
	}
	return slices.Clip(out)
}

// classify names how a read ended, for verdict details: "alert <name>", "closed", "reset",
// "timeout", or the error.
func classify(err error) string {
	if err == nil {
		return "ok"
	}
	if a, ok := alertOf(err); ok {
		return fmt.Sprintf("alert %d", a.desc)
	}
	var ne net.Error
	switch {
	case errors.Is(err, errClosed), errors.Is(err, errTruncated):
		return "closed"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "error: " + err.Error()
}

// refusal describes why a hello got no usable flight, for reasons.
func refusal(err error) string {
	if a, ok := alertOf(err); ok {
		return "the server refused the hello with " + a.Error()
	}
	return "the handshake did not get past the server hello: " + err.Error()
}

// alertError is an alert as received.
type alertError struct{ level, desc uint8 }

func (a alertError) Error() string { return alertText(a.level, a.desc) }

// alertText names an alert: the hello package's names plus the ones only these probes meet.
func alertText(level, desc uint8) string {
	switch desc {
	case 90:
		return "alert 90 (user_canceled)"
	case 100:
		return "alert 100 (no_renegotiation)"
	}
	return (&hello.AlertError{Level: level, Description: desc}).Error()
}
