//! The batch plan for the NATS server inventory. Batches 30–36 follow our
//! user's plan (see `../shared/seed/`): raft.go in two parts (30, 31),
//! jetstream_cluster.go in runs of 58 around batch 33 (32–34) and the rest
//! (35), and stream.go's first part as 36. Every other item goes into
//! per-file batches numbered from 1 in file order, skipping 30–36; the
//! modules come last, in a batch of their own.

use crate::domain::plan::{
    add_test_file_dependencies, build_plan, chunk_batch, chunk_name, even_chunks, modules_batch, split_file, BatchSpec, FileChunk,
    Plan, PlannedBatch, MAX_BATCH_ITEMS,
};
use crate::inventory::Inventory;

/// The 22 tests of batch 33, as the seed's plan lists them.
pub const BATCH33_TESTS: [&str; 22] = [
    // T2: raft elections and terms
    "TestNRGSimple",
    "TestNRGRecoverFromFollowingNoLeader",
    "TestNRGObserverMode",
    "TestNRGSimpleElection",
    "TestNRGStepDownOnSameTermDoesntClearVote",
    "TestNRGUnsuccessfulVoteRequestDoesntResetElectionTimer",
    "TestNRGInvalidTAVDoesntPanic",
    "TestNRGAssumeHighTermAfterCandidateIsolation",
    "TestNRGSystemClientCleanupFromAccount",
    // T3: replay, catch-up, chain of blocks
    "TestNRGNoResetOnAppendEntryResponse",
    "TestNRGCandidateDontStepdownDueToLeaderOfPreviousTerm",
    "TestNRGRecoverPindexPtermOnlyIfLogNotEmpty",
    "TestNRGForwardProposalResponse",
    "TestNRGDontRejectAppendEntryFromReplay",
    "TestNRGSimpleCatchup",
    "TestNRGChainOfBlocksRunInLockstep",
    "TestNRGChainOfBlocksStopAndCatchUp",
    // T1: cluster, JWT, monitor and no-race anchors
    "TestJetStreamClusterStreamRescaleCatchup",
    "TestLongNRGChainOfBlocks",
    "TestJetStreamAccountResolverNoFetchIfNotMember",
    "TestMonitorJsz",
    "TestNoRaceJetStreamClusterLargeMetaSnapshotTiming",
];

const RAFT: &str = "server/raft.go";
const JS_CLUSTER: &str = "server/jetstream_cluster.go";
const STREAM: &str = "server/stream.go";
const RESERVED: std::ops::RangeInclusive<u32> = 30..=36;
/// Size of each of batches 32–34, as the seed numbered them.
const JS_RUN: usize = 58;
/// Batch 33 runs from the first through the last of these (receiver, name).
const BATCH33_FIRST: (&str, &str) = ("jetStream", "monitorCluster");
const BATCH33_LAST: (&str, &str) = ("jetStream", "consumerAssignment");

struct Named {
    number: u32,
    name: &'static str,
    description: &'static str,
}

const RAFT_PARTS: [Named; 2] = [
    Named { number: 30, name: "Raft Part 1", description: "First half of server/raft.go: node setup, WAL, snapshots, proposals" },
    Named { number: 31, name: "Raft Part 2", description: "Second half of server/raft.go: elections, append entries, catch-up, commit" },
];
const JS_RUNS: [Named; 4] = [
    Named { number: 32, name: "JS Cluster Meta", description: "server/jetstream_cluster.go: the 58 functions before monitorCluster (assignments, meta group)" },
    Named { number: 33, name: "JS Cluster Streams", description: "server/jetstream_cluster.go: monitorCluster through consumerAssignment, and 22 tests" },
    Named { number: 34, name: "JS Cluster Consumers", description: "server/jetstream_cluster.go: the 58 functions after consumerAssignment" },
    Named { number: 35, name: "JS Cluster Remaining", description: "server/jetstream_cluster.go: the functions after batch 34" },
];
const STREAM_FIRST: Named = Named { number: 36, name: "Stream Lifecycle", description: "server/stream.go" };

