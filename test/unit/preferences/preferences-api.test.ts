import { createRequire } from "node:module";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { makeDeviceApi } from "../../../lib/devices/device-api.js";
import type { HttpRequest, HttpResponse, HttpRoute } from "../../../lib/http/types.js";
import type { Clock } from "../../../lib/ports/clock.js";
import { makePreferencesApi } from "../../../lib/preferences/preferences-api.js";
import {
  MemoryDeviceStore,
  MemoryPreferenceStore,
  MemoryPresenceStore,
} from "../../support/memory-stores.js";

// Real UserSigs from Tencent's own generator, as in the device API's tests.
interface TlsSigApi {
  genUserSig(userId: string, expire: number): string;
}
const { Api } = createRequire(import.meta.url)("tls-sig-api-v2") as {
  Api: new (sdkAppId: number, key: string) => TlsSigApi;
};

const SDK_APP_ID = 1400000000;
const KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

function userSig(identifier: string, expireSeconds = 86_400, atMs = T0, sdkAppId = SDK_APP_ID): string {
  vi.useFakeTimers({ toFake: ["Date"], now: atMs });
  try {
    return new Api(sdkAppId, KEY).genUserSig(identifier, expireSeconds);
  } finally {
    vi.useRealTimers();
  }
}

let preferences: MemoryPreferenceStore;
let clock: Clock & { ms: number };
let route: HttpRoute;

beforeEach(() => {
  preferences = new MemoryPreferenceStore();
  clock = {
    ms: T0 + 1_000,
    now() {
      return this.ms;
    },
  };
  route = makePreferencesApi({ preferences, clock, sdkAppId: SDK_APP_ID, userSigKey: async () => KEY });
});

interface Call {
  method: string;
  path: string;
  as?: string;
  body?: unknown;
  rawBody?: string;
  authorization?: string;
}

function request({ method, path, as, body, rawBody, authorization }: Call): HttpRequest {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.authorization = authorization;
  else if (as !== undefined) headers.authorization = `UserSig ${userSig(as)}`;
  return {
    method,
    path,
    query: {},
    headers,
    body: rawBody ?? (body === undefined ? "" : JSON.stringify(body)),
  };
}

async function call(spec: Call, api: HttpRoute = route): Promise<HttpResponse> {
  const response = await api(request(spec));
  if (response === undefined) throw new Error(`route did not handle ${spec.method} ${spec.path}`);
  return response;
}

const parse = (response: HttpResponse): unknown => JSON.parse(response.body);

const putConversation = (as: string, conversationId: string, body: unknown) =>
  call({ method: "PUT", path: `/v1/preferences/conversations/${conversationId}`, as, body });
const putAll = (as: string, body: unknown) => call({ method: "PUT", path: "/v1/preferences/all", as, body });
const get = (as: string) => call({ method: "GET", path: "/v1/preferences", as });

describe("conversation options", () => {
  it("stores a C2C option and GET returns it", async () => {
    const put = await putConversation("alice", "c2c_bob", { receiveOpt: 2 });

    expect(put).toEqual({ status: 204, body: "" });
    expect(await preferences.getPreferences("alice")).toEqual({ conversations: { c2c_bob: 2 } });
    const response = await get("alice");
    expect(response.status).toBe(200);
    expect(response.headers?.["content-type"]).toBe("application/json");
    expect(parse(response)).toEqual({ conversations: { c2c_bob: 2 } });
  });

  it.each([0, 1, 2, 3, 4])("accepts receiveOpt %i", async (receiveOpt) => {
    expect((await putConversation("alice", "group_team", { receiveOpt })).status).toBe(204);
    expect(await preferences.getPreferences("alice")).toEqual({ conversations: { group_team: receiveOpt } });
  });

  it("decodes a percent-encoded group id", async () => {
    // Tencent's generated group ids look like "@TGS#1ABC"; community topics add "@TOPIC#_".
    const response = await putConversation("alice", "group_%40TGS%231ABC%40TOPIC%23_x", { receiveOpt: 3 });
    expect(response.status).toBe(204);
    expect(await preferences.getPreferences("alice")).toEqual({
      conversations: { "group_@TGS#1ABC@TOPIC#_x": 3 },
    });
  });

  it("keeps one value per conversation, the newest", async () => {
    await putConversation("alice", "c2c_bob", { receiveOpt: 2 });
    await putConversation("alice", "group_team", { receiveOpt: 3 });
    clock.ms += 60_000;
    await putConversation("alice", "c2c_bob", { receiveOpt: 0 });
    expect(parse(await get("alice"))).toEqual({ conversations: { c2c_bob: 0, group_team: 3 } });
  });
});

