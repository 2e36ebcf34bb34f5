#!/usr/bin/env python3
"""`make bench-scale`: Gatehouse on PostgreSQL at real data sizes (issue 34, item 5).

Two fresh databases in one run, one empty and one seeded by SQL (generate_series, never
through the API) with 1M accounts, 5M device sessions of which 4M are expired or revoked,
10M refresh-token rows (8M expired) and 1M live revocations. Measured, each as the seeded
database's rate ÷ the empty one's, in alternating rounds (bench/run.py's `alternate`):
logins, refresh rotations and signed-in `/devices` pages (target ≥ 0.9 each). Then the
cleanup job deletes the dead rows while rotations run (refresh p99 < 50 ms, no lock wait
longer than DATABASE_TIMEOUT), an instance starts with the 1M revocations (≤ 1 s), and
EXPLAIN shows every hot query on the seeded tables using an index.

Between cleanups the dead rows sit in the tables, and that is what the ratios measure.
The server cleans up as soon as it starts, so the servers of the ratios connect as a role
without DELETE on refresh_tokens (the first table the job empties): their first cleanup
fails on it and deletes nothing. The cleanup run gets the privilege once its load is
running, and the job's next tick does the work.

Reuses bench/run.py (the pinned server, wrk, alternate). Needs DATABASE_URL: the admin
URL of a PostgreSQL cluster of its own (scripts/bench-scale.sh starts a throwaway one with
log_lock_waits on and names its log in BENCH_PG_LOG). Writes bench/results/scale.json,
prints a table, exits non-zero when a target is missed unless `--report-only`.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (bench/run.py: the server, wrk and the alternating rounds)
from run import alternate, get_env, log, post_env, wrk  # noqa: E402

FULL_USERS = 1_000_000  # with 5 sessions and 10 refresh tokens per account
FULL_BLACKLIST = 1_000_000
RATIO_TARGET = 0.9
P99_TARGET_MS = 50
STARTUP_TARGET_S = 1.0
STARTUPS = 3
DATABASE_TIMEOUT_MS = 1500  # server/src/config.rs's default, which the servers here keep
# The role the measured servers connect as: everything but DELETE on refresh_tokens.
APP_ROLE = "gatehouse_app"
# The cleanup run's interval: its first tick (at start) fails for want of the privilege,
# the second comes this long after, under load.
CLEANUP_INTERVAL_S = 15
# Rotations run in chunks of this many seconds while the cleanup works (each chunk
# starts fresh chains: rotate.lua's chains end with the wrk run).
CHUNK_SECONDS = 5
CHAINS = 8
BIG_TABLES = ("users", "device_sessions", "refresh_tokens", "token_blacklist")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def psql(url, sql, variables=None):
    """Runs `sql` (one or more statements, from stdin) and returns its unaligned output."""
    command = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"]
    for name, value in (variables or {}).items():
        command += ["-v", f"{name}={value}"]
    return subprocess.run(command + [url], input=sql, capture_output=True, text=True,
                          check=True).stdout.strip()


def as_role(url, role):
    """The same database URL, connecting as `role`."""
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{role}@{host}"))


def grant_app_role(url):
    """The measured servers' role: all they need, but no DELETE on refresh_tokens."""
    psql(url, f"""
        DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN;
        EXCEPTION WHEN duplicate_object THEN NULL; END $$;
        GRANT USAGE, CREATE ON SCHEMA public TO {APP_ROLE};
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE};
        REVOKE DELETE ON refresh_tokens FROM {APP_ROLE};
    """)


def migrated_database(admin_url, name):
    """A fresh database migrated by the server itself (as the owner), with one account
    signed up through the API; returns (owner URL, that account's Argon2 hash)."""
    url = run.fresh_postgres_database(admin_url)
    server = run.Server(f"scale-{name}-migrate", url)
    try:
        server.sign_up(f"template@{name}.example")
    finally:
        server.stop()
    hash_ = psql(url, f"SELECT password_hash FROM users WHERE email = 'template@{name}.example'")
    assert hash_.startswith("$argon2"), hash_
    return url, hash_


