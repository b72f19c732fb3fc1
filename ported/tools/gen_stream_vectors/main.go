// Golden vectors for the replicated stream encodings of
// ported/src/jetstream_cluster/stream_ops.rs, store/state.rs and
// store/avl.rs, written by Go's own code (see gen.sh for the build):
//
//   - nats-server 2.9.10's unexported encoders and exported JSON types,
//     through porttrack_vectors_ext.go.txt compiled into a private copy
//     of Debian's server package;
//   - nats-server 8188ea93a's server/avl package (2.9.10 has none), copied
//     from the mirror into the temporary GOPATH at build time and built
//     with our cmp/slices stand-ins (shim/);
//   - the binary stream snapshot of 8188ea93a's memstore/filestore
//     EncodedStreamState, which needs the whole 8188ea93a server package
//     (not buildable with Go 1.19): assembled here from
//     encoding/binary's uvarints and the avl package's own Encode, in the
//     layout those functions write. These rows are kind "stream_state"
//     and are a second implementation's bytes, not the server's.
//
// Output, on stdout: `name<TAB>kind<TAB>hex` lines, sorted by name.
//
// `main.go verify RUST_TSV`: the other direction. RUST_TSV holds the
// port's encodings of the same stream messages (`name<TAB>hex`, written by
// tests/jsc/go_vectors.rs under PORTED_BLESS=1); each is decoded with
// 2.9.10's decodeStreamMsg (after s2.Decode for op 14) and compared with
// the message the name stands for; prints `name<TAB>sha256<TAB>ok` lines
// and exits 1 on any mismatch.
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats-server/v2/server/avl"
)

type row struct {
	name, kind string
	b          []byte
}

func seqset(seqs ...uint64) *avl.SequenceSet {
	var ss avl.SequenceSet
	for _, s := range seqs {
		ss.Insert(s)
	}
	return &ss
}

func span(from, to, step uint64) []uint64 {
	var v []uint64
	for s := from; s <= to; s += step {
		v = append(v, s)
	}
	return v
}

// The AVL sets the vectors use; the Rust test builds the same by name.
func sets() map[string]*avl.SequenceSet {
	m := map[string]*avl.SequenceSet{}
	m["empty"] = seqset()
	m["one"] = seqset(1)
	m["few"] = seqset(5, 8, 9)
	m["dense_1_5000"] = seqset(span(1, 5000, 1)...)
	// Sparse over many 2048-sequence nodes, so the tree has several levels.
	m["sparse_7_100000"] = seqset(span(7, 100000, 97)...)
	// Inserted descending: a different insertion order, same set semantics.
	d := span(1, 30000, 13)
	for i, j := 0, len(d)-1; i < j; i, j = i+1, j-1 {
		d[i], d[j] = d[j], d[i]
	}
	m["desc_1_30000"] = seqset(d...)
	return m
}

const (
	streamStateMagic   = 42
	streamStateVersion = 1
	runLengthMagic     = 33
)

func stateHeader(msgs, bytes, first, last, failed, numDeleted uint64) []byte {
	b := []byte{streamStateMagic, streamStateVersion}
	for _, v := range []uint64{msgs, bytes, first, last, failed, numDeleted} {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

func runLength(first, num uint64) []byte {
	b := []byte{runLengthMagic}
	b = binary.AppendUvarint(b, first)
	return binary.AppendUvarint(b, num)
}

func verify(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bad := false
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 2 {
			fmt.Fprintf(os.Stderr, "bad line %q\n", l)
			os.Exit(1)
		}
		b, err := hex.DecodeString(f[1])
		if err == nil {
			err = server.PorttrackVerifyStreamMsg(f[0], b)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			bad = true
			continue
		}
		sum := sha256.Sum256(b)
		fmt.Printf("%s\t%s\tok\n", f[0], hex.EncodeToString(sum[:]))
	}
	if bad {
		os.Exit(1)
	}
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "verify" {
		verify(os.Args[2])
		return
	}
	var rows []row
	for _, v := range server.PorttrackVectors() {
		rows = append(rows, row{v.Name, v.Kind, v.Bytes})
	}
	ss := sets()
	for name, s := range ss {
		rows = append(rows, row{"seqset_" + name, "seqset", s.Encode(nil)})
	}
	// memstore: one seqset, always written when anything is deleted. The
	// values are those of a memstore holding seqs 1..12 of 100 bytes each
	// (memStoreMsgSize) with 1 and 2 removed, then 5, 8 and 9 too.
	rows = append(rows, row{"state_mem_none", "stream_state", stateHeader(10, 1000, 3, 12, 1, 0)})
	few := stateHeader(7, 700, 3, 12, 0, 3)
	rows = append(rows, row{"state_mem_few", "stream_state", append(few, ss["few"].Encode(nil)...)})
	// filestore: run lengths and seqsets in block order.
	fsb := stateHeader(90, 9000, 1, 5100, 2, 5010)
	fsb = append(fsb, runLength(1, 10)...)
	fsb = append(fsb, ss["dense_1_5000"].Encode(nil)...)
	fsb = append(fsb, runLength(5090, 0)...)
	rows = append(rows, row{"state_file_mixed", "stream_state", fsb})

	sort.Slice(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	for _, r := range rows {
		fmt.Printf("%s\t%s\t%s\n", r.name, r.kind, hex.EncodeToString(r.b))
	}
}
