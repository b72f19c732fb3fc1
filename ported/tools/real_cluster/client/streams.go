// The scenario behind tests/fixtures/real_cluster_streams: four streams in
// ACC_A (R3 file F3, R3 memory M3, R1 file F1, R1 memory M1, each with a
// per-subject limit), published to with Nats-Msg-Id headers (and a few
// resent ids the servers must drop as duplicates), a message delete and a
// secure delete, a filtered purge, a stream update, more publishes and
// leader step-downs of the R3 streams. Everything seen on $JS.EVENT.> in
// ACC_A and in the system account is recorded, and so is every operation
// with the server's reply; stream info is saved at the end. The caller
// (run.sh --streams) then kills the servers with SIGKILL.
//
//	go run . -streams OUT_DIR nats://127.0.0.1:PORT
//
// Writes OUT_DIR/stream_info.json, OUT_DIR/advisories.json and OUT_DIR/ops.json.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

type seenAdvisory struct {
	Account string          `json:"account"`
	Subject string          `json:"subject"`
	Data    json.RawMessage `json:"data"`
}

// One operation of the scenario and what the server answered.
type op struct {
	Op      string          `json:"op"`
	Stream  string          `json:"stream"`
	Subject string          `json:"subject,omitempty"`
	MsgID   string          `json:"msg_id,omitempty"`
	Payload string          `json:"payload,omitempty"`
	Seq     uint64          `json:"seq,omitempty"`
	Filter  string          `json:"filter,omitempty"`
	Config  json.RawMessage `json:"config,omitempty"`
	Reply   json.RawMessage `json:"reply,omitempty"`
	Leader  string          `json:"leader,omitempty"`
}

type recorder struct {
	mu   sync.Mutex
	advs []seenAdvisory
}

func (r *recorder) sub(nc *nats.Conn, account string) {
	_, err := nc.Subscribe("$JS.EVENT.>", func(m *nats.Msg) {
		r.mu.Lock()
		defer r.mu.Unlock()
		data := json.RawMessage(m.Data)
		if !json.Valid(m.Data) {
			b, _ := json.Marshal(string(m.Data))
			data = b
		}
		r.advs = append(r.advs, seenAdvisory{Account: account, Subject: m.Subject, Data: data})
	})
	must(err)
	must(nc.Flush())
}

func writeJSON(dir, name string, v interface{}) {
	b, err := json.MarshalIndent(v, "", "  ")
	must(err)
	must(os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644))
}

