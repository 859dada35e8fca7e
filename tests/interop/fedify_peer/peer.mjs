// An independent ActivityPub server built with Fedify, for talentfed's interop test
// (tests/interop/test_fedify.py). Usage: node peer.mjs PORT
//
// It serves one actor, "fedi", at http://127.0.0.1:PORT/users/fedi, and a JSON control API under
// /_control/ through which the test makes it look up, follow and reply, and reads what it received.
// JSON-LD is read strictly: contexts come only from Fedify's preloaded set (what a Fedify server
// has without fetching); any other context URL makes parsing fail, as it does on a real server
// where that URL does not resolve. Logs go to stderr; SIGTERM stops it.

import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import http from "node:http";

import {
  createFederation,
  generateCryptoKeyPair,
  getAuthenticatedDocumentLoader,
  getDocumentLoader,
  MemoryKvStore,
  preloadedContexts,
} from "@fedify/fedify";
import {
  Accept,
  Create,
  Delete,
  Endpoints,
  Follow,
  lookupObject,
  Mention,
  Note,
  Person,
  PUBLIC_COLLECTION,
  toAcctUrl,
  Undo,
  Update,
} from "@fedify/vocab";
import { lookupWebFinger } from "@fedify/webfinger";
import { configure, getTextFormatter } from "@logtape/logtape";
import jsonld from "jsonld";

const PORT = Number(process.argv[2]);
if (!Number.isInteger(PORT) || PORT <= 0) {
  process.stderr.write("usage: node peer.mjs PORT\n");
  process.exit(2);
}
const ORIGIN = `http://127.0.0.1:${PORT}`;
const USERNAME = "fedi";
const INBOX_PATHS = new Set([`/users/${USERNAME}/inbox`, "/inbox"]);
const CAVAGE = "draft-cavage-http-signatures-12";
const RFC9421 = "rfc9421";

// --- what the test reads back --------------------------------------------------------------

const state = {
  inbox: [], // every POST to an inbox: how it was signed, Fedify's answer, what Fedify parsed
  sent: [], // every POST this peer made: to where, how it was signed, the answer's status
  followers: new Map(), // actor id -> inbox
  published: new Map(), // our notes and follows, by id, so that they can be dereferenced
  requireRfc9421: false, // refuse draft-cavage-signed inbox POSTs with 401, so senders double-knock
};
const pendingByActivityId = new Map(); // activity id -> its state.inbox entry, while Fedify handles it

// --- JSON-LD, strictly ------------------------------------------------------------------------

async function strictContextLoader(url) {
  if (Object.hasOwn(preloadedContexts, url)) {
    return { contextUrl: null, document: preloadedContexts[url], documentUrl: url };
  }
  throw new Error(`strict loader: the context ${url} is not one a Fedify server ships; it is never fetched`);
}

// Documents (actors, keys, objects) are fetched from loopback; contexts never.
const documentLoader = getDocumentLoader({ allowPrivateAddress: true });

async function expandStrictly(document) {
  try {
    return { expanded: await jsonld.expand(document, { documentLoader: strictContextLoader }) };
  } catch (error) {
    return { expansionError: describeError(error) };
  }
}

function describeError(error) {
  const parts = [`${error?.name ?? "Error"}: ${error?.message ?? error}`];
  if (error?.details?.url) parts.push(`url: ${error.details.url}`);
  if (error?.details?.cause) parts.push(`cause: ${describeError(error.details.cause)}`);
  return parts.join("; ");
}

// --- keys ---------------------------------------------------------------------------------

