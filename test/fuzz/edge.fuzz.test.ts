import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatpushClient, waitFor } from "../../local/client.js";
import { jsonFiles, loadCallbackSample } from "../../local/events.js";
import { type LocalRuntime, startLocalRuntime } from "../../local/runtime.js";

/**
 * Property tests of the edge against the whole local runtime over real sockets: hostile callbacks
 * and device / preferences requests never get a 5xx or crash the runtime, every 4xx names the field,
 * and every callback answered 200 reaches the router without error (no "record failed").
 *
 * `npm test` runs a slice of a few hundred cases; `npm run test:fuzz` (CHATPUSH_FUZZ=full) runs
 * 10,000. Not timed: the runs are bounded by their number of cases.
 */
const FULL = process.env.CHATPUSH_FUZZ === "full";
const RUNS = FULL
  ? { callbacks: 6_000, devices: 2_500, preferences: 1_500 }
  : { callbacks: 200, devices: 100, preferences: 100 };
const SEED = Number(process.env.CHATPUSH_FUZZ_SEED ?? 20_251_126);

const SDK_APP_ID = "1400000000";
const TOKEN = "fuzz-callback-token-3Kp9Qz";
const SECRET = "fuzz-usersig-secret";

let runtime: LocalRuntime;
let client: ChatpushClient;
const crashes: unknown[] = [];
const logLines: string[] = [];
const restore: (() => void)[] = [];
const tally = { cases: 0, status: new Map<number, number>() };

beforeAll(async () => {
  // The router's "record failed" lines are how a callback answered 200 shows it could not be routed.
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = String(chunk);
      if (text.includes('"level":"ERROR"')) logLines.push(text);
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => {
      stream.write = write;
    });
  }
  runtime = await startLocalRuntime({
    sdkAppId: SDK_APP_ID,
    callbackToken: TOKEN,
    secretKey: SECRET,
    port: 0,
    workers: false,
    onError: (error) => crashes.push(error),
  });
  client = new ChatpushClient({
    baseUrl: runtime.url,
    sdkAppId: SDK_APP_ID,
    callbackToken: TOKEN,
    secretKey: SECRET,
  });
}, 60_000);

