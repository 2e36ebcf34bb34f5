#!/usr/bin/env python3
"""`make bench`: what authentication costs, as ratios measured side by side in one run.

The release server runs pinned to one core, wrk (the load generator) to another, on
loopback. Every ratio alternates its A and B runs (A B A B A B) and reports the median of
the A/B pairs (5 of them, 11 for the short request-path ratios), so machine noise that
drifts over the run hits both sides alike.
Absolute numbers are printed too, but only the ratios are comparable between machines.

It also measures Gatehouse's authenticated call against its peers under the same
pinning, in alternating rounds: a bare axum JSON handler (the ceiling), axum-login with
tower-sessions on SQLite, and Better Auth on Node with SQLite (bench/peers/). A peer that
cannot run fails the benchmark unless `--skip-missing-peers` is given; then the chart
shows it as not measured.

Every measured answer of a signed-in run is checked to be signed in (see `wrk`).
Writes bench/results/latest.json and bench/results/latest.svg and prints a table; exits
non-zero when a target is missed, unless `--report-only` is given.
Environment: BENCH_SECONDS (per run, default 3), DATABASE_URL (a postgres:// URL runs
R3-R6 on PostgreSQL too; each server gets a fresh database there).
"""

import argparse
import base64
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER_BIN = ROOT / "target/dist/server"
ARGON2_BIN = ROOT / "target/dist/examples/argon2_rate"
PEERS = ROOT / "bench/peers"
PEER_BINS = PEERS / "target/release"
PEER_ROUNDS = 5
PEER_SECONDS = 2
LUA = ROOT / "bench/lua"
RESULTS = ROOT / "bench/results"
SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = 5
# The request-path ratios (R1-R3) compare small differences on a noisy shared machine:
# many short pairs, whose median shrugs off a burst of noise that hits one pair.
FAST_ROUNDS = 11
FAST_SECONDS = 1
PASSWORD = "correct horse battery"
BLACKLIST_ROWS = 1_000_000
# Signed-in users taking turns in the cache-honest run (each token verified cold once).
MANY_USERS = 10_000
CORES = os.cpu_count() or 1
SERVER_CORE, LOAD_CORES = "0", ("1" if CORES > 1 else "0")
HASH_CONCURRENCY = 1  # one core for the server: one hash at a time


def log(message):
    print(message, file=sys.stderr, flush=True)


class Server:
    """The release binary on a fresh data dir (and database), pinned to SERVER_CORE."""

    def __init__(self, name, database_url=None, extra_env=None, command=None):
        self.name = name
        self.command = command or [str(SERVER_BIN)]
        self.dir = tempfile.TemporaryDirectory(prefix=f"gatehouse-bench-{name}-")
        self.database_url = database_url
        self.extra_env = extra_env or {}
        self.proc = None
        self.start()

    def start(self):
        env = {
            "PATH": os.environ.get("PATH", ""),
            "LEPTOS_SITE_ADDR": "127.0.0.1:0",
            "LEPTOS_SITE_ROOT": str(ROOT / "target/site"),
            "DATA_DIR": self.dir.name,
            "LOG_LEVEL": "warn,server=info",
            "PASSWORD_HASH_CONCURRENCY": str(HASH_CONCURRENCY),
            # Logins in a flood all use one account; do not let the session limit turn
            # every login into an eviction too.
            "MAX_SESSIONS_PER_USER": "1000000",
            # wrk is one client address with up to hundreds of connections.
            "MAX_CONNECTIONS_PER_CLIENT": "0",
            **self.extra_env,
        }
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CORE, *self.command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.time() + 120
        for line in self.proc.stderr:
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                self.base = match.group(1)
                break
            if time.time() > deadline:
                raise SystemExit(f"{self.name}: server did not start")
        else:
            raise SystemExit(f"{self.name}: server exited during start")
        # Keep draining the log so the server never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def restart(self):
        self.stop()
        self.start()

    def wait_idle(self, timeout=120):
        """Waits until the server's background work (mail for a thousand sign-ups, say)
        is done: less than 5% of a core used over a second. A measurement started
        earlier would share the core with it, on both sides of a ratio."""
        def cpu_seconds():
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        deadline = time.time() + timeout
        while time.time() < deadline:
            before = cpu_seconds()
            time.sleep(1)
            if cpu_seconds() - before < 0.05:
                return
        raise SystemExit(f"{self.name}: still busy after {timeout} s")

    def status(self, field):
        """A /proc/PID/status field in KiB (VmRSS: now, VmHWM: peak)."""
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(rf"{field}:\s+(\d+) kB", text).group(1))

    def post(self, path, form=None, cookie=None, json_body=None):
        if json_body is None:
            data = urllib.parse.urlencode(form or {}).encode()
        else:
            data = json.dumps(json_body).encode()
        request = urllib.request.Request(self.base + path, data=data, method="POST")
        if json_body is not None:
            request.add_header("Content-Type", "application/json")
        if cookie:
            request.add_header("Cookie", cookie)
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers.get_all("Set-Cookie") or []

    def sign_up(self, email):
        """Signs up and returns (access cookie pair, refresh cookie pair)."""
        status, cookies = self.post("/api/auth/signup", {"email": email, "password": PASSWORD})
        assert status == 200, status
        return session_cookies(cookies)

    def log_in(self, email):
        status, cookies = self.post("/api/auth/login", {"email": email, "password": PASSWORD})
        assert status == 200, status
        return session_cookies(cookies)


