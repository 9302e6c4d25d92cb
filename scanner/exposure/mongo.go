package exposure

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/rampart-scan/rampart/model"
)

const (
	opReply = 1
	opMsg   = 2013
)

// mongoHello is an OP_MSG carrying {hello: 1, $db: "admin"}: the handshake every MongoDB
// driver sends first; it needs no authentication and changes nothing.
func mongoHello() []byte {
	var doc []byte
	doc = append(doc, 0x10)
	doc = append(doc, "hello\x00"...)
	doc = binary.LittleEndian.AppendUint32(doc, 1)
	doc = append(doc, 0x02)
	doc = append(doc, "$db\x00"...)
	doc = binary.LittleEndian.AppendUint32(doc, uint32(len("admin")+1))
	doc = append(doc, "admin\x00"...)
	doc = append(doc, 0x00)
	bson := binary.LittleEndian.AppendUint32(nil, uint32(len(doc)+4))
	bson = append(bson, doc...)

	body := binary.LittleEndian.AppendUint32(nil, 0) // flagBits
	body = append(body, 0)                           // section kind 0: body
	body = append(body, bson...)
	msg := binary.LittleEndian.AppendUint32(nil, uint32(16+len(body)))
	msg = binary.LittleEndian.AppendUint32(msg, 0x52414d50) // requestID
	msg = binary.LittleEndian.AppendUint32(msg, 0)          // responseTo
	msg = binary.LittleEndian.AppendUint32(msg, opMsg)
	return append(msg, body...)
}

// mongoDone: the whole message announced by the header arrived (or the header is implausible).
func mongoDone(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	n := binary.LittleEndian.Uint32(b)
	return n < 16 || n > maxReply || uint32(len(b)) >= n
}

// parseMongoReply reads an OP_MSG or OP_REPLY answer to hello and its top-level fields.
func parseMongoReply(b []byte, f *model.ServiceFacts) bool {
	if len(b) < 16 {
		return false
	}
	n := binary.LittleEndian.Uint32(b)
	if n < 16 || uint32(len(b)) < n {
		return false
	}
	b = b[:n]
	var doc []byte
	switch binary.LittleEndian.Uint32(b[12:16]) {
	case opMsg:
		if len(b) < 21 || b[20] != 0 {
			return false
		}
		doc = b[21:]
	case opReply:
		if len(b) < 36 {
			return false
		}
		doc = b[36:]
	default:
		return false
	}
	fields, ok := bsonTop(doc)
	if !ok {
		return false
	}
	if _, ok := fields["ok"]; !ok {
		return false
	}
	f.Service = model.SvcMongoDB
	f.Product = "MongoDB"
	for _, k := range []string{"maxWireVersion", "isWritablePrimary", "ismaster", "msg", "setName"} {
		if v, ok := fields[k]; ok {
			setExtra(f, k, v)
		}
	}
	return true
}

// bsonTop reads the top-level elements of one BSON document into strings (nested documents,
// arrays and binary values are skipped but bounded).
func bsonTop(b []byte) (map[string]string, bool) {
	if len(b) < 5 {
		return nil, false
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n < 5 || n > len(b) {
		return nil, false
	}
	b = b[4:n]
	out := map[string]string{}
	for len(b) > 0 && len(out) < 64 {
		t := b[0]
		if t == 0 {
			return out, true
		}
		b = b[1:]
		end := indexZero(b)
		if end < 0 {
			return nil, false
		}
		name := string(b[:end])
		b = b[end+1:]
		var size int
		var val string
		switch t {
		case 0x01: // double
			if len(b) < 8 {
				return nil, false
			}
			val = strconv.FormatFloat(math.Float64frombits(binary.LittleEndian.Uint64(b)), 'g', -1, 64)
			size = 8
		case 0x02, 0x0d, 0x0e: // string, JS code, symbol
			if len(b) < 4 {
				return nil, false
			}
			l := int(binary.LittleEndian.Uint32(b))
			if l < 1 || l > len(b)-4 {
				return nil, false
			}
			val = string(b[4 : 4+l-1])
			size = 4 + l
		case 0x03, 0x04: // document, array
			if len(b) < 4 {
				return nil, false
			}
			size = int(binary.LittleEndian.Uint32(b))
		case 0x05: // binary
			if len(b) < 4 {
				return nil, false
			}
			size = 4 + 1 + int(binary.LittleEndian.Uint32(b))
		case 0x06, 0x0a, 0x7f, 0xff: // undefined, null, max/min key
			size = 0
		case 0x07: // ObjectId
			size = 12
		case 0x08: // bool
			if len(b) < 1 {
				return nil, false
			}
			val = strconv.FormatBool(b[0] != 0)
			size = 1
		case 0x09, 0x11, 0x12: // datetime, timestamp, int64
			if len(b) < 8 {
				return nil, false
			}
			val = strconv.FormatInt(int64(binary.LittleEndian.Uint64(b)), 10)
			size = 8
		case 0x10: // int32
			if len(b) < 4 {
				return nil, false
			}
			val = strconv.Itoa(int(int32(binary.LittleEndian.Uint32(b))))
			size = 4
		case 0x13: // decimal128
			size = 16
		default:
			return nil, false
		}
		if size < 0 || size > len(b) {
			return nil, false
		}
		out[name] = val
		b = b[size:]
	}
	return out, len(out) > 0
}

func indexZero(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}
