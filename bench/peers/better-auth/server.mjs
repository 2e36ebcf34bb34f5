// Better Auth on Node with SQLite (better-sqlite3), as its documentation sets it up:
// e-mail and password sign-in, sessions in the database, and one JSON route that asks
// `auth.api.getSession` who is signed in, as an app's protected route would.
//
// PORT and DATA_DIR come from bench/run.py; it prints "listening on http://…" when ready.
// COOKIE_CACHE=1 turns on the documented `session.cookieCache`: the session is read from
// a short-lived signed cookie instead of the database (bench/run.py runs it so, with
// NODE_ENV=production, as Better Auth at its best).
import { createServer } from "node:http";
import Database from "better-sqlite3";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db";
import { fromNodeHeaders, toNodeHandler } from "better-auth/node";

const port = Number(process.env.PORT ?? 3000);
const database = new Database(`${process.env.DATA_DIR ?? "."}/better-auth.db`);
database.pragma("journal_mode = WAL");

const auth = betterAuth({
  database,
  baseURL: `http://127.0.0.1:${port}`,
  secret: "a benchmark secret that is long enough for better-auth",
  emailAndPassword: { enabled: true },
  // The benchmark signs in once and then reads; the limiter would only answer 429s.
  rateLimit: { enabled: false },
  // Ten minutes: longer than one peer's measured rounds, so no request falls back to
  // the database when the cached copy expires (the benchmark's client does not update
  // its cookies).
  ...(process.env.COOKIE_CACHE === "1"
    ? { session: { cookieCache: { enabled: true, maxAge: 10 * 60 } } }
    : {}),
});

const { runMigrations } = await getMigrations(auth.options);
await runMigrations();

const handle = toNodeHandler(auth);
const server = createServer(async (req, res) => {
  if (req.url === "/api/session/viewer") {
    const session = await auth.api.getSession({ headers: fromNodeHeaders(req.headers) });
    if (!session) {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ signed_in: true, email: session.user.email }));
    return;
  }
  handle(req, res);
});
server.listen(port, "127.0.0.1", () => {
  console.error(`listening on http://127.0.0.1:${server.address().port}`);
});