const keyPairs = [await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"), await generateCryptoKeyPair("Ed25519")];

// --- the Fedify application -----------------------------------------------------------------

// One KV store, one set of dispatchers; one Federation per first-knock signature scheme, so the
// control API can choose how a POST is signed first. Each remembers per host which scheme
// worked under its own prefix, so one never changes the other's first knock.
const kv = new MemoryKvStore();
const federations = {
  [CAVAGE]: buildFederation(CAVAGE),
  [RFC9421]: buildFederation(RFC9421),
};
const serving = federations[RFC9421]; // Fedify's default first knock, for the Accepts it sends itself

function buildFederation(firstKnock) {
  const federation = createFederation({
    kv,
    kvPrefixes: { httpMessageSignaturesSpec: ["peer", "signatureSpec", firstKnock] },
    origin: ORIGIN,
    firstKnock,
    // No queue: activities are sent while the control request waits, and inbox listeners run
    // before the inbox answers, so the test sees the outcome at once.
    // Custom loaders cannot be combined with allowPrivateAddress: they allow loopback themselves.
    documentLoaderFactory: () => documentLoader,
    contextLoaderFactory: () => strictContextLoader,
    authenticatedDocumentLoaderFactory: (identity) =>
      getAuthenticatedDocumentLoader(identity, { allowPrivateAddress: true }),
  });
  setUpActor(federation);
  setUpInbox(federation);
  // What we send can be fetched back: Fedify re-fetches an embedded object whose origin differs
  // from the activity's (our Follow inside talentfed's Accept), as a real Fedify server would.
  for (const [type, path] of [[Note, "/notes/{id}"], [Follow, "/follows/{id}"]]) {
    federation.setObjectDispatcher(type, path, (ctx, values) => {
      return state.published.get(ctx.getObjectUri(type, values).href) ?? null;
    });
  }
  return federation;
}

function setUpActor(federation) {
  federation
    .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
      if (identifier !== USERNAME) return null;
      const keys = await ctx.getActorKeyPairs(identifier);
      return new Person({
        id: ctx.getActorUri(identifier),
        preferredUsername: identifier,
        name: "Fedi Peer",
        summary: "An independent Fedify server in talentfed's interop test.",
        inbox: ctx.getInboxUri(identifier),
        endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
        followers: ctx.getFollowersUri(identifier),
        publicKey: keys[0].cryptographicKey,
        assertionMethods: keys.map((key) => key.multikey),
      });
    })
    .setKeyPairsDispatcher((ctx, identifier) => (identifier === USERNAME ? keyPairs : []));
  federation.setFollowersDispatcher("/users/{identifier}/followers", (ctx, identifier) => {
    if (identifier !== USERNAME) return null;
    const items = [...state.followers].map(([id, inbox]) => ({ id: new URL(id), inboxId: new URL(inbox) }));
    return { items };
  });
}

function setUpInbox(federation) {
  federation
    .setInboxListeners(`/users/{identifier}/inbox`, "/inbox")
    .on(Follow, async (ctx, follow) => {
      await record(ctx, follow);
      if (follow.objectId?.href !== ctx.getActorUri(USERNAME).href) return;
      const follower = await follow.getActor(ctx);
      state.followers.set(follower.id.href, follower.inboxId.href);
      const accept = new Accept({
        id: new URL(`${ORIGIN}/activities/${randomUUID()}`),
        actor: ctx.getActorUri(USERNAME),
        object: follow,
      });
      await ctx.sendActivity({ identifier: USERNAME }, follower, accept);
    })
    .on(Accept, record)
    .on(Create, record)
    .on(Update, record)
    .on(Delete, record)
    .on(Undo, record)
    .onUnverifiedActivity((ctx, activity, reason) => {
      const entry = pendingByActivityId.get(activity.id?.href);
      if (entry) entry.unverified = reason.type;
    })
    .onError((ctx, error) => log(`inbox listener failed: ${describeError(error)}`));
}

// What Fedify made of a verified activity, next to its inbox entry.
async function record(ctx, activity) {
  const entry = pendingByActivityId.get(activity.id?.href) ?? { raw: null };
  if (!state.inbox.includes(entry)) state.inbox.push(entry);
  entry.fedify = {
    type: activity.constructor.name,
    id: activity.id?.href ?? null,
    actor: activity.actorId?.href ?? null,
    object: null,
  };
  try {
    const loaders = { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader };
    const object = await activity.getObject(loaders);
    entry.fedify.object = object && { type: object.constructor.name, id: object.id?.href ?? null };
  } catch (error) {
    entry.fedify.objectError = describeError(error);
  }
}

