// Self-check for provider.mjs: runs a full authorization code + PKCE flow
// against it with plain fetch (manual redirects and cookies), the way the
// Rust integration tests and Playwright will use it.
//
//   node end2end/oidc/selfcheck.mjs          (SELFCHECK_VERBOSE=1 also shows provider logs)
//
// Exit status 0 and a short summary on success; non-zero with a message on
// the first failed check.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import readline from 'node:readline';

const PROVIDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'provider.mjs');
const CLIENT = { client_id: 'selfcheck', client_secret: 'selfcheck-secret', redirect_uris: ['http://127.0.0.1:9/cb'] };
const REDIRECT_URI = CLIENT.redirect_uris[0];

const summary = [];
const children = new Set();

class CheckFailed extends Error {}
function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

// --- provider process ------------------------------------------------------

async function startProvider(env = {}) {
  const child = spawn(process.execPath, [PROVIDER], {
    env: { ...process.env, OIDC_CLIENTS: JSON.stringify([CLIENT]), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.on('exit', () => children.delete(child));

  const lines = readline.createInterface({ input: child.stdout });
  const first = await Promise.race([
    new Promise((resolve) => lines.once('line', resolve)),
    new Promise((_, reject) => child.once('exit', (code) => reject(new CheckFailed(`provider exited (${code}) before printing the issuer:\n${stderr}`)))),
    new Promise((_, reject) => setTimeout(() => reject(new CheckFailed(`provider printed nothing within 10s:\n${stderr}`)), 10_000)),
  ]);
  const extra = [];
  lines.on('line', (line) => extra.push(line));

  let issuer;
  try {
    ({ issuer } = JSON.parse(first));
  } catch {
    throw new CheckFailed(`first stdout line is not JSON: ${first}`);
  }
  check(/^http:\/\/127\.0\.0\.1:\d+/.test(issuer), `unexpected issuer ${issuer}`);
  return {
    child,
    issuer,
    port: Number(new URL(issuer).port),
    stdoutExtra: extra,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

// --- tiny browser: cookie jar + manual redirects -----------------------------

class Browser {
  jar = new Map(); // `${name};${path}` -> { name, value, path }

  cookieHeader(url) {
    const { pathname } = new URL(url);
    return [...this.jar.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  store(url, res) {
    for (const header of res.headers.getSetCookie()) {
      const [pair, ...attrs] = header.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let cookiePath = new URL(url).pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = value === '';
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        if (k.toLowerCase() === 'path') cookiePath = v;
        if (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
        if (k.toLowerCase() === 'secure') throw new CheckFailed(`cookie ${name} is Secure; it would not work over http`);
      }
      const key = `${name};${cookiePath}`;
      if (expired) this.jar.delete(key);
      else this.jar.set(key, { name, value, path: cookiePath });
    }
  }

  async request(url, init = {}) {
    const headers = { ...init.headers };
    const cookie = this.cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.store(url, res);
    return res;
  }

  // Follows redirects until a page is returned or the redirect_uri is reached.
  async navigate(url, init) {
    let res = await this.request(url, init);
    for (let hops = 0; hops < 20; hops += 1) {
      if (res.status < 300 || res.status >= 400) {
        return { kind: 'page', url, status: res.status, html: await res.text() };
      }
      const location = new URL(res.headers.get('location'), url).href;
      await res.arrayBuffer();
      if (location.startsWith(`${REDIRECT_URI}?`) || location === REDIRECT_URI) {
        return { kind: 'callback', url: location };
      }
      url = location;
      res = await this.request(url);
    }
    throw new CheckFailed(`too many redirects, last at ${url}`);
  }
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const decodeHtml = (s) => s.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&#39;', "'")
  .replaceAll('&lt;', '<').replaceAll('&gt;', '>');

function assertLoginPage(result, what) {
  check(result.kind === 'page', `${what}: expected the login page, got a redirect to ${result.url}`);
  check(result.status === 200, `${what}: login page returned HTTP ${result.status}:\n${result.html}`);
  const { html } = result;
  check(html.includes('<title>Test identity provider</title>'), `${what}: page title is not "Test identity provider"`);
  check(/<label for="email">Email<\/label>/.test(html) && /name="email"/.test(html), `${what}: no "Email" field`);
  check(/<label for="verified">Address verified<\/label>/.test(html) && /name="verified"[^>]*checked/.test(html), `${what}: no checked "Address verified" checkbox`);
  check(/<label for="sub">Subject<\/label>/.test(html) && /name="sub" value=""/.test(html), `${what}: no empty "Subject" field`);
  check(/<button type="submit">Sign in<\/button>/.test(html), `${what}: no "Sign in" button`);
  const action = /<form method="post" action="([^"]+)"/.exec(html);
  check(action, `${what}: no form action`);
  return new URL(decodeHtml(action[1]), result.url).href;
}

async function discover(issuer) {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  check(res.ok, `discovery returned HTTP ${res.status}`);
  const meta = await res.json();
  check(meta.issuer === issuer, `discovery issuer ${meta.issuer} != ${issuer}`);
  check(meta.code_challenge_methods_supported?.includes('S256'), 'S256 not in code_challenge_methods_supported');
  check(meta.authorization_response_iss_parameter_supported === true, 'authorization_response_iss_parameter_supported is not true');
  return meta;
}

async function jwks(meta) {
  const res = await fetch(meta.jwks_uri);
  check(res.ok, `jwks returned HTTP ${res.status}`);
  return (await res.json()).keys;
}

function authRequest(meta, extra = {}) {
  const verifier = b64url(crypto.randomBytes(32));
  const state = b64url(crypto.randomBytes(16));
  const nonce = b64url(crypto.randomBytes(16));
  const url = new URL(meta.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT.client_id,
    redirect_uri: REDIRECT_URI,
    scope: 'openid email',
    state,
    nonce,
    code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    ...extra,
  });
  return { url: url.href, verifier, state, nonce };
}

async function finishAtCallback(result, meta, request, keys, { reuseCode = false } = {}) {
  check(result.kind === 'callback', `expected a redirect to ${REDIRECT_URI}, got HTTP ${result.status} page:\n${result.html}`);
  const cb = new URL(result.url).searchParams;
  check(!cb.has('error'), `authorization error: ${cb.get('error')}: ${cb.get('error_description')}`);
  check(cb.get('state') === request.state, 'state in the callback does not match');
  check(cb.has('iss'), 'no iss parameter in the authorization response (RFC 9207)');
  check(cb.get('iss') === meta.issuer, `callback iss ${cb.get('iss')} != ${meta.issuer}`);
  const code = cb.get('code');
  check(code, 'no code in the callback');

  const tokenRes = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(CLIENT.client_id)}:${encodeURIComponent(CLIENT.client_secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: request.verifier,
    }),
  });
  const tokens = await tokenRes.json();
  check(tokenRes.ok, `token endpoint returned HTTP ${tokenRes.status}: ${JSON.stringify(tokens)}`);
  check(typeof tokens.id_token === 'string', 'no id_token in token response');

  // Verify the RS256 signature with the published key, then read the claims.
  const [h, p, s] = tokens.id_token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  check(header.alg === 'RS256', `ID token alg ${header.alg} != RS256`);
  const jwk = keys.find((k) => k.kid === header.kid);
  check(jwk, `ID token kid ${header.kid} not in JWKS`);
  const valid = crypto.verify('sha256', Buffer.from(`${h}.${p}`), crypto.createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'));
  check(valid, 'ID token signature does not verify');

  check(claims.iss === meta.issuer, `id_token iss ${claims.iss} != ${meta.issuer}`);
  const aud = [].concat(claims.aud);
  check(aud.includes(CLIENT.client_id), `id_token aud ${JSON.stringify(claims.aud)} lacks ${CLIENT.client_id}`);
  check(claims.nonce === request.nonce, 'id_token nonce does not match');
  check(typeof claims.auth_time === 'number', 'id_token has no auth_time');

  if (!reuseCode) return { claims, header, tokens };

  // The authorization code is single-use. (Replaying it also makes
  // oidc-provider revoke the whole grant, so the next authorization of this
  // client would need consent again.)
  const again = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: request.verifier,
      client_id: CLIENT.client_id, client_secret: CLIENT.client_secret,
    }),
  });
  check(again.status === 400, `reusing the code gave HTTP ${again.status}, expected 400`);
  return { claims, header, tokens };
}

