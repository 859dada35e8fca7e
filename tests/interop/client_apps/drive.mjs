// Drives a talentfed node's Mastodon client API through the libraries real apps are built on:
// masto.js (Elk, Phanpy) and megalodon (Whalebird, Fedistar), calling them as those apps do.
// Prints one JSON document: what the library parsed (masto.js turns keys into camelCase;
// megalodon keeps Mastodon's snake_case). On a failure it exits 1 and names the call.
//
//   node drive.mjs masto-register URL REDIRECT_URI          the app, as Elk registers it
//   node drive.mjs masto-token URL CLIENT_ID SECRET REDIRECT_URI CODE VERIFIER
//   node drive.mjs masto URL TOKEN REMOTE_ACCT              a session on Elk's and Phanpy's calls
//   node drive.mjs megalodon-register URL                   Whalebird's sign-in, first half
//   node drive.mjs megalodon-token URL SNS CLIENT_ID SECRET CODE     ... and second half
//   node drive.mjs megalodon URL TOKEN REMOTE_ACCT          a session on Whalebird's calls
//
// REMOTE_ACCT is `user@host` of a member of another node; before `masto`, that member follows
// the signed-in one (so a notification is on its way).

import { createOAuthAPIClient, createRestAPIClient, MastoHttpError } from "masto";
import generator, { detector } from "megalodon";

const TIMEOUT_MS = 15000;
const WAIT_MS = 30000; // for what federation brings: a follow accepted, a notification

class StepFailed extends Error {}

// Run one library call; a failure says which call, and what the server answered.
async function step(name, call) {
  try {
    return await call();
  } catch (error) {
    throw new StepFailed(`${name}: ${describe(error)}`);
  }
}

function describe(error) {
  if (error instanceof MastoHttpError) {
    return `MastoHttpError ${error.statusCode} ${JSON.stringify(error.message)}`;
  }
  if (error?.response) {
    // axios, under megalodon
    return `HTTP ${error.response.status} ${JSON.stringify(error.response.data)}`;
  }
  return error?.stack ?? String(error);
}

// The error a call fails with, as an app would show it; fails if the call succeeds.
async function failure(name, call) {
  try {
    await call();
  } catch (error) {
    if (error instanceof MastoHttpError) {
      return { kind: "MastoHttpError", statusCode: error.statusCode, message: error.message };
    }
    if (error?.response) {
      return { kind: "HTTP", status: error.response.status, data: error.response.data };
    }
    throw new StepFailed(`${name}: ${describe(error)}`);
  }
  throw new StepFailed(`${name}: succeeded, but an error was expected`);
}

async function waitFor(what, probe) {
  const deadline = Date.now() + WAIT_MS;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new StepFailed(`timed out after ${WAIT_MS} ms waiting for ${what}`);
}

// --- masto.js: Elk and Phanpy ---------------------------------------------------------------

const ELK_SCOPES = "read write follow push";

async function mastoRegister(url, redirectUri) {
  const masto = createRestAPIClient({ url, timeout: TIMEOUT_MS });
  const app = await step("v1.apps.create", () =>
    masto.v1.apps.create({ clientName: "Elk", redirectUris: redirectUri, scopes: ELK_SCOPES }),
  );
  return { clientId: app.clientId, clientSecret: app.clientSecret, scopes: ELK_SCOPES };
}

async function mastoToken(url, clientId, clientSecret, redirectUri, code, codeVerifier) {
  const oauth = createOAuthAPIClient({ url, timeout: TIMEOUT_MS });
  const token = await step("oauth token.create", () =>
    oauth.token.create({
      grantType: "authorization_code",
      clientId,
      clientSecret,
      redirectUri,
      code,
      codeVerifier,
      scope: ELK_SCOPES,
    }),
  );
  const masto = createRestAPIClient({ url, accessToken: token.accessToken, timeout: TIMEOUT_MS });
  const me = await step("v1.accounts.verifyCredentials", () => masto.v1.accounts.verifyCredentials());
  return { accessToken: token.accessToken, scope: token.scope, tokenType: token.tokenType, acct: me.acct };
}