// --- outgoing requests are recorded with the signature scheme Fedify used -----------------

const originalFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  const response = await originalFetch(request.clone());
  if (request.method === "POST") {
    state.sent.push({ url: request.url, scheme: signatureScheme(request.headers), status: response.status });
  }
  return response;
};

function signatureScheme(headers) {
  if (headers.has("signature-input")) return RFC9421;
  if (headers.has("signature")) return CAVAGE;
  return null;
}

// --- the control API ----------------------------------------------------------------------

const control = {
  "GET /_control/health": () => ({ ok: true }),
  "GET /_control/received": () => state.inbox,
  "GET /_control/sent": () => state.sent,
  "POST /_control/require-rfc9421": ({ on }) => {
    state.requireRfc9421 = Boolean(on);
    return { requireRfc9421: state.requireRfc9421 };
  },
  "POST /_control/lookup": ({ handle }) => lookUp(handle),
  "POST /_control/follow": ({ actor, sign }) => follow(actor, sign),
  "POST /_control/reply": (body) => reply(body),
};

function contextFor(sign = RFC9421) {
  const federation = federations[sign];
  if (!federation) throw new ControlError(400, `sign must be ${CAVAGE} or ${RFC9421}, got ${sign}`);
  return federation.createContext(new URL(ORIGIN), undefined);
}

// WebFinger (over https: Fedify always uses https for acct: handles) and the actor document,
// raw and strictly expanded; then Fedify's own lookupObject, as a Fedify server would do it.
async function lookUp(handle) {
  const ctx = contextFor();
  const jrd = await lookupWebFinger(toAcctUrl(handle), { allowPrivateAddress: true });
  const self = jrd?.links?.find((link) => link.rel === "self" && link.type === "application/activity+json");
  if (!self) {
    throw new ControlError(502, `WebFinger for ${handle}: no ActivityPub self link in ${JSON.stringify(jrd)}`);
  }
  const raw = (await documentLoader(self.href)).document;
  const result = { webfinger: jrd, raw, ...(await expandStrictly(raw)), fedify: null };
  try {
    const actor = await loadActor(ctx, handle);
    result.fedify = {
      type: actor.constructor.name,
      id: actor.id?.href,
      preferredUsername: actor.preferredUsername?.toString() ?? null,
      name: actor.name?.toString() ?? null,
      inbox: actor.inboxId?.href ?? null,
    };
  } catch (error) {
    result.fedifyError = describeError(error);
  }
  return result;
}

// ctx.lookupObject() would pass the federation's allowPrivateAddress (false once custom loaders
// are set) to WebFinger; this is the same function with loopback allowed.
async function loadActor(ctx, identifier) {
  const actor = await lookupObject(identifier, {
    documentLoader: ctx.documentLoader,
    contextLoader: ctx.contextLoader,
    allowPrivateAddress: true,
  });
  if (!actor) throw new ControlError(502, `Fedify could not look up ${identifier} (see the peer's log)`);
  return actor;
}

async function follow(actorId, sign) {
  const ctx = contextFor(sign);
  const actor = await loadActor(ctx, actorId);
  const activity = new Follow({
    id: ctx.getObjectUri(Follow, { id: randomUUID() }),
    actor: ctx.getActorUri(USERNAME),
    object: actor.id,
  });
  state.published.set(activity.id.href, activity);
  await ctx.sendActivity({ identifier: USERNAME }, actor, activity);
  return { id: activity.id.href };
}