# A session id as Gatehouse makes one (16 random bytes, base64url), from its number.
SID = "rtrim(translate(encode(decode(md5('s' || {n}), 'hex'), 'base64'), '+/', '-_'), '=')"
# A refresh token's SHA-256 in hex (64 characters), from its number.
TOKEN_HASH = "md5('r' || {n}) || md5('R' || {n})"

SEED_SQL = f"""
SET TIME ZONE 'UTC';
-- The ids are made to match, so the foreign-key triggers are skipped for speed.
SET session_replication_role = replica;
INSERT INTO users (id, email, password_hash, created_at, password_changed_at,
                   email_verified_at, notify_new_device)
SELECT md5('u' || j)::uuid::text, 'user' || j || '@scale.example', :'hash',
       now()::timestamp - (j % 700) * interval '1 day',
       now()::timestamp - (j % 700) * interval '1 day',
       now()::timestamp - (j % 700) * interval '1 day' + interval '5 minutes', true
FROM generate_series(1, :users) AS j;

-- Session n belongs to account 1 + (n - 1) % users; of an account's five, the one in
-- round (n - 1) / users = account % 5 is live, so live rows are spread through the
-- table as they are in one that has run for a while. Of the dead, even numbers
-- expired (idle and absolute), odd ones were signed out.
CREATE TEMP VIEW seed_sessions AS
SELECT n, 1 + (n - 1) % :users AS account,
       CASE WHEN (n - 1) / :users = (1 + (n - 1) % :users) % 5 THEN 'live'
            WHEN n % 2 = 0 THEN 'expired' ELSE 'revoked' END AS state,
       now()::timestamp AS t0
FROM generate_series(1, 5 * :users) AS n;

CREATE TEMP VIEW seed_session_times AS
SELECT n, account, state, created,
       CASE state WHEN 'live' THEN greatest(created, t0 - (n % 600) * interval '1 minute')
                  WHEN 'expired' THEN created + (n % 10) * interval '1 day'
                  ELSE created + interval '12 hours' END AS seen
FROM (SELECT *, CASE state
                  WHEN 'live' THEN t0 - (n % 600) * interval '1 hour'
                  WHEN 'expired' THEN t0 - (40 + n % 300) * interval '1 day'
                  ELSE t0 - (16 + n % 15) * interval '1 day' END AS created
      FROM seed_sessions) AS s;

INSERT INTO device_sessions (id, user_id, created_at, last_seen_at, expires_at,
    absolute_expires_at, revoked_at, revoke_reason, user_agent, ip, device_label,
    access_expires_at, sign_in_method, proven_at, sign_in_provider)
SELECT {SID.format(n="n")}, md5('u' || account)::uuid::text, created, seen,
       -- A revoked session expires with its blacklist entry (as a revocation sets it).
       CASE state WHEN 'revoked' THEN seen + interval '1 hour 5 seconds'
                  ELSE seen + interval '7 days' END,
       created + interval '30 days',
       CASE state WHEN 'revoked' THEN seen + interval '1 hour' END,
       CASE state WHEN 'revoked' THEN 'logout' END,
       'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) '
         || 'Chrome/131.0.0.0 Safari/537.36',
       '198.51.100.' || (1 + n % 254), 'Chrome 131 on Linux',
       seen + interval '15 minutes', 'password', created, NULL
FROM seed_session_times;

-- Two links per session's chain: token n (used, replaced by n + sessions) and token
-- n + sessions (the head). A live session's links are unexpired; a dead one's expired.
INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at, used_at, replaced_by)
SELECT {TOKEN_HASH.format(n="r")}, {SID.format(n="n")}, issued, issued + interval '7 days',
       CASE WHEN r = n THEN issued + interval '1 hour' END,
       CASE WHEN r = n THEN {TOKEN_HASH.format(n="(r + 5 * :users)")} END
FROM (SELECT r, n, CASE WHEN r = n THEN seen - interval '1 hour' ELSE seen END AS issued
      FROM seed_session_times, LATERAL (VALUES (n), (n + 5 * :users)) AS links (r)) AS t;
SET session_replication_role = DEFAULT;
"""


