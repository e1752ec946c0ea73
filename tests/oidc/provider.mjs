// The OpenID provider of the sign-in tests: node provider.mjs <config.json>
//
// config.json: {"issuer": "http://127.0.0.1:<port>", "port": <port>,
//               "clients": [{"client_id", "client_secret", "redirect_uris": [...]}],
//               "accounts": {"<username>": {"password", "email", "given_name", "family_name",
//                                           "groups": [...]}}}
// Accounts are read again at every sign-in, so a test changes someone's groups by rewriting
// the file. The log-in page checks the password; consent is implied (Portico is first-party).
import { readFileSync } from "node:fs";

import Provider from "oidc-provider";

const configPath = process.argv[2];
const readConfig = () => JSON.parse(readFileSync(configPath, "utf8"));
const config = readConfig();

const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function findAccount(ctx, id) {
  const account = readConfig().accounts[id];
  if (!account) return undefined;
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        preferred_username: id,
        email: account.email,
        email_verified: true,
        given_name: account.given_name,
        family_name: account.family_name,
        groups: account.groups,
      };
    },
  };
}

const provider = new Provider(config.issuer, {
  clients: config.clients.map((client) => ({
    ...client,
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_post",
  })),
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["preferred_username", "given_name", "family_name"],
    groups: ["groups"],
  },
  scopes: ["openid", "email", "profile", "groups"],
  findAccount,
  // Every claim of the granted scopes goes into the ID token as well as userinfo, as
  // Microsoft Entra ID does with groups.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: ["portico-tests-only-cookie-key"] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async loadExistingGrant(ctx) {
    const grantId =
      ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile groups");
    await grant.save();
    return grant;
  },
});

// The browser tests' live server takes a free port when it starts: a registered loopback
// address matches on any port, as RFC 8252 lets native applications' addresses do.
const redirectUriAllowed = provider.Client.prototype.redirectUriAllowed;
const withoutPort = (uri) => {
  const url = new URL(uri);
  if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost") return undefined;
  url.port = "";
  return url.href;
};
provider.Client.prototype.redirectUriAllowed = function allowed(value) {
  if (redirectUriAllowed.call(this, value)) return true;
  const loopback = withoutPort(value);
  return loopback !== undefined && this.redirectUris.some((uri) => withoutPort(uri) === loopback);
};

function loginPage(uid, message) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><h1>Test identity provider</h1>
${message ? `<p role="alert">${escape(message)}</p>` : ""}
<form method="post" action="/interaction/${escape(uid)}">
<label for="login">Account</label><input id="login" name="login" autocomplete="username">
<label for="password">Secret</label><input id="password" name="password" type="password">
<button type="submit">Continue</button></form></body></html>`;
}

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === "GET") {
    ctx.type = "html";
    ctx.body = loginPage(details.uid);
    return undefined;
  }
  if (ctx.method !== "POST") {
    ctx.status = 405;
    return undefined;
  }
  const form = await formBody(ctx.req);
  const account = readConfig().accounts[form.get("login")];
  if (!account || account.password !== form.get("password")) {
    ctx.status = 401;
    ctx.type = "html";
    ctx.body = loginPage(details.uid, "Unknown account or wrong secret.");
    return undefined;
  }
  const result = { login: { accountId: form.get("login") } };
  const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: false,
  });
  ctx.status = 303;
  ctx.redirect(redirectTo);
  return undefined;
});

const server = provider.listen(config.port, "127.0.0.1", () => {
  process.stdout.write(`listening on ${config.issuer}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
