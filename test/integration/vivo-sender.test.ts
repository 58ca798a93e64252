import { createHash } from "node:crypto";
import { createServer } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryTarget, Notification } from "../../lib/model/index.js";
import type { Clock } from "../../lib/ports/index.js";
import type { VivoCredential } from "../../lib/vendors/credentials.js";
import { REAL_URL_HEADER } from "../../lib/vendors/endpoint.js";
import { secondsUntilDailyQuotaReset } from "../../lib/vendors/quota.js";
import { VivoSender, vivoNotifyId } from "../../lib/vendors/vivo.js";
import { type FaultRule, type SimulatedDelivery, SimulatorHub } from "../../local/simulators/hub.js";
import {
  generateVivoCredential,
  startVivoSimulator,
  type VivoSimulator,
} from "../../local/simulators/vivo.js";

const INTENT = "intent://com.example.chatpush/chat#Intent;scheme=tim;launchFlags=0x4000000;end";
const EXT = '{"conversationID":"c2c_alice"}';
const VIVO = "https://api-push.vivo.com.cn";
const DAY_MS = 24 * 60 * 60 * 1000;
/** What remains of Tencent's 7 days for a message sent a moment ago: vivo's 7-day maximum, give or take. */
const ALMOST_A_WEEK = expect.toSatisfy((ttl: number) => ttl > 604_700 && ttl <= 604_800);

const notification: Notification = {
  title: "Alice",
  body: "Lunch at noon? 🍜",
  ext: EXT,
  badge: 2,
  conversationId: "c2c_alice",
  messageKey: "144115233406627467_3_1709281815",
  sentAt: Date.now(),
};

const hub = new SimulatorHub();
let sim: VivoSimulator;
let credential: VivoCredential;
let sender: VivoSender;
let certificateIds = 7000;

let serial = 0;
/** A fresh 23-digit regId per call, so each test reads only its own deliveries. */
function regId(): string {
  serial += 1;
  return `1554991692080${String(serial).padStart(10, "0")}`;
}

function target(overrides: Partial<DeliveryTarget> = {}): DeliveryTarget {
  const token = overrides.token ?? regId();
  return { userId: `user-${token.slice(-4)}`, deviceId: `vivo-${token.slice(-4)}`, token, ...overrides };
}

function fault(
  token: string,
  rule: Omit<FaultRule, "vendor" | "count" | "token"> & { count?: number },
): void {
  hub.addFault({ vendor: "vivo", token, count: 1, ...rule });
}

const sent = (token: string): SimulatedDelivery[] => hub.list().filter((d) => d.token === token);
const bodyOf = (delivery: SimulatedDelivery | undefined) => delivery?.request.body as Record<string, unknown>;

/** A vivo app of its own, registered with the simulator, for tests that count authTokens. */
function newApp(extra: Partial<VivoCredential> = {}): VivoCredential {
  certificateIds += 1;
  const app = {
    ...generateVivoCredential({ certificateId: certificateIds, endpointUrl: sim.url }),
    ...extra,
  };
  sim.addApp(app);
  return app;
}

/** Runs `work` with a sender of its own, closed afterwards. */
async function withSender<T>(
  credentials: VivoCredential[],
  work: (s: VivoSender) => Promise<T>,
  clock?: Clock,
): Promise<T> {
  const own = new VivoSender({ credentials, ...(clock !== undefined && { clock }) });
  try {
    return await work(own);
  } finally {
    await own.close();
  }
}

beforeAll(async () => {
  sim = await startVivoSimulator({ hub });
  credential = {
    ...generateVivoCredential({ certificateId: 61, endpointUrl: sim.url }),
    isDefault: true,
    clickIntent: INTENT,
  };
  sim.addApp(credential);
  sender = new VivoSender({ credentials: [credential] });
});

afterAll(async () => {
  await sender?.close();
  await sim?.close();
});

beforeEach(() => {
  hub.clear();
  hub.clearFaults();
  sim.setDailyQuota(undefined);
});