def session_cookies(set_cookies):
    pairs = [c.split(";", 1)[0] for c in set_cookies]
    access = next(p for p in pairs if p.startswith("__Host-access="))
    refresh = next(p for p in pairs if p.startswith("__Secure-refresh="))
    return access, refresh


class Unmeasured(Exception):
    """A run that did not measure what it claims (signed-out or failed answers)."""


def wrk(url, *, seconds=SECONDS, threads=1, connections=8, script="request.lua", env=None,
        latency=False, expect=None):
    """Runs wrk pinned to LOAD_CORES; returns requests/s, errors and latency percentiles.

    With `expect`, every answer must be a 2xx containing that text (the signed-in
    address, say): one that is not fails the run (`Unmeasured`), since a cookie that
    stopped working would otherwise make every ratio look better."""
    command = ["taskset", "-c", LOAD_CORES, "wrk", f"-t{threads}", f"-c{connections}",
               f"-d{seconds}s", "-s", str(LUA / script)]
    if latency:
        command.append("--latency")
    command.append(url)
    env = {**os.environ, **(env or {}), "BENCH_EXPECT": expect or ""}
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(errors.group(1)) if errors else 0
    if expect:
        found = re.search(r"Unexpected bodies: (\d+)", out)
        result["unexpected"] = int(found.group(1)) if found else -1
        if result["unexpected"] != 0 or result["non_2xx"] != 0:
            raise Unmeasured(f"{url}: {result['unexpected']} answers without {expect!r}, "
                             f"{result['non_2xx']} non-2xx, of a run at {result['rps']:,.0f}/s")
    if latency:
        for pct in ("50", "99"):
            value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out).groups()
            result[f"p{pct}_ms"] = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    return result


def alternate(name, run_a, run_b, rounds=ROUNDS):
    """A B A B A B; the ratio of each pair, and their median."""
    pairs = []
    for round_ in range(rounds):
        a, b = run_a(), run_b()
        pairs.append((a, b))
        log(f"  {name} round {round_ + 1}: A {a:,.1f}/s  B {b:,.1f}/s  A/B {a / b:.3f}")
    ratios = [a / b for a, b in pairs]
    return {
        "ratio": statistics.median(ratios),
        "ratios": ratios,
        "a_per_s": statistics.median(a for a, _ in pairs),
        "b_per_s": statistics.median(b for _, b in pairs),
    }


def post_env(cookie=None, body=None):
    return {"BENCH_METHOD": "POST", "BENCH_COOKIE": cookie or "", "BENCH_BODY": body or ""}


def get_env(cookie=None):
    return {"BENCH_METHOD": "GET", "BENCH_COOKIE": cookie or ""}


def fixed_rate(url, env, target_rps):
    """Latency at about `target_rps`: connections that each pause 10 ms between requests
    (wrk has no open-loop mode; the achieved rate is reported beside the percentiles)."""
    connections = max(1, round(target_rps * 0.010))
    return wrk(url, connections=connections, env={**env, "BENCH_DELAY_MS": "10"}, latency=True)


def seed_blacklist_sqlite(db_path, rows):
    """Adds `rows` live blacklist entries (a revoked session each, its id 16 random bytes in
    base64url like every `sid` Gatehouse issues) to an SQLite database. SQLite has no
    base64, so Python makes the ids (about 4 s for a million)."""
    sids = ((base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode(), f"bench-{i}")
            for i in range(rows))
    conn = sqlite3.connect(db_path)
    conn.executemany(
        "INSERT INTO token_blacklist (token_id, kind, session_id, reason, created_at, expires_at) "
        "VALUES (?, 'sid', ?, 'bench', datetime('now', '-1 minute'), datetime('now', '+1 day'))",
        sids,
    )
    conn.commit()
    conn.close()


def seed_blacklist_postgres(url, rows):
    sid = "rtrim(translate(encode(decode(md5(random()::text || i), 'hex'), 'base64'), '+/', '-_'), '=')"
    sql = (
        "INSERT INTO token_blacklist (token_id, kind, session_id, reason, created_at, expires_at) "
        f"SELECT {sid}, 'sid', 'bench-' || i, 'bench', now() - interval '1 minute', "
        f"now() + interval '1 day' FROM generate_series(1, {rows}) AS i"
    )
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True)


