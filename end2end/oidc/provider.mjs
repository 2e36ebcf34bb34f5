// Test OpenID Connect provider for Gatehouse's Rust integration tests and
// Playwright suite. Built on panva's OpenID-certified `oidc-provider`, with
// its own small login page instead of the library's dev interactions.
//
// Configuration (environment variables):
//   OIDC_PORT         port to listen on (default 0 = any free port); always 127.0.0.1
//   OIDC_CLIENTS      JSON array of {"client_id","client_secret","redirect_uris":[...]}
//   OIDC_ISSUER_PATH  optional path suffix of the issuer, e.g. "/realm" (default "")
//
// Once listening it prints exactly one line to stdout,
//   {"issuer":"http://127.0.0.1:PORT[/suffix]"}
// and nothing else; every log line goes to stderr.
//
// Login page (GET /interaction/:uid): "Email" (name=email), "Address verified"
// checkbox (name=verified, checked), optional "Subject" (name=sub) and a
// "Sign in" button. POSTing it logs in AND grants consent in one step. An
// empty Subject becomes "sub-" + first 16 hex chars of sha256(lowercased email).

import http from 'node:http';
import crypto from 'node:crypto';

// oidc-provider prints its "you SHOULD change ..." notices with console.info,
// i.e. to stdout. Stdout is reserved for the issuer line, so route all
// console output to stderr before the library is loaded.
console.log = console.error;
console.info = console.error;
const { default: Provider } = await import('oidc-provider');

const log = (...args) => console.error('[oidc-provider]', ...args);

// ---------------------------------------------------------------------------
// Configuration from the environment

function fail(message) {
  log(`fatal: ${message}`);
  process.exit(2);
}

const requestedPort = Number(process.env.OIDC_PORT || 0);
if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
  fail(`OIDC_PORT must be a port number, got ${JSON.stringify(process.env.OIDC_PORT)}`);
}

// Normalise to "" or "/something" without a trailing slash.
let issuerPath = (process.env.OIDC_ISSUER_PATH || '').trim();
if (issuerPath && !issuerPath.startsWith('/')) issuerPath = `/${issuerPath}`;
issuerPath = issuerPath.replace(/\/+$/, '');

let clientsInput;
try {
  clientsInput = JSON.parse(process.env.OIDC_CLIENTS || '[]');
} catch (err) {
  fail(`OIDC_CLIENTS is not valid JSON: ${err.message}`);
}
if (!Array.isArray(clientsInput)) fail('OIDC_CLIENTS must be a JSON array');

const clients = clientsInput.map((c, i) => {
  if (!c || typeof c.client_id !== 'string' || typeof c.client_secret !== 'string'
    || !Array.isArray(c.redirect_uris)) {
    fail(`OIDC_CLIENTS[${i}] needs string client_id, client_secret and an array redirect_uris`);
  }
  return {
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris,
    // Confidential web client; secrets sent with HTTP Basic.
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // Every ID token carries auth_time, not only when max_age is sent.
    require_auth_time: true,
  };
});

// ---------------------------------------------------------------------------
// Accounts: whatever was last submitted on the login page for a subject.

const accounts = new Map(); // sub -> { email, email_verified, name }

function subjectFor(email) {
  const digest = crypto.createHash('sha256').update(email.toLowerCase()).digest('hex');
  return `sub-${digest.slice(0, 16)}`;
}

async function findAccount(_ctx, sub) {
  const account = accounts.get(sub);
  if (!account) return undefined;
  return {
    accountId: sub,
    // oidc-provider filters these by the granted scopes/claims.
    async claims() {
      const claims = { sub };
      if (account.email) {
        claims.email = account.email;
        claims.email_verified = account.email_verified;
      }
      if (account.name) claims.name = account.name;
      return claims;
    },
  };
}

// ---------------------------------------------------------------------------
// HTML helpers (plain pages, no external assets: the tests run offline)

const escapeHtml = (value) => String(value)
  .replaceAll('&', '&amp;')
  .replaceAll('<', '&lt;')
  .replaceAll('>', '&gt;')
  .replaceAll('"', '&quot;')
  .replaceAll("'", '&#39;');

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:30rem;margin:2rem auto;padding:0 1rem}
input[type=text]{width:100%;box-sizing:border-box;padding:.4rem}
.field{margin:0 0 1rem}.hint{font-size:.9em;color:#444}.error{color:#a00000}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function loginPage({ action, clientId, email = '', verified = true, sub = '', error }) {
  return page('Test identity provider', `<h1>Test identity provider</h1>
<p>Sign in to continue to <strong>${escapeHtml(clientId)}</strong>.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${escapeHtml(action)}">
<div class="field">
<label for="email">Email</label>
<input type="text" id="email" name="email" value="${escapeHtml(email)}" autocomplete="email">
</div>
<div class="field">
<input type="checkbox" id="verified" name="verified" value="yes"${verified ? ' checked' : ''}>
<label for="verified">Address verified</label>
</div>
<div class="field">
<label for="sub">Subject</label>
<input type="text" id="sub" name="sub" value="${escapeHtml(sub)}" aria-describedby="sub-hint">
<div id="sub-hint" class="hint">Optional. Leave empty to derive it from the email.</div>
</div>
<button type="submit">Sign in</button>
</form>`);
}