async function masto(url, accessToken, remoteAcct) {
  const masto = createRestAPIClient({ url, accessToken, timeout: TIMEOUT_MS });
  const out = {};

  // What Elk and Phanpy read when they open.
  out.instanceV1 = await step("v1.instance.fetch", () => masto.v1.instance.fetch());
  out.instanceV2 = await step("v2.instance.fetch", () => masto.v2.instance.fetch());
  out.me = await step("v1.accounts.verifyCredentials", () => masto.v1.accounts.verifyCredentials());
  out.customEmojis = await step("v1.customEmojis.list", () => masto.v1.customEmojis.list());
  out.filtersV1 = await step("v1.filters.list", () => masto.v1.filters.list());
  out.filtersV2 = await step("v2.filters.list", () => masto.v2.filters.list());
  out.lists = await step("v1.lists.list", () => masto.v1.lists.list());
  out.markers = await step("v1.markers.fetch", () => masto.v1.markers.fetch({ timeline: ["home"] }));
  out.trendingTags = await step("v1.trends.tags.list", () => masto.v1.trends.tags.list());
  out.announcements = await step("v1.announcements.list", () => masto.v1.announcements.list());

  // Posting, a reply, the thread.
  out.note = await step("v1.statuses.create", () =>
    masto.v1.statuses.create({ status: "Hello from masto.js #elk", visibility: "public" }),
  );
  out.reply = await step("v1.statuses.create (reply)", () =>
    masto.v1.statuses.create({ status: "And a reply to it.", inReplyToId: out.note.id }),
  );
  const note = masto.v1.statuses.$select(out.note.id);
  out.fetched = await step("v1.statuses.$select(id).fetch", () => note.fetch());
  out.context = await step("v1.statuses.$select(id).context.fetch", () => note.context.fetch());

  // Timelines: the public one, and home page by page through the Link header.
  out.publicLocal = await step("v1.timelines.public.list", () =>
    masto.v1.timelines.public.list({ local: true, limit: 40 }),
  );
  const other = out.publicLocal.find((s) => s.account.id !== out.me.id && !s.inReplyToId);
  if (!other) throw new StepFailed("the local timeline has no post by another member");
  out.favourited = await step("favourite", () => masto.v1.statuses.$select(other.id).favourite());
  out.reblogged = await step("reblog", () => masto.v1.statuses.$select(other.id).reblog());
  out.homeFirstPage = await step("v1.timelines.home.list", () => masto.v1.timelines.home.list({ limit: 2 }));
  out.homePages = await step("v1.timelines.home.list (async iterator)", () => allPages(masto));
  out.ownStatuses = await step("v1.accounts.$select(id).statuses.list", () =>
    masto.v1.accounts.$select(out.me.id).statuses.list({ excludeReplies: true }),
  );

  // A member of another node: found by resolving search, followed, looked up, heard from.
  out.search = await step("v2.search.list", () =>
    masto.v2.search.list({ q: `@${remoteAcct}`, resolve: true, type: "accounts" }),
  );
  const remote = out.search.accounts.find((a) => a.acct === remoteAcct);
  if (!remote) throw new StepFailed(`v2.search.list: no account ${remoteAcct} in ${JSON.stringify(out.search)}`);
  out.follow = await step("v1.accounts.$select(id).follow", () => masto.v1.accounts.$select(remote.id).follow());
  out.relationships = await waitFor(`the follow of ${remoteAcct} to be accepted`, async () => {
    const found = await step("v1.accounts.relationships.fetch", () =>
      masto.v1.accounts.relationships.fetch({ id: [remote.id] }),
    );
    return found[0]?.following ? found : null;
  });
  out.lookup = await step("v1.accounts.lookup", () => masto.v1.accounts.lookup({ acct: remoteAcct }));
  out.notifications = await waitFor(`a notification from ${remoteAcct}`, async () => {
    const found = await step("v1.notifications.list", () => masto.v1.notifications.list());
    return found.some((n) => n.account.acct === remoteAcct) ? found : null;
  });

  // Errors as apps show them.
  out.notFound = await failure("a status that does not exist", () =>
    masto.v1.statuses.$select("999999999999").fetch(),
  );
  out.invalid = await failure("an empty status", () => masto.v1.statuses.create({ status: "" }));
  return out;
}

