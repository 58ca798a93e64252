import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentClient } from "../../lib/adapters/dynamodb/table.js";
import { localTarget } from "../../lib/ops/targets.js";
import { formatWhy, type WhyReport, why } from "../../lib/ops/why.js";
import { whySources } from "../../lib/ops/why-target.js";
import { ChatpushClient, waitFor } from "../../local/client.js";
import { type LocalRuntime, startLocalRuntime } from "../../local/runtime.js";

/**
 * `npm run why` against the local runtime, after a one-to-one message (both of bob's phones
 * pushed), a group message (bob pushed, dave skipped: he muted the group) and a one-to-one message
 * whose iPhone token APNs says is dead (410 Unregistered: token removed, the Android phone pushed).
 */
const SDK_APP_ID = "1400123999";
const TOKEN = "why-test-callback-token";
const SECRET = "why-test-usersig-secret";
const IPHONE = "5e1f0c3a9b7d2e4f6a8c0b1d3e5f7a9c2b4d6e8f0a1c3e5b7d9f1a3c5e7b9d0f";
const PIXEL = "eHk3cX9vT2E:APA91bF4nq8Wm2Lx7Rk0Vt5Yp3Cz6Ub9Ns1Jd4Gh8Qe2Xw7Ra5Tb0Mc3Ly6Kv";
const DAVE = "fJ2kL9mN0pQ:APA91bZ8xC7vB6nM5aS4dF3gH2jK1lQ0wE9rT8yU7iO6pA5sD4fG3hJ2kL1z";
const GROUP = "@TGS#whytest";

let runtime: LocalRuntime;
let client: ChatpushClient;
let seq = 0;

beforeAll(async () => {
  // One attempt: a vendor's 5xx parks the job at once (the dead-lettered case).
  runtime = await startLocalRuntime({
    sdkAppId: SDK_APP_ID,
    callbackToken: TOKEN,
    secretKey: SECRET,
    port: 0,
    maxAttempts: 1,
  });
  client = new ChatpushClient({
    baseUrl: runtime.url,
    sdkAppId: SDK_APP_ID,
    callbackToken: TOKEN,
    secretKey: SECRET,
  });
  expect((await client.registerDevice("bob", "bob-iphone", { vendor: "apns", token: IPHONE })).status).toBe(
    200,
  );
  expect((await client.registerDevice("bob", "bob-pixel", { vendor: "fcm", token: PIXEL })).status).toBe(200);
  expect((await client.registerDevice("dave", "dave-phone", { vendor: "fcm", token: DAVE })).status).toBe(
    200,
  );
  expect((await client.setConversationOpt("dave", `group_${GROUP}`, 2)).status).toBe(204);
  expect(
    (
      await client.postCallback(
        { CallbackCommand: "Group.CallbackAfterCreateGroup" },
        {
          CallbackCommand: "Group.CallbackAfterCreateGroup",
          GroupId: GROUP,
          Operator_Account: "alice",
          Owner_Account: "alice",
          Type: "Public",
          Name: "Why test",
          // Four recipients: their decisions are one packed group-page item, not an item per user.
          MemberList: ["alice", "bob", "dave", "erin", "frank"].map((Member_Account) => ({ Member_Account })),
          EventTime: Date.now(),
        },
      )
    ).status,
  ).toBe(200);
});
afterAll(async () => {
  await runtime?.stop();
});

function c2c(text: string) {
  seq += 1;
  const now = Math.floor(Date.now() / 1000);
  return {
    CallbackCommand: "C2C.CallbackAfterSendMsg",
    From_Account: "alice",
    To_Account: "bob",
    MsgSeq: seq,
    MsgRandom: 9100 + seq,
    MsgTime: now,
    MsgKey: `${seq}_${9100 + seq}_${now}`,
    OnlineOnlyFlag: 0,
    SendMsgResult: 0,
    UnreadMsgNum: 1,
    MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: text } }],
  };
}

/** Waits until every queued device of the message has an outcome in the journal. */
async function settled(messageKey: string): Promise<void> {
  await waitFor(
    async () => {
      const mine = (await client.journal()).filter((e) => e.messageKey === messageKey);
      const queued = mine.filter((e) => e.stage === "queued").length;
      const done = mine.filter((e) =>
        ["delivered", "token-removed", "dead-lettered"].includes(e.stage),
      ).length;
      return queued > 0 && done >= queued ? true : undefined;
    },
    20_000,
    100,
  );
}

