// An OpenID Connect provider for sesame's social sign-in browser test
// (gateway/browser_oidc_test.go): panva's oidc-provider, pinned by
// package-lock.json, on a free port of 127.0.0.1. The test starts it as a
// process of its own and reads the issuer URL from the first line it
// prints.
//
// Environment:
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET  the one client (sesame)
//   OIDC_REDIRECT_URI                   sesame's {public_url}/oidc/callback
//   OIDC_ACCOUNTS                       JSON: login name -> {email, email_verified}
//
// The login page is its own (oidc-provider's development pages load a
// web font from the internet): a login name, which picks the account, and
// any password. Consent is given without a page.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`provider.mjs: ${name} is not set`);
    process.exit(2);
  }
  return v;
};

const accounts = JSON.parse(env('OIDC_ACCOUNTS'));
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const loginPage = (uid) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test SSO: sign in</title></head>
<body><h1>Test SSO</h1>
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Login <input name="login" autocomplete="off" required autofocus></label>
<label>Password <input name="password" type="password" required></label>
<button type="submit">Sign in</button>
</form>
<p><a href="/interaction/${escape(uid)}/abort">Cancel</a></p>
</body></html>`;

const readForm = (req) => new Promise((resolve, reject) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => resolve(new URLSearchParams(body)));
  req.on('error', reject);
});

// interaction answers the provider's login and consent prompts.
async function interaction(provider, req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    res.writeHead(400).end('wrong interaction');
    return;
  }
  if (action === 'abort') {
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'cancelled at the provider' },
      { mergeWithLastSubmission: false });
    return;
  }
  if (action === 'login' && req.method === 'POST') {
    const form = await readForm(req);
    await provider.interactionFinished(req, res, { login: { accountId: form.get('login') } }, { mergeWithLastSubmission: false });
    return;
  }
  if (details.prompt.name === 'login') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(loginPage(uid));
    return;
  }
  const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  if (details.prompt.details.missingOIDCScope) {
    grant.addOIDCScope(details.prompt.details.missingOIDCScope.join(' '));
  }
  if (details.prompt.details.missingOIDCClaims) {
    grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
  }
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: env('OIDC_CLIENT_ID'),
      client_secret: env('OIDC_CLIENT_SECRET'),
      redirect_uris: [env('OIDC_REDIRECT_URI')],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    // The email claims go into the ID token, which is all sesame reads.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, i) => `/interaction/${i.uid}` },
    async findAccount(ctx, id) {
      const a = accounts[id];
      if (!a) {
        return undefined;
      }
      return { accountId: id, claims: async () => ({ sub: id, ...a }) };
    },
  });
  const oidc = provider.callback();
  server.on('request', (req, res) => {
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/.exec(new URL(req.url, issuer).pathname);
    if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
    } else if (m) {
      interaction(provider, req, res, m[1], m[2]).catch((err) => {
        console.error(err);
        res.writeHead(500).end(String(err.message));
      });
    } else {
      oidc(req, res);
    }
  });
  console.log(issuer);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
