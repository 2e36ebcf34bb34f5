#!/usr/bin/env python3
"""Flame graphs of the authenticated server-function call and of a signed-in /devices
page (5 devices), for one server binary: bench/flames/flame-{viewer,devices}-LABEL.svg
(an ignored folder: graphs are megabytes each and belong to one machine and one day).

    scripts/flame.sh LABEL            # builds the `profiling` profile, then runs this
    bench/flame.py BINARY LABEL       # any binary built with frame pointers

The binary needs frame pointers and line tables (`cargo build --profile profiling` with
RUSTFLAGS="-C force-frame-pointers=yes"), or perf cannot walk the stacks: the plain
release binary gives mostly "[unknown]" frames. Needs perf and inferno
(`cargo install inferno`). The server and wrk are pinned as in run.py.
"""
import subprocess
import sys
import time

import run

FLAMES = run.ROOT / "bench/flames"

TITLES = {
    "viewer": "Authenticated server-function call (POST /api/session/viewer)",
    "devices": "Signed-in /devices page, 5 devices",
}


def main():
    binary, label = sys.argv[1], sys.argv[2]
    run.SERVER_BIN = binary
    server = run.Server(f"flame-{label}")
    cookie = server.sign_up("flame@example.com")[0]
    for _ in range(4):
        server.log_in("flame@example.com")
    targets = {
        "viewer": (server.base + "/api/session/viewer", run.post_env(cookie)),
        "devices": (server.base + "/devices", run.get_env(cookie)),
    }
    try:
        for name, (url, env) in targets.items():
            run.wrk(url, seconds=1, env=env)
            data = f"/tmp/gatehouse-flame-{name}-{label}.data"
            perf = subprocess.Popen(
                ["perf", "record", "-F", "999", "--call-graph", "fp", "-p", str(server.proc.pid),
                 "-o", data, "--", "sleep", "3"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.2)
            result = run.wrk(url, seconds=3, env=env)
            perf.wait()
            run.log(f"  {name} ({label}): {result['rps']:,.0f}/s while profiled")
            script = subprocess.run(["perf", "script", "-i", data], capture_output=True, check=True).stdout
            folded = subprocess.run(["inferno-collapse-perf"], input=script, capture_output=True,
                                    check=True).stdout
            svg = subprocess.run(["inferno-flamegraph", "--title", f"{TITLES[name]} ({label})",
                                  "--width", "1400"], input=folded, capture_output=True, check=True).stdout
            FLAMES.mkdir(exist_ok=True)
            out = FLAMES / f"flame-{name}-{label}.svg"
            out.write_bytes(svg)
            run.log(f"  wrote {out.relative_to(run.ROOT)}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