describe("global option", () => {
  it("stores the time-of-day form with its time zone and when it was reported", async () => {
    const body = {
      receiveOpt: 2,
      startHour: 22,
      startMinute: 30,
      startSecond: 0,
      duration: 8 * 3600,
      timeZone: "Asia/Shanghai",
    };
    const response = await putAll("alice", body);

    expect(response).toEqual({ status: 204, body: "" });
    const stored = { ...body, at: T0 + 1_000 };
    expect(await preferences.getPreferences("alice")).toEqual({ conversations: {}, all: stored });
    expect(parse(await get("alice"))).toEqual({ conversations: {}, all: stored });
  });

  it("stores the time-of-day form without a time zone (UTC)", async () => {
    await putAll("alice", { receiveOpt: 2, startHour: 0, startMinute: 0, startSecond: 0, duration: 86_400 });
    expect((await preferences.getPreferences("alice")).all).toEqual({
      receiveOpt: 2,
      startHour: 0,
      startMinute: 0,
      startSecond: 0,
      duration: 86_400,
      at: T0 + 1_000,
    });
  });

  it("stores the startTimeStamp form", async () => {
    await putAll("alice", { receiveOpt: 2, startTimeStamp: 1_736_978_400, duration: 3600 });
    expect((await preferences.getPreferences("alice")).all).toEqual({
      receiveOpt: 2,
      startTimeStamp: 1_736_978_400,
      duration: 3600,
      at: T0 + 1_000,
    });
  });

  it("replaces the previous option (receiveOpt 0 turns DND off)", async () => {
    await putAll("alice", { receiveOpt: 2, startTimeStamp: 1_736_978_400, duration: 86_400 });
    clock.ms += 60_000;
    await putAll("alice", { receiveOpt: 0, startHour: 0, startMinute: 0, startSecond: 0, duration: 0 });
    expect(parse(await get("alice"))).toEqual({
      conversations: {},
      all: { receiveOpt: 0, startHour: 0, startMinute: 0, startSecond: 0, duration: 0, at: T0 + 61_000 },
    });
  });

  it("GET returns no `all` when none was reported", async () => {
    await putConversation("alice", "c2c_bob", { receiveOpt: 1 });
    const body = parse(await get("alice"));
    expect(body).toEqual({ conversations: { c2c_bob: 1 } });
    expect(body).not.toHaveProperty("all");
  });
});

describe("a user only reaches their own preferences", () => {
  it("GET for a user with nothing stored is empty, whatever others stored", async () => {
    await putConversation("alice", "c2c_bob", { receiveOpt: 2 });
    await putAll("alice", { receiveOpt: 2, startTimeStamp: 1_736_978_400, duration: 86_400 });
    expect(parse(await get("bob"))).toEqual({ conversations: {} });
  });

  it("a PUT changes only the caller's options", async () => {
    await putConversation("alice", "c2c_bob", { receiveOpt: 2 });
    await putConversation("mallory", "c2c_bob", { receiveOpt: 0 });
    await putAll("mallory", { receiveOpt: 2, startTimeStamp: 1_736_978_400, duration: 86_400 });
    expect(await preferences.getPreferences("alice")).toEqual({ conversations: { c2c_bob: 2 } });
    expect(await preferences.getPreferences("mallory")).toEqual({
      conversations: { c2c_bob: 0 },
      all: expect.objectContaining({ receiveOpt: 2 }),
    });
  });
});

