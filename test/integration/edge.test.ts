import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatpushClient, waitFor } from "../../local/client.js";
import { type LocalRuntime, startLocalRuntime } from "../../local/runtime.js";

/**
 * The edge against the whole local pipeline over real sockets: duplicates of one callback are routed
 * once, hostile bodies and ids are refused with a 4xx naming the field (never a 200 that cannot be
 * routed), and a token cannot be taken from its owner.
 */
const SDK_APP_ID = "1400123456";
const TOKEN = "edge-callback-token-0123";
const SECRET = "edge-usersig-secret";
const APNS_TOKEN = "4a1c9e7b3d5f2a8c6e0b4d2f9a7c5e3b1d8f6a4c2e0b9d7f5a3c1e8b6d4f2a0c";
const FCM_TOKEN = "eDg3hT5kP0s:APA91bGq2Lm8Xw4Zr7Nc1Vb6Jd9Hf3Ks5Ty0Ua2Ie4Oo6Pp8Qq1Rr3Ss5Tt7Uu9Vv";

let runtime: LocalRuntime;
let client: ChatpushClient;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    sdkAppId: SDK_APP_ID,
    callbackToken: TOKEN,
    secretKey: SECRET,
    port: 0,
  });
  client = new ChatpushClient({
    baseUrl: runtime.url,
    sdkAppId: SDK_APP_ID,
    callbackToken: TOKEN,
    secretKey: SECRET,
  });
  for (const [deviceId, registration] of [
    ["dana-iphone", { vendor: "apns", token: APNS_TOKEN, environment: "production" }],
    ["dana-pixel", { vendor: "fcm", token: FCM_TOKEN }],
  ] as const) {
    expect((await client.registerDevice("dana", deviceId, registration)).status).toBe(200);
  }
  expect((await client.setPresence("dana", { state: "background" })).status).toBe(204);
});
afterAll(async () => {
  await runtime?.stop();
});

const QUERY = { CallbackCommand: "C2C.CallbackAfterSendMsg", OptPlatform: "iOS" };
let seq = 7000;
function message(text: string) {
  seq += 1;
  const now = Date.now();
  return {
    CallbackCommand: "C2C.CallbackAfterSendMsg",
    From_Account: "edgar",
    To_Account: "dana",
    MsgSeq: seq,
    MsgRandom: 4242,
    MsgTime: Math.floor(now / 1000),
    MsgKey: `${seq}_4242_${Math.floor(now / 1000)}`,
    SendMsgResult: 0,
    UnreadMsgNum: 2,
    EventTime: now,
    MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: text } }],
  };
}

async function settled(messageKey: string) {
  return waitFor(async () => {
    const entries = runtime.journal.filter((e) => e.messageKey === messageKey);
    const queued = entries.filter((e) => e.stage === "queued").length;
    const done = entries.filter((e) =>
      ["delivered", "token-removed", "dead-lettered"].includes(e.stage),
    ).length;
    return queued > 0 && done >= queued ? entries : undefined;
  }, 15_000);
}

const pushesTo = async (token: string, text: string) =>
  (await client.deliveries()).filter(
    (d) => d.token === token && JSON.stringify(d.request.body).includes(text),
  );

describe("the same callback twice, differing in EventTime", () => {
  it("is routed once: one push per device", async () => {
    const original = message("routed once");
    expect((await client.postCallback(QUERY, original)).status).toBe(200);
    // Tencent's retry of a callback it thinks timed out: same message, a later EventTime.
    expect(
      (await client.postCallback(QUERY, { ...original, EventTime: original.EventTime + 1500 })).status,
    ).toBe(200);
    await settled(original.MsgKey);
    // And once more after the first was routed, with other volatile fields changed too.
    const late = { ...original, EventTime: original.EventTime + 9000, UnreadMsgNum: 3 };
    expect((await client.postCallback(QUERY, late)).status).toBe(200);
    // A later message settling means the ingest queue got past both copies.
    const sentinel = message("sentinel");
    await client.postCallback(QUERY, sentinel);
    await settled(sentinel.MsgKey);
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(await pushesTo(APNS_TOKEN, "routed once")).toHaveLength(1);
    expect(await pushesTo(FCM_TOKEN, "routed once")).toHaveLength(1);
    const queued = runtime.journal.filter((e) => e.messageKey === original.MsgKey && e.stage === "queued");
    expect(queued).toHaveLength(2);
  });
});

