"""Two builds of Gatehouse side by side: did a change make it slower?

    python3 bench/compare.py NEW_BINARY OLD_BINARY [--rounds 7] [--seconds 2]

Both servers start on fresh SQLite databases, pinned to the same core as in `make bench`
(run.py's `Server`), each with one signed-up account and five devices. Each measurement
alternates the two (new, old, new, old, ...) and reports the median of the pairs' ratios:
the authenticated JSON call, the same call signed out, `/login` signed out and
`/devices` signed in. Every answer is checked (run.py's `wrk(expect=...)`), so a build
that answers "signed out" cannot look faster. Build each binary with
`cargo build --profile dist -p server --bin server` and copy it aside (docs/PERFORMANCE.md).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402
from run import Server, get_env, post_env, wrk  # noqa: E402

EMAIL = "compare@example.com"


def measure(server, what, cookie, seconds):
    viewer = server.base + "/api/session/viewer"
    if what == "authenticated call":
        return wrk(viewer, seconds=seconds, env=post_env(cookie),
                   expect=f'"SignedIn":{{"email":"{EMAIL}"}}')["rps"]
    if what == "signed-out call":
        return wrk(viewer, seconds=seconds, env=post_env(), expect='"SignedOut"')["rps"]
    if what == "/login":
        return wrk(server.base + "/login", seconds=seconds, env=get_env(),
                   expect='name="password"')["rps"]
    return wrk(server.base + "/devices", seconds=seconds, env=get_env(cookie),
               expect=EMAIL)["rps"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("new")
    parser.add_argument("old")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=2)
    args = parser.parse_args()
    servers = {"new": Server("new", command=[args.new]), "old": Server("old", command=[args.old])}
    cookies = {}
    for name, server in servers.items():
        cookies[name] = server.sign_up(EMAIL)[0]
        for _ in range(4):
            server.log_in(EMAIL)
    results = {}
    for what in ("authenticated call", "signed-out call", "/login", "/devices"):
        for name, server in servers.items():
            measure(server, what, cookies[name], 1)  # warm-up
        results[what] = run.alternate(
            f"{what} new/old",
            lambda: measure(servers["new"], what, cookies["new"], args.seconds),
            lambda: measure(servers["old"], what, cookies["old"], args.seconds),
            rounds=args.rounds)
    for server in servers.values():
        server.stop()
    print("\n| what | new/s | old/s | new ÷ old (median of pairs) |")
    print("|---|---:|---:|---:|")
    for what, r in results.items():
        print(f"| {what} | {r['a_per_s']:,.0f} | {r['b_per_s']:,.0f} | {r['ratio']:.3f} |")


if __name__ == "__main__":
    main()
