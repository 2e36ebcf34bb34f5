import { defineConfig, devices, chromium } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/**
 * Gatehouse's end-to-end tests start the built server themselves, on a free port and a
 * temporary database, so a run never touches ./data or a server you have running.
 *
 * Build first with `cargo leptos build` (or run everything with `make test`).
 * Settings, all optional:
 *   E2E_SERVER_BIN  server binary to start   (default ../target/debug/server)
 *   E2E_PORT        port to start it on      (default: a free one)
 *   CHROMIUM_PATH   browser to drive         (default: Playwright's own, else the system Chromium)
 */

// The config is evaluated again in every worker; the first evaluation's choices are kept
// in the environment, which the workers inherit, so all of them talk to the same server.
const repoRoot = resolve(__dirname, "..");
const port = (process.env.E2E_PORT ??= freePort());
// A second server with a 2-second access-token lifetime and a 1-second refresh grace,
// for the tests of transparent refresh and theft detection.
const shortTtlPort = (process.env.E2E_SHORT_TTL_PORT ??= freePort());
process.env.E2E_SHORT_TTL_URL = `http://127.0.0.1:${shortTtlPort}`;
// A server with an 8-second sudo window, for the tests of "confirm it is you": short, so
// a test can wait for it to close, and long enough that a confirmation still holds for
// the next click on a loaded CI machine (3 s once did not: a sudo mode renewed at the
// provider ran out between the redirect back and the hydrated page's click).
const sudoPort = (process.env.E2E_SUDO_PORT ??= freePort());
process.env.E2E_SUDO_URL = `http://127.0.0.1:${sudoPort}`;
const sudoDataDir = (process.env.E2E_SUDO_DATA_DIR ??= mkdtempSync(join(tmpdir(), "gatehouse-e2e-sudo-")));
const dataDir = (process.env.E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), "gatehouse-e2e-")));
const shortTtlDataDir = (process.env.E2E_SHORT_TTL_DATA_DIR ??= mkdtempSync(join(tmpdir(), "gatehouse-e2e-short-")));
const serverBin = process.env.E2E_SERVER_BIN ?? join(repoRoot, "target", "debug", "server");
// A real SMTP server (Debian's aiosmtpd) for the main server's mail; the tests read the
// Maildir it writes (see tests/mail.ts). The short-TTL server has none, so its mail goes
// to its development mailbox at /dev/mailbox.
const smtpPort = (process.env.E2E_SMTP_PORT ??= freePort());
process.env.E2E_MAILDIR ??= join(mkdtempSync(join(tmpdir(), "gatehouse-e2e-mail-")), "inbox");
const python = process.env.GATEHOUSE_TEST_PYTHON ?? "/usr/bin/python3";
// With a PostgreSQL test cluster (GATEHOUSE_TEST_POSTGRES, set by `make test`), a third
// server on a fresh database of it, for the "chromium-postgres" project.
const postgresAdmin = process.env.GATEHOUSE_TEST_POSTGRES;
const postgresPort = postgresAdmin ? (process.env.E2E_POSTGRES_PORT ??= freePort()) : undefined;
const postgresDataDir = postgresAdmin
  ? (process.env.E2E_POSTGRES_DATA_DIR ??= mkdtempSync(join(tmpdir(), "gatehouse-e2e-pg-")))
  : undefined;
if (postgresAdmin) process.env.E2E_POSTGRES_DATABASE_URL ??= createPostgresDatabase(postgresAdmin);

/** Creates an empty database on the test cluster (with its psql) and returns its URL. */
function createPostgresDatabase(admin: string): string {
  const name = `gatehouse_e2e_${process.pid}_${Date.now()}`;
  const psql = process.env.GATEHOUSE_TEST_PG_BIN ? join(process.env.GATEHOUSE_TEST_PG_BIN, "psql") : "psql";
  execFileSync(psql, [admin, "-q", "-c", `CREATE DATABASE ${name}`]);
  return admin.replace(/\/[^/]*$/, `/${name}`);
}
// A real OpenID provider (panva's oidc-provider, oidc/provider.mjs) with its own login
// page, which the main server and the sudo server offer as "Test ID".
const oidcPort = (process.env.E2E_OIDC_PORT ??= freePort());
process.env.E2E_OIDC_ISSUER = `http://127.0.0.1:${oidcPort}`;
const oidcClient = { client_id: "gatehouse-e2e", client_secret: "an end-to-end client secret" };
const providersFile = (process.env.E2E_OIDC_PROVIDERS_FILE ??= writeProvidersFile());

