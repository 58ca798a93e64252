import { describe, expect, it } from "vitest";
import type { HttpRequest } from "../../../lib/http/types.js";
import { CALLBACK_OK_BODY, makeCallbackRoute } from "../../../lib/ingest/callback-route.js";
import type { IngestQueue } from "../../../lib/ports/index.js";
import type { AcceptedCallback } from "../../../lib/tencent/callback.schema.js";
import { callbackSign } from "../../../lib/tencent/sign.js";
import { FixedClock } from "../../support/fakes.js";

const NOW = 1_764_085_300_000;
const TOKEN = "route-test-callback-token";

class ListQueue implements IngestQueue {
  readonly published: AcceptedCallback[] = [];
  async publish(callback: AcceptedCallback): Promise<void> {
    this.published.push(callback);
  }
}

/** `null` = callback authentication off. */
function setup(token: string | null = TOKEN) {
  const queue = new ListQueue();
  const route = makeCallbackRoute({
    sdkAppId: "1400000000",
    callbackToken: async () => token ?? undefined,
    queue,
    clock: new FixedClock(NOW),
  });
  return { queue, route };
}

function request(query: Record<string, string>, body: unknown, method = "POST"): HttpRequest {
  const requestTime = String(Math.floor(NOW / 1000));
  return {
    method,
    path: "/callback",
    query: {
      SdkAppid: "1400000000",
      contenttype: "json",
      RequestTime: requestTime,
      Sign: callbackSign(TOKEN, requestTime),
      ...query,
    },
    headers: {},
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

const c2c = {
  CallbackCommand: "C2C.CallbackAfterSendMsg",
  From_Account: "alice",
  To_Account: "bob",
  MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "hi" } }],
};

describe("POST /callback", () => {
  it("answers exactly Tencent's OK body and queues the event", async () => {
    const { queue, route } = setup();
    const response = await route(
      request({ CallbackCommand: "C2C.CallbackAfterSendMsg", OptPlatform: "iOS" }, c2c),
    );
    expect(response).toMatchObject({
      status: 200,
      body: '{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}',
    });
    expect(CALLBACK_OK_BODY).toBe('{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}');
    expect(queue.published).toEqual([
      expect.objectContaining({
        command: "C2C.CallbackAfterSendMsg",
        acceptedAt: NOW,
        optPlatform: "iOS",
        body: expect.objectContaining({ To_Account: "bob" }),
      }),
    ]);
  });

  it.each<[string, Record<string, string>, number]>([
    ["a wrong Sign", { Sign: "0".repeat(64) }, 401],
    ["a stale RequestTime", { RequestTime: String(Math.floor(NOW / 1000) - 61) }, 401],
    ["a missing Sign", { Sign: "" }, 401],
    ["another app's SdkAppid", { SdkAppid: "1400000001" }, 403],
  ])("rejects %s and queues nothing", async (_name, query, status) => {
    const { queue, route } = setup();
    const req = request({ CallbackCommand: "C2C.CallbackAfterSendMsg" }, c2c);
    if (query.Sign === "") delete req.query.Sign;
    else Object.assign(req.query, query);
    expect((await route(req))?.status).toBe(status);
    expect(queue.published).toEqual([]);
  });

  it("accepts unsigned callbacks when authentication is off", async () => {
    const { queue, route } = setup(null);
    const req = request({ CallbackCommand: "C2C.CallbackAfterSendMsg" }, c2c);
    delete req.query.Sign;
    delete req.query.RequestTime;
    expect((await route(req))?.status).toBe(200);
    expect(queue.published).toHaveLength(1);
  });

  it("answers 400 naming the field for a malformed body", async () => {
    const { queue, route } = setup();
    const missing = await route(
      request({ CallbackCommand: "C2C.CallbackAfterSendMsg" }, { ...c2c, To_Account: undefined }),
    );
    expect(missing?.status).toBe(400);
    expect(JSON.parse(missing!.body)).toMatchObject({ ActionStatus: "FAIL", field: "To_Account" });
    const notJson = await route(request({ CallbackCommand: "C2C.CallbackAfterSendMsg" }, "{not json"));
    expect(notJson?.status).toBe(400);
    expect(JSON.parse(notJson!.body)).toMatchObject({ field: "body" });
    const badBody = await route(
      request({ CallbackCommand: "C2C.CallbackAfterSendMsg" }, { ...c2c, MsgBody: "hi" }),
    );
    expect(JSON.parse(badBody!.body)).toMatchObject({ field: "MsgBody" });
    expect(queue.published).toEqual([]);
  });

  it("acknowledges and ignores commands it does not handle", async () => {
    const { queue, route } = setup();
    const response = await route(request({ CallbackCommand: "Sns.CallbackFriendAdd" }, { PairList: [] }));
    expect(response?.body).toBe(CALLBACK_OK_BODY);
    expect(queue.published).toEqual([]);
  });

  it("accepts EventTime sent as a string", async () => {
    const { queue, route } = setup();
    const body = {
      CallbackCommand: "State.StateChange",
      EventTime: "1764085300123",
      Info: { Action: "Login", To_Account: "bob" },
    };
    expect((await route(request({ CallbackCommand: "State.StateChange" }, body)))?.status).toBe(200);
    expect(queue.published[0]!.body).toMatchObject({ EventTime: 1764085300123 });
  });

  it("owns only /callback and only POST", async () => {
    const { route } = setup();
    expect(await route({ ...request({}, c2c), path: "/other" })).toBeUndefined();
    expect((await route(request({}, c2c, "GET")))?.status).toBe(405);
  });

  it("fails (500 from the app) rather than answering OK when the queue is down", async () => {
    const route = makeCallbackRoute({
      sdkAppId: "1400000000",
      callbackToken: async () => TOKEN,
      queue: { publish: async () => Promise.reject(new Error("SQS unavailable")) },
      clock: new FixedClock(NOW),
    });
    await expect(route(request({ CallbackCommand: "C2C.CallbackAfterSendMsg" }, c2c))).rejects.toThrow(
      "SQS unavailable",
    );
  });
});