describe("hostile callbacks get a 4xx naming the field, never a 200 that cannot be routed", () => {
  const nested = (depth: number) => `{"a":${"[".repeat(depth)}${"]".repeat(depth)}}`;
  const post = async (body: unknown, query: Record<string, string> = QUERY) => {
    const answer = await client.postCallback(query, body);
    return { status: answer.status, body: JSON.parse(answer.body) as { field?: string } };
  };

  it.each([
    ["nested 2,000 levels", () => nested(2_000), 400, "body"],
    ["nested 5,000 levels", () => nested(5_000), 400, "body"],
    [
      "larger than SQS takes",
      () => JSON.stringify({ ...message("x"), Pad: "x".repeat(1024 * 1024) }),
      413,
      "body",
    ],
    ["a 100 KB text message", () => ({ ...message("y".repeat(100_000)) }), 413, "MsgBody"],
    [
      "a user id with a line feed",
      () => ({ ...message("z"), From_Account: "edgar\n[chatpush] forged" }),
      400,
      "From_Account",
    ],
    ["a MsgKey of 3,000 characters", () => ({ ...message("z"), MsgKey: "k".repeat(3_000) }), 400, "MsgKey"],
  ])("%s", async (_, body, status, field) => {
    expect(await post(body())).toMatchObject({ status, body: { field } });
  });

  it("an Owner_Account of 1,022 characters", async () => {
    const group = { GroupId: "@TGS#edge", Type: "Public", Owner_Account: "o".repeat(1_022), MemberList: [] };
    expect(await post(group, { CallbackCommand: "Group.CallbackAfterCreateGroup" })).toMatchObject({
      status: 400,
      body: { field: "Owner_Account" },
    });
  });
});

describe("device ids and token ownership", () => {
  it.each(["__proto__", "constructor", "hasOwnProperty"])(
    "PUT /v1/devices/%s is a 400 and leaves no ghost owner",
    async (deviceId) => {
      const token = `ghost-${deviceId}-token-0123456789`;
      const answer = await client.registerDevice("eve", deviceId, { vendor: "fcm", token });
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ field: "deviceId" });
      expect((await client.registerDevice("frank", "frank-phone", { vendor: "fcm", token })).status).toBe(
        200,
      );
    },
  );

  it("a second user registering someone else's token on another deviceId gets 409; the owner keeps the device", async () => {
    const claim = await client.registerDevice("mallory", "mallory-phone", {
      vendor: "fcm",
      token: FCM_TOKEN,
    });
    expect(claim.status).toBe(409);
    expect(JSON.parse(claim.body)).toMatchObject({ field: "token" });
    const devices = JSON.parse((await client.deviceApi("GET", "/v1/devices", "dana")).body) as {
      devices: { deviceId: string }[];
    };
    expect(devices.devices.map((d) => d.deviceId).sort()).toEqual(["dana-iphone", "dana-pixel"]);
  });

  it("the phone changing hands (same deviceId) moves the token", async () => {
    const token = "handed-over-token-0123456789abcdef";
    expect((await client.registerDevice("gina", "shared-phone", { vendor: "fcm", token })).status).toBe(200);
    expect((await client.registerDevice("hank", "shared-phone", { vendor: "fcm", token })).status).toBe(200);
    expect(JSON.parse((await client.deviceApi("GET", "/v1/devices", "gina")).body)).toEqual({ devices: [] });
  });
});