// Every page of the home timeline, two statuses at a time, as an app scrolls: masto's async
// iterator follows the `next` link of each page until a page has none.
async function allPages(masto) {
  const pages = [];
  for await (const page of masto.v1.timelines.home.list({ limit: 2 })) {
    pages.push(page.map((s) => s.id));
    if (pages.length > 100) throw new StepFailed("the home timeline pages never end");
  }
  return pages;
}

// --- megalodon: Whalebird and Fedistar ------------------------------------------------------

async function megalodonRegister(url) {
  // Whalebird asks nodeinfo which kind of server this is, then registers with its defaults
  // (scopes read write follow, redirect urn:ietf:wg:oauth:2.0:oob: the member pastes the code).
  const sns = await step("detector", () => detector(url));
  const client = generator(sns, url);
  const app = await step("registerApp", () => client.registerApp("Whalebird", {}));
  return { sns, clientId: app.client_id, clientSecret: app.client_secret, url: app.url };
}

async function megalodonToken(url, sns, clientId, clientSecret, code) {
  const token = await step("fetchAccessToken", () =>
    generator(sns, url).fetchAccessToken(clientId, clientSecret, code),
  );
  const client = generator(sns, url, token.access_token, "Whalebird");
  const me = await step("verifyAccountCredentials", () => client.verifyAccountCredentials());
  return { accessToken: token.access_token, scope: token.scope, acct: me.data.acct };
}

async function megalodon(url, accessToken, remoteAcct) {
  const client = generator("mastodon", url, accessToken, "Whalebird");
  const out = {};
  out.detected = await step("detector", () => detector(url));
  out.me = (await step("verifyAccountCredentials", () => client.verifyAccountCredentials())).data;
  out.instance = (await step("getInstance", () => client.getInstance())).data;
  out.posted = (
    await step("postStatus", () => client.postStatus("Hello from megalodon", { visibility: "unlisted" }))
  ).data;
  const first = await step("getHomeTimeline", () => client.getHomeTimeline({ limit: 2 }));
  out.homeFirstPage = first.data;
  out.homeLink = first.headers.link ?? null;
  const oldest = first.data.at(-1)?.id;
  out.homeSecondPage = (
    await step("getHomeTimeline (max_id)", () => client.getHomeTimeline({ limit: 2, max_id: oldest }))
  ).data;
  out.notifications = (await step("getNotifications", () => client.getNotifications({ limit: 20 }))).data;
  out.search = (
    await step("search", () => client.search(`@${remoteAcct}`, { type: "accounts", resolve: true }))
  ).data;
  out.notFound = await failure("getStatus of a status that does not exist", () =>
    client.getStatus("999999999999"),
  );
  return out;
}

const COMMANDS = {
  "masto-register": mastoRegister,
  "masto-token": mastoToken,
  masto,
  "megalodon-register": megalodonRegister,
  "megalodon-token": megalodonToken,
  megalodon,
};

const [command, ...args] = process.argv.slice(2);
if (!COMMANDS[command]) {
  console.error(`usage: node drive.mjs ${Object.keys(COMMANDS).join("|")} ARGS… (see the head of drive.mjs)`);
  process.exit(2);
}
try {
  console.log(JSON.stringify(await COMMANDS[command](...args)));
} catch (error) {
  console.error(`${command}: ${error instanceof StepFailed ? error.message : describe(error)}`);
  process.exit(1);
}