const expectedSub = (email) => `sub-${crypto.createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 16)}`;

// --- the checks --------------------------------------------------------------

async function flow(issuerPath = '') {
  const op = await startProvider(issuerPath ? { OIDC_ISSUER_PATH: issuerPath } : {});
  const label = issuerPath ? `issuer path ${issuerPath}` : 'root issuer';
  try {
    const meta = await discover(op.issuer);
    const keys = await jwks(meta);
    check(keys.length === 1 && keys[0].kty === 'RSA' && keys[0].alg === 'RS256' && keys[0].kid, 'JWKS is not exactly one RS256 key with a kid');
    check(!('d' in keys[0]), 'JWKS leaks the private key');
    const browser = new Browser();

    // 1. First login.
    const req1 = authRequest(meta);
    const login = await browser.navigate(req1.url);
    const action = assertLoginPage(login, 'first authorization');
    const done = await browser.navigate(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'ann@example.com', verified: 'yes', sub: '' }),
    });
    const { claims } = await finishAtCallback(done, meta, req1, keys);
    check(claims.email === 'ann@example.com', `id_token email ${claims.email}`);
    check(claims.email_verified === true, `id_token email_verified ${claims.email_verified}`);
    check(claims.sub === expectedSub('ann@example.com'), `sub ${claims.sub} is not derived from the email`);
    summary.push(`${label}: login as ann@example.com -> code, iss=${meta.issuer}, id_token sub=${claims.sub} email_verified=true auth_time=${claims.auth_time} kid=${keys[0].kid}`);

    // 2. Same browser, no prompt: SSO, straight back to the client.
    const req2 = authRequest(meta);
    const sso = await browser.navigate(req2.url);
    const ssoTokens = await finishAtCallback(sso, meta, req2, keys);
    check(ssoTokens.claims.sub === claims.sub, 'SSO returned a different subject');
    summary.push(`${label}: second authorization without prompt -> silent SSO`);

    // 2b. A new scope needs consent: granted automatically, no page shown.
    const req2b = authRequest(meta, { scope: 'openid email profile' });
    const consent = await browser.navigate(req2b.url);
    const withProfile = (await finishAtCallback(consent, meta, req2b, keys)).claims;
    check(withProfile.name === 'ann', `name claim ${withProfile.name} != ann after adding the profile scope`);
    summary.push(`${label}: extra scope while signed in -> consent granted automatically (name=ann)`);

    // 3. prompt=login shows the login form again; sign in as somebody else,
    //    unverified, with an explicit subject.
    const req3 = authRequest(meta, { prompt: 'login', scope: 'openid email profile' });
    const relogin = await browser.navigate(req3.url);
    const action3 = assertLoginPage(relogin, 'prompt=login');
    const done3 = await browser.navigate(action3, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'bob@example.com', sub: 'bob-1' }),
    });
    const bob = (await finishAtCallback(done3, meta, req3, keys, { reuseCode: true })).claims;
    check(bob.sub === 'bob-1', `sub ${bob.sub} != bob-1`);
    check(bob.email === 'bob@example.com' && bob.email_verified === false, 'bob: wrong email claims');
    check(bob.name === 'bob', `bob: name ${bob.name}`);
    check(bob.auth_time >= claims.auth_time, 'auth_time did not move forward');
    summary.push(`${label}: prompt=login shows the login form again; switching to bob (sub=bob-1, unverified) works; code replay rejected`);

    // 4. max_age=0 also forces the form.
    const req4 = authRequest(meta, { max_age: '0' });
    assertLoginPage(await browser.navigate(req4.url), 'max_age=0');
    summary.push(`${label}: max_age=0 shows the login form`);

    // 5. A bad redirect_uri is an error page, not a redirect or a crash.
    const bad = new URL(req1.url);
    bad.searchParams.set('redirect_uri', 'http://127.0.0.1:9/evil');
    const badRes = await browser.navigate(bad.href);
    check(badRes.kind === 'page' && badRes.status === 400 && badRes.html.includes('invalid_redirect_uri'),
      `bad redirect_uri: expected a 400 error page, got ${badRes.kind} ${badRes.status}`);
    // 6. Missing PKCE goes back to the client as an error.
    const noPkce = new URL(req1.url);
    noPkce.searchParams.delete('code_challenge');
    noPkce.searchParams.delete('code_challenge_method');
    const noPkceRes = await browser.navigate(noPkce.href);
    check(noPkceRes.kind === 'callback' && new URL(noPkceRes.url).searchParams.get('error') === 'invalid_request',
      'authorization without PKCE was not rejected');
    summary.push(`${label}: bad redirect_uri -> HTTP 400 error page; missing PKCE -> error=invalid_request`);

    check(op.child.exitCode === null, 'provider died during the checks');
    if (process.env.SELFCHECK_VERBOSE) process.stderr.write(`--- provider stderr (${label}) ---\n${op.stderr()}`);
    check(op.stdoutExtra.length === 0, `provider wrote more to stdout: ${op.stdoutExtra.join('\n')}`);
    return op;
  } catch (err) {
    if (err instanceof CheckFailed) err.message += `\n--- provider stderr ---\n${op.stderr()}`;
    await op.stop();
    throw err;
  }
}

async function main() {
  const op = await flow();
  const oldKid = (await jwks(await discover(op.issuer)))[0].kid;
  const code = await op.stop();
  check(code === 0, `provider exited with ${code} on SIGTERM`);

  // Restart on the same port: new signing key (key rotation).
  const again = await startProvider({ OIDC_PORT: String(op.port) });
  try {
    check(again.issuer === op.issuer, `restart issuer ${again.issuer} != ${op.issuer}`);
    const newKid = (await jwks(await discover(again.issuer)))[0].kid;
    check(newKid !== oldKid, 'restart kept the same kid');
    summary.push(`restart on port ${op.port}: kid ${oldKid} -> ${newKid}`);
  } finally {
    await again.stop();
  }

  const withPath = await flow('/realms/test');
  await withPath.stop();
}

try {
  await main();
  console.log(`oidc selfcheck passed:\n  - ${summary.join('\n  - ')}`);
  process.exit(0);
} catch (err) {
  console.error(`oidc selfcheck FAILED: ${err instanceof CheckFailed ? err.message : err.stack}`);
  for (const child of children) child.kill('SIGKILL');
  process.exit(1);
}
