// The scenario behind tests/fixtures/real_cluster_wal: assignments created,
// then (after a pause long enough that nats-server 2.9.10 snapshots its meta
// state on the first removal) a burst of removals, updates and creations
// that stays in the raft log only, and finally a meta-leader step-down so
// the new leader's first append entry carries the commit index of the burst
// into every server's log.
package main

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

func uncleanScenario(url string) []report {
	var out []report

	nc, js := connect(url, "a")
	for _, cfg := range []*nats.StreamConfig{
		{Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: 3, Storage: nats.FileStorage, MaxMsgs: 10000, Description: "orders R3 file"},
		{Name: "EVENTS", Subjects: []string{"events.*"}, Replicas: 1, Storage: nats.MemoryStorage, MaxAge: time.Hour},
		{Name: "AUDIT", Subjects: []string{"audit"}, Replicas: 3, Storage: nats.FileStorage, Retention: nats.WorkQueuePolicy},
	} {
		_, err := js.AddStream(cfg)
		must(err)
	}
	for _, c := range []struct {
		stream string
		cfg    *nats.ConsumerConfig
	}{
		{"ORDERS", &nats.ConsumerConfig{Durable: "proc", AckPolicy: nats.AckExplicitPolicy, FilterSubject: "orders.new", MaxDeliver: 5}},
		{"ORDERS", &nats.ConsumerConfig{Durable: "single", AckPolicy: nats.AckExplicitPolicy, Replicas: 1}},
		{"EVENTS", &nats.ConsumerConfig{Durable: "ev", AckPolicy: nats.AckAllPolicy}},
		{"AUDIT", &nats.ConsumerConfig{Durable: "worker", AckPolicy: nats.AckExplicitPolicy}},
	} {
		_, err := js.AddConsumer(c.stream, c.cfg)
		must(err)
	}
	for i := 0; i < 5; i++ {
		_, err := js.Publish(fmt.Sprintf("orders.%d", i), []byte("o"))
		must(err)
	}

	ncb, jsb := connect(url, "b")
	_, err := jsb.AddStream(&nats.StreamConfig{Name: "LOGS", Subjects: []string{"logs.>"}, Replicas: 3, Storage: nats.FileStorage})
	must(err)
	_, err = jsb.AddConsumer("LOGS", &nats.ConsumerConfig{Durable: "reader", AckPolicy: nats.AckExplicitPolicy, Replicas: 1})
	must(err)

	// More than 2s since the last meta snapshot: the next removal makes
	// every server snapshot right after applying it.
	time.Sleep(3 * time.Second)
	must(js.DeleteConsumer("ORDERS", "single"))

	// Within 2s of that snapshot, so none of these is snapshotted.
	must(js.DeleteStream("EVENTS"))
	must(js.DeleteConsumer("AUDIT", "worker"))
	_, err = js.UpdateStream(&nats.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: 3, Storage: nats.FileStorage, MaxMsgs: 20000, Description: "orders R3 file, updated"})
	must(err)
	_, err = js.UpdateConsumer("ORDERS", &nats.ConsumerConfig{Durable: "proc", AckPolicy: nats.AckExplicitPolicy, FilterSubject: "orders.new", MaxDeliver: 9})
	must(err)
	_, err = js.AddConsumer("ORDERS", &nats.ConsumerConfig{Durable: "late", AckPolicy: nats.AckExplicitPolicy, Replicas: 1})
	must(err)
	_, err = js.AddStream(&nats.StreamConfig{Name: "TEMP", Subjects: []string{"temp"}, Replicas: 1, Storage: nats.FileStorage})
	must(err)
	_, err = jsb.AddStream(&nats.StreamConfig{Name: "METRICS", Subjects: []string{"metrics.>"}, Replicas: 1, Storage: nats.MemoryStorage})
	must(err)

	// A new meta leader stores a peer-state entry whose commit index covers
	// everything above.
	sys, err := nats.Connect(url, nats.UserInfo("sys", "sys"), nats.Timeout(5*time.Second))
	must(err)
	_, err = sys.Request("$JS.API.META.LEADER.STEPDOWN", nil, 10*time.Second)
	must(err)
	sys.Close()
	time.Sleep(2 * time.Second)

	out = append(out, collect(js, "ACC_A"), collect(jsb, "ACC_B"))
	nc.Close()
	ncb.Close()
	return out
}