function errorPage(error, description) {
  return page('Test identity provider: error', `<h1>Something went wrong</h1>
<dl>
<dt>Error</dt><dd>${escapeHtml(error)}</dd>
${description ? `<dt>Description</dt><dd>${escapeHtml(description)}</dd>` : ''}
</dl>`);
}

function sendHtml(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(html);
}

// ---------------------------------------------------------------------------
// Provider configuration

const cookieKeys = [crypto.randomBytes(32).toString('base64url')];

// Fresh RS256 key per start, random kid: restarting = key rotation.
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomBytes(12).toString('base64url'),
  alg: 'RS256',
  use: 'sig',
};

const SUPPORTED_SCOPES = ['openid', 'email', 'profile'];

function configuration(port) {
  // Cookies are per host, not per port: prefix the names with the port so
  // that the app under test (also on 127.0.0.1) or a second provider never
  // collides with this one.
  const cookiePrefix = `op${port}`;
  return {
    clients,
    jwks: { keys: [signingKey] },
    findAccount,
    scopes: SUPPORTED_SCOPES,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    // Put scope-granted claims (email, email_verified, name) into the ID
    // token too, not only into the userinfo response.
    conformIdTokenClaims: false,
    // Code flow only. RFC 9207 `iss` needs no flag in 9.x: it is added to
    // every authorization response without an id_token (and discovery says
    // authorization_response_iss_parameter_supported: true).
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    // PKCE (S256 is the only method 9.x supports) for every client.
    pkce: { required: () => true },
    // Plain http on 127.0.0.1: koa only marks cookies Secure on https, so
    // these work as-is. Keys are needed because the cookies are signed.
    cookies: {
      keys: cookieKeys,
      names: {
        session: `${cookiePrefix}_session`,
        interaction: `${cookiePrefix}_interaction`,
        resume: `${cookiePrefix}_interaction_resume`,
      },
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    ttl: {
      AuthorizationCode: 60,
      AccessToken: 3600,
      IdToken: 3600,
      Interaction: 3600,
      Session: 24 * 3600,
      Grant: 24 * 3600,
    },
    interactions: {
      // Our own login page, under the issuer path.
      url: (_ctx, interaction) => `${issuerPath}/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = page('Test identity provider', `<h1>Sign out</h1>
<p>Do you want to sign out of the test identity provider?</p>
${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = page('Test identity provider', '<h1>Signed out</h1>\n<p>You have been signed out.</p>');
        },
      },
    },
    // Server-side RPs only: no CORS for client-specific endpoints.
    clientBasedCORS: () => false,
    // Errors that cannot be sent back to a (valid) redirect_uri, e.g. an
    // unknown client or a bad redirect_uri, are shown as a plain page.
    renderError: async (ctx, out, error) => {
      const detail = error?.message && ![out.error, out.error_description].includes(error.message)
        ? ` (${error.message})` : '';
      log(`rendering error page: ${out.error}: ${out.error_description ?? ''}${detail}`);
      ctx.type = 'html';
      ctx.body = errorPage(out.error, out.error_description);
    },
  };
}

