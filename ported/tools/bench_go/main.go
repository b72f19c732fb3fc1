// Go side of ported/benches/meta_snapshot.rs: decodes a meta snapshot the
// way the server's decoder does (S2 block decode, JSON array of writeable
// stream assignments, strict decode of each stream and consumer config,
// maps account -> stream -> assignment with nested consumers), using this
// program's own structs with the same JSON shape. Prints median ns.
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run main.go SNAPSHOT_FILE
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/klauspost/compress/s2"
)

type client struct {
	Account string `json:"acc,omitempty"`
	Service string `json:"svc,omitempty"`
	Cluster string `json:"cluster,omitempty"`
}

type group struct {
	Name    string   `json:"name"`
	Peers   []string `json:"peers"`
	Store   string   `json:"store"`
	Cluster string   `json:"cluster,omitempty"`
}

type wConsumer struct {
	Client  *client         `json:"client,omitempty"`
	Created time.Time       `json:"created"`
	Name    string          `json:"name"`
	Stream  string          `json:"stream"`
	Config  json.RawMessage `json:"consumer"`
	Group   *group          `json:"group"`
}

type wStream struct {
	Client    *client         `json:"client,omitempty"`
	Created   time.Time       `json:"created"`
	Config    json.RawMessage `json:"stream"`
	Group     *group          `json:"group"`
	Sync      string          `json:"sync"`
	Consumers []*wConsumer
}

type streamCfg struct {
	Name          string   `json:"name"`
	Subjects      []string `json:"subjects,omitempty"`
	Retention     string   `json:"retention"`
	MaxConsumers  int      `json:"max_consumers"`
	MaxMsgs       int64    `json:"max_msgs"`
	MaxBytes      int64    `json:"max_bytes"`
	Discard       string   `json:"discard"`
	MaxAge        int64    `json:"max_age"`
	MaxMsgsPer    int64    `json:"max_msgs_per_subject"`
	MaxMsgSize    int32    `json:"max_msg_size,omitempty"`
	Storage       string   `json:"storage"`
	Replicas      int      `json:"num_replicas"`
	Duplicates    int64    `json:"duplicate_window,omitempty"`
	AllowDirect   bool     `json:"allow_direct"`
	MirrorDirect  bool     `json:"mirror_direct"`
	Sealed        bool     `json:"sealed"`
	DenyDelete    bool     `json:"deny_delete"`
	DenyPurge     bool     `json:"deny_purge"`
	AllowRollup   bool     `json:"allow_rollup_hdrs"`
}

type consumerCfg struct {
	Durable       string `json:"durable_name,omitempty"`
	Name          string `json:"name,omitempty"`
	DeliverPolicy string `json:"deliver_policy"`
	AckPolicy     string `json:"ack_policy"`
	AckWait       int64  `json:"ack_wait,omitempty"`
	MaxDeliver    int    `json:"max_deliver,omitempty"`
	ReplayPolicy  string `json:"replay_policy"`
	MaxWaiting    int    `json:"max_waiting,omitempty"`
	MaxAckPending int    `json:"max_ack_pending,omitempty"`
	Replicas      int    `json:"num_replicas"`
}

type stream struct {
	w         *wStream
	cfg       *streamCfg
	consumers map[string]*consumerCfg
}

func strict(raw []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

func decode(buf []byte) (map[string]map[string]*stream, error) {
	js, err := s2.Decode(nil, buf)
	if err != nil {
		return nil, err
	}
	var ws []wStream
	if err := json.Unmarshal(js, &ws); err != nil {
		return nil, err
	}
	out := map[string]map[string]*stream{}
	for i := range ws {
		w := &ws[i]
		acc := w.Client.Account
		if w.Client.Service != "" {
			acc = w.Client.Service
		}
		st := &stream{w: w, cfg: &streamCfg{}, consumers: map[string]*consumerCfg{}}
		if err := strict(w.Config, st.cfg); err != nil {
			return nil, err
		}
		for _, c := range w.Consumers {
			cc := &consumerCfg{}
			if err := strict(c.Config, cc); err != nil {
				return nil, err
			}
			st.consumers[c.Name] = cc
		}
		if out[acc] == nil {
			out[acc] = map[string]*stream{}
		}
		out[acc][st.cfg.Name] = st
	}
	return out, nil
}

func median(f func()) int64 {
	var ds []int64
	for i := 0; i < 7; i++ {
		t := time.Now()
		f()
		ds = append(ds, int64(time.Since(t)))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

func main() {
	buf, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	m, err := decode(buf)
	if err != nil {
		panic(err)
	}
	n := 0
	for _, a := range m {
		n += len(a)
	}
	fmt.Printf("streams %d\n", n)
	fmt.Printf("s2_ns %d\n", median(func() { s2.Decode(nil, buf) }))
	fmt.Printf("decode_ns %d\n", median(func() {
		if _, err := decode(buf); err != nil {
			panic(err)
		}
	}))
}