async function reply({ inReplyTo, content, to, sign }) {
  const ctx = contextFor(sign);
  const author = await loadActor(ctx, to);
  const id = ctx.getObjectUri(Note, { id: randomUUID() });
  const note = new Note({
    id,
    attribution: ctx.getActorUri(USERNAME),
    content,
    replyTarget: new URL(inReplyTo),
    tos: [PUBLIC_COLLECTION, author.id],
    tags: [new Mention({ href: author.id, name: `@${author.preferredUsername}@${author.id.host}` })],
  });
  state.published.set(id.href, note);
  const create = new Create({
    id: new URL(`${id.href}/activity`),
    actor: ctx.getActorUri(USERNAME),
    object: note,
    tos: note.toIds,
  });
  await ctx.sendActivity({ identifier: USERNAME }, author, create);
  return { id: id.href, activity: create.id.href };
}

class ControlError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// --- HTTP -----------------------------------------------------------------------------------

async function handle(req, res) {
  const body = await readBody(req);
  const route = control[`${req.method} ${req.url.split("?")[0]}`];
  if (route) return answerControl(route, body, res);
  if (req.method === "POST" && INBOX_PATHS.has(req.url.split("?")[0])) return answerInbox(req, body, res);
  return send(res, await serving.fetch(toRequest(req, body), { contextData: undefined }));
}

async function answerControl(route, body, res) {
  try {
    const result = await route(body.length ? JSON.parse(body.toString()) : {});
    return sendJson(res, 200, result);
  } catch (error) {
    log(`control request failed: ${describeError(error)}`);
    return sendJson(res, error.status ?? 500, { error: describeError(error) });
  }
}

// Every inbox POST is recorded — refused, unverified or accepted — with its strict expansion,
// so that a document Fedify cannot read shows up with the reason rather than disappearing.
async function answerInbox(req, body, res) {
  const scheme = signatureScheme(new Headers(req.headers));
  let raw = null;
  try {
    raw = JSON.parse(body.toString());
  } catch {
    // Fedify answers it; the entry keeps raw = null
  }
  const entry = { path: req.url, scheme, raw, ...(await expandStrictly(raw ?? {})), fedify: null };
  state.inbox.push(entry);
  if (state.requireRfc9421 && scheme !== RFC9421) {
    entry.status = 401;
    entry.refusedByPeer = "this peer only accepts RFC 9421 signatures at the moment";
    return sendJson(res, 401, { error: entry.refusedByPeer });
  }
  if (raw?.id) pendingByActivityId.set(raw.id, entry);
  try {
    const response = await serving.fetch(toRequest(req, body), { contextData: undefined });
    entry.status = response.status;
    const text = await response.text();
    if (response.status >= 300) entry.response = text;
    return send(res, new Response(text, response));
  } finally {
    pendingByActivityId.delete(raw?.id);
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function toRequest(req, body) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const hasBody = !["GET", "HEAD"].includes(req.method);
  return new Request(`http://${req.headers.host}${req.url}`, {
    method: req.method,
    headers,
    body: hasBody ? body : undefined,
  });
}

async function send(res, response) {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}

function sendJson(res, status, value) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(value));
}

function log(message) {
  process.stderr.write(`${new Date().toISOString()} peer: ${message}\n`);
}

const formatLogRecord = getTextFormatter();
await configure({
  contextLocalStorage: new AsyncLocalStorage(),
  sinks: { stderr: (record) => process.stderr.write(formatLogRecord(record)) },
  loggers: [
    { category: "fedify", lowestLevel: process.env.PEER_LOG_LEVEL ?? "info", sinks: ["stderr"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
  ],
});

const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    log(`request ${req.method} ${req.url} failed: ${describeError(error)}`);
    if (!res.headersSent) sendJson(res, 500, { error: describeError(error) });
  });
});
server.listen(PORT, "127.0.0.1", () => log(`listening on ${ORIGIN}, actor ${ORIGIN}/users/${USERNAME}`));
process.on("SIGTERM", () => {
  log("SIGTERM: stopping");
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