afterAll(async () => {
  sqsClient?.destroy();
  await runtime?.stop();
  for (const undo of restore) undo();
  const statuses = [...tally.status.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`);
  console.log(`[fuzz] ${tally.cases} cases (seed ${SEED}); answers ${statuses.join(", ")}`);
});

interface Answer {
  status: number;
  body: string;
}

/** What every answer must be: no 5xx, and a 4xx that names its field. */
function checkAnswer(answer: Answer, what: string): void {
  tally.cases += 1;
  tally.status.set(answer.status, (tally.status.get(answer.status) ?? 0) + 1);
  if (answer.status >= 500) throw new Error(`${what} → ${answer.status} ${answer.body.slice(0, 300)}`);
  if (answer.status >= 400) {
    const parsed = JSON.parse(answer.body) as { field?: unknown };
    if (typeof parsed.field !== "string" || parsed.field === "") {
      throw new Error(`${what} → ${answer.status} without a field: ${answer.body.slice(0, 300)}`);
    }
  }
}

// ── hostile values ──────────────────────────────────────────────────────────────────────────────

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "",
    "__proto__",
    "constructor",
    "hasOwnProperty",
    "bob\n[chatpush] 00:00 delivered",
    "\u0000",
    "\ud800",
    "\uffff",
    "😀",
    "a b",
    "@TGS#2J4SZEAEL",
    "c2c_bob",
    "../../etc/passwd",
    "%00",
  ),
  fc.integer({ min: 30, max: 3_500 }).map((n) => "x".repeat(n)),
);
const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 2 ** 32, 2 ** 53, 1e300, -1e300, 1.5),
);
const leaf = fc.oneof(hostileString, hostileNumber, fc.boolean(), fc.constant(null));
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: leaf },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, leaf, { maxKeys: 4 }) },
);

/** A nesting of `depth` arrays as JSON text (built without recursion). */
const deepJson = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

// ── callbacks: the samples of events/, mutated ──────────────────────────────────────────────────

const samples = jsonFiles("events/tencent").map(loadCallbackSample);

/** Replaces the value at a random path of a sample body (or adds a field) with a hostile one. */
function mutate(body: unknown, path: readonly number[], value: unknown): unknown {
  if (path.length === 0 || body === null || typeof body !== "object") return value;
  const entries = Array.isArray(body) ? body.map((v, i) => [String(i), v] as const) : Object.entries(body);
  if (entries.length === 0) return value;
  const [head = 0, ...rest] = path;
  const index = head % (entries.length + 1);
  const copy: Record<string, unknown> | unknown[] = Array.isArray(body) ? [...body] : { ...body };
  if (index === entries.length) {
    (copy as Record<string, unknown>)[`Extra${head}`] = value;
    return copy;
  }
  const [key, child] = entries[index]!;
  (copy as Record<string, unknown>)[key] = mutate(child, rest, value);
  return copy;
}

type RawBody = { raw: string };
const callbackCase = fc.record({
  sample: fc.integer({ min: 0, max: samples.length - 1 }),
  mutations: fc.array(fc.tuple(fc.array(fc.nat(), { maxLength: 4 }), hostileValue), { maxLength: 3 }),
  freshTimes: fc.boolean(),
  body: fc.oneof(
    { weight: 12, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 60, max: 6_000 })
        .map((d): RawBody => ({ raw: `{"MsgBody":${deepJson(d)}}` })),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((raw): RawBody => ({ raw })) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 900, max: 1_100 })
        .map((kb): RawBody => ({ raw: `{"Pad":"${"p".repeat(kb * 1024)}"}` })),
    },
  ),
  query: fc.oneof(
    { weight: 10, arbitrary: fc.constant({}) },
    {
      weight: 1,
      arbitrary: fc.dictionary(
        fc.constantFrom("CallbackCommand", "OptPlatform", "SdkAppid", "Sign", "RequestTime"),
        hostileString,
        { maxKeys: 2 },
      ),
    },
  ),
  unsigned: fc.nat(19).map((n) => n === 0),
});

describe("POST /callback", () => {
  it("never answers 5xx, names the field of every 4xx, and routes every 200", async () => {
    await fc.assert(
      fc.asyncProperty(callbackCase, async (c) => {
        const sample = samples[c.sample]!;
        let body: unknown = structuredClone(sample.body);
        if (c.freshTimes && typeof body === "object" && body !== null) {
          body = { ...body, EventTime: Date.now() };
        }
        for (const [path, value] of c.mutations) body = mutate(body, path, value);
        const text = c.body === undefined ? JSON.stringify(body) : c.body.raw;
        const query = { ...sample.query, ...c.query };
        const answer = c.unsigned
          ? await unsignedCallback(query, text)
          : await client.postCallback(query, text);
        checkAnswer(answer, `callback ${sample.file} ${text.slice(0, 200)}`);
      }),
      { numRuns: RUNS.callbacks, seed: SEED, endOnFailure: true },
    );
    // Everything answered 200 is on the ingest queue: wait until the router has taken it all.
    await drained();
    expect(routeFailures()).toEqual([]);
    expect(crashes).toEqual([]);
  }, 3_600_000);
});

async function unsignedCallback(query: Record<string, string>, body: string): Promise<Answer> {
  const url = new URL("/callback", runtime.url);
  for (const [k, v] of Object.entries({ SdkAppid: SDK_APP_ID, ...query })) url.searchParams.set(k, v);
  const response = await fetch(url, { method: "POST", body });
  return { status: response.status, body: await response.text() };
}

/**
 * Records the router failed on. A copy of an event that is being routed right now fails with
 * IdempotencyAlreadyInProgressError and is routed (skipped) on SQS's next delivery: that is the
 * de-duplication working, not an unroutable event.
 */
function routeFailures(): string[] {
  return logLines
    .filter((line) => line.includes("record failed") && !line.includes("IdempotencyAlreadyInProgressError"))
    .map((line) => line.slice(0, 400));
}

let sqsClient: SQSClient | undefined;
const sqs = () =>
  (sqsClient ??= new SQSClient({
    endpoint: runtime.sqsEndpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  }));

/** Until the ingest queue is empty and nothing was journalled for a second. */
async function drained(): Promise<void> {
  let last = -1;
  let since = Date.now();
  await waitFor(
    async () => {
      const { Attributes } = await sqs().send(
        new GetQueueAttributesCommand({ QueueUrl: runtime.queues.ingest.url, AttributeNames: ["All"] }),
      );
      // In flight is not waited for: a failed record would already have logged "record failed".
      const pending = Number(Attributes?.ApproximateNumberOfMessages ?? 0);
      if (runtime.journal.length !== last || pending > 0) {
        last = runtime.journal.length;
        since = Date.now();
      }
      return Date.now() - since > 1_000 ? true : undefined;
    },
    600_000,
    200,
  );
}

// ── device and preferences routes ───────────────────────────────────────────────────────────────

const userId = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("alice", "bob", "carol") },
  {
    weight: 1,
    arbitrary: hostileString.filter((s) => s.length > 0 && s.length < 2_000 && !/[\ud800-\udfff]/.test(s)),
  },
);
const segment = fc.oneof(
  fc.constantFrom(
    "phone-1",
    "ios:phone",
    "__proto__",
    "constructor",
    "hasOwnProperty",
    "%E0%A4%A",
    "%00",
    "a%2Fb",
  ),
  hostileString.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, ""))),
);
const deviceBody = fc.oneof(
  fc
    .record(
      {
        vendor: fc.oneof(
          fc.constantFrom("apns", "fcm", "huawei", "honor", "xiaomi", "oppo", "vivo", "meizu"),
          hostileString,
        ),
        token: fc.oneof(fc.constantFrom("a1b2c3d4".repeat(8), "shared-token-0123456789"), hostileString),
        certificateId: hostileValue,
        appId: hostileValue,
        environment: fc.oneof(fc.constantFrom("sandbox", "production"), hostileString),
        state: fc.oneof(fc.constantFrom("foreground", "background"), hostileString),
        unreadCount: hostileNumber,
        receiveOpt: fc.oneof(fc.integer({ min: -1, max: 5 }), hostileValue),
        duration: hostileNumber,
        startHour: hostileNumber,
        startMinute: hostileNumber,
        startSecond: hostileNumber,
        startTimeStamp: hostileNumber,
        timeZone: fc.oneof(fc.constantFrom("Asia/Shanghai", "UTC", "Mars/Olympus"), hostileString),
        deviceId: hostileValue,
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
  fc.integer({ min: 60, max: 6_000 }).map(deepJson),
  fc.string({ maxLength: 40 }),
  fc
    .integer({ min: 17, max: 40 })
    .map((kb) => JSON.stringify({ vendor: "fcm", token: "t".repeat(kb * 1024) })),
);
const method = fc.oneof(
  { weight: 8, arbitrary: fc.constant("PUT") },
  { weight: 1, arbitrary: fc.constantFrom("GET", "DELETE", "POST", "PATCH") },
);

async function api(m: string, path: string, user: string, body: string, broken: boolean): Promise<Answer> {
  const authorization = broken ? "UserSig eJx-not-a-sig" : `UserSig ${client.userSig(user)}`;
  const response = await fetch(new URL(path, runtime.url), {
    method: m,
    headers: { authorization, "content-type": "application/json" },
    ...(m === "GET" ? {} : { body }),
  });
  return { status: response.status, body: await response.text() };
}

describe("device API", () => {
  it("never answers 5xx and names the field of every 4xx", async () => {
    const path = fc.oneof(
      segment.map((s) => `/v1/devices/${s}`),
      fc.constantFrom("/v1/devices", "/v1/presence", "/v1/badge"),
    );
    await fc.assert(
      fc.asyncProperty(method, path, userId, deviceBody, fc.nat(9), async (m, p, user, body, n) => {
        checkAnswer(await api(m, p, user, body, n === 0), `${m} ${p} as ${user} ${body.slice(0, 200)}`);
      }),
      { numRuns: RUNS.devices, seed: SEED, endOnFailure: true },
    );
    expect(crashes).toEqual([]);
  }, 3_600_000);
});

describe("preferences API", () => {
  it("never answers 5xx and names the field of every 4xx", async () => {
    const path = fc.oneof(
      segment.map((s) => `/v1/preferences/conversations/${s}`),
      fc
        .constantFrom("c2c_", "group_")
        .chain((prefix) => segment.map((s) => `/v1/preferences/conversations/${prefix}${s}`)),
      fc.constantFrom("/v1/preferences", "/v1/preferences/all"),
    );
    await fc.assert(
      fc.asyncProperty(method, path, userId, deviceBody, async (m, p, user, body) => {
        checkAnswer(await api(m, p, user, body, false), `${m} ${p} as ${user} ${body.slice(0, 200)}`);
      }),
      { numRuns: RUNS.preferences, seed: SEED, endOnFailure: true },
    );
    expect(crashes).toEqual([]);
  }, 3_600_000);
});