/** The OIDC_PROVIDERS_FILE of the servers that offer the test provider. */
function writeProvidersFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), "gatehouse-e2e-oidc-")), "providers.toml");
  writeFileSync(
    file,
    [
      "[[provider]]",
      'id = "test"',
      'name = "Test ID"',
      `issuer = "${process.env.E2E_OIDC_ISSUER}"`,
      `client_id = "${oidcClient.client_id}"`,
      `client_secret = "${oidcClient.client_secret}"`,
      "",
    ].join("\n"),
  );
  return file;
}

// Device-bound sessions (DBSC): Chrome binds a session only over HTTPS, so a server with
// a 6-second access-token lifetime (its bound cookie is renewed by proof that often)
// sits behind a TLS proxy (tls/proxy.mjs) with a certificate made for the run. The
// browser trusts that one certificate by its key's hash: `--ignore-certificate-errors`
// would turn DBSC off.
const dbscPort = (process.env.E2E_DBSC_PORT ??= freePort());
const dbscTlsPort = (process.env.E2E_DBSC_TLS_PORT ??= freePort());
const dbscDataDir = (process.env.E2E_DBSC_DATA_DIR ??= mkdtempSync(join(tmpdir(), "gatehouse-e2e-dbsc-")));
const dbscURL = `https://localhost:${dbscTlsPort}`;
const tlsDir = (process.env.E2E_TLS_DIR ??= makeCertificate());

/** A self-signed certificate for localhost, in a new folder (cert.pem, key.pem). */
function makeCertificate(): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-e2e-tls-"));
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-days", "2",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
  ], { stdio: "ignore" });
  return dir;
}

/** SHA-256 of the certificate's public key, base64: what `--ignore-certificate-errors-spki-list` takes. */
function spkiHash(dir: string): string {
  const key = new X509Certificate(readFileSync(join(dir, "cert.pem"))).publicKey;
  return createHash("sha256").update(key.export({ type: "spki", format: "der" })).digest("base64");
}

// `localhost`, not 127.0.0.1: browsers offer passkeys only to a domain name, and the
// passkey flows run on this server (and on the PostgreSQL one).
const baseURL = `http://localhost:${port}`;

/** Asks the OS for a free loopback port (synchronously: configs cannot await). */
function freePort(): string {
  const script =
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})";
  return execFileSync(process.execPath, ["-e", script]).toString().trim();
}

/** Playwright's own Chromium when installed, else CHROMIUM_PATH or the system one. */
function chromiumExecutable(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    if (existsSync(chromium.executablePath())) return undefined;
  } catch {
    // No Playwright browser installed: fall through to the system one.
  }
  return ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find(existsSync);
}

const executablePath = chromiumExecutable();
const runningAsRoot = process.getuid?.() === 0;

// Chromium's DBSC with software keys (no TPM here) and no refresh quota (the tests
// renew every few seconds), trusting the run's certificate (see makeCertificate).
const dbscArgs = [
  "--enable-features=DeviceBoundSessions:RequireOriginTrialTokens/false/RefreshQuota/false,EnableBoundSessionCredentialsSoftwareKeysForManualTesting",
  `--ignore-certificate-errors-spki-list=${spkiHash(tlsDir)}`,
];

const chromiumUse = {
  ...devices["Desktop Chrome"],
  launchOptions: {
    executablePath,
    args: [
      // Chromium's sandbox cannot start as root (CI containers).
      ...(runningAsRoot ? ["--no-sandbox"] : []),
      // Keep a system Chromium from calling home on machines without internet.
      ...(executablePath
        ? ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
        : []),
    ],
  },
};