def seed(url, users, blacklist, hash_):
    """Seeds by SQL, then VACUUM ANALYZE (the state autovacuum keeps a table in)."""
    psql(url, SEED_SQL, {"users": users, "hash": hash_})
    run.seed_blacklist_postgres(url, blacklist)
    subprocess.run(["psql", "-X", "-q", url, "-c", "VACUUM (ANALYZE)"], check=True)
    return {table: int(psql(url, f"SELECT count(*) FROM {table}")) for table in BIG_TABLES}


class Bench:
    """One server's accounts for the three measured paths, each its own account so that
    one path's sessions never weigh on another."""

    def __init__(self, server, domain="scale.example"):
        self.server = server
        self.domain = domain
        for who in ("login", "rotate", "reader"):
            server.sign_up(f"{who}@{domain}")
        # The reader's devices page lists 5 devices on both databases.
        for _ in range(3):
            server.log_in(f"reader@{domain}")
        self.cookie = server.log_in(f"reader@{domain}")[0]
        self.login_env = post_env(body=urllib.parse.urlencode(
            {"email": f"login@{domain}", "password": run.PASSWORD}))

    def logins(self, seconds=run.SECONDS):
        # Two at a time keep the one hashing thread busy (bench/run.py's R5).
        result = wrk(self.server.base + "/api/auth/login", seconds=seconds, connections=2,
                     env=self.login_env)
        assert result["non_2xx"] == 0, result
        return result["rps"]

    def rotation_run(self, seconds=run.SECONDS, latency=False, delay_ms=None):
        """Rotations along CHAINS fresh chains (bench/run.py's R4), each pausing
        `delay_ms` before a request if given: wrk's whole result."""
        tokens = Path(self.server.dir.name) / "chains.txt"
        tokens.write_text("\n".join(self.server.log_in(f"rotate@{self.domain}")[1].split("=", 1)[1]
                                    for _ in range(CHAINS)) + "\n")
        return wrk(self.server.base + "/api/auth/refresh", seconds=seconds, threads=CHAINS,
                   connections=CHAINS, script="rotate.lua",
                   env={"BENCH_TOKENS": str(tokens),
                        "BENCH_DELAY_MS": "" if delay_ms is None else str(delay_ms)},
                   latency=latency)

    def rotations(self, seconds=run.SECONDS):
        result = self.rotation_run(seconds)
        assert result["non_2xx"] == 0, f"a rotation chain broke: {result}"
        return result["rps"]

    def devices(self, seconds=run.SECONDS):
        """Signed-in /devices pages; a page without the reader's address fails the run."""
        return wrk(self.server.base + "/devices", seconds=seconds, env=get_env(self.cookie),
                   expect=f"reader@{self.domain}")["rps"]


def throughput(seeded, empty):
    """Seeded ÷ empty for logins, rotations and /devices, each after a warm-up run."""
    a, b = Bench(seeded), Bench(empty)
    out = {}
    for name in ("login", "refresh", "devices"):
        run_a, run_b = {"login": (a.logins, b.logins), "refresh": (a.rotations, b.rotations),
                        "devices": (a.devices, b.devices)}[name]
        run_a(seconds=1)
        run_b(seconds=1)
        out[name] = alternate(f"{name} seeded/empty", run_a, run_b)
        out[name]["range"] = [min(out[name]["ratios"]), max(out[name]["ratios"])]
    return out


