// S2 interoperability vectors for the Rust S2 codec in ported/src/s2.
//
//	go run main.go gen DIR     writes DIR/<name>.raw inputs and Go's encodings:
//	                           <name>.s2 (s2.Encode), .better.s2 (EncodeBetter),
//	                           .best.s2 (EncodeBest), .snappy.s2 (EncodeSnappy),
//	                           .stream (s2.NewWriter framing).
//	go run main.go verify DIR  decodes every DIR/<name>.rust.s2 with s2.Decode and
//	                           every DIR/<name>.rust.stream with s2.NewReader,
//	                           compares with <name>.raw and writes
//	                           DIR/rust_verified_by_go.tsv (name, kind, sha256 of
//	                           the Rust file, "ok"). Exits 1 on any mismatch.
//
// Inputs are generated deterministically here (no external data).
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klauspost/compress/s2"
)

type lcg struct{ x uint32 }

func (l *lcg) next() byte {
	l.x = l.x*1103515245 + 12345
	return byte(l.x >> 16)
}

func inputs() map[string][]byte {
	m := map[string][]byte{}
	m["empty"] = []byte{}
	m["one_byte"] = []byte("a")
	m["hello"] = []byte("hello, world")
	m["len16"] = []byte("0123456789abcdef")
	m["len17"] = []byte("0123456789abcdefg")
	m["zeros_100k"] = make([]byte, 100000)
	var js strings.Builder
	js.WriteString("[")
	for i := 0; i < 600; i++ {
		if i > 0 {
			js.WriteString(",")
		}
		fmt.Fprintf(&js, `{"client":{"acc":"ACC%d","server":"srv-%d"},"created":"2024-01-02T03:04:%02d.%09dZ","stream":{"name":"S%d","subjects":["orders.%d.>"],"retention":"limits","max_consumers":-1,"max_msgs":-1,"max_bytes":-1,"max_age":0,"storage":"file","num_replicas":3},"group":{"name":"S-R3F-%08x","peers":["p%07d","q%07d","r%07d"],"store":"file"},"sync":"$JSC.SYNC.%x"}`,
			i%7, i%3, i%60, i*7919, i, i, uint32(i)*2654435761, i%11, i%13, i%17, i*31)
	}
	js.WriteString("]")
	m["json_meta_like"] = []byte(js.String())
	r := &lcg{x: 1}
	noise := make([]byte, 70000)
	for i := range noise {
		noise[i] = r.next()
	}
	m["noise_2k"] = noise[:2000]
	far := append(append([]byte{}, noise...), noise[:5000]...)
	far = append(far, noise[100:300]...)
	m["far_offsets"] = far
	var period []byte
	for i := 0; i < 150000; i++ {
		period = append(period, byte("abc"[i%3]))
	}
	m["period3_150k"] = period
	var mixed []byte
	for i := 0; i < 5000; i++ {
		mixed = append(mixed, []byte(fmt.Sprintf("line %d: value=%d\n", i, (i*i)%1000))...)
		if i%50 == 0 {
			for j := 0; j < 40; j++ {
				mixed = append(mixed, r.next())
			}
		}
	}
	m["mixed_text"] = mixed
	return m
}

func write(dir, name string, b []byte) {
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		panic(err)
	}
}

func gen(dir string) {
	for name, in := range inputs() {
		write(dir, name+".raw", in)
		write(dir, name+".s2", s2.Encode(nil, in))
		write(dir, name+".better.s2", s2.EncodeBetter(nil, in))
		write(dir, name+".best.s2", s2.EncodeBest(nil, in))
		write(dir, name+".snappy.s2", s2.EncodeSnappy(nil, in))
		var bb bytes.Buffer
		w := s2.NewWriter(&bb)
		if _, err := w.Write(in); err != nil {
			panic(err)
		}
		if err := w.Close(); err != nil {
			panic(err)
		}
		write(dir, name+".stream", bb.Bytes())
	}
}

func verify(dir string) {
	files, err := filepath.Glob(filepath.Join(dir, "*.rust.*"))
	if err != nil {
		panic(err)
	}
	sort.Strings(files)
	var out strings.Builder
	failed := false
	for _, f := range files {
		base := filepath.Base(f)
		i := strings.Index(base, ".rust.")
		name, kind := base[:i], base[i+len(".rust."):]
		raw, err := os.ReadFile(filepath.Join(dir, name+".raw"))
		if err != nil {
			panic(err)
		}
		enc, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		var dec []byte
		switch kind {
		case "s2":
			dec, err = s2.Decode(nil, enc)
		case "stream":
			dec, err = io.ReadAll(s2.NewReader(bytes.NewReader(enc)))
		default:
			err = fmt.Errorf("unknown kind %q", kind)
		}
		if err != nil || !bytes.Equal(dec, raw) {
			fmt.Fprintf(os.Stderr, "MISMATCH %s: err=%v\n", base, err)
			failed = true
			continue
		}
		sum := sha256.Sum256(enc)
		fmt.Fprintf(&out, "%s\t%s\t%s\tok\n", name, kind, hex.EncodeToString(sum[:]))
	}
	write(dir, "rust_verified_by_go.tsv", []byte(out.String()))
	if failed {
		os.Exit(1)
	}
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: main.go gen|verify DIR")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "gen":
		gen(os.Args[2])
	case "verify":
		verify(os.Args[2])
	default:
		os.Exit(2)
	}
}