// ---------------------------------------------------------------------------
// Interactions: our login page plus automatic consent

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// Grants everything the consent prompt says is missing (no consent screen).
async function grantMissing(provider, interaction) {
  const { prompt: { details }, params, session } = interaction;
  const grant = interaction.grantId
    ? await provider.Grant.find(interaction.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

// Claims named in an OIDC `claims` request parameter (if any).
function requestedClaims(params) {
  if (!params.claims) return [];
  try {
    const parsed = typeof params.claims === 'string' ? JSON.parse(params.claims) : params.claims;
    return [...new Set([
      ...Object.keys(parsed.id_token || {}),
      ...Object.keys(parsed.userinfo || {}),
    ])];
  } catch {
    return [];
  }
}

async function handleInteraction(provider, req, res, uid) {
  let interaction;
  try {
    interaction = await provider.interactionDetails(req, res);
  } catch (err) {
    // Expired/missing interaction cookie or session: a page, not a crash.
    sendHtml(res, 400, errorPage('invalid_request', err.error_description || err.message));
    return;
  }
  if (interaction.uid !== uid) {
    sendHtml(res, 400, errorPage('invalid_request', 'interaction does not match this browser session'));
    return;
  }

  const { prompt, params } = interaction;
  const action = `${issuerPath}/interaction/${uid}`;

  // Already signed in, only consent missing: grant it straight away.
  if (prompt.name === 'consent') {
    const grantId = await grantMissing(provider, interaction);
    log(`consent granted automatically for ${interaction.session?.accountId} to ${params.client_id}`, `(${prompt.reasons.join(', ')})`);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }

  if (prompt.name !== 'login') {
    sendHtml(res, 400, errorPage('invalid_request', `unsupported interaction prompt ${prompt.name}`));
    return;
  }

  if (req.method === 'GET') {
    sendHtml(res, 200, loginPage({ action, clientId: params.client_id }));
    return;
  }

  if (req.method !== 'POST') {
    res.statusCode = 405;
    res.setHeader('Allow', 'GET, POST');
    res.end();
    return;
  }

  const form = await readForm(req);
  const email = (form.get('email') || '').trim();
  const verified = form.has('verified');
  let sub = (form.get('sub') || '').trim();
  if (!email && !sub) {
    sendHtml(res, 400, loginPage({
      action, clientId: params.client_id, verified, error: 'Enter an email address.',
    }));
    return;
  }
  // An empty email is allowed when a Subject is given: the account then has
  // no email claims (lets tests exercise "provider sent no email").
  if (!sub) sub = subjectFor(email);
  accounts.set(sub, {
    email: email || undefined,
    email_verified: verified,
    name: email ? email.split('@')[0] : undefined,
  });

  // Signing in as somebody else than the current provider session: end that
  // session here rather than letting oidc-provider show its JavaScript
  // auto-submitting "logout first" form, so plain HTTP clients work too.
  if (interaction.session?.uid && interaction.session.accountId !== sub) {
    const previous = await provider.Session.findByUid(interaction.session.uid);
    delete interaction.session.uid;
    await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
    if (previous) await previous.destroy();
  }

  // Consent for everything requested, together with the login.
  const sameAccount = interaction.session?.accountId === sub;
  const grant = sameAccount && interaction.grantId
    ? await provider.Grant.find(interaction.grantId)
    : new provider.Grant({ accountId: sub, clientId: params.client_id });
  const scopes = String(params.scope || '').split(' ').filter((s) => SUPPORTED_SCOPES.includes(s));
  grant.addOIDCScope(scopes.join(' '));
  const claims = requestedClaims(params);
  if (claims.length) grant.addOIDCClaims(claims);
  const grantId = await grant.save();

  log(`login ${sub} <${email}> verified=${verified} for ${params.client_id}`);
  await provider.interactionFinished(req, res, {
    login: { accountId: sub },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

// ---------------------------------------------------------------------------
// HTTP server

let provider; // created once the port is known
let providerCallback;
const interactionRoute = new RegExp(
  `^${issuerPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/interaction/([A-Za-z0-9_-]+)$`,
);

const server = http.createServer(async (req, res) => {
  try {
    if (!provider) {
      sendHtml(res, 503, errorPage('temporarily_unavailable', 'starting up'));
      return;
    }
    const { pathname } = new URL(req.url, 'http://127.0.0.1');

    const match = interactionRoute.exec(pathname);
    if (match) {
      await handleInteraction(provider, req, res, match[1]);
      return;
    }

    // The issuer may have a path: mount oidc-provider below it.
    if (issuerPath) {
      if (pathname !== issuerPath && !pathname.startsWith(`${issuerPath}/`)) {
        sendHtml(res, 404, errorPage('not_found', `no such page: ${pathname}`));
        return;
      }
      req.url = req.url.slice(issuerPath.length) || '/';
      req.baseUrl = issuerPath; // oidc-provider builds its URLs from this
    }
    providerCallback(req, res);
  } catch (err) {
    log('request failed:', err);
    if (!res.headersSent) {
      sendHtml(res, 500, errorPage('server_error', err.message));
    } else {
      res.end();
    }
  }
});

server.on('error', (err) => fail(`cannot listen: ${err.message}`));

server.listen(requestedPort, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}${issuerPath}`;
  provider = new Provider(issuer, configuration(port));
  provider.proxy = false; // not behind a reverse proxy

  provider.on('server_error', (_ctx, err) => log('server_error:', err));
  provider.on('authorization.error', (_ctx, err) => log(`authorization.error: ${err.message} ${err.error_description ?? ''}`));
  provider.on('grant.error', (_ctx, err) => log(`grant.error: ${err.message} ${err.error_description ?? ''} ${err.error_detail ?? ''}`));

  providerCallback = provider.callback();
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
  log(`listening, issuer ${issuer}, kid ${signingKey.kid}, clients ${clients.map((c) => c.client_id).join(', ') || '(none)'}`);
});

// Exit promptly when the test harness stops us.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    log(`${signal} received, exiting`);
    process.exit(0);
  });
}