def fresh_postgres_database(admin_url):
    name = f"gatehouse_bench_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", "-q", admin_url, "-c", f"CREATE DATABASE {name}"], check=True)
    return admin_url.rsplit("/", 1)[0] + "/" + name


def argon2_rate(seconds):
    """Raw Argon2id verifications/s with the server's parameters, on the server's core."""
    out = subprocess.run(
        ["taskset", "-c", SERVER_CORE, str(ARGON2_BIN), "--seconds", str(seconds),
         "--threads", str(HASH_CONCURRENCY)],
        capture_output=True, text=True, check=True,
    ).stdout
    return float(re.search(r"verifications/s: ([\d.]+)", out).group(1))


def backend_ratios(backend, database_url, results):
    """R3-R6 on one backend (SQLite, or PostgreSQL when database_url is set)."""
    fresh = (lambda: fresh_postgres_database(database_url)) if database_url else (lambda: None)
    log(f"== {backend}: R3 (1M blacklist rows), R4, R5, R6")

    # R3: the same authenticated endpoint on a server whose revocation set holds 1M
    # entries, and on one whose set is empty. Both idle except when measured.
    empty = Server(f"{backend}-empty", fresh())
    loaded = Server(f"{backend}-loaded", fresh())
    if database_url:
        seed_blacklist_postgres(loaded.database_url, BLACKLIST_ROWS)
    else:
        seed_blacklist_sqlite(Path(loaded.dir.name) / "gatehouse.db", BLACKLIST_ROWS)
    started = time.time()
    loaded.restart()
    load_seconds = time.time() - started
    cookie_loaded = loaded.sign_up("r3@example.com")[0]
    cookie_empty = empty.sign_up("r3@example.com")[0]
    # Warm both (caches, connections) before measuring.
    r3_expect = '"SignedIn":{"email":"r3@example.com"}'
    for server, cookie in ((loaded, cookie_loaded), (empty, cookie_empty)):
        wrk(server.base + "/api/session/viewer", seconds=1, env=post_env(cookie), expect=r3_expect)
    rss_loaded_kib = loaded.status("VmRSS")
    rss_empty_kib = empty.status("VmRSS")
    r3 = alternate(
        "R3",
        lambda: wrk(loaded.base + "/api/session/viewer", seconds=FAST_SECONDS,
                    env=post_env(cookie_loaded), expect=r3_expect)["rps"],
        lambda: wrk(empty.base + "/api/session/viewer", seconds=FAST_SECONDS,
                    env=post_env(cookie_empty), expect=r3_expect)["rps"],
        FAST_ROUNDS,
    )
    r3["revocation_set_mib"] = (rss_loaded_kib - rss_empty_kib) / 1024
    r3["revocation_set_bytes_per_entry"] = (rss_loaded_kib - rss_empty_kib) * 1024 / BLACKLIST_ROWS
    r3["startup_with_1m_rows_s"] = load_seconds
    results[f"R3_{backend}"] = r3
    loaded.stop()
    empty.stop()

    # R4 (rotations vs logins), then R5 (logins vs raw Argon2id) on a fresh server.
    server = Server(f"{backend}-auth", fresh())
    server.sign_up("flood@example.com")
    login_env = post_env(body=urllib.parse.urlencode({"email": "flood@example.com", "password": PASSWORD}))

    def logins():
        # Two at a time keep the one hashing thread busy (one hashes while the other
        # waits). One account may have four password checks in flight; with more
        # connections, a reused one racing its previous answer was now and then a fifth,
        # refused and counted as a failure, and over five rounds those filled the
        # address's bucket and refused every login after.
        result = wrk(server.base + "/api/auth/login", connections=2, env=login_env)
        assert result["non_2xx"] == 0, result
        return result["rps"]

    def rotations():
        chains = 8
        tokens = Path(server.dir.name) / "chains.txt"
        tokens.write_text("\n".join(server.log_in("flood@example.com")[1].split("=", 1)[1]
                                    for _ in range(chains)) + "\n")
        result = wrk(server.base + "/api/auth/refresh", threads=chains, connections=chains,
                     script="rotate.lua", env={"BENCH_TOKENS": str(tokens)})
        assert result["non_2xx"] == 0, f"a rotation chain broke: {result}"
        return result["rps"]

    r4 = alternate("R4", rotations, logins)
    r4["rotations_per_s"] = r4["a_per_s"]
    results[f"R4_{backend}"] = r4
    # R5 on a fresh server: every login above left a device session (the limit is off
    # here), and a login checks the account's sessions, so thousands of them would make
    # R5 measure that instead of the hashing.
    server.stop()
    server = Server(f"{backend}-logins", fresh())
    server.sign_up("flood@example.com")
    results[f"R5_{backend}"] = alternate("R5", logins, lambda: argon2_rate(SECONDS))

    server.stop()

    # R6: authenticated page views with and without a login flood, on a fresh server
    # whose resident memory before any password hashing is the base of the memory bound.
    server = Server(f"{backend}-flood", fresh())
    base_rss_mib = server.status("VmRSS") / 1024
    cookie = server.sign_up("reader@example.com")[0]
    server.sign_up("flood@example.com")
    page = server.base + "/account"

    def pages_during_flood():
        flood = subprocess.Popen(
            ["taskset", "-c", LOAD_CORES, "wrk", "-t1", "-c8", f"-d{SECONDS + 2}s", "-s",
             str(LUA / "request.lua"), server.base + "/api/auth/login"],
            env={**os.environ, **login_env}, stdout=subprocess.DEVNULL)
        time.sleep(1)
        rps = wrk(page, env=get_env(cookie), expect="reader@example.com")["rps"]
        flood.wait()
        return rps

    r6 = alternate("R6", pages_during_flood,
                   lambda: wrk(page, env=get_env(cookie), expect="reader@example.com")["rps"])
    r6["peak_rss_mib"] = server.status("VmHWM") / 1024
    r6["base_rss_mib"] = base_rss_mib
    r6["rss_bound_mib"] = HASH_CONCURRENCY * 19 + base_rss_mib
    results[f"R6_{backend}"] = r6
    server.stop()


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def first_cookie(set_cookies):
    return set_cookies[0].split(";", 1)[0]