describe("validation: every 400 names its field", () => {
  it.each([
    ["an empty id", ""],
    ["no prefix", "bob"],
    ["the Web SDK's C2C spelling", "C2Cbob"],
    ["the Web SDK's GROUP spelling", "GROUPteam"],
    ["an upper-case prefix", "C2C_bob"],
    ["another prefix", "topic_x"],
    ["an empty user id", "c2c_"],
    ["an empty group id", "group_"],
    ["a space", "c2c_a%20b"],
    ["a control character", "c2c_a%00b"],
    ["over 128 characters", `c2c_${"u".repeat(125)}`],
    ["a broken percent-encoding", "c2c_%E0%A4%A"],
  ])("conversationID with %s", async (_, conversationId) => {
    const response = await putConversation("alice", conversationId, { receiveOpt: 1 });
    expect(response.status).toBe(400);
    expect(parse(response)).toEqual({
      error: expect.stringContaining("conversationID"),
      field: "conversationID",
    });
    expect(await preferences.getPreferences("alice")).toEqual({ conversations: {} });
  });

  it("accepts a conversationID of the longest Tencent user id (32 bytes) and refuses one byte more", async () => {
    expect((await putConversation("alice", `c2c_${"u".repeat(32)}`, { receiveOpt: 1 })).status).toBe(204);
    const tooLong = await putConversation("alice", `c2c_${"u".repeat(33)}`, { receiveOpt: 1 });
    expect(tooLong.status).toBe(400);
    expect(JSON.parse(tooLong.body)).toMatchObject({ field: "conversationID" });
  });

  it.each([
    ["not JSON", "{receiveOpt:", "body", "body is not valid JSON"],
    ["an empty body", "", "body", "body is not valid JSON"],
    ["an array", "[]", "body", "body must be a JSON object"],
    ["no receiveOpt", {}, "receiveOpt", "receiveOpt is required"],
    ["receiveOpt 5", { receiveOpt: 5 }, "receiveOpt", "receiveOpt must be 0, 1, 2, 3 or 4"],
    ["receiveOpt -1", { receiveOpt: -1 }, "receiveOpt", "receiveOpt must be 0, 1, 2, 3 or 4"],
    ["receiveOpt as a string", { receiveOpt: "1" }, "receiveOpt", "receiveOpt must be 0, 1, 2, 3 or 4"],
    ["receiveOpt 1.5", { receiveOpt: 1.5 }, "receiveOpt", "receiveOpt must be 0, 1, 2, 3 or 4"],
    // The missing field is reported first; it names the key the client should have sent.
    ["only a misspelt key", { receiveOPT: 1 }, "receiveOpt", "receiveOpt is required"],
    ["an unknown key", { receiveOpt: 1, mute: true }, "mute", 'unknown field "mute"'],
  ])("PUT a conversation with %s", async (_, body, field, error) => {
    const response = await call({
      method: "PUT",
      path: "/v1/preferences/conversations/c2c_bob",
      as: "alice",
      ...(typeof body === "string" ? { rawBody: body } : { body }),
    });
    expect(response.status).toBe(400);
    expect(parse(response)).toEqual({ error, field });
    expect(await preferences.getPreferences("alice")).toEqual({ conversations: {} });
  });

  const day = { receiveOpt: 2, startHour: 22, startMinute: 0, startSecond: 0, duration: 28_800 };
  const stamp = { receiveOpt: 2, startTimeStamp: 1_736_978_400, duration: 3600 };
  it.each([
    ["not JSON", "nope", "body", /not valid JSON/],
    ["an array", "[1]", "body", /must be a JSON object/],
    ["no receiveOpt", { ...day, receiveOpt: undefined }, "receiveOpt", /^receiveOpt is required$/],
    ["receiveOpt 1 (conversations only)", { ...day, receiveOpt: 1 }, "receiveOpt", /must be 0 or 2/],
    ["receiveOpt 3", { ...day, receiveOpt: 3 }, "receiveOpt", /must be 0 or 2/],
    ["no duration", { ...day, duration: undefined }, "duration", /^duration is required$/],
    ["a negative duration", { ...day, duration: -1 }, "duration", /integer of seconds from 0/],
    ["a fractional duration", { ...day, duration: 1.5 }, "duration", /integer of seconds from 0/],
    ["a duration over ten years", { ...day, duration: 315_360_001 }, "duration", /integer of seconds from 0/],
    ["a duration as a string", { ...day, duration: "3600" }, "duration", /integer of seconds from 0/],
    ["startHour 24", { ...day, startHour: 24 }, "startHour", /startHour must be an integer from 0 to 23/],
    ["startHour -1", { ...day, startHour: -1 }, "startHour", /from 0 to 23/],
    ["startHour 1.5", { ...day, startHour: 1.5 }, "startHour", /from 0 to 23/],
    ["startMinute 60", { ...day, startMinute: 60 }, "startMinute", /from 0 to 59/],
    ["startSecond 60", { ...day, startSecond: 60 }, "startSecond", /from 0 to 59/],
    [
      "no startHour",
      { ...day, startHour: undefined },
      "startHour",
      /startHour is required \(or send startTimeStamp/,
    ],
    ["no startMinute", { ...day, startMinute: undefined }, "startMinute", /startMinute is required/],
    ["no startSecond", { ...day, startSecond: undefined }, "startSecond", /startSecond is required/],
    ["an unknown timeZone", { ...day, timeZone: "Mars/Olympus_Mons" }, "timeZone", /IANA time zone name/],
    ["an offset as timeZone", { ...day, timeZone: "+08:00" }, "timeZone", /IANA time zone name/],
    ["an empty timeZone", { ...day, timeZone: "" }, "timeZone", /IANA time zone name/],
    ["a numeric timeZone", { ...day, timeZone: 8 }, "timeZone", /timeZone must be a string/],
    ["a negative startTimeStamp", { ...stamp, startTimeStamp: -1 }, "startTimeStamp", /non-negative integer/],
    [
      "a fractional startTimeStamp",
      { ...stamp, startTimeStamp: 1.5 },
      "startTimeStamp",
      /non-negative integer/,
    ],
    [
      "startTimeStamp in milliseconds",
      { ...stamp, startTimeStamp: 1_736_978_400_000 },
      "startTimeStamp",
      /not milliseconds/,
    ],
    [
      "startTimeStamp with startHour",
      { ...stamp, startHour: 22 },
      "startHour",
      /cannot be combined with startTimeStamp/,
    ],
    [
      "startTimeStamp with timeZone",
      { ...stamp, timeZone: "UTC" },
      "timeZone",
      /cannot be combined with startTimeStamp/,
    ],
    ["a misspelt key", { ...day, timezone: "UTC" }, "timezone", /unknown field "timezone"/],
  ])("PUT /v1/preferences/all with %s", async (_, body, field, error) => {
    const response = await call({
      method: "PUT",
      path: "/v1/preferences/all",
      as: "alice",
      ...(typeof body === "string" ? { rawBody: body } : { body }),
    });
    expect(response.status).toBe(400);
    expect(parse(response)).toEqual({ error: expect.stringMatching(error), field });
    expect(await preferences.getPreferences("alice")).toEqual({ conversations: {} });
  });

  it.each(["UTC", "America/New_York", "Etc/GMT-8", "Europe/Kyiv"])(
    "accepts timeZone %s",
    async (timeZone) => {
      expect((await putAll("alice", { ...day, timeZone })).status).toBe(204);
    },
  );

  it.each([
    ["startTimeStamp 0", { receiveOpt: 0, startTimeStamp: 0, duration: 0 }],
    ["a ten-year duration", { ...day, duration: 315_360_000 }],
    ["the last second of 9999", { ...stamp, startTimeStamp: 253_402_300_799 }],
  ])("accepts %s", async (_, body) => {
    expect((await putAll("alice", body)).status).toBe(204);
  });
});

describe("authentication", () => {
  const routes: [string, string][] = [
    ["GET", "/v1/preferences"],
    ["PUT", "/v1/preferences/all"],
    ["PUT", "/v1/preferences/conversations/c2c_bob"],
  ];

  it.each(routes)("%s %s without Authorization is 401", async (method, path) => {
    const response = await call({ method, path, body: { receiveOpt: 1 } });
    expect(response.status).toBe(401);
    expect(response.headers?.["www-authenticate"]).toBe("UserSig");
    expect(parse(response)).toEqual({
      error: expect.stringContaining("Authorization header is missing"),
      field: "Authorization",
    });
    expect(await preferences.getPreferences("bob")).toEqual({ conversations: {} });
  });

  it.each([
    ["another scheme", () => `Bearer ${userSig("alice")}`, /must be "UserSig <usersig>"/],
    ["garbage", () => "UserSig not-a-usersig", /^UserSig rejected: /],
    [
      "an expired sig",
      () => `UserSig ${userSig("alice", 60, T0 - 3_600_000)}`,
      /^UserSig rejected: expired at /,
    ],
    [
      "a sig for another app",
      () => `UserSig ${userSig("alice", 86_400, T0, 1400000001)}`,
      /^UserSig rejected: sdk appid not match/,
    ],
    [
      "a sig made with another key",
      () => `UserSig ${new Api(SDK_APP_ID, "wrong").genUserSig("alice", 9e9)}`,
      /sig not match/,
    ],
  ])("rejects %s on every route, storing nothing", async (_, authorization, error) => {
    for (const [method, path] of routes) {
      const response = await call({ method, path, authorization: authorization(), body: { receiveOpt: 1 } });
      expect(response.status).toBe(401);
      expect(parse(response)).toEqual({ error: expect.stringMatching(error), field: "Authorization" });
    }
    expect(await preferences.getPreferences("alice")).toEqual({ conversations: {} });
  });

  it("answers exactly as the device API does (one authentication)", async () => {
    const devices = makeDeviceApi({
      devices: new MemoryDeviceStore(),
      presence: new MemoryPresenceStore(),
      clock,
      sdkAppId: SDK_APP_ID,
      userSigKey: async () => KEY,
    });
    for (const authorization of [
      "",
      "Basic x",
      "UserSig abc",
      `UserSig ${userSig("alice", 60, T0 - 3_600_000)}`,
    ]) {
      const fromPreferences = await call({ method: "GET", path: "/v1/preferences", authorization });
      const fromDevices = await call({ method: "GET", path: "/v1/devices", authorization }, devices);
      expect(fromPreferences).toEqual(fromDevices);
      expect(fromPreferences.status).toBe(401);
    }
  });

  it("authenticates before validating the request", async () => {
    const response = await call({
      method: "PUT",
      path: "/v1/preferences/conversations/nonsense",
      rawBody: "{",
    });
    expect(response.status).toBe(401);
  });

  it("fetches the key through the injected provider", async () => {
    const userSigKey = vi.fn(async () => KEY);
    const api = makePreferencesApi({ preferences, clock, sdkAppId: SDK_APP_ID, userSigKey });
    expect((await call({ method: "GET", path: "/v1/preferences", as: "alice" }, api)).status).toBe(200);
    expect(userSigKey).toHaveBeenCalledOnce();
  });
});

describe("routing", () => {
  it.each([
    ["POST", "/v1/preferences", "GET"],
    ["PUT", "/v1/preferences", "GET"],
    ["GET", "/v1/preferences/all", "PUT"],
    ["DELETE", "/v1/preferences/all", "PUT"],
    ["GET", "/v1/preferences/conversations/c2c_bob", "PUT"],
    ["DELETE", "/v1/preferences/conversations/c2c_bob", "PUT"],
  ])("%s %s is 405 with Allow: %s, before authentication", async (method, path, allow) => {
    const response = await call({ method, path });
    expect(response.status).toBe(405);
    expect(response.headers?.allow).toBe(allow);
    expect(parse(response)).toEqual({
      error: expect.stringContaining("method not allowed"),
      field: "method",
    });
  });

  it("accepts a lower-case method", async () => {
    expect(
      (
        await call({
          method: "put",
          path: "/v1/preferences/all",
          as: "alice",
          body: { receiveOpt: 0, startTimeStamp: 0, duration: 0 },
        })
      ).status,
    ).toBe(204);
    expect((await call({ method: "get", path: "/v1/preferences", as: "alice" })).status).toBe(200);
  });

  it.each([
    "/",
    "/v1",
    "/v1/preferences/",
    "/v1/preferencesx",
    "/v1/preferences/conversations",
    "/v1/preferences/conversations/c2c_bob/x",
    "/v1/preferences/all/x",
    "/v1/devices",
    "/v2/preferences",
  ])("leaves %s to other routes", async (path) => {
    for (const method of ["GET", "PUT"]) {
      expect(await route({ method, path, query: {}, headers: {}, body: "" })).toBeUndefined();
    }
  });
});

describe("MemoryPreferenceStore (the fake the tests rely on)", () => {
  it("keeps the newest report per conversation and for the global option, whatever the order", async () => {
    const store = new MemoryPreferenceStore();
    await store.setConversationOpt("alice", "c2c_bob", 2, 200);
    await store.setConversationOpt("alice", "c2c_bob", 0, 100);
    await store.setConversationOpt("alice", "group_team", 3, 50);
    await store.setGlobalOpt("alice", { receiveOpt: 2, duration: 86_400, at: 200 });
    await store.setGlobalOpt("alice", { receiveOpt: 0, duration: 0, at: 100 });
    expect(await store.getPreferences("alice")).toEqual({
      conversations: { c2c_bob: 2, group_team: 3 },
      all: { receiveOpt: 2, duration: 86_400, at: 200 },
    });
  });

  it("copies values in and out", async () => {
    const store = new MemoryPreferenceStore();
    const opt = { receiveOpt: 2 as const, duration: 60, at: 1 };
    await store.setGlobalOpt("alice", opt);
    opt.duration = 999;
    const read = await store.getPreferences("alice");
    read.conversations.c2c_x = 1;
    if (read.all) read.all.duration = 5;
    expect(await store.getPreferences("alice")).toEqual({
      conversations: {},
      all: { receiveOpt: 2, duration: 60, at: 1 },
    });
  });
});