async function report(userId: string, messageKey?: string): Promise<WhyReport> {
  const sources = whySources(await localTarget(runtime.url));
  try {
    return await why(sources, {
      userId,
      since: Date.now() - 3_600_000,
      now: Date.now(),
      ...(messageKey !== undefined ? { messageKey } : {}),
    });
  } finally {
    sources.close();
  }
}

describe("npm run why", () => {
  const keys = { first: "", group: "", dead: "", parked: "" };

  beforeAll(async () => {
    const first = c2c("dinner at 7?");
    keys.first = first.MsgKey;
    expect((await client.postCallback({ CallbackCommand: "C2C.CallbackAfterSendMsg" }, first)).status).toBe(
      200,
    );
    await settled(keys.first);

    const groupSeq = 500 + seq;
    keys.group = `${GROUP}#${groupSeq}`;
    expect(
      (
        await client.postCallback(
          { CallbackCommand: "Group.CallbackAfterSendMsg" },
          {
            CallbackCommand: "Group.CallbackAfterSendMsg",
            GroupId: GROUP,
            Type: "Public",
            From_Account: "alice",
            Operator_Account: "alice",
            Random: 4242,
            MsgSeq: groupSeq,
            MsgTime: Math.floor(Date.now() / 1000),
            OnlineOnlyFlag: 0,
            MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "trail map, anyone?" } }],
            EventTime: Date.now(),
          },
        )
      ).status,
    ).toBe(200);
    const groupKey = await waitFor(
      async () =>
        (await client.journal()).find((e) => e.stage === "queued" && e.messageKey?.includes(String(groupSeq)))
          ?.messageKey,
      20_000,
      100,
    );
    keys.group = groupKey;
    await settled(keys.group);

    await client.addFault({ vendor: "apns", token: IPHONE, status: 410, reason: "Unregistered", count: 1 });
    const dead = c2c("are you there?");
    keys.dead = dead.MsgKey;
    expect((await client.postCallback({ CallbackCommand: "C2C.CallbackAfterSendMsg" }, dead)).status).toBe(
      200,
    );
    await settled(keys.dead);

    await client.addFault({ vendor: "fcm", token: PIXEL, status: 500, count: 5 });
    const parked = c2c("last try");
    keys.parked = parked.MsgKey;
    expect((await client.postCallback({ CallbackCommand: "C2C.CallbackAfterSendMsg" }, parked)).status).toBe(
      200,
    );
    await settled(keys.parked);
    await fetch(`${runtime.url}/_local/faults`, { method: "DELETE" });
  }, 60_000);

  it("names each decision, each vendor answer and where each device stands", async () => {
    const bob = await waitFor(async () => {
      const r = await report("bob");
      return r.messages.length >= 4 ? r : undefined;
    }, 10_000);
    const byKey = new Map(bob.messages.map((m) => [m.messageKey, m]));
    const device = (key: string, deviceId: string) =>
      byKey.get(key)?.devices.find((d) => d.deviceId === deviceId);

    // The one-to-one message: both phones queued and delivered with the vendor's 200, latency counted.
    for (const deviceId of ["bob-iphone", "bob-pixel"]) {
      const d = device(keys.first, deviceId);
      expect(d?.decision?.stage).toBe("queued");
      expect(d?.outcome).toBe("delivered");
      expect(d?.attempts[0]).toMatchObject({ attempt: 1, answer: "delivered", status: 200 });
      expect(d?.attempts[0]?.latencyMs).toBeGreaterThanOrEqual(0);
    }
    // The group message reached bob's phones.
    expect(device(keys.group, "bob-pixel")?.outcome).toBe("delivered");
    // The dead token: APNs' 410 Unregistered, the device removed; the Android phone delivered.
    const iphone = device(keys.dead, "bob-iphone");
    expect(iphone?.attempts[0]).toMatchObject({
      answer: "drop-token",
      status: 410,
      settled: "token removed",
    });
    expect(iphone?.attempts[0]?.reason).toContain("Unregistered");
    expect(device(keys.dead, "bob-pixel")?.outcome).toBe("delivered");
    // The vendor's 500 with no attempt left: parked in the dead-letter queue, with the reason.
    const pixel = device(keys.parked, "bob-pixel");
    expect(pixel?.attempts[0]).toMatchObject({ answer: "retry", status: 500 });
    expect(pixel?.outcome).toMatch(/^dead-lettered: gave up after 1 attempts: /);
    // Now: the iPhone is gone, tokens are shown redacted.
    expect(bob.devices.map((d) => d.deviceId)).toEqual(["bob-pixel"]);
    expect(bob.devices[0]?.token).toBe(`${PIXEL.slice(0, 6)}…${PIXEL.slice(-4)}`);

    const text = formatWhy(bob);
    expect(text).not.toContain(PIXEL);
    expect(text).toContain(`message ${keys.dead}`);
    expect(text).toMatch(/bob-iphone \(apns\) {2}queued → token removed/);
    expect(text).toMatch(
      /attempt 1 .* drop-token 410 \(.*Unregistered.*\) → token removed, \d+ ms after the callback/,
    );
  });

  it("shows a group member skipped with the reason, and the receive option stored now", async () => {
    const dave = await waitFor(async () => {
      const r = await report("dave", keys.group);
      return r.messages[0]?.skipped.length ? r : undefined;
    }, 10_000);
    expect(dave.messages).toHaveLength(1);
    expect(dave.messages[0]?.skipped[0]?.reason).toBe("conversation muted");
    expect(dave.receiveOptions).toEqual([`group_${GROUP}: 2 (receive without notification)`]);
    const { Items = [] } = await documentClient(runtime.dynamodb).send(
      new ScanCommand({
        TableName: runtime.tableName,
        FilterExpression: "m = :m",
        ExpressionAttributeValues: { ":m": keys.group },
      }),
    );
    expect(Items.map((i) => String(i.pk).split("#").slice(0, 2).join("#"))).toEqual(["TRACE#G"]);
    // erin registered no device.
    const erin = await report("erin", keys.group);
    expect(erin.messages[0]?.skipped.map((d) => d.reason)).toEqual(["no registered device"]);
    expect(formatWhy(dave)).toContain(`skipped: ${dave.messages[0]?.skipped[0]?.reason}`);
  });

  it("tells the app's backend on the delivery-events topic: delivered, token removed, dead-lettered", async () => {
    const messages = await waitFor(async () => {
      const list = (await (await fetch(`${runtime.url}/_local/delivery-events`)).json()) as {
        type: string;
        attributes: Record<string, { stringValue?: string }>;
        events: { type: string; messageKey: string; userId: string; deviceId: string; reason?: string }[];
      }[];
      return list.some((m) => m.events.some((e) => e.messageKey === keys.parked)) ? list : undefined;
    }, 10_000);
    const events = messages.flatMap((m) => m.events);
    const of = (key: string, deviceId: string) =>
      events.filter((e) => e.messageKey === key && e.deviceId === deviceId).map((e) => e.type);
    expect(of(keys.first, "bob-iphone")).toEqual(["delivered"]);
    expect(of(keys.dead, "bob-iphone")).toEqual(["token-removed"]);
    expect(of(keys.dead, "bob-pixel")).toEqual(["delivered"]);
    expect(of(keys.parked, "bob-pixel")).toEqual(["dead-lettered"]);
    expect(events.find((e) => e.type === "token-removed")?.reason).toContain("Unregistered");
    expect(messages.every((m) => m.attributes.type?.stringValue === m.type)).toBe(true);
    const raw = JSON.stringify(messages);
    for (const token of [IPHONE, PIXEL, DAVE]) expect(raw).not.toContain(token);
  });

  it("runs as `npm run why` against the runtime's URL", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "scripts/why.ts", "bob", "--url", runtime.url, "--message", keys.dead],
      { timeout: 30_000 },
    );
    expect(stdout).toContain(`message ${keys.dead}`);
    expect(stdout).toContain("drop-token 410");
    expect(stdout).not.toContain(keys.first);
    expect(stdout).toContain(`the local runtime at ${runtime.url}`);
  }, 40_000);
});
