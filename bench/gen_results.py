#!/usr/bin/env python3
"""Write one test-results file per format the gate parses, each holding
exactly N results (default 100,000), for bench/p4_parse.sh.

Usage: bench/gen_results.py OUTDIR [N]

The files look like the real tools' output at scale (see
tests/fixtures/gate/ for the small real ones): several test binaries or
packages or suites, about 1% failures with their messages and captured
output, about 1% skipped, noise lines around and between the results.
Deterministic: the same N gives the same bytes.
"""

import os
import random
import sys
from xml.sax.saxutils import escape, quoteattr

GROUPS = 10  # test binaries / packages / suites


def outcome(i):
    if i % 101 == 7:
        return "failed"
    if i % 97 == 3:
        return "skipped"
    return "passed"


def rust_name(rng, i):
    mods = ["raft", "wal", "snapshot", "election", "catchup", "codec", "meta", "stream"]
    return "%s::%s::test_%s_%d" % (rng.choice(mods), rng.choice(mods), rng.choice(["applies", "rejects", "replays", "encodes"]), i)


def groups(n):
    """(group index, first i, last i + 1) covering 0..n."""
    per = -(-n // GROUPS)
    for g in range(GROUPS):
        lo, hi = g * per, min(n, (g + 1) * per)
        if lo < hi:
            yield g, lo, hi


def libtest(path, n, rng):
    with open(path, "w") as f:
        f.write("   Compiling ported v0.1.0 (/work/ported)\nwarning: unused variable: `x`\n  --> src/raft.rs:12:9\n   |\n12 |     let x = 1;\n   |         ^ help: if this is intentional, prefix it with an underscore: `_x`\n\n")
        f.write("    Finished `test` profile [unoptimized + debuginfo] target(s) in 41.07s\n")
        for g, lo, hi in groups(n):
            f.write("     Running unittests src/lib.rs (target/debug/deps/ported_%d-%016x)\n\nrunning %d tests\n" % (g, rng.getrandbits(64), hi - lo))
            failed, counts = [], {"passed": 0, "failed": 0, "skipped": 0}
            for i in range(lo, hi):
                name, o = rust_name(rng, i), outcome(i)
                counts[o] += 1
                if o == "passed":
                    f.write("test %s ... ok\n" % name)
                elif o == "failed":
                    f.write("test %s ... FAILED\n" % name)
                    failed.append(name)
                else:
                    f.write("test %s ... ignored%s\n" % (name, ", needs a 5-node cluster" if i % 2 else ""))
                if i % 5000 == 4999:
                    f.write("test %s has been running for over 60 seconds\n" % rust_name(rng, i + 1))
            f.write("\nfailures:\n\n")
            for name in failed:
                f.write("---- %s stdout ----\nnode 1: term 3 leader 2\ntest fake::inner ... ok\n\nthread '%s' (4242) panicked at src/raft.rs:88:9:\nassertion `left == right` failed\n  left: 3\n right: 4\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\n" % (name, name))
            f.write("\nfailures:\n")
            for name in failed:
                f.write("    %s\n" % name)
            f.write("\ntest result: %s. %d passed; %d failed; %d ignored; 0 measured; 0 filtered out; finished in 12.31s\n\n" % ("FAILED" if failed else "ok", counts["passed"], counts["failed"], counts["skipped"]))
            if failed:
                f.write("error: test failed, to rerun pass `--lib`\n")


def nextest_junit(path, n, rng):
    with open(path, "w") as f:
        fails = sum(1 for i in range(n) if outcome(i) == "failed")
        runnable = sum(1 for i in range(n) if outcome(i) != "skipped")
        # nextest lists only tests it ran; skipped ones become ignored tests
        # it reports with a <skipped/> child when run with --run-ignored.
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="nextest-run" tests="%d" skipped="%d" failures="%d" errors="0" uuid="b948bc1b-11af-4e80-b48c-d8dd8744e422" timestamp="2026-11-26T18:40:59.369+00:00" time="812.262">\n' % (n, n - runnable, fails))
        for g, lo, hi in groups(n):
            binary = "ported::nrg_%d" % g
            gf = sum(1 for i in range(lo, hi) if outcome(i) == "failed")
            gs = sum(1 for i in range(lo, hi) if outcome(i) == "skipped")
            f.write('    <testsuite name="%s" tests="%d" skipped="%d" errors="0" failures="%d">\n' % (binary, hi - lo, gs, gf))
            for i in range(lo, hi):
                name, o = rust_name(rng, i), outcome(i)
                attrs = 'name="%s" classname="%s" timestamp="2026-11-26T18:40:59.369+00:00" time="%.3f"' % (name, binary, rng.random() / 10)
                if o == "passed" and i % 211 != 5:
                    f.write("        <testcase %s/>\n" % attrs)
                elif o == "passed":
                    f.write('        <testcase %s>\n            <flakyFailure timestamp="2026-11-26T18:41:06.543+00:00" time="0.163" message="thread &apos;%s&apos; (1834) panicked at src/raft.rs:11:9" type="test failure with exit code 101">thread &apos;%s&apos; panicked\n&lt;timeout&gt;</flakyFailure>\n        </testcase>\n' % (attrs, name, name))
                elif o == "failed":
                    f.write('        <testcase %s>\n            <failure message="thread &apos;%s&apos; (1477) panicked at src/raft.rs:54:9" type="test failure with exit code 101">thread &apos;%s&apos; (1477) panicked at src/raft.rs:54:9:\nassertion `left == right` failed\n  left: 6\n right: 7</failure>\n            <system-out>\nrunning 1 test\ntest %s ... FAILED\n\nfailures:\n\nfailures:\n    %s\n\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 8 filtered out; finished in 0.13s\n\n</system-out>\n            <system-err>\nthread &apos;%s&apos; panicked\n</system-err>\n        </testcase>\n' % (attrs, name, name, name, name, name))
                else:
                    f.write('        <testcase %s>\n            <skipped/>\n        </testcase>\n' % attrs)
            f.write("    </testsuite>\n")
        f.write("</testsuites>\n")


def go_json(path, n, rng):
    with open(path, "w") as f:
        ts = 0

        def ev(action, pkg, test=None, elapsed=None, output=None):
            nonlocal ts
            ts += 1
            s = '{"Time":"2026-11-26T18:41:37.%09dZ","Action":"%s","Package":"%s"' % (ts % 10**9, action, pkg)
            if test is not None:
                s += ',"Test":"%s"' % test
            if elapsed is not None:
                s += ',"Elapsed":%s' % elapsed
            if output is not None:
                s += ',"Output":%s' % output
            f.write(s + "}\n")

        i = 0
        for g, lo, hi in groups(n):
            pkg = "github.com/nats-io/nats-server/v2/server/p%d" % g
            if g % 3 == 1:
                f.write("# %s\nvet: server/p%d/raft_test.go:12:2: unusedresult\n" % (pkg, g))
            i = lo
            while i < hi:
                # Every 20th test has three subtests; the parent counts too.
                subs = 3 if i % 20 == 0 and hi - i >= 4 else 0
                parent = "TestNRG%s%d" % (rng.choice(["Simple", "Catchup", "Snapshot", "Election"]), i)
                names = [parent + "/case_%d" % k for k in range(subs)] + [parent]
                ev("run", pkg, parent)
                ev("output", pkg, parent, output='"=== RUN   %s\\n"' % parent)
                for k, name in enumerate(names):
                    o = outcome(i + k)
                    act = {"passed": "pass", "failed": "fail", "skipped": "skip"}[o]
                    if name != parent:
                        ev("run", pkg, name)
                        ev("output", pkg, name, output='"=== RUN   %s\\n"' % name)
                    if o == "failed":
                        ev("output", pkg, name, output='"    raft_test.go:88: expected term 4, got 3\\n"')
                    elapsed = "%.2f" % (rng.random() / 5)
                    ev("output", pkg, name, output='"--- %s: %s (%ss)\\n"' % (act.upper(), name, elapsed))
                    ev(act, pkg, name, elapsed=elapsed)
                i += len(names)
            ev("output", pkg, output='"FAIL\\n"')
            ev("fail", pkg, elapsed="81.2")


def trx(path, n, rng):
    guid = lambda: "%08x-%04x-4%03x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12), 0x8000 | rng.getrandbits(14), rng.getrandbits(48))
    tests = []
    with open(path, "w", encoding="utf-8") as f:
        f.write('\ufeff<?xml version="1.0" encoding="utf-8"?>\n<TestRun id="%s" name="ci@build-07 2026-11-26 18:50:12" runUser="ci" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">\n' % guid())
        f.write('  <Times creation="2026-11-26T18:50:12.4407891+00:00" queuing="2026-11-26T18:50:12.4407896+00:00" start="2026-11-26T18:50:10.9021336+00:00" finish="2026-11-26T18:59:13.0951190+00:00" />\n  <TestSettings name="default" id="%s">\n    <Deployment runDeploymentRoot="ci_build-07_2026-11-26_18_50_12" />\n  </TestSettings>\n  <Results>\n' % guid())
        counts = {"Passed": 0, "Failed": 0, "NotExecuted": 0}
        for i in range(n):
            cls = "NATS.Server.Tests.Raft%dTests" % (i % GROUPS)
            method = "Nrg_%s_%d" % (rng.choice(["Simple", "Catchup", "Snapshot"]), i)
            o = {"passed": "Passed", "failed": "Failed", "skipped": "NotExecuted"}[outcome(i)]
            counts[o] += 1
            ex, tid = guid(), guid()
            tests.append((cls, method, ex, tid))
            dur = "00:00:%02d.%07d" % (rng.randrange(3), rng.randrange(10**7))
            head = '    <UnitTestResult executionId="%s" testId="%s" testName="%s.%s" computerName="build-07" duration="%s" startTime="2026-11-26T18:50:11.8423710+00:00" endTime="2026-11-26T18:50:11.8445244+00:00" testType="13cdc9d9-ddb5-4fa4-a97d-d965ccfc6d4b" outcome="%s" testListId="8c84fa94-04c1-424b-9868-57a2d4851a1d" relativeResultsDirectory="%s"' % (ex, tid, cls, method, dur, o, ex)
            if o == "Failed":
                f.write(head + '>\n      <Output>\n        <StdOut>leader elected &lt;n2&gt;</StdOut>\n        <ErrorInfo>\n          <Message>Assert.Equal() Failure: Values differ\nExpected: 4\nActual:   3</Message>\n          <StackTrace>   at %s.%s() in /src/RaftTests.cs:line 88</StackTrace>\n        </ErrorInfo>\n      </Output>\n    </UnitTestResult>\n' % (cls, method))
            else:
                f.write(head + " />\n")
        f.write("  </Results>\n  <TestDefinitions>\n")
        for cls, method, ex, tid in tests:
            f.write('    <UnitTest name="%s" storage="/src/bin/debug/net8.0/nats.server.tests.dll" id="%s">\n      <Execution id="%s" />\n      <TestMethod codeBase="/src/bin/Debug/net8.0/NATS.Server.Tests.dll" adapterTypeName="executor://xunit/VsTestRunner2/netcoreapp" className="%s" name="%s" />\n    </UnitTest>\n' % (method, tid, ex, cls, method))
        f.write("  </TestDefinitions>\n  <TestEntries>\n")
        for cls, method, ex, tid in tests:
            f.write('    <TestEntry testId="%s" executionId="%s" testListId="8c84fa94-04c1-424b-9868-57a2d4851a1d" />\n' % (tid, ex))
        f.write('  </TestEntries>\n  <TestLists>\n    <TestList name="Results Not in a List" id="8c84fa94-04c1-424b-9868-57a2d4851a1d" />\n    <TestList name="All Loaded Results" id="19431567-8539-422a-85d7-44ee4e166bda" />\n  </TestLists>\n')
        f.write('  <ResultSummary outcome="Failed">\n    <Counters total="%d" executed="%d" passed="%d" failed="%d" error="0" timeout="0" aborted="0" inconclusive="0" passedButRunAborted="0" notRunnable="0" notExecuted="%d" disconnected="0" warning="0" completed="0" inProgress="0" pending="0" />\n  </ResultSummary>\n</TestRun>\n' % (n, n - counts["NotExecuted"], counts["Passed"], counts["Failed"], counts["NotExecuted"]))


def junit(path, n, rng):
    with open(path, "w") as f:
        f.write("+ python -m pytest --junitxml=report.xml\n============================= test session starts ==============================\ncollected %d items\n+ cat report.xml\n" % n)
        f.write('<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">')
        for g, lo, hi in groups(n):
            gf = sum(1 for i in range(lo, hi) if outcome(i) == "failed")
            gs = sum(1 for i in range(lo, hi) if outcome(i) == "skipped")
            f.write('<testsuite name="pytest" errors="0" failures="%d" skipped="%d" tests="%d" time="81.065" timestamp="2026-11-26T18:44:28.346615+00:00" hostname="vm">\n' % (gf, gs, hi - lo))
            for i in range(lo, hi):
                cls = "tests.test_raft_%d.TestNrg" % g
                attrs = 'classname=%s name="test_case_%d" file="tests/test_raft_%d.py" line="%d" time="%.3f"' % (quoteattr(cls), i, g, i % 900, rng.random() / 10)
                o = outcome(i)
                if o == "passed":
                    f.write("<testcase %s />\n" % attrs)
                elif o == "failed":
                    f.write('<testcase %s><failure message="AssertionError: term 3 != 4">%s</failure><system-out>%s</system-out></testcase>\n' % (attrs, escape("self = <tests.TestNrg object>\n>       assert node.term == 4\nE       AssertionError"), escape("leader <n2> & follower <n3>\n<testcase name=\"fake\"/>")))
                else:
                    f.write('<testcase %s><skipped type="pytest.skip" message="needs cluster">tests/test_raft.py:29: needs cluster</skipped></testcase>\n' % attrs)
            f.write("</testsuite>")
        f.write("</testsuites>\n")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 100_000
    os.makedirs(out, exist_ok=True)
    for name, fn in [("libtest.txt", libtest), ("nextest-junit.xml", nextest_junit), ("go-test.json", go_json), ("results.trx", trx), ("junit.xml", junit)]:
        fn(os.path.join(out, name), n, random.Random(name))


if __name__ == "__main__":
    main()