describe("VivoSender against the vivo simulator", () => {
  it("delivers one target through /message/send, and vivo receives every field", async () => {
    const phone = target();

    const [result] = await sender.send(notification, [phone]);

    expect(result).toEqual({
      target: phone,
      status: 200,
      outcome: { kind: "delivered", vendorId: expect.stringMatching(/^\d+$/) },
    });
    const [delivery] = sent(phone.token);
    expect(delivery).toMatchObject({ vendor: "vivo", token: phone.token, status: 200 });
    expect(Date.parse(delivery?.at ?? "")).toBeGreaterThan(0);
    expect(delivery?.request.headers.authtoken).toBe("<redacted>");
    expect(delivery?.request.headers["content-type"]).toBe("application/json");
    // Addressed to vivo's own URL, which the simulator records as the delivery's endpoint.
    expect(delivery?.request.headers[REAL_URL_HEADER]).toBe(`${VIVO}/message/send`);
    expect(delivery?.endpoint).toBe(`${VIVO}/message/send`);
    expect(delivery?.request.body).toStrictEqual({
      appId: Number(credential.appId),
      regId: phone.token,
      notifyType: 4,
      title: "Alice",
      content: "Lunch at noon? 🍜",
      timeToLive: ALMOST_A_WEEK,
      skipType: 4,
      skipContent: `${INTENT.slice(0, -"end".length)}S.ext=%7B%22conversationID%22%3A%22c2c_alice%22%7D;end`,
      classification: 1,
      category: "IM",
      clientCustomMap: { ext: EXT },
      requestId: expect.stringMatching(/^[0-9a-f]{64}$/),
      pushMode: 0,
      notifyId: vivoNotifyId(notification),
    });
  });

  it("sends several targets as saveListPayload + pushToList, dropping only the dead token", async () => {
    const phones = [target(), target(), target()];
    fault(phones[1]!.token, { status: 404 });

    const results = await sender.send(notification, phones);

    expect(results.map((r) => r.target)).toEqual(phones);
    expect(results.map((r) => r.outcome)).toEqual([
      { kind: "delivered", vendorId: expect.stringMatching(/^\d+$/) },
      { kind: "drop-token", reason: "vivo 10302 invalidUser status 1: regId does not exist" },
      { kind: "delivered", vendorId: expect.stringMatching(/^\d+$/) },
    ]);
    const recorded = phones.map((phone) => sent(phone.token));
    expect(recorded.map((list) => list.length)).toEqual([1, 1, 1]);
    expect(recorded[0]![0]?.endpoint).toBe(`${VIVO}/message/pushToList`);
    const body = bodyOf(recorded[0]![0]);
    expect(body).toStrictEqual({
      appId: Number(credential.appId),
      regIds: phones.map((phone) => phone.token),
      taskId: expect.stringMatching(/^\d+$/),
      requestId: expect.stringMatching(/^[0-9a-f]{64}$/),
      pushMode: 0,
    });
    expect(results[0]!.outcome).toEqual({ kind: "delivered", vendorId: body.taskId });
    expect(sim.savedPayload(String(body.taskId))).toMatchObject({
      appId: Number(credential.appId),
      title: "Alice",
      content: "Lunch at noon? 🍜",
      timeToLive: ALMOST_A_WEEK,
      classification: 1,
      category: "IM",
      clientCustomMap: { ext: EXT },
      skipType: 4,
      notifyId: vivoNotifyId(notification),
    });
  });

  it.each([404, 410])("drops a single target vivo answers 10302 status 1 for (fault %i)", async (status) => {
    const phone = target();
    fault(phone.token, { status });

    const [result] = await sender.send(notification, [phone]);

    expect(result?.outcome).toEqual({
      kind: "drop-token",
      reason: "vivo 10302 invalidUser status 1: regId does not exist",
    });
  });

  it("keeps a device vivo reports as uninstalled or switched off (status 2): declined, not dropped", async () => {
    const phones = [target(), target()];
    fault(phones[0]!.token, { status: 200, reason: "invalidUser:2" });

    const results = await sender.send(notification, phones);

    expect(results.map((r) => r.outcome)).toEqual([
      {
        kind: "declined",
        reason: "vivo 10302 invalidUser status 2: app uninstalled or notifications switched off",
      },
      { kind: "delivered", vendorId: expect.stringMatching(/^\d+$/) },
    ]);
  });

  it("fetches one new authToken when vivo answers 10000, and resends", async () => {
    const app = newApp();
    const before = sim.stats().tokensIssued;

    await withSender([app], async (own) => {
      const first = await own.send(notification, [target()]);
      sim.expireAccessTokens();
      const phones = [target(), target(), target()];
      const second = await own.send(notification, phones);

      expect([...first, ...second].map((r) => r.outcome.kind)).toEqual(Array(4).fill("delivered"));
      // The refused attempt never got past vivo's auth check; the resend is the one delivery.
      for (const phone of phones) expect(sent(phone.token)).toHaveLength(1);
    });
    expect(sim.stats().tokensIssued - before).toBe(2);
  });

  it("asks for a credential refresh when the new authToken is refused too", async () => {
    const app = newApp();
    const phone = target({ certificateId: app.certificateId });
    const before = sim.stats().tokensIssued;
    fault(phone.token, { status: 401, count: 2 });

    const [result] = await withSender([app], (own) => own.send(notification, [phone]));

    expect(result?.outcome).toEqual({
      kind: "refresh-credential",
      reason: "vivo 10000 权限认证失败: authToken已过期",
    });
    expect(sent(phone.token)).toHaveLength(2);
    expect(sim.stats().tokensIssued - before).toBe(2);
  });

  it("does not deliver when vivo refuses the credential's sign (wrong appSecret)", async () => {
    const app = newApp();
    const wrong = { ...app, appSecret: "not-the-secret" };
    const phone = target();
    const before = sim.stats().tokensIssued;

    const [result] = await withSender([wrong], (own) => own.send(notification, [phone]));

    // A refused sign is our credential, not the devices': parked with the reason, nothing removed.
    expect(result?.outcome).toEqual({
      kind: "credential-problem",
      reason: "vivo auth 10000 权限认证失败: sign不正确",
    });
    expect(sim.stats().tokensIssued).toBe(before);
    expect(sent(phone.token)).toEqual([]);
  });

  it("does not deliver when the auth timestamp is more than 10 minutes off vivo's clock", async () => {
    const app = newApp();
    const phone = target();
    const slow: Clock = { now: () => Date.now() - 11 * 60 * 1000 };

    const [result] = await withSender([app], (own) => own.send(notification, [phone]), slow);

    expect(result?.outcome).toEqual({
      kind: "credential-problem",
      reason: "vivo auth 10000 权限认证失败: timestamp不在有效范围内",
    });
    expect(sent(phone.token)).toEqual([]);
  });

  it("holds targets until Beijing midnight once the daily quota is used up (10070)", async () => {
    const now = Date.now();
    const fixed: Clock = { now: () => now };
    sim.setDailyQuota(2);

    const [first, second] = await withSender(
      [credential],
      async (own) => [
        await own.send(notification, [target(), target()]),
        await own.send(notification, [target()]),
      ],
      fixed,
    );

    expect(first?.map((r) => r.outcome.kind)).toEqual(["delivered", "delivered"]);
    expect(second?.[0]?.outcome).toEqual({
      kind: "quota",
      reason: "vivo 10070 超过当日推送总量限制",
      retryAfterSeconds: secondsUntilDailyQuotaReset(now),
    });
  });

  it("maps a 429 fault (vivo's 10070) to quota until Beijing midnight", async () => {
    const now = Date.now();
    const phone = target();
    fault(phone.token, { status: 429 });

    const [result] = await withSender([credential], (own) => own.send(notification, [phone]), {
      now: () => now,
    });

    expect(result?.outcome).toEqual({
      kind: "quota",
      reason: "vivo 10070 超过当日推送总量限制",
      retryAfterSeconds: secondsUntilDailyQuotaReset(now),
    });
  });

  it("holds off briefly on vivo's rate-limit code (fault reason 10072)", async () => {
    const phone = target();
    fault(phone.token, { status: 429, reason: "10072" });

    const [result] = await sender.send(notification, [phone]);

    expect(result?.outcome).toEqual({
      kind: "quota",
      reason: "vivo 10072 请求过于频繁",
      retryAfterSeconds: 60,
    });
  });

  it.each([
    [503, 30, { kind: "retry", reason: "vivo 503 Service Unavailable", retryAfterSeconds: 30 }],
    [503, undefined, { kind: "retry", reason: "vivo 503 Service Unavailable" }],
    [500, undefined, { kind: "retry", reason: "vivo 500 Internal Server Error" }],
  ])(
    "retries a %i from vivo's front end (Retry-After %s) for the whole multicast",
    async (status, retryAfter, outcome) => {
      const phones = [target(), target()];
      fault(phones[0]!.token, { status, ...(retryAfter !== undefined && { retryAfter }) });

      const results = await sender.send(notification, phones);

      expect(results.map((r) => r.outcome)).toEqual([outcome, outcome]);
      expect(results.map((r) => r.status)).toEqual([status, status]);
    },
  );

  it("answers bad-request on vivo's parameter error (fault 400)", async () => {
    const phone = target();
    fault(phone.token, { status: 400 });

    const [result] = await sender.send(notification, [phone]);

    expect(result?.outcome).toEqual({ kind: "bad-request", reason: "vivo 10200 参数不合法" });
  });

  it("retries when vivo cannot be reached", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const unreachable = { ...newApp(), endpoint: { url: `http://127.0.0.1:${closedPort}` } };

    const [result] = await withSender([unreachable], (own) => own.send(notification, [target()]));

    expect(result?.outcome.kind).toBe("retry");
    expect(result?.outcome).toHaveProperty(
      "reason",
      expect.stringMatching(/^vivo auth network fetch failed: connect ECONNREFUSED /),
    );
    expect(result).not.toHaveProperty("status");
  });

  it("waits out a slow success", async () => {
    const phone = target();
    fault(phone.token, { status: 200, delayMs: 300 });

    const started = Date.now();
    const [result] = await sender.send(notification, [phone]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("splits 2001 targets into two pushToList requests of 1000 and one /message/send, all delivered", async () => {
    const phones = Array.from({ length: 2001 }, () => target());

    const results = await sender.send(notification, phones);

    expect(results.map((r) => r.target)).toEqual(phones);
    expect(results.every((r) => r.outcome.kind === "delivered")).toBe(true);
    const bodies = phones.map((phone) => {
      const recorded = sent(phone.token);
      expect(recorded).toHaveLength(1);
      return bodyOf(recorded[0]);
    });
    const lists = new Map(bodies.filter((b) => "regIds" in b).map((b) => [b.taskId, b.regIds as string[]]));
    expect([...lists.values()].map((regIds) => regIds.length)).toEqual([1000, 1000]);
    expect(bodies.filter((b) => "regId" in b).map((b) => b.regId)).toEqual([phones[2000]!.token]);
  });

  it("trims long Chinese text to vivo's own count, which vivo accepts", async () => {
    const phone = target();

    const [result] = await sender.send({ ...notification, title: "群".repeat(30), body: "消息".repeat(80) }, [
      phone,
    ]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(bodyOf(sent(phone.token)[0])).toMatchObject({
      title: `${"群".repeat(19)}…`,
      content: `${"消息".repeat(24)}消…`,
    });
  });

  it("reuses the cached authToken and the connection for a second send", async () => {
    const app = newApp();
    await withSender([app], async (own) => {
      await own.send(notification, [target()]);
      const after = sim.stats();

      const [result] = await own.send(notification, [target()]);

      expect(result?.outcome.kind).toBe("delivered");
      expect(sim.stats()).toEqual(after);
    });
  });

  it("fetches one authToken for 30 concurrent sends (vivo allows 10 auth calls a second)", async () => {
    const app = newApp();
    const before = sim.stats().tokensIssued;

    const results = await withSender([app], (own) =>
      Promise.all(Array.from({ length: 30 }, () => own.send(notification, [target()]))),
    );

    expect(results.flat().every((r) => r.outcome.kind === "delivered")).toBe(true);
    expect(sim.stats().tokensIssued - before).toBe(1);
  });

  it("reaches only registered test devices in test mode (pushMode 1)", async () => {
    const app = newApp({ testMode: true });
    const tester = target();
    const stranger = target();
    sim.addTestDevice(tester.token);

    const results = await withSender([app], (own) => own.send(notification, [tester, stranger]));

    expect(results.map((r) => r.outcome)).toEqual([
      { kind: "delivered", vendorId: expect.stringMatching(/^\d+$/) },
      // The device is fine; the credential's test mode is the problem.
      {
        kind: "credential-problem",
        reason: "vivo 10302 invalidUser status 4: not a test device (pushMode 1)",
      },
    ]);
    expect(bodyOf(sent(tester.token)[0])).toMatchObject({ pushMode: 1 });
  });

  it("answers per credential, in target order, with bad-request for an unknown certificateId", async () => {
    const other = newApp();
    const phones = [
      target({ certificateId: other.certificateId }),
      target({ certificateId: 999 }),
      target(),
      target({ certificateId: credential.certificateId }),
    ];

    const results = await withSender([credential, other], (own) => own.send(notification, phones));

    expect(results.map((r) => r.target)).toEqual(phones);
    expect(results.map((r) => r.outcome.kind)).toEqual([
      "delivered",
      "bad-request",
      "delivered",
      "delivered",
    ]);
    expect(results[1]?.outcome).toEqual({ kind: "bad-request", reason: "no vivo credential 999" });
    expect(sent(phones[1]!.token)).toEqual([]);
    expect(bodyOf(sent(phones[0]!.token)[0])).toMatchObject({ appId: Number(other.appId) });
    // The default credential's two targets went out together.
    expect(bodyOf(sent(phones[2]!.token)[0])).toMatchObject({
      appId: Number(credential.appId),
      regIds: [phones[2]!.token, phones[3]!.token],
    });
  });

  it("sends a regId listed twice once, and answers both targets", async () => {
    const phone = target();
    const again = target({ token: phone.token, deviceId: "same-phone-again" });

    const results = await sender.send(notification, [phone, again]);

    expect(results.map((r) => r.outcome.kind)).toEqual(["delivered", "delivered"]);
    expect(sent(phone.token)).toHaveLength(1);
    expect(bodyOf(sent(phone.token)[0])).toHaveProperty("regId", phone.token);
  });
});

describe("VivoSender within vivo's documented limits", () => {
  it("sends the same push to the same devices again with the same requestId, which vivo de-duplicates", async () => {
    const phones = [target(), target(), target()];
    const first = await sender.send(notification, phones);
    const requestId = bodyOf(sent(phones[0]!.token)[0]).requestId;

    // A redelivered job: same message, same devices, in another order.
    const again = await sender.send(notification, [...phones].reverse());

    expect([...first, ...again].map((r) => r.outcome.kind)).toEqual(Array(6).fill("delivered"));
    for (const phone of phones) expect(sent(phone.token)).toHaveLength(1);
    expect(requestId).toMatch(/^[0-9a-f]{64}$/);
  });

  it("gives another message, or another subset of the devices, a requestId of its own", async () => {
    const phones = [target(), target(), target()];
    await sender.send(notification, phones);

    await sender.send({ ...notification, messageKey: `${notification.messageKey}-next` }, phones);
    await sender.send(notification, phones.slice(0, 2));

    expect(sent(phones[0]!.token)).toHaveLength(3);
    expect(sent(phones[2]!.token)).toHaveLength(2);
  });

  it("keeps a list message's timeToLive at vivo's 900 s minimum near the end of Tencent's 7 days", async () => {
    const phones = [target(), target()];
    const late = { ...notification, sentAt: Date.now() - 7 * DAY_MS + 100_000 };

    const results = await sender.send(late, phones);

    expect(results.map((r) => r.outcome.kind)).toEqual(["delivered", "delivered"]);
    const { taskId } = bodyOf(sent(phones[0]!.token)[0]);
    expect(sim.savedPayload(String(taskId))).toMatchObject({ timeToLive: 900 });
  });

  it("sends the conversation only when ext would push clientCustomMap over 1024 characters", async () => {
    const phone = target();
    const ext = JSON.stringify({ conversationID: "c2c_alice", note: "x".repeat(1100) });

    const [result] = await sender.send({ ...notification, ext }, [phone]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(bodyOf(sent(phone.token)[0]).clientCustomMap).toEqual({ ext: EXT });
  });

  it("keeps 40 Latin letters in a title (vivo counts only CJK twice), which vivo accepts", async () => {
    const phone = target();
    const title = "Привет".repeat(6).slice(0, 40);

    const [result] = await sender.send({ ...notification, title }, [phone]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(bodyOf(sent(phone.token)[0]).title).toBe(title);
  });

  it("sends an operations push as an operation message (MARKETING), which vivo accepts", async () => {
    const phone = target();

    const [result] = await sender.send({ ...notification, purpose: "operations" }, [phone]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(bodyOf(sent(phone.token)[0])).toMatchObject({ classification: 0, category: "MARKETING" });
  });

  it("sends a quiet replacement without sound or vibration (notifyType 1) on the original's notifyId", async () => {
    const phone = target();
    const recall = {
      ...notification,
      messageKey: `${notification.messageKey}:recall`,
      collapseKey: notification.messageKey,
      quiet: true,
    };

    const [result] = await sender.send(recall, [phone]);

    expect(result?.outcome.kind).toBe("delivered");
    expect(bodyOf(sent(phone.token)[0])).toMatchObject({
      notifyType: 1,
      notifyId: vivoNotifyId(notification),
    });
  });

  it("answers credential-problem, asking vivo nothing, for an appId that is not vivo's number", async () => {
    const app = { ...newApp(), appId: "com.example.chat" };
    const phone = target();
    const before = sim.stats();

    const [result] = await withSender([app], (own) => own.send(notification, [phone]));

    expect(result?.outcome).toEqual({
      kind: "credential-problem",
      reason: `vivo appId "com.example.chat" is not vivo's numeric app id`,
    });
    expect(sim.stats()).toEqual(before);
  });

  it("answers credential-problem when vivo says the appId is not the authToken's (10094)", async () => {
    const phone = target();
    fault(phone.token, { status: 200, reason: "10094" });

    const [result] = await sender.send(notification, [phone]);

    expect(result?.outcome).toEqual({
      kind: "credential-problem",
      reason: "vivo 10094 appId与authToken不匹配",
    });
  });
});

describe("the vivo simulator's checks", () => {
  let authToken: string;
  const post = async (path: string, body: unknown, token = authToken) => {
    const response = await fetch(`${sim.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authToken: token },
      body: JSON.stringify(body),
    });
    return (await response.json()) as Record<string, unknown>;
  };
  let requests = 0;
  const message = () => ({
    appId: Number(credential.appId),
    regId: regId(),
    title: "Alice",
    content: "Hi",
    skipType: 1,
    classification: 1,
    category: "IM",
    requestId: `r-${++requests}`,
  });
  const auth = (appId: unknown) => {
    const timestamp = Date.now();
    const sign = createHash("md5")
      .update(`${credential.appId}${credential.appKey}${timestamp}${credential.appSecret}`)
      .digest("hex");
    return post("/message/auth", { appId, appKey: credential.appKey, timestamp, sign }, "");
  };

  beforeAll(async () => {
    const answer = await auth(Number(credential.appId));
    expect(answer).toMatchObject({ result: 0, desc: "请求成功" });
    authToken = String(answer.authToken);
  });

  it("refuses an auth request whose appId is a string, not vivo's int", async () => {
    expect(await auth(String(credential.appId))).toMatchObject({ result: 10200 });
  });

  it("accepts a well-formed single send", async () => {
    expect(await post("/message/send", message())).toMatchObject({ result: 0, taskId: expect.any(String) });
  });

  it.each([
    ["a title of 20 汉字", { title: "汉".repeat(20) }],
    ["a title of 40 Cyrillic letters", { title: "ж".repeat(40) }],
    ["a content of 100 characters", { content: "c".repeat(100) }],
    ["a timeToLive of 60 s", { timeToLive: 60 }],
    ["a timeToLive of 7 days", { timeToLive: 604_800 }],
    ["a clientCustomMap of 1024 characters", { clientCustomMap: { ext: "e".repeat(1021) } }],
  ])("accepts %s on /message/send", async (_, change) => {
    expect(await post("/message/send", { ...message(), ...change })).toMatchObject({ result: 0 });
  });

  it.each([
    ["a title of 21 汉字", { title: "汉".repeat(21) }, 10056],
    ["a title of 41 Cyrillic letters", { title: "ж".repeat(41) }, 10056],
    ["20 emoji and a letter (an emoji is two units)", { title: `${"😀".repeat(20)}a` }, 10056],
    ["a content of 101 characters", { content: "c".repeat(101) }, 10058],
    ["a timeToLive under 60 s", { timeToLive: 59 }, 10059],
    ["a timeToLive over 7 days", { timeToLive: 604_801 }, 10059],
    ["skipType 4 without an intent", { skipType: 4, skipContent: "https://example.com" }, 10069],
    ["a category vivo does not know", { category: "CHAT" }, 10096],
    ["IM without classification 1", { classification: 0 }, 10097],
    ["a clientCustomMap value that is not a string", { clientCustomMap: { ext: { id: 1 } } }, 10067],
    ["a clientCustomMap of 1025 characters", { clientCustomMap: { ext: "e".repeat(1022) } }, 10067],
    [
      "a clientCustomMap of 11 pairs",
      { clientCustomMap: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, "v"])) },
      10066,
    ],
    ["a requestId over 64 characters", { requestId: "r".repeat(65) }, 10353],
    ["another app's appId", { appId: 100000001 }, 10094],
  ])("refuses %s", async (_, change, result) => {
    expect(await post("/message/send", { ...message(), ...change })).toMatchObject({ result });
  });

  it("refuses the app's appId as a string (10094): vivo's appId is an int", async () => {
    expect(await post("/message/send", { ...message(), appId: String(credential.appId) })).toMatchObject({
      result: 10094,
    });
  });

  it("refuses a list message living less than 900 s (vivo's list minimum)", async () => {
    const { regId: _, ...payload } = message();

    expect(await post("/message/saveListPayload", { ...payload, timeToLive: 899 })).toMatchObject({
      result: 10059,
    });
    expect(await post("/message/saveListPayload", { ...payload, timeToLive: 900 })).toMatchObject({
      result: 0,
      taskId: expect.any(String),
    });
  });

  it("records vivo's own URL as the endpoint of a request that names no real URL", async () => {
    const send = message();

    await post("/message/send", send);

    expect(
      hub
        .list()
        .filter((d) => d.token === send.regId)
        .map((d) => d.endpoint),
    ).toEqual([`${VIVO}/message/send`]);
  });

  it("answers a resent requestId as the first time and does not deliver it again", async () => {
    const first = message();
    const answer = await post("/message/send", first);

    const again = await post("/message/send", { ...first, title: "Alice (resent)" });

    expect(again).toEqual(answer);
    expect(hub.list().filter((d) => d.token === first.regId)).toHaveLength(1);
  });

  it("refuses a send without a valid authToken", async () => {
    expect(await post("/message/send", message(), "made-up")).toMatchObject({ result: 10000 });
  });

  it("refuses more than 1000 regIds and fewer than 2 in pushToList", async () => {
    const { regId: _, ...payload } = message();
    const saved = await post("/message/saveListPayload", payload);
    const push = (regIds: string[]) =>
      post("/message/pushToList", {
        appId: Number(credential.appId),
        regIds,
        taskId: saved.taskId,
        requestId: `p-${++requests}`,
      });

    expect(await push(Array.from({ length: 1001 }, () => regId()))).toMatchObject({ result: 10153 });
    expect(await push([regId()])).toMatchObject({ result: 10153 });
    expect(await push([regId(), regId()])).toMatchObject({ result: 0, invalidUsers: [] });
  });
});