def startups(url):
    """Seconds from process start to "listening on", STARTUPS times, with the seeded
    database's live revocations (the servers' first cleanup fails, see above)."""
    times = []
    for i in range(STARTUPS):
        started = time.time()
        server = run.Server(f"scale-startup-{i}", url)
        times.append(time.time() - started)
        server.stop()
        log(f"  start-up {i + 1}: {times[-1]:.2f} s")
    return times


def logged_command(path):
    """The server, its log also written to `path` (run.Server keeps only its first lines)."""
    return ["bash", "-c", 'exec "$0" 2> >(tee -a "$1" >&2)', str(run.SERVER_BIN), str(path)]


def log_lines(path):
    return [ANSI.sub("", line) for line in path.read_text(errors="replace").splitlines()]


def expired_counts(url):
    """The rows the cleanup should delete, per big table (the job's own conditions)."""
    return json.loads(psql(url, """
        SET TIME ZONE 'UTC';
        SELECT json_build_object(
          'refresh_tokens', (SELECT count(*) FROM refresh_tokens WHERE expires_at < now()),
          'token_blacklist', (SELECT count(*) FROM token_blacklist WHERE expires_at < now()),
          'device_sessions', (SELECT count(*) FROM device_sessions WHERE expires_at < now()))
    """))


def lock_waits(pg_log, offset):
    """What PostgreSQL logged about lock waits past `offset` of its log (log_lock_waits,
    deadlock_timeout 100ms), and the statements it cancelled for a timeout."""
    text = pg_log.read_text(errors="replace")[offset:] if pg_log else ""
    waited = [float(ms) for ms in re.findall(r"acquired \w+ on .*? after ([\d.]+) ms", text)]
    return {
        "waits_logged": len(re.findall(r"still waiting for", text)),
        "longest_acquired_ms": max(waited, default=0.0),
        "lock_timeouts": text.count("canceling statement due to lock timeout"),
        "statement_timeouts": text.count("canceling statement due to statement timeout"),
        "checked": bool(pg_log),
    }


def cleanup_under_load(owner_url, pg_log, max_rotations):
    """The cleanup job deletes the dead rows while rotations run, chunk after chunk, at
    about half of `max_rotations` per second (latency at saturation is queueing, not the
    cleanup: bench/run.py measures R1's the same way); returns its report, its duration,
    and the rotations' latency before and during it."""
    # CHAINS chains each taking about CHAINS / max_rotations per rotation at full speed:
    # a pause as long again halves the rate.
    delay_ms = max(1, round(1000 * CHAINS / max_rotations))
    app_url = as_role(owner_url, APP_ROLE)
    expected = expired_counts(owner_url)
    pg_offset = len(pg_log.read_text(errors="replace")) if pg_log else 0
    server_log = Path(tempfile.mkdtemp(prefix="gatehouse-scale-log-")) / "server.log"
    server = run.Server("scale-cleanup", app_url,
                        extra_env={"CLEANUP_INTERVAL": f"{CLEANUP_INTERVAL_S}s"},
                        command=logged_command(server_log))
    listening = time.time()
    chunks, done = [], threading.Event()
    loader = None
    try:
        bench = Bench(server, "cleanup.example")

        def load():
            while not done.is_set():
                started = time.time()
                result = bench.rotation_run(CHUNK_SECONDS, latency=True, delay_ms=delay_ms)
                chunks.append({**result, "start": started - listening,
                               "end": time.time() - listening})

        loader = threading.Thread(target=load)
        loader.start()
        time.sleep(2)
        assert any("cleanup failed" in line for line in log_lines(server_log)), \
            "the first cleanup was expected to fail for want of DELETE on refresh_tokens"
        psql(owner_url, f"GRANT DELETE ON refresh_tokens TO {APP_ROLE}")
        assert time.time() - listening < CLEANUP_INTERVAL_S - 3, "too late for the second tick"
        report, failures = None, []
        deadline = time.time() + 3600
        while report is None and time.time() < deadline:
            time.sleep(0.5)
            lines = log_lines(server_log)
            failures = [line for line in lines if "cleanup failed" in line][1:]
            found = [line for line in lines if "cleanup deleted expired rows" in line]
            if found:
                report = found[0]
                finished = time.time() - listening
        # One more chunk after it, for the latency once it is over.
        time.sleep(CHUNK_SECONDS + 1)
    finally:
        done.set()
        if loader:
            loader.join()
        server.stop()
    if report is None:
        raise SystemExit(f"the cleanup did not finish within an hour: {failures}")
    deleted = {k: int(v) for k, v in re.findall(r"(\w+): (\d+)", report.split("deleted:", 1)[1])}
    started = CLEANUP_INTERVAL_S
    during = [c for c in chunks if c["end"] > started and c["start"] < finished]
    before = [c for c in chunks if c["end"] <= started]
    broken = sum(c["non_2xx"] for c in chunks)
    return {
        "expected": expected,
        "deleted": deleted,
        "seconds": finished - started,
        "failed_passes": failures,
        "delay_ms": delay_ms,
        "p99_ms_during": max(c["p99_ms"] for c in during),
        "p99_ms_during_chunks": [c["p99_ms"] for c in during],
        "p50_ms_during": statistics.median(c["p50_ms"] for c in during),
        "rps_during": statistics.median(c["rps"] for c in during),
        "p99_ms_before": max((c["p99_ms"] for c in before), default=None),
        "rps_before": statistics.median(c["rps"] for c in before) if before else None,
        "non_2xx": broken,
        "locks": lock_waits(pg_log, pg_offset),
        "remaining": expired_counts(owner_url),
    }