/// Build the plan, or say which expectation about the inventory failed.
pub fn nats_plan(inv: &Inventory) -> Result<Plan, String> {
    let file_of = |path: &str| inv.files.iter().position(|f| f.path == path).map(|i| i as u32).ok_or(format!("{path} is missing"));
    let features_of = |file: u32| -> Vec<usize> { (0..inv.features.len()).filter(|&i| inv.features[i].file == file).collect() };
    let (raft, js, stream) = (file_of(RAFT)?, file_of(JS_CLUSTER)?, file_of(STREAM)?);

    let js_features = features_of(js);
    let position = |receiver: &str, name: &str| {
        js_features
            .iter()
            .position(|&i| inv.features[i].receiver == receiver && inv.features[i].name == name)
            .ok_or(format!("{JS_CLUSTER} has no {receiver}.{name}"))
    };
    let start = position(BATCH33_FIRST.0, BATCH33_FIRST.1)?;
    let end = position(BATCH33_LAST.0, BATCH33_LAST.1)?;
    if end + 1 < start || end + 1 - start != JS_RUN || start < JS_RUN || js_features.len() <= end + JS_RUN {
        return Err(format!(
            "{JS_CLUSTER}: expected runs of {JS_RUN} around batch 33, found {}.{} at #{} and {}.{} of {} functions at #{}",
            BATCH33_FIRST.0,
            BATCH33_FIRST.1,
            start + 1,
            BATCH33_LAST.0,
            BATCH33_LAST.1,
            js_features.len(),
            end + 1
        ));
    }
    // 32, 33 and 34 are runs of 58; 35 holds the rest of the file.
    let js_runs = [start - JS_RUN..start, start..end + 1, end + 1..end + 1 + JS_RUN, end + 1 + JS_RUN..js_features.len()];
    let js_first = start - JS_RUN;

    let mut batch33_tests = Vec::new();
    for name in BATCH33_TESTS {
        let found: Vec<usize> = (0..inv.tests.len()).filter(|&i| inv.tests[i].name == name).collect();
        match found.as_slice() {
            [one] => batch33_tests.push(*one),
            [] => return Err(format!("test {name} is missing")),
            _ => return Err(format!("test {name} is defined {} times", found.len())),
        }
    }

    let mut numbers = (1..).filter(|n| !RESERVED.contains(n));
    let mut batches: Vec<PlannedBatch> = Vec::new();
    let mut push_generic = |batches: &mut Vec<PlannedBatch>, chunks: Vec<FileChunk>, name: &dyn Fn(&FileChunk) -> String| {
        for c in chunks {
            let n = numbers.next().unwrap_or(u32::MAX);
            batches.push(chunk_batch(inv, &c, n, name(&c)));
        }
    };
    let named = |items: &[usize], n: &Named| PlannedBatch {
        spec: BatchSpec { number: n.number, name: n.name.to_string(), description: n.description.to_string(), depends_on: Vec::new() },
        features: items.to_vec(),
        ..PlannedBatch::default()
    };

    for file in 0..inv.files.len() as u32 {
        if file == raft {
            let items = features_of(file);
            let sizes = even_chunks(items.len(), items.len().div_ceil(2).max(1));
            let mut at = 0;
            for (size, part) in sizes.iter().zip(&RAFT_PARTS) {
                batches.push(named(&items[at..at + size], part));
                at += size;
            }
        } else if file == js {
            for (range, run) in js_runs.iter().zip(&JS_RUNS) {
                batches.push(named(&js_features[range.clone()], run));
            }
            let rest: Vec<usize> = js_features[..js_first].to_vec();
            push_generic(&mut batches, split_file(inv, file, &rest, MAX_BATCH_ITEMS), &|c| chunk_name(inv, c));
        } else if file == stream {
            let chunks = split_file(inv, file, &features_of(file), MAX_BATCH_ITEMS);
            let parts = chunks.len();
            let label = |c: &FileChunk| if parts > 1 { format!("{} (part {}/{parts})", STREAM_FIRST.name, c.part) } else { STREAM_FIRST.name.to_string() };
            let mut chunks = chunks.into_iter();
            if let Some(first) = chunks.next() {
                let mut b = chunk_batch(inv, &first, STREAM_FIRST.number, label(&first));
                b.spec.description = format!("{} ({} of {} features)", STREAM_FIRST.description, first.items.len(), features_of(file).len());
                batches.push(b);
            }
            push_generic(&mut batches, chunks.collect(), &label);
        } else if inv.files[file as usize].is_test {
            let tests: Vec<usize> =
                (0..inv.tests.len()).filter(|&i| inv.tests[i].file == file && !batch33_tests.contains(&i)).collect();
            push_generic(&mut batches, split_file(inv, file, &tests, MAX_BATCH_ITEMS), &|c| chunk_name(inv, c));
        } else {
            push_generic(&mut batches, split_file(inv, file, &features_of(file), MAX_BATCH_ITEMS), &|c| chunk_name(inv, c));
        }
    }

    let last = numbers.next().unwrap_or(u32::MAX);
    batches.push(modules_batch(inv, (0..inv.modules.len()).collect(), last));
    if let Some(b33) = batches.iter_mut().find(|b| b.spec.number == 33) {
        b33.tests = batch33_tests;
    }
    add_test_file_dependencies(inv, &mut batches);
    for b in &mut batches {
        if (31..=35).contains(&b.spec.number) {
            b.spec.depends_on = vec![b.spec.number - 1];
        }
    }
    Ok(build_plan(inv, batches))
}