def all_cookies(set_cookies):
    """Every cookie an answer set, as one Cookie header (a client forwarding them all)."""
    return "; ".join(c.split(";", 1)[0] for c in set_cookies)


def start_peers():
    """The peers that can run here, each signed in once: {name: (server, cookie)}.

    axum-login and Better Auth run twice: as their documentation sets them up first
    (the targets are against these), then at their best (`*_best`, reported beside)."""
    peers, skipped = {}, {}
    if (PEER_BINS / "bare-axum").exists():
        peers["bare_axum"] = (Server("bare-axum", command=[str(PEER_BINS / "bare-axum")]), None)
    else:
        skipped["bare_axum"] = "bench/peers was not built"
    if (PEER_BINS / "axum-login").exists():
        # Best: tower-sessions' CachingSessionStore, moka in front of SQLite.
        for name, env in (("axum_login", {}), ("axum_login_best", {"SESSION_CACHE": "moka"})):
            server = Server(name.replace("_", "-"), extra_env=env,
                            command=[str(PEER_BINS / "axum-login")])
            status, cookies = server.post("/signup", {"email": "peer@example.com", "password": PASSWORD})
            assert status == 200, status
            peers[name] = (server, first_cookie(cookies))
    else:
        skipped["axum_login"] = skipped["axum_login_best"] = "bench/peers was not built"
    better_auth = PEERS / "better-auth"
    if not shutil.which("node"):
        skipped["better_auth"] = skipped["better_auth_best"] = "Node.js is not installed"
    elif not (better_auth / "node_modules/better-sqlite3/build/Release/better_sqlite3.node").exists():
        skipped["better_auth"] = skipped["better_auth_best"] = \
            "its npm packages are not installed (scripts/bench.sh installs them)"
    else:
        # Best: NODE_ENV=production and the documented session.cookieCache (the session
        # read from a signed cookie, not the database); the client sends back every
        # cookie the sign-up set, the cache's included.
        for name, env in (("better_auth", {}),
                          ("better_auth_best", {"NODE_ENV": "production", "COOKIE_CACHE": "1"})):
            port = free_port()
            server = Server(name.replace("_", "-"), extra_env={"PORT": str(port), **env},
                            command=["node", str(better_auth / "server.mjs")])
            status, cookies = server.post("/api/auth/sign-up/email", json_body={
                "email": "peer@example.com", "password": PASSWORD, "name": "Peer"})
            assert status == 200, status
            if env:
                assert any("session_data=" in c for c in cookies), f"no cookie cache: {cookies}"
            peers[name] = (server, all_cookies(cookies))
    for name, reason in skipped.items():
        log(f"  peer {name} skipped: {reason}")
    return peers, skipped


