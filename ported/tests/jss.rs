//! The stream layer on the simulated cluster (issue 17): stream raft
//! groups created from meta assignments, replicated publishes with their
//! PubAcks, deletes and purges through the stream leader, leader changes
//! with their advisories, and the seeded replication scenario. A failing
//! simulation prints `JS_SIM_SEED=<n>`.

#[path = "jss/helpers.rs"]
mod helpers;
#[path = "jss/jetstream_cluster_1.rs"]
mod jetstream_cluster_1;
#[path = "jss/jetstream_cluster_2.rs"]
mod jetstream_cluster_2;
#[path = "jss/jetstream_cluster_3.rs"]
mod jetstream_cluster_3;
#[path = "jss/norace_1.rs"]
mod norace_1;
#[path = "jss/leader_change.rs"]
mod leader_change;
#[path = "jss/scenario.rs"]
mod scenario;
#[path = "jss/api_responses.rs"]
mod api_responses;
#[path = "jss/monitor_arms.rs"]
mod monitor_arms;
#[path = "jss/stream_health.rs"]
mod stream_health;
#[path = "jss/real_advisories.rs"]
mod real_advisories;
#[path = "jss/cluster_stream_updates.rs"]
mod cluster_stream_updates;
#[path = "jss/recovery_answers.rs"]
mod recovery_answers;
