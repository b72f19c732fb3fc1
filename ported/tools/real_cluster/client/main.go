// Creates JetStream streams and consumers in two accounts of a running
// cluster, publishes a few messages, and prints what the servers report
// (stream and consumer info, as JSON) to stdout.
//
//	go run main.go nats://127.0.0.1:PORT            (clean-shutdown fixtures)
//	go run main.go -unclean nats://127.0.0.1:PORT   (raft-log fixtures, see unclean.go)
//	go run . -streams DIR nats://127.0.0.1:PORT      (stream fixtures, see streams.go)
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
)

type report struct {
	Account   string               `json:"account"`
	Streams   []*nats.StreamInfo   `json:"streams"`
	Consumers []*nats.ConsumerInfo `json:"consumers"`
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func connect(url, user string) (*nats.Conn, nats.JetStreamContext) {
	nc, err := nats.Connect(url, nats.UserInfo(user, user), nats.Timeout(5*time.Second))
	must(err)
	js, err := nc.JetStream(nats.MaxWait(10 * time.Second))
	must(err)
	return nc, js
}

func main() {
	unclean := flag.Bool("unclean", false, "run the create/update/delete scenario for the raft-log fixtures")
	streamsDir := flag.String("streams", "", "run the stream scenario (streams.go), writing its reports into this directory")
	flag.Parse()
	url := flag.Arg(0)
	if *streamsDir != "" {
		streamsScenario(*streamsDir, url)
		return
	}
	if *unclean {
		printReport(uncleanScenario(url))
		return
	}
	var out []report

	nc, js := connect(url, "a")
	streams := []*nats.StreamConfig{
		{Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: 3, Storage: nats.FileStorage, MaxMsgs: 10000, Description: "orders R3 file"},
		{Name: "EVENTS", Subjects: []string{"events.*"}, Replicas: 1, Storage: nats.MemoryStorage, MaxAge: time.Hour},
		{Name: "AUDIT", Subjects: []string{"audit"}, Replicas: 3, Storage: nats.FileStorage, Retention: nats.WorkQueuePolicy, Duplicates: 30 * time.Second},
	}
	for _, cfg := range streams {
		_, err := js.AddStream(cfg)
		must(err)
	}
	consumers := []struct {
		stream string
		cfg    *nats.ConsumerConfig
	}{
		{"ORDERS", &nats.ConsumerConfig{Durable: "proc", AckPolicy: nats.AckExplicitPolicy, FilterSubject: "orders.new", MaxDeliver: 5}},
		{"ORDERS", &nats.ConsumerConfig{Durable: "mon", DeliverSubject: "mon.orders", AckPolicy: nats.AckNonePolicy}},
		{"ORDERS", &nats.ConsumerConfig{Durable: "single", AckPolicy: nats.AckExplicitPolicy, Replicas: 1}},
		{"EVENTS", &nats.ConsumerConfig{Durable: "ev", AckPolicy: nats.AckAllPolicy}},
		{"AUDIT", &nats.ConsumerConfig{Durable: "worker", AckPolicy: nats.AckExplicitPolicy}},
	}
	for _, c := range consumers {
		_, err := js.AddConsumer(c.stream, c.cfg)
		must(err)
	}
	for i := 0; i < 20; i++ {
		_, err := js.Publish(fmt.Sprintf("orders.%s", []string{"new", "paid"}[i%2]), []byte(fmt.Sprintf("order %d", i)))
		must(err)
	}
	_, err := js.Publish("events.x", []byte("e"))
	must(err)
	out = append(out, collect(js, "ACC_A"))
	nc.Close()

	nc, js = connect(url, "b")
	_, err = js.AddStream(&nats.StreamConfig{Name: "LOGS", Subjects: []string{"logs.>"}, Replicas: 3, Storage: nats.FileStorage})
	must(err)
	_, err = js.AddConsumer("LOGS", &nats.ConsumerConfig{Durable: "reader", AckPolicy: nats.AckExplicitPolicy, Replicas: 1})
	must(err)
	out = append(out, collect(js, "ACC_B"))
	nc.Close()
	printReport(out)
}

func printReport(out []report) {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	must(enc.Encode(out))
}

func collect(js nats.JetStreamContext, acc string) report {
	r := report{Account: acc}
	for si := range js.StreamsInfo() {
		r.Streams = append(r.Streams, si)
		for ci := range js.ConsumersInfo(si.Config.Name) {
			r.Consumers = append(r.Consumers, ci)
		}
	}
	return r
}