def peer_ratios(results, skip_missing):
    """Gatehouse's authenticated call / each peer's, alternating rounds, one core each."""
    log("== Peers: Gatehouse's authenticated call against bare axum, axum-login, Better Auth")
    gatehouse = Server("peers-gatehouse")
    cookie = gatehouse.sign_up("peer@example.com")[0]
    ours = gatehouse.base + "/api/session/viewer"
    peers, skipped = start_peers()
    if skipped and not skip_missing:
        for server, _ in peers.values():
            server.stop()
        gatehouse.stop()
        sys.exit("peers that cannot run: " + "; ".join(f"{n} ({r})" for n, r in skipped.items())
                 + ". Install them, or pass --skip-missing-peers (make bench ARGS=--skip-missing-peers).")
    out = {"skipped": skipped}
    try:
        for name, (server, peer_cookie) in peers.items():
            theirs = server.base + "/api/session/viewer"
            # Every answer is checked, ours and theirs: signed in (axum-login answers a
            # signed-out caller 200 too).
            ours_signed_in = '"SignedIn":{"email":"peer@example.com"}'
            for url, c, expect in ((ours, cookie, ours_signed_in),
                                   (theirs, peer_cookie, '"signed_in":true')):
                wrk(url, seconds=1, env=post_env(c), expect=expect)
            out[name] = alternate(
                f"Gatehouse/{name}",
                lambda: wrk(ours, seconds=PEER_SECONDS, env=post_env(cookie),
                            expect=ours_signed_in)["rps"],
                lambda: wrk(theirs, seconds=PEER_SECONDS, env=post_env(peer_cookie),
                            expect='"signed_in":true')["rps"],
                PEER_ROUNDS,
            )
            out[name]["target"] = PEER_TARGETS.get(name)
        if "bare_axum" in peers:
            out["fork_route"] = fork_route_ratio(gatehouse, cookie, *peers["bare_axum"])
            out["many_users"] = many_users_ratio(*peers["bare_axum"])
    finally:
        for server, _ in peers.values():
            server.stop()
    out["pages"] = page_rates(gatehouse, cookie)
    gatehouse.stop()
    results["peers"] = out


def fork_route_ratio(gatehouse, cookie, bare, bare_cookie):
    """A fork's protected axum route on Gatehouse / the same route unprotected in bare
    axum: `GET /api/v1/me` on both, the same request (the same access cookie, which bare
    axum ignores) and the same JSON shape, so the ratio is what the protection costs.
    Beside it, as measured before 2026-12-07, the route / bare axum's viewer handler
    (a POST without a cookie), which also counts the request's extra bytes."""
    ours = gatehouse.base + "/api/v1/me"
    same_route = bare.base + "/api/v1/me"
    viewer = bare.base + "/api/session/viewer"
    wrk(ours, seconds=1, env=get_env(cookie), expect='"session_id"')
    wrk(same_route, seconds=1, env=get_env(cookie), expect='"session_id"')
    ratio = alternate(
        "fork route/bare axum's same route",
        lambda: wrk(ours, seconds=PEER_SECONDS, env=get_env(cookie), expect='"session_id"')["rps"],
        lambda: wrk(same_route, seconds=PEER_SECONDS, env=get_env(cookie),
                    expect='"session_id"')["rps"],
        PEER_ROUNDS,
    )
    ratio["target"] = FORK_ROUTE_TARGET
    ratio["against_viewer"] = alternate(
        "fork route/bare axum's viewer",
        lambda: wrk(ours, seconds=PEER_SECONDS, env=get_env(cookie), expect='"session_id"')["rps"],
        lambda: wrk(viewer, seconds=PEER_SECONDS, env=post_env(bare_cookie),
                    expect='"signed_in":true')["rps"],
        PEER_ROUNDS,
    )
    return ratio


