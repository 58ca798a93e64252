import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatpushClient, waitFor } from "../../local/client.js";
import { type LocalRuntime, startLocalRuntime } from "../../local/runtime.js";
import { tencentUserSig } from "../support/tencent-usersig.js";

/**
 * Issue 9.2's done-when check on the local runtime: with CHATPUSH_VENDOR_QPS='{"meizu":20}', 200 Meizu
 * deliveries never exceed 22 accepted requests in any one-second window, and all 200 arrive. Not timed:
 * the requests are counted per window from the simulator's recorded arrival times.
 */
const SDK_APP_ID = "1400123456";
const TOKEN = "qps-callback-token";
const SECRET = "qps-usersig-secret";
const USERS = 20;
const MESSAGES_PER_USER = 10;

let runtime: LocalRuntime;
let client: ChatpushClient;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    sdkAppId: SDK_APP_ID,
    callbackToken: TOKEN,
    secretKey: SECRET,
    port: 0,
    prefix: "qps",
    vendorQps: '{"meizu":20}',
  });
  client = new ChatpushClient({
    baseUrl: runtime.url,
    sdkAppId: SDK_APP_ID,
    callbackToken: TOKEN,
    secretKey: SECRET,
  });
});
afterAll(async () => {
  await runtime?.stop();
});

/** Most requests whose arrival falls in any window of `windowMs` (sliding). */
function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < sorted.length; j += 1) {
    while (sorted[j]! - sorted[i]! >= windowMs) i += 1;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

describe("per-vendor rate across all workers", () => {
  it('CHATPUSH_VENDOR_QPS={"meizu":20}: 200 Meizu deliveries, at most 22 accepted requests in any second, all arrive', async () => {
    const tokens: string[] = [];
    for (let u = 0; u < USERS; u += 1) {
      const userId = `meizu-user-${u}`;
      const token = `M${randomBytes(16).toString("hex")}`;
      tokens.push(token);
      const sig = tencentUserSig(Number(SDK_APP_ID), SECRET, userId);
      const put = await client.deviceApi(
        "PUT",
        `/v1/devices/phone-${u}`,
        userId,
        { vendor: "meizu", token },
        sig,
      );
      expect(put.status).toBe(200);
      const presence = await client.deviceApi("PUT", "/v1/presence", userId, { state: "background" }, sig);
      expect(presence.status).toBe(204);
    }
    await client.clearDeliveries();

    const now = Math.floor(Date.now() / 1000);
    const posts: Promise<{ status: number }>[] = [];
    for (let m = 0; m < MESSAGES_PER_USER; m += 1) {
      for (let u = 0; u < USERS; u += 1) {
        const seq = m * USERS + u + 1;
        posts.push(
          client.postCallback(
            { CallbackCommand: "C2C.CallbackAfterSendMsg", OptPlatform: "Android" },
            {
              CallbackCommand: "C2C.CallbackAfterSendMsg",
              From_Account: "alice",
              To_Account: `meizu-user-${u}`,
              MsgSeq: seq,
              MsgRandom: 5000 + seq,
              MsgTime: now,
              MsgKey: `${seq}_${5000 + seq}_${now}`,
              OnlineOnlyFlag: 0,
              SendMsgResult: 0,
              ErrorInfo: "send msg succeed",
              UnreadMsgNum: 1,
              MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: `message ${seq}` } }],
            },
          ),
        );
      }
    }
    expect((await Promise.all(posts)).every((answer) => answer.status === 200)).toBe(true);

    const accepted = await waitFor(
      async () => {
        const meizu = (await client.deliveries()).filter((d) => d.vendor === "meizu" && d.status === 200);
        return meizu.length >= USERS * MESSAGES_PER_USER ? meizu : undefined;
      },
      90_000,
      250,
    );

    expect(accepted).toHaveLength(USERS * MESSAGES_PER_USER);
    for (const token of tokens)
      expect(accepted.filter((d) => d.token === token)).toHaveLength(MESSAGES_PER_USER);
    // One-to-one messages: each accepted delivery is its own request.
    expect(
      busiestWindow(
        accepted.map((d) => Date.parse(d.at)),
        1000,
      ),
    ).toBeLessThanOrEqual(22);
  }, 120_000);
});