def explain(url, queries):
    """Each hot query's plan on the seeded database; a plan that reads a big table
    without an index fails it. A statement Diesel keeps prepared runs PostgreSQL's
    generic plan after its fifth use, so both its plans are checked; the others (plain
    SQL, boxed queries) are planned for their values every time."""
    out = {}
    for name, (sql, values, kept) in queries.items():
        types = ", ".join(t for t, _ in values)
        args = ", ".join(v for _, v in values)
        plans = {}
        for mode in ("custom", "generic") if kept else ("custom",):
            plans[mode] = psql(url, f"""
                SET TIME ZONE 'UTC';
                SET plan_cache_mode = force_{mode}_plan;
                PREPARE q ({types}) AS {sql};
                EXPLAIN EXECUTE q ({args});
            """)
        scans = sorted({table for plan in plans.values() for table in BIG_TABLES
                        if re.search(rf"Seq Scan on {table}\b", plan)})
        out[name] = {"sql": " ".join(sql.split()), "plans": plans, "seq_scans": scans}
        log(f"  {name}: {'Seq Scan on ' + ', '.join(scans) if scans else 'indexes only'}")
    return out


def HOT_QUERIES(user, email, session, token, now):
    """(name, SQL, parameters, whether Diesel keeps it prepared) of each hot query, as
    the server sends it (captured with log_min_duration_statement = 0): a login, a
    rotation, the devices page, the revocation feed's poll, and the cleanup's three big
    deletes (store/cleanup.rs: oldest first, down an index). (Start-up reads every
    live revocation: a full read, not a lookup.)"""
    ts, batch = ("timestamp", "now()::timestamp - interval '1 minute'"), ("bigint", "1000")
    cursor = ("bigint", "pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
    session_columns = ", ".join(f'"device_sessions"."{c}"' for c in (
        "id", "user_id", "created_at", "last_seen_at", "expires_at", "absolute_expires_at",
        "revoked_at", "revoke_reason", "user_agent", "ip", "device_label", "access_expires_at",
        "sign_in_method", "proven_at", "sign_in_provider"))
    live_of = ('(((("device_sessions"."user_id" = $1) AND ("device_sessions"."revoked_at" IS NULL)) '
               'AND ("device_sessions"."expires_at" > $2)) AND ("device_sessions"."absolute_expires_at" > $3))')
    return [
        ("login: account by address",
         'SELECT "users"."id", "users"."email", "users"."password_hash", "users"."created_at", '
         '"users"."password_changed_at", "users"."email_verified_at", "users"."notify_new_device" '
         'FROM "users" WHERE ("users"."email" = $1)', [email], True),
        ("login: lock the account",
         'SELECT "users"."id" FROM "users" WHERE ("users"."id" = $1) FOR UPDATE', [user], True),
        ("login: the account's other live sessions",
         f'SELECT "device_sessions"."id" FROM "device_sessions" WHERE ({live_of} '
         'AND ("device_sessions"."id" != $4)) ORDER BY "device_sessions"."last_seen_at" DESC, '
         '"device_sessions"."created_at" DESC', [user, now, now, session], False),
        ("refresh: lock the token",
         'SELECT "refresh_tokens"."token_hash" FROM "refresh_tokens" '
         'WHERE ("refresh_tokens"."token_hash" = $1) FOR UPDATE', [token], True),
        ("refresh: token by hash",
         'SELECT "refresh_tokens"."token_hash", "refresh_tokens"."session_id", '
         '"refresh_tokens"."issued_at", "refresh_tokens"."expires_at", "refresh_tokens"."used_at", '
         '"refresh_tokens"."replaced_by" FROM "refresh_tokens" '
         'WHERE ("refresh_tokens"."token_hash" = $1)', [token], True),
        ("refresh: session and address",
         f'SELECT {session_columns}, "users"."email" FROM ("device_sessions" INNER JOIN "users" '
         'ON ("device_sessions"."user_id" = "users"."id")) WHERE ("device_sessions"."id" = $1)',
         [session], True),
        ("refresh: mark the token used",
         'UPDATE "refresh_tokens" SET "used_at" = $1, "replaced_by" = $2 '
         'WHERE ("refresh_tokens"."token_hash" = $3)', [now, token, token], True),
        ("refresh: extend the session",
         'UPDATE "device_sessions" SET "expires_at" = $1, "last_seen_at" = $2 '
         'WHERE ("device_sessions"."id" = $3)', [now, now, session], True),
        ("/devices: the account's live sessions",
         'SELECT "device_sessions"."id", "device_sessions"."device_label", "device_sessions"."ip", '
         '"device_sessions"."sign_in_method", "device_sessions"."sign_in_provider", '
         '"device_sessions"."created_at", "device_sessions"."last_seen_at", '
         '"device_sessions"."expires_at", "device_sessions"."absolute_expires_at" '
         f'FROM "device_sessions" WHERE {live_of} ORDER BY "device_sessions"."last_seen_at" DESC',
         [user, now, now], True),
        ("revocation feed poll",
         'SELECT "token_blacklist"."kind", "token_blacklist"."token_id", '
         "floor(date_part('epoch', expires_at))::bigint FROM \"token_blacklist\" "
         'WHERE (("token_blacklist"."expires_at" >= $1) AND ("token_blacklist"."seq" >= $2))',
         [now, cursor], False),
        ("cleanup: refresh tokens",
         "DELETE FROM refresh_tokens WHERE token_hash = ANY(ARRAY(SELECT token_hash FROM "
         "refresh_tokens WHERE expires_at < $1 ORDER BY expires_at LIMIT $2))", [ts, batch], False),
        ("cleanup: blacklist",
         "DELETE FROM token_blacklist WHERE token_id = ANY(ARRAY(SELECT token_id FROM "
         "token_blacklist WHERE expires_at < $1 ORDER BY expires_at LIMIT $2))", [ts, batch], False),
        ("cleanup: sessions",
         "DELETE FROM device_sessions WHERE id = ANY(ARRAY(SELECT id FROM device_sessions "
         "WHERE expires_at < $1 ORDER BY expires_at LIMIT $2))", [ts, batch], False),
    ]

def hot_queries(users):
    """The statements the measured paths run (as PostgreSQL's log showed them), with
    values of one seeded account whose live session is session number `n`."""
    j = 42
    n = (j % 5) * users + j
    user = ("text", f"md5('u{j}')::uuid::text")
    email = ("text", f"'user{j}@scale.example'")
    session = ("text", SID.format(n=n))
    token = ("text", TOKEN_HASH.format(n=n + 5 * users))
    now = ("timestamp", "now()::timestamp")
    return {name: (sql, values, kept)
            for name, sql, values, kept in HOT_QUERIES(user, email, session, token, now)}


def missed_targets(results):
    missed = [f"{name} ratio" for name, r in results["ratios"].items() if r["ratio"] < RATIO_TARGET]
    cleanup = results["cleanup"]
    if cleanup["p99_ms_during"] >= P99_TARGET_MS:
        missed.append("refresh p99 during cleanup")
    locks = cleanup["locks"]
    if (locks["longest_acquired_ms"] >= DATABASE_TIMEOUT_MS or locks["lock_timeouts"]
            or cleanup["non_2xx"]):
        missed.append("lock waits within DATABASE_TIMEOUT")
    if cleanup["failed_passes"] or any(cleanup["remaining"].values()):
        missed.append("cleanup finished")
    if statistics.median(results["startup_s"]) > STARTUP_TARGET_S:
        missed.append("start-up")
    missed += [f"EXPLAIN {name}" for name, q in results["explain"].items() if q["seq_scans"]]
    return missed


def table(results):
    def met(ok):
        return "met" if ok else "MISSED"

    meaning = {"login": "logins/s (one account, 2 connections)",
               "refresh": f"refresh rotations/s ({CHAINS} chains)",
               "devices": "signed-in /devices pages/s (5 devices)"}
    lines = ["| measure | seeded | empty | seeded ÷ empty (median; range) | target | |",
             "|---|---:|---:|---:|---:|---|"]
    for name, r in results["ratios"].items():
        lines.append(f"| {meaning[name]} | {r['a_per_s']:,.0f} | {r['b_per_s']:,.0f} | "
                     f"{r['ratio']:.3f} ({r['range'][0]:.3f}–{r['range'][1]:.3f}) | ≥ {RATIO_TARGET} | "
                     f"{met(r['ratio'] >= RATIO_TARGET)} |")
    c = results["cleanup"]
    locks = c["locks"]
    startup = results["startup_s"]
    deleted = c["deleted"]
    extra = [
        "",
        f"- cleanup under rotation load: {deleted['refresh_tokens']:,} refresh tokens, "
        f"{deleted['sessions']:,} sessions, {deleted['blacklist']:,} blacklist rows deleted "
        f"in {c['seconds']:.1f} s (expected {c['expected']}; left {c['remaining']}; "
        f"failed passes {len(c['failed_passes'])})",
        f"- refresh p99 during cleanup, at about half the maximum rate (each chain pausing "
        f"{c['delay_ms']} ms): {c['p99_ms_during']:.1f} ms (worst of "
        f"{len(c['p99_ms_during_chunks'])} runs of {CHUNK_SECONDS} s; p50 {c['p50_ms_during']:.2f} ms; "
        f"{c['rps_during']:,.0f}/s), before it "
        + (f"{c['p99_ms_before']:.1f} ms ({c['rps_before']:,.0f}/s)" if c["p99_ms_before"] else "n/a")
        + f"; target < {P99_TARGET_MS} ms: {met(c['p99_ms_during'] < P99_TARGET_MS)}",
        f"- lock waits over 100 ms logged {locks['waits_logged']}, longest "
        f"{locks['longest_acquired_ms']:.0f} ms, lock timeouts {locks['lock_timeouts']}, "
        f"statement timeouts {locks['statement_timeouts']}, failed rotations {c['non_2xx']} "
        f"(DATABASE_TIMEOUT {DATABASE_TIMEOUT_MS} ms"
        + ("" if locks["checked"] else "; PostgreSQL's log not given (BENCH_PG_LOG): waits unchecked")
        + ")",
        f"- start-up with {results['sizes']['token_blacklist']:,} live revocations: "
        f"{statistics.median(startup):.2f} s median of {len(startup)} "
        f"({min(startup):.2f}–{max(startup):.2f}); target ≤ {STARTUP_TARGET_S} s: "
        f"{met(statistics.median(startup) <= STARTUP_TARGET_S)}",
        f"- seeded by SQL in {results['seeding_s']:.0f} s: "
        + ", ".join(f"{t} {n:,}" for t, n in results["sizes"].items()),
        "- EXPLAIN: " + "; ".join(
            f"{name} {'Seq Scan on ' + ', '.join(q['seq_scans']) if q['seq_scans'] else 'index'}"
            for name, q in results["explain"].items()),
    ]
    m = results["machine"]
    extra.append(f"- machine: {m['cpu']}, {m['cores']} cores; server on core {m['server_core']}, "
                 f"wrk on core {m['load_core']}; scale {results['scale']}; {run.SECONDS} s per run, "
                 f"{run.ROUNDS} rounds; whole run {results['elapsed_s'] / 60:.1f} min")
    return "\n".join(lines + extra)


def main():
    parser = argparse.ArgumentParser(description="Gatehouse at real data sizes (make bench-scale ARGS=...)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the full sizes (0.01 for a quick run)")
    parser.add_argument("--report-only", action="store_true",
                        help="report missed targets without failing")
    args = parser.parse_args()
    admin = os.environ.get("DATABASE_URL", "")
    if not admin.startswith("postgres"):
        sys.exit("DATABASE_URL must be a PostgreSQL admin URL (make bench-scale starts a cluster)")
    pg_log = Path(os.environ["BENCH_PG_LOG"]) if os.environ.get("BENCH_PG_LOG") else None
    users = max(10, round(FULL_USERS * args.scale))
    started = time.time()
    results = {"machine": run.machine(), "scale": args.scale}

    log("== Two databases, each migrated by the server")
    empty_url, _ = migrated_database(admin, "empty")
    seeded_url, hash_ = migrated_database(admin, "seeded")
    log(f"== Seeding {users:,} accounts and their sessions and tokens by SQL")
    seeding = time.time()
    results["sizes"] = seed(seeded_url, users, max(10, round(FULL_BLACKLIST * args.scale)), hash_)
    results["seeding_s"] = time.time() - seeding
    log(f"  {results['sizes']} in {results['seeding_s']:.0f} s")
    for url in (empty_url, seeded_url):
        grant_app_role(url)

    log("== Start-up with the live revocations")
    results["startup_s"] = startups(as_role(seeded_url, APP_ROLE))

    log("== Logins, rotations and /devices: seeded ÷ empty, alternating")
    servers = [run.Server(f"scale-{name}", as_role(url, APP_ROLE),
                          extra_env={"CLEANUP_INTERVAL": "1000h"})
               for name, url in (("seeded", seeded_url), ("empty", empty_url))]
    try:
        results["ratios"] = throughput(*servers)
    finally:
        for server in servers:
            server.stop()

    log("== EXPLAIN of the hot queries on the seeded database")
    results["explain"] = explain(seeded_url, hot_queries(users))

    log("== The cleanup job under rotation load")
    results["cleanup"] = cleanup_under_load(seeded_url, pg_log,
                                            results["ratios"]["refresh"]["a_per_s"])

    results["elapsed_s"] = time.time() - started
    run.publish(results, "scale", table(results), missed_targets(results), args.report_only)


if __name__ == "__main__":
    main()