def sign_up_many(server, count):
    """Signs up `count` accounts (eight at a time) and returns their access cookies."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda i: server.sign_up(f"user{i}@example.com")[0], range(count)))


def many_users_ratio(bare, bare_cookie):
    """MANY_USERS signed-in users taking turns (each request the next one's cookie) /
    bare axum, the same requests: each token is verified once, cold, then answered from
    the token cache, as in production. The one-cookie ratio is a cache hit every time."""
    # Fast hashing and a high sign-up limit only make the seeding quick: the measured
    # call never hashes, and the limit counts sign-ups, not reads.
    server = Server("many-users", extra_env={"INSECURE_FAST_PASSWORD_HASHING": "true",
                                             "SIGN_UPS_PER_HOUR": str(MANY_USERS * 2)})
    try:
        started = time.time()
        cookies = sign_up_many(server, MANY_USERS)
        log(f"  {MANY_USERS:,} users signed up in {time.time() - started:.0f} s")
        server.wait_idle()
        path = Path(server.dir.name) / "cookies.txt"
        path.write_text("\n".join(cookies) + "\n")
        # Bare axum gets the same request bytes (it ignores the cookie).
        env = {**post_env(), "BENCH_COOKIES_FILE": str(path)}
        ours = server.base + "/api/session/viewer"
        theirs = bare.base + "/api/session/viewer"
        # No warm-up: the first round's first pass over the users is the cold one.
        ratio = alternate(
            f"{MANY_USERS:,} users/bare_axum",
            lambda: wrk(ours, seconds=PEER_SECONDS, env=env, expect='"SignedIn"')["rps"],
            lambda: wrk(theirs, seconds=PEER_SECONDS, env=env,
                        expect='"signed_in":true')["rps"],
            PEER_ROUNDS,
        )
    finally:
        server.stop()
    ratio["users"] = MANY_USERS
    return ratio


def page_rates(server, cookie):
    """Pages/s on one core: /login signed out, and /devices signed in with 5 devices."""
    for _ in range(4):
        server.log_in("peer@example.com")
    pages = {}
    for name, path, c, expect in (("login", "/login", None, 'name="password"'),
                                  ("devices_5", "/devices", cookie, "peer@example.com")):
        url = server.base + path
        wrk(url, seconds=1, env=get_env(c), expect=expect)
        runs = [wrk(url, seconds=PEER_SECONDS, env=get_env(c), expect=expect)
                for _ in range(PEER_ROUNDS)]
        pages[name] = {"per_s": statistics.median(r["rps"] for r in runs),
                       "target": PAGE_TARGETS[name]}
        log(f"  {path}: {pages[name]['per_s']:,.0f} pages/s")
    return pages


def micro_benchmarks():
    """Criterion's per-operation estimates (ns), from server/benches/auth.rs."""
    subprocess.run(
        ["cargo", "bench", "--profile", "dist", "-p", "server", "--bench", "auth", "--",
         "--warm-up-time", "0.5", "--measurement-time", "1.5", "--noplot"],
        cwd=ROOT, check=True, stdout=sys.stderr,
    )
    out = {}
    for estimates in sorted((ROOT / "target/criterion").glob("*/new/estimates.json")):
        name = estimates.parent.parent.name
        out[name] = json.loads(estimates.read_text())["median"]["point_estimate"]
    return out


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cores": CORES, "kernel": platform.release(),
            "server_core": SERVER_CORE, "load_core": LOAD_CORES,
            "seconds_per_run": SECONDS, "rounds": ROUNDS,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


# Every target is a lower bound: Gatehouse's authenticated call / the peer's, and pages/s.
# The peers at their best have no target: they are reported beside their defaults.
PEER_TARGETS = {"bare_axum": 0.8, "axum_login": 5, "axum_login_best": None,
                "better_auth": 25, "better_auth_best": None}
PEER_MEANING = {"bare_axum": "a bare axum JSON handler (the ceiling)",
                "axum_login": "axum-login + tower-sessions on SQLite",
                "axum_login_best": "axum-login, sessions cached by moka in front of SQLite",
                "better_auth": "Better Auth on Node with SQLite",
                "better_auth_best": "Better Auth, NODE_ENV=production and session.cookieCache"}
PAGE_TARGETS = {"login": 15_000, "devices_5": 5_000}
# A fork's own axum route behind the SignedIn extractor (GET /api/v1/me, signed in) /
# the same route unprotected in bare axum, the same request: what protecting it costs.
FORK_ROUTE_TARGET = 0.85
TARGETS = {"R1": 0.95, "R2": 0.95, "R3": 0.98, "R4": 20, "R5": 0.85, "R6": 0.7}
MEANING = {
    "R1": "authenticated JSON endpoint / same endpoint signed out",
    "R2": "authenticated SSR page / same page signed out",
    "R3": "R1 endpoint with 1M blacklist rows / with none",
    "R4": "refresh rotations/s / logins/s",
    "R5": "logins/s / raw Argon2id verifications/s",
    "R6": "authenticated page views/s during a login flood / without",
}


def main():
    parser = argparse.ArgumentParser(description="Gatehouse's benchmark (make bench ARGS=...)")
    parser.add_argument("--report-only", action="store_true",
                        help="report missed targets without failing")
    parser.add_argument("--skip-missing-peers", action="store_true",
                        help="leave out a peer that cannot run instead of failing")
    args = parser.parse_args()
    started = time.time()
    results = {"machine": machine()}
    postgres = os.environ.get("DATABASE_URL", "")
    if postgres and not postgres.startswith("postgres"):
        postgres = ""

    log("== SQLite: R1, R2 and fixed-rate latency")
    server = Server("sqlite-main")
    cookie = server.sign_up("r1@example.com")[0]
    viewer = server.base + "/api/session/viewer"
    signed_in, signed_out = '"SignedIn":{"email":"r1@example.com"}', '"SignedOut"'
    wrk(viewer, seconds=1, env=post_env(cookie), expect=signed_in)
    r1 = alternate("R1", lambda: wrk(viewer, seconds=FAST_SECONDS, env=post_env(cookie),
                                     expect=signed_in)["rps"],
                   lambda: wrk(viewer, seconds=FAST_SECONDS, env=post_env(),
                               expect=signed_out)["rps"], FAST_ROUNDS)
    home = server.base + "/"
    # The header names the signed-in address; signed out it offers the sign-up page.
    wrk(home, seconds=1, env=get_env(cookie), expect="r1@example.com")
    r2 = alternate("R2", lambda: wrk(home, seconds=FAST_SECONDS, env=get_env(cookie),
                                     expect="r1@example.com")["rps"],
                   lambda: wrk(home, seconds=FAST_SECONDS, env=get_env(),
                               expect='href="/signup"')["rps"], FAST_ROUNDS)
    r1["latency_at_half_max"] = fixed_rate(viewer, post_env(cookie), r1["a_per_s"] / 2)
    r2["latency_at_half_max"] = fixed_rate(home, get_env(cookie), r2["a_per_s"] / 2)
    results["R1_sqlite"], results["R2_sqlite"] = r1, r2
    server.stop()

    peer_ratios(results, args.skip_missing_peers)
    backend_ratios("sqlite", None, results)
    if postgres:
        backend_ratios("postgres", postgres, results)

    results["micro_ns"] = micro_benchmarks()
    results["elapsed_s"] = time.time() - started
    publish(results, "latest", table(results), missed_targets(results), args.report_only,
            svg=chart(results))


def publish(results, name, text, missed, report_only, svg=None):
    """Writes bench/results/NAME.json (and NAME.svg), prints `text`, and exits 1 when a
    target was `missed` unless `report_only`."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    if svg is not None:
        (RESULTS / f"{name}.svg").write_text(svg)
    print(text)
    if missed:
        log(f"targets missed: {', '.join(missed)}")
        if not report_only:
            sys.exit(1)


def missed_targets(results):
    """The names of the targets this run missed."""
    missed = [key for key, value in results.items()
              if re.match(r"R\d_", key) and value["ratio"] < TARGETS[key.split("_")[0]]]
    peers = results.get("peers", {})
    missed += [f"G/{name}" for name, target in PEER_TARGETS.items()
               if target is not None and name in peers and peers[name]["ratio"] < target]
    missed += [f"{name} pages/s" for name, page in peers.get("pages", {}).items()
               if page["per_s"] < page["target"]]
    fork = peers.get("fork_route")
    if fork and fork["ratio"] < fork["target"]:
        missed.append("fork route")
    return missed


def verdict(name, value):
    return "met" if value >= TARGETS[name] else "MISSED"


def table(results):
    lines = ["| ratio | backend | meaning | A/s | B/s | A/B (median) | target | |",
             "|---|---|---|---:|---:|---:|---:|---|"]
    for key, value in results.items():
        if not re.match(r"R\d_", key):
            continue
        name, backend = key.split("_")
        target = TARGETS[name]
        lines.append(f"| {name} | {backend} | {MEANING[name]} | {value['a_per_s']:,.0f} | "
                     f"{value['b_per_s']:,.0f} | {value['ratio']:.3f} | ≥ {target} | "
                     f"{verdict(name, value['ratio'])} |")
    peers = results.get("peers", {})
    def row(label, meaning, p):
        target = p.get("target")
        judged = ("(reported)", "") if target is None else (
            f"≥ {target}", "met" if p["ratio"] >= target else "MISSED")
        return (f"| {label} | sqlite | {meaning} | {p['a_per_s']:,.0f} | {p['b_per_s']:,.0f} | "
                f"{p['ratio']:.3f} | {judged[0]} | {judged[1]} |")

    for name in PEER_TARGETS:
        if name in peers:
            lines.append(row("G/peer", f"Gatehouse's authenticated call / {PEER_MEANING[name]}",
                             peers[name]))
    many = peers.get("many_users")
    if many:
        lines.append(row("G/bare", f"the same, {many['users']:,} signed-in users taking turns "
                         "(each token verified cold once) / bare axum", many))
    fork = peers.get("fork_route")
    if fork:
        lines.append(row("fork/bare", "a fork's axum route behind SignedIn / the same route "
                         "in bare axum, the same request", fork))
        if "against_viewer" in fork:
            lines.append(row("fork/viewer", "the same route / bare axum's viewer handler "
                             "(a POST without a cookie; the comparison until 2026-12-07)",
                             fork["against_viewer"]))
    extra = []
    for name, reason in peers.get("skipped", {}).items():
        extra.append(f"- peer {name} not measured: {reason}")
    for name, page in peers.get("pages", {}).items():
        extra.append(f"- pages/s on one core, {name.replace('_', ' with ')}: {page['per_s']:,.0f} "
                     f"(target ≥ {page['target']:,}: {'met' if page['per_s'] >= page['target'] else 'MISSED'})")
    for key in ("R1_sqlite", "R2_sqlite"):
        lat = results[key]["latency_at_half_max"]
        extra.append(f"- {key[:2]} latency at ~half the maximum rate ({lat['rps']:,.0f}/s achieved): "
                     f"p50 {lat['p50_ms']:.2f} ms, p99 {lat['p99_ms']:.2f} ms")
    for key in [k for k in results if k.startswith("R3_")]:
        r3 = results[key]
        extra.append(f"- {key}: the revocation set with 1M entries takes {r3['revocation_set_mib']:.0f} MiB "
                     f"({r3['revocation_set_bytes_per_entry']:.0f} bytes each); start-up with them "
                     f"{r3['startup_with_1m_rows_s']:.1f} s")
    for key in [k for k in results if k.startswith("R4_")]:
        extra.append(f"- {key}: {results[key]['rotations_per_s']:,.0f} rotations/s on their own (target ≥ 1,000)")
    for key in [k for k in results if k.startswith("R6_")]:
        r6 = results[key]
        extra.append(f"- {key}: peak RSS over the server's life, floods included, {r6['peak_rss_mib']:.0f} MiB "
                     f"(bound: {HASH_CONCURRENCY} hash × 19 MiB + {r6['base_rss_mib']:.0f} MiB at start "
                     f"= {r6['rss_bound_mib']:.0f} MiB)")
    micro = results.get("micro_ns", {})
    if micro:
        extra.append("- single operations (Criterion median): " + ", ".join(
            f"{name.replace('_', ' ')} {ns / 1000:.2f} µs" if ns >= 1000 else f"{name.replace('_', ' ')} {ns:.0f} ns"
            for name, ns in micro.items()))
    many = peers.get("many_users")
    if many and "token_verify_cold" in micro:
        extra.append(f"- {many['users']:,} users taking turns: {many['ratio']:.3f} of bare axum "
                     f"(one cookie: {peers['bare_axum']['ratio']:.3f}); a token's first, cold "
                     f"verification costs {micro['token_verify_cold'] / 1000:.1f} µs, a cached one "
                     f"{micro.get('token_verify_cached', 0):.0f} ns")
    m = results["machine"]
    extra.append(f"- machine: {m['cpu']}, {m['cores']} cores; server on core {m['server_core']}, "
                 f"wrk on core {m['load_core']}; {m['seconds_per_run']} s per run; whole run "
                 f"{results['elapsed_s'] / 60:.1f} min")
    return "\n".join(lines + [""] + extra)


def chart(results):
    """A horizontal bar per ratio, as a fraction of its target (1.0 = target met)."""
    rows = [(k, v["ratio"], TARGETS[k.split("_")[0]]) for k, v in results.items() if re.match(r"R\d_", k)]
    peers = results.get("peers", {})
    rows += [(f"G/{name}", peers[name]["ratio"], target) for name, target in PEER_TARGETS.items()
             if name in peers and target is not None]
    rows += [(f"{name} pages/s", page["per_s"], page["target"]) for name, page in peers.get("pages", {}).items()]
    if "fork_route" in peers:
        rows.append(("fork route", peers["fork_route"]["ratio"], peers["fork_route"]["target"]))
    rows += [(f"G/{name}", None, PEER_TARGETS[name]) for name in peers.get("skipped", {})
             if PEER_TARGETS[name] is not None]
    width, bar_h, left = 720, 26, 190
    height = 60 + bar_h * len(rows)
    scale = (width - left - 80) / 1.5
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="13">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             '<text x="10" y="22" font-size="15" font-weight="bold">Gatehouse: measured ratio ÷ target '
             '(1.0 = target met)</text>']
    for i, (key, ratio, target) in enumerate(rows):
        y = 40 + i * bar_h
        if ratio is None:
            parts.append(f'<text x="10" y="{y + 17}">{key.replace("_", " ")}: not measured (≥ {target})</text>')
            continue
        frac = ratio / target
        color = "#2e7d32" if frac >= 1 else "#c62828"
        parts.append(f'<text x="10" y="{y + 17}">{key.replace("_", " ")}: {ratio:.3g} (≥ {target})</text>')
        parts.append(f'<rect x="{left}" y="{y + 4}" width="{min(frac, 1.5) * scale:.1f}" '
                     f'height="{bar_h - 8}" fill="{color}"/>')
        parts.append(f'<text x="{left + min(frac, 1.5) * scale + 6:.1f}" y="{y + 17}">{frac:.2f}</text>')
    x1 = left + scale
    parts.append(f'<line x1="{x1}" y1="34" x2="{x1}" y2="{height - 10}" stroke="black" stroke-dasharray="4 3"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    main()