func streamsScenario(out, url string) {
	rec := &recorder{}
	sys, err := nats.Connect(url, nats.UserInfo("sys", "sys"), nats.Timeout(5*time.Second))
	must(err)
	rec.sub(sys, "SYS")
	nc, js := connect(url, "a")
	rec.sub(nc, "ACC_A")

	var ops []op
	cfgs := []*nats.StreamConfig{
		{Name: "F3", Subjects: []string{"f3.>"}, Replicas: 3, Storage: nats.FileStorage, MaxMsgsPerSubject: 8, Description: "R3 file"},
		{Name: "M3", Subjects: []string{"m3.>"}, Replicas: 3, Storage: nats.MemoryStorage, MaxMsgsPerSubject: 8, Description: "R3 memory"},
		{Name: "F1", Subjects: []string{"f1.>"}, Replicas: 1, Storage: nats.FileStorage, MaxMsgsPerSubject: 8, Description: "R1 file"},
		{Name: "M1", Subjects: []string{"m1.>"}, Replicas: 1, Storage: nats.MemoryStorage, MaxMsgsPerSubject: 8, Description: "R1 memory"},
	}
	prefix := map[string]string{"F3": "f3", "M3": "m3", "F1": "f1", "M1": "m1"}
	for _, cfg := range cfgs {
		si, err := js.AddStream(cfg)
		must(err)
		c, _ := json.Marshal(cfg)
		ops = append(ops, op{Op: "create", Stream: cfg.Name, Config: c, Leader: leaderOf(si)})
	}
	time.Sleep(time.Second)
	publish := func(stream string, from, to int) {
		for i := from; i < to; i++ {
			subj := fmt.Sprintf("%s.%s", prefix[stream], []string{"a", "b", "c", "d"}[i%4])
			id := fmt.Sprintf("%s-%d", stream, i)
			payload := fmt.Sprintf("msg %d of %s", i, stream)
			m := nats.NewMsg(subj)
			m.Data = []byte(payload)
			m.Header.Set("Nats-Msg-Id", id)
			m.Header.Set("X-Fixture", "streams")
			ack, err := js.PublishMsg(m)
			must(err)
			a, _ := json.Marshal(ack)
			ops = append(ops, op{Op: "publish", Stream: stream, Subject: subj, MsgID: id, Payload: payload, Reply: a})
		}
	}
	for _, cfg := range cfgs {
		publish(cfg.Name, 0, 40)
		// Resent ids: duplicates, acknowledged with the first sequence.
		publish(cfg.Name, 36, 40)
	}
	request := func(o op, subj string, body interface{}) op {
		var b []byte
		if body != nil {
			b, _ = json.Marshal(body)
		}
		resp, err := nc.Request(subj, b, 10*time.Second)
		must(err)
		o.Reply = json.RawMessage(resp.Data)
		return o
	}
	for _, cfg := range cfgs {
		n := cfg.Name
		// seq 38 (f?.b, among the last 8 of its subject) removed, 39 erased.
		ops = append(ops, request(op{Op: "delete", Stream: n, Seq: 38}, "$JS.API.STREAM.MSG.DELETE."+n, map[string]interface{}{"seq": 38, "no_erase": true}))
		ops = append(ops, request(op{Op: "erase", Stream: n, Seq: 39}, "$JS.API.STREAM.MSG.DELETE."+n, map[string]interface{}{"seq": 39}))
		f := prefix[n] + ".a"
		ops = append(ops, request(op{Op: "purge", Stream: n, Filter: f}, "$JS.API.STREAM.PURGE."+n, map[string]interface{}{"filter": f}))
	}
	stepdown := func(n string) {
		o := request(op{Op: "stepdown", Stream: n}, "$JS.API.STREAM.LEADER.STEPDOWN."+n, nil)
		// Wait for the new leader.
		for i := 0; i < 100; i++ {
			time.Sleep(100 * time.Millisecond)
			si, err := js.StreamInfo(n)
			if err == nil && si.Cluster != nil && si.Cluster.Leader != "" {
				o.Leader = si.Cluster.Leader
				break
			}
		}
		ops = append(ops, o)
	}
	stepdown("F3")
	stepdown("M3")
	for _, cfg := range cfgs {
		cfg.Description += ", updated"
		cfg.Subjects = append(cfg.Subjects, prefix[cfg.Name]+"x")
		si, err := js.UpdateStream(cfg)
		must(err)
		c, _ := json.Marshal(cfg)
		ops = append(ops, op{Op: "update", Stream: cfg.Name, Config: c, Leader: leaderOf(si)})
		publish(cfg.Name, 40, 60)
	}
	stepdown("F3")
	time.Sleep(2 * time.Second)

	var infos []*nats.StreamInfo
	for _, cfg := range cfgs {
		si, err := js.StreamInfo(cfg.Name, &nats.StreamInfoRequest{SubjectsFilter: ">", DeletedDetails: true})
		must(err)
		infos = append(infos, si)
	}
	rec.mu.Lock()
	advs := rec.advs
	rec.mu.Unlock()
	sort.SliceStable(advs, func(i, j int) bool { return advs[i].Account < advs[j].Account })
	writeJSON(out, "stream_info.json", infos)
	writeJSON(out, "advisories.json", advs)
	writeJSON(out, "ops.json", ops)
	nc.Close()
	sys.Close()
}

func leaderOf(si *nats.StreamInfo) string {
	if si == nil || si.Cluster == nil {
		return ""
	}
	return si.Cluster.Leader
}
