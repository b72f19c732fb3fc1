// Writes and decodes a stream raft group's WAL with nats-server 2.9.10's
// own code (porttrack_server_ext.go.txt, compiled into a private copy of
// the server package by ported/bench/streams.sh, which builds this
// program with GOPATH pointing at that copy first).
//
//	stream_wal_go gen DIR GROUP N     write N replicated messages
//	stream_wal_go decode DIR GROUP    decode them; prints JSON with the state and the time taken
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func die(err error) {
	fmt.Fprintln(os.Stderr, "stream_wal_go:", err)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 4 {
		die(fmt.Errorf("usage: stream_wal_go gen DIR GROUP N | decode DIR GROUP"))
	}
	dir, group := os.Args[2], os.Args[3]
	switch os.Args[1] {
	case "gen":
		if len(os.Args) != 5 {
			die(fmt.Errorf("gen needs N"))
		}
		n, err := strconv.Atoi(os.Args[4])
		if err != nil || n < 1 {
			die(fmt.Errorf("bad N %q", os.Args[4]))
		}
		if err := server.PorttrackGenStreamWAL(dir, group, n); err != nil {
			die(err)
		}
	case "decode":
		start := time.Now()
		st, err := server.PorttrackDecodeStreamWAL(dir, group)
		if err != nil {
			die(err)
		}
		el := time.Since(start)
		out := map[string]interface{}{
			"messages": st.Msgs, "bytes": st.Bytes, "first_seq": st.FirstSeq, "last_seq": st.LastSeq,
			"num_subjects": st.NumSubjects, "seconds": el.Seconds(),
		}
		b, _ := json.Marshal(out)
		fmt.Println(string(b))
	default:
		die(fmt.Errorf("unknown command %q", os.Args[1]))
	}
}