export default defineConfig({
  testDir: "./tests",
  // A test's whole budget. The longest scenarios (axe on twelve pages, three devices
  // signing in) took 32-36 s on a CI machine three times slower than usual and 47-50 s
  // here beside a build, over the 30 s this used to be; each step keeps a tight bound
  // of its own (assertions 5 s, actions 15 s, navigations 30 s), so a hang still fails
  // at the step that hangs.
  timeout: 90_000,
  expect: { timeout: 5_000 },
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: process.env.CI ? 2 : undefined,
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { open: "never" }]],
  use: {
    baseURL,
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    { name: "chromium", use: chromiumUse, testIgnore: /dbsc\.spec\.ts/ },
    {
      name: "chromium-dbsc",
      testMatch: /dbsc\.spec\.ts/,
      use: {
        ...chromiumUse,
        baseURL: dbscURL,
        launchOptions: { ...chromiumUse.launchOptions, args: [...chromiumUse.launchOptions.args, ...dbscArgs] },
      },
    },
    // The mail, two-step and passkey flows once more against a server on PostgreSQL, when a test cluster runs
    // (`make test` starts one).
    ...(postgresPort
      ? [{ name: "chromium-postgres", testMatch: /(mail|second_factor|passkeys)\.spec\.ts/, use: { ...chromiumUse, baseURL: `http://localhost:${postgresPort}` } }]
      : []),
  ],
  webServer: [
    {
      command: "node oidc/provider.mjs",
      cwd: __dirname,
      url: `${process.env.E2E_OIDC_ISSUER}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: "ignore" as const,
      stderr: "pipe" as const,
      env: {
        OIDC_PORT: oidcPort,
        OIDC_CLIENTS: JSON.stringify([
          {
            ...oidcClient,
            redirect_uris: [`${baseURL}/auth/oidc/test/callback`, `http://localhost:${sudoPort}/auth/oidc/test/callback`],
          },
        ]),
      },
    },
    {
      command: `"${python}" -m aiosmtpd -n -l 127.0.0.1:${smtpPort} -c aiosmtpd.handlers.Mailbox "${process.env.E2E_MAILDIR}"`,
      port: Number(smtpPort),
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: "ignore" as const,
      stderr: "pipe" as const,
    },
    server(port, dataDir, {
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      PUBLIC_URL: baseURL,
      MAIL_POLL_INTERVAL: "200ms",
      OIDC_PROVIDERS_FILE: providersFile,
    }),
    server(shortTtlPort, shortTtlDataDir, { ACCESS_TOKEN_TTL: "2s", REFRESH_GRACE: "1s" }),
    server(dbscPort, dbscDataDir, { ACCESS_TOKEN_TTL: "6s", PUBLIC_URL: dbscURL }),
    {
      command: "node tls/proxy.mjs",
      cwd: __dirname,
      port: Number(dbscTlsPort),
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: "ignore" as const,
      stderr: "pipe" as const,
      env: {
        TLS_PORT: dbscTlsPort,
        TARGET: `http://127.0.0.1:${dbscPort}`,
        TLS_CERT: join(tlsDir, "cert.pem"),
        TLS_KEY: join(tlsDir, "key.pem"),
      },
    },
    // Its PUBLIC_URL is the default, http://localhost:PORT, which the provider sends the
    // browser back to (the OpenID tests browse it there; passkeys.spec.ts visits it at
    // 127.0.0.1, another address than PUBLIC_URL).
    server(sudoPort, sudoDataDir, { SUDO_WINDOW: "8s", OIDC_PROVIDERS_FILE: providersFile }),
    ...(postgresPort
      ? [
          server(postgresPort, postgresDataDir!, {
            DATABASE_URL: process.env.E2E_POSTGRES_DATABASE_URL!,
            SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
            PUBLIC_URL: `http://localhost:${postgresPort}`,
            MAIL_POLL_INTERVAL: "200ms",
          }),
        ]
      : []),
  ],
});

/** One server under test: the built binary on `serverPort` with its own database. */
function server(serverPort: string, data: string, extraEnv: Record<string, string>) {
  return {
    command: `"${serverBin}"`,
    cwd: repoRoot,
    url: `http://127.0.0.1:${serverPort}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore" as const,
    stderr: "pipe" as const,
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${serverPort}`,
      LEPTOS_SITE_ROOT: join(repoRoot, "target", "site"),
      DATA_DIR: data,
      LOG_LEVEL: "warn",
      // Every test signs up its own accounts, all from 127.0.0.1: far more than the
      // 10 an hour one real client address may create.
      SIGN_UPS_PER_HOUR: "100000",
      // A test that fails a sign-in on purpose sends a client address of its own
      // (helpers.ts, ownClientAddress), so tests do not share the throttle's bucket.
      TRUSTED_PROXIES: "127.0.0.1",
      ...extraEnv,
    },
  };
}
