import { createRequire } from "node:module";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { makeDeviceApi, redactToken } from "../../../lib/devices/device-api.js";
import type { HttpRequest, HttpResponse, HttpRoute } from "../../../lib/http/types.js";
import type { Clock } from "../../../lib/ports/clock.js";
import { MemoryDeviceStore, MemoryPresenceStore } from "../../support/memory-stores.js";

// Real UserSigs from Tencent's own generator, so the route is tested against what apps will send.
interface TlsSigApi {
  genUserSig(userId: string, expire: number): string;
}
const { Api } = createRequire(import.meta.url)("tls-sig-api-v2") as {
  Api: new (sdkAppId: number, key: string) => TlsSigApi;
};

const SDK_APP_ID = 1400000000;
const KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);
const APNS_TOKEN = "a1b2c3d4".repeat(8);
const FCM_TOKEN = "fcm-token:APA91bH-abcdefghijklmnopqrstuvwxyz0123456789";

function userSig(identifier: string, expireSeconds = 86_400, atMs = T0, sdkAppId = SDK_APP_ID): string {
  vi.useFakeTimers({ toFake: ["Date"], now: atMs });
  try {
    return new Api(sdkAppId, KEY).genUserSig(identifier, expireSeconds);
  } finally {
    vi.useRealTimers();
  }
}

let devices: MemoryDeviceStore;
let presence: MemoryPresenceStore;
let clock: Clock & { ms: number };
let route: HttpRoute;

beforeEach(() => {
  devices = new MemoryDeviceStore();
  presence = new MemoryPresenceStore(devices);
  clock = {
    ms: T0 + 1_000,
    now() {
      return this.ms;
    },
  };
  route = makeDeviceApi({ devices, presence, clock, sdkAppId: SDK_APP_ID, userSigKey: async () => KEY });
});

/** The app state reported for all devices and the badge base, as one flat object (absent parts left out). */
function reported(userId: string) {
  const { app, devices: perDevice } = presence.get(userId);
  const unread = presence.unreadReport(userId);
  return {
    ...(app !== undefined ? { appState: app.state, appStateAt: app.at } : {}),
    ...(unread !== undefined ? { unreadCount: unread.count } : {}),
    ...(Object.keys(perDevice).length > 0 ? { devices: perDevice } : {}),
  };
}

interface Call {
  method: string;
  path: string;
  as?: string;
  body?: unknown;
  rawBody?: string;
  authorization?: string;
}

async function call({ method, path, as, body, rawBody, authorization }: Call): Promise<HttpResponse> {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.authorization = authorization;
  else if (as !== undefined) headers.authorization = `UserSig ${userSig(as)}`;
  const request: HttpRequest = {
    method,
    path,
    query: {},
    headers,
    body: rawBody ?? (body === undefined ? "" : JSON.stringify(body)),
  };
  const response = await route(request);
  if (response === undefined) throw new Error(`route did not handle ${method} ${path}`);
  return response;
}

const parse = (response: HttpResponse): unknown => JSON.parse(response.body);

const register = (as: string, deviceId: string, body: unknown) =>
  call({ method: "PUT", path: `/v1/devices/${deviceId}`, as, body });

describe("devices", () => {
  it("registers, lists and deletes a device (round trip)", async () => {
    // Arrange / Act: register
    const put = await register("alice", "phone-1", {
      vendor: "fcm",
      token: FCM_TOKEN,
      appId: "com.example.chat",
    });

    expect(put.status).toBe(200);
    expect(put.headers?.["content-type"]).toBe("application/json");
    expect(parse(put)).toEqual({
      userId: "alice",
      deviceId: "phone-1",
      vendor: "fcm",
      token: "fcm-to…6789",
      appId: "com.example.chat",
      platform: "Android",
      updatedAt: T0 + 1_000,
    });
    expect(await devices.list("alice")).toEqual([
      {
        userId: "alice",
        deviceId: "phone-1",
        vendor: "fcm",
        token: FCM_TOKEN,
        appId: "com.example.chat",
        platform: "Android",
        updatedAt: T0 + 1_000,
      },
    ]);

    // list
    const list = await call({ method: "GET", path: "/v1/devices", as: "alice" });
    expect(list.status).toBe(200);
    expect(parse(list)).toEqual({
      devices: [expect.objectContaining({ deviceId: "phone-1", token: "fcm-to…6789" })],
    });

    // delete
    const del = await call({ method: "DELETE", path: "/v1/devices/phone-1", as: "alice" });
    expect(del).toEqual({ status: 204, body: "" });
    expect(await devices.list("alice")).toEqual([]);
    const again = await call({ method: "DELETE", path: "/v1/devices/phone-1", as: "alice" });
    expect(again.status).toBe(404);
    expect(parse(again)).toEqual({ error: 'device "phone-1" not found', field: "deviceId" });
  });

  it("stores an APNs device in lower case with the production environment by default", async () => {
    const response = await register("alice", "iphone", {
      vendor: "apns",
      token: APNS_TOKEN.toUpperCase(),
      certificateId: 12345,
    });
    expect(response.status).toBe(200);
    expect(await devices.list("alice")).toEqual([
      {
        userId: "alice",
        deviceId: "iphone",
        vendor: "apns",
        token: APNS_TOKEN,
        certificateId: 12345,
        environment: "production",
        platform: "iOS",
        updatedAt: T0 + 1_000,
      },
    ]);
  });

  it("keeps a sandbox environment for APNs", async () => {
    await register("alice", "iphone", { vendor: "apns", token: APNS_TOKEN, environment: "sandbox" });
    expect((await devices.list("alice"))[0]?.environment).toBe("sandbox");
  });

  it("stores the platform and locale a registration names (an iPad, a Chinese-language phone)", async () => {
    await register("alice", "ipad", {
      vendor: "apns",
      token: APNS_TOKEN,
      platform: "iPad",
      locale: "zh-Hans-CN",
    });
    await register("alice", "mate", { vendor: "huawei", token: "hw-token-00000000", locale: "zh_CN" });
    expect((await devices.list("alice")).map((d) => [d.deviceId, d.platform, d.locale])).toEqual([
      ["ipad", "iPad", "zh-Hans-CN"],
      ["mate", "Android", "zh_CN"],
    ]);
  });

  it.each([
    [
      { vendor: "apns", token: APNS_TOKEN, platform: "Android" },
      "platform",
      'an apns device is "iOS" or "iPad"',
    ],
    [{ vendor: "fcm", token: FCM_TOKEN, platform: "iPad" }, "platform", 'a fcm device is "Android"'],
    [
      { vendor: "fcm", token: FCM_TOKEN, platform: "watchOS" },
      "platform",
      "platform must be one of iOS, iPad, Android",
    ],
    [
      { vendor: "fcm", token: FCM_TOKEN, locale: "Chinese" },
      "locale",
      'locale must be a BCP 47 language tag such as "zh-CN" or "en"',
    ],
    [{ vendor: "fcm", token: FCM_TOKEN, locale: 86 }, "locale", "locale must be a string"],
  ])("refuses %j with a 400 naming %s", async (body, field, error) => {
    const response = await register("alice", "d1", body);
    expect(response.status).toBe(400);
    expect(parse(response)).toEqual({ error, field });
    expect(await devices.list("alice")).toEqual([]);
  });

  it("refreshes a device on re-registration", async () => {
    await register("alice", "phone-1", { vendor: "fcm", token: "old-token-0000000" });
    clock.ms += 60_000;
    await register("alice", "phone-1", { vendor: "huawei", token: "new-token-1111111" });
    expect(await devices.list("alice")).toEqual([
      {
        userId: "alice",
        deviceId: "phone-1",
        vendor: "huawei",
        token: "new-token-1111111",
        platform: "Android",
        updatedAt: T0 + 61_000,
      },
    ]);
  });

  it("never returns a full token from GET", async () => {
    await register("alice", "iphone", { vendor: "apns", token: APNS_TOKEN });
    await register("alice", "pixel", { vendor: "fcm", token: FCM_TOKEN });
    await register("alice", "tiny", { vendor: "xiaomi", token: "short" });
    const response = await call({ method: "GET", path: "/v1/devices", as: "alice" });
    expect(response.body).not.toContain(APNS_TOKEN);
    expect(response.body).not.toContain(FCM_TOKEN);
    expect(response.body).not.toContain("short");
    expect(parse(response)).toEqual({
      devices: [
        expect.objectContaining({ deviceId: "iphone", token: "a1b2c3…c3d4" }),
        expect.objectContaining({ deviceId: "pixel", token: "fcm-to…6789" }),
        expect.objectContaining({ deviceId: "tiny", token: "…" }),
      ],
    });
  });

  it("lists only the caller's devices", async () => {
    await register("alice", "phone-1", { vendor: "fcm", token: "alice-token-000000" });
    await register("bob", "phone-1", { vendor: "fcm", token: "bob-token-00000000" });
    const response = await call({ method: "GET", path: "/v1/devices", as: "bob" });
    expect(parse(response)).toEqual({
      devices: [expect.objectContaining({ userId: "bob", token: "bob-to…0000" })],
    });
  });

  it("does not let a user delete another user's device", async () => {
    await register("alice", "phone-1", { vendor: "fcm", token: FCM_TOKEN });
    const response = await call({ method: "DELETE", path: "/v1/devices/phone-1", as: "mallory" });
    expect(response.status).toBe(404);
    expect(await devices.list("alice")).toHaveLength(1);
  });

  it("does not let a user overwrite another user's device by reusing its deviceId", async () => {
    await register("alice", "phone-1", { vendor: "fcm", token: FCM_TOKEN });
    await register("mallory", "phone-1", { vendor: "fcm", token: "mallory-token-0000" });
    expect(await devices.list("alice")).toEqual([expect.objectContaining({ token: FCM_TOKEN })]);
  });

  it("moves a token from alice to bob when the phone changes hands (bob logs in on the same device id)", async () => {
    await register("alice", "phone-1", { vendor: "fcm", token: FCM_TOKEN });
    await register("alice", "tablet", { vendor: "fcm", token: "alice-tablet-token" });
    expect((await register("bob", "phone-1", { vendor: "fcm", token: FCM_TOKEN })).status).toBe(200);
    expect(await devices.list("alice")).toEqual([expect.objectContaining({ deviceId: "tablet" })]);
    expect(await devices.list("bob")).toEqual([
      expect.objectContaining({ deviceId: "phone-1", token: FCM_TOKEN }),
    ]);
  });

  it("answers 409 to another user claiming alice's token on another device id, and alice keeps it", async () => {
    await register("alice", "phone-1", { vendor: "fcm", token: FCM_TOKEN });
    const claim = await register("mallory", "phone-m", { vendor: "fcm", token: FCM_TOKEN });
    expect(claim.status).toBe(409);
    expect(parse(claim)).toMatchObject({ field: "token" });
    expect(claim.body).not.toContain(FCM_TOKEN);
    expect(await devices.list("alice")).toEqual([expect.objectContaining({ token: FCM_TOKEN })]);
    expect(await devices.list("mallory")).toEqual([]);
  });

  it.each(["__proto__", "constructor", "hasOwnProperty", "toString", "prototype"])(
    "refuses the device id %s with a 400 naming deviceId, storing nothing",
    async (deviceId) => {
      const response = await register("alice", deviceId, { vendor: "fcm", token: FCM_TOKEN });
      expect(response.status).toBe(400);
      expect(parse(response)).toMatchObject({ field: "deviceId" });
      expect(await devices.list("alice")).toEqual([]);
      // No ghost owner: the token is still free for anyone.
      expect((await register("bob", "phone-b", { vendor: "fcm", token: FCM_TOKEN })).status).toBe(200);
    },
  );

  it("decodes a percent-encoded deviceId", async () => {
    const response = await register("alice", "ios%3Aphone-1", { vendor: "fcm", token: FCM_TOKEN });
    expect(response.status).toBe(200);
    expect(await devices.list("alice")).toEqual([expect.objectContaining({ deviceId: "ios:phone-1" })]);
  });
});

describe("validation: every 400 names its field", () => {
  it.each([
    ["not JSON", "{vendor:", "body", "body is not valid JSON"],
    ["an empty body", "", "body", "body is not valid JSON"],
    ["an array", "[]", "body", "body must be a JSON object"],
    ["no vendor", { token: FCM_TOKEN }, "vendor", "vendor is required"],
    [
      "an unknown vendor",
      { vendor: "blackberry", token: FCM_TOKEN },
      "vendor",
      /^vendor must be one of apns, fcm/,
    ],
    ["no token", { vendor: "fcm" }, "token", "token is required"],
    ["an empty token", { vendor: "fcm", token: "" }, "token", "token must not be empty"],
    ["a numeric token", { vendor: "fcm", token: 42 }, "token", "token must be a string"],
    ["a token over 4096 chars", { vendor: "fcm", token: "x".repeat(4097) }, "token", /at most 4096/],
    ["a non-hex APNs token", { vendor: "apns", token: "z".repeat(64) }, "token", /APNs token/],
    ["a short APNs token", { vendor: "apns", token: "ab".repeat(31) }, "token", /APNs token/],
    ["a long APNs token", { vendor: "apns", token: "ab".repeat(101) }, "token", /APNs token/],
    [
      "a zero certificateId",
      { vendor: "fcm", token: FCM_TOKEN, certificateId: 0 },
      "certificateId",
      /positive/,
    ],
    [
      "a string certificateId",
      { vendor: "fcm", token: FCM_TOKEN, certificateId: "1" },
      "certificateId",
      /integer/,
    ],
    [
      "a fractional certificateId",
      { vendor: "fcm", token: FCM_TOKEN, certificateId: 1.5 },
      "certificateId",
      /integer/,
    ],
    ["an empty appId", { vendor: "fcm", token: FCM_TOKEN, appId: "" }, "appId", /appId must not be empty/],
    ["a long appId", { vendor: "fcm", token: FCM_TOKEN, appId: "a".repeat(256) }, "appId", /at most 255/],
    [
      "environment for fcm",
      { vendor: "fcm", token: FCM_TOKEN, environment: "sandbox" },
      "environment",
      /only valid/,
    ],
    [
      "an unknown environment",
      { vendor: "apns", token: APNS_TOKEN, environment: "dev" },
      "environment",
      /sandbox/,
    ],
    [
      "a misspelt key",
      { vendor: "fcm", token: FCM_TOKEN, certificateID: 1 },
      "certificateID",
      /unknown field/,
    ],
  ])("PUT /v1/devices with %s", async (_, body, field, error) => {
    const response = await call({
      method: "PUT",
      path: "/v1/devices/phone-1",
      as: "alice",
      ...(typeof body === "string" ? { rawBody: body } : { body }),
    });
    expect(response.status).toBe(400);
    expect(parse(response)).toEqual({
      error: typeof error === "string" ? error : expect.stringMatching(error),
      field,
    });
    expect(await devices.list("alice")).toEqual([]);
  });

  it.each([
    ["an empty deviceId", "/v1/devices/"],
    ["a deviceId with a space", "/v1/devices/my%20phone"],
    ["a deviceId with a slash", "/v1/devices/a%2Fb"],
    ["a deviceId over 128 chars", `/v1/devices/${"d".repeat(129)}`],
    ["a broken percent-encoding", "/v1/devices/%E0%A4%A"],
  ])("%s", async (_, path) => {
    for (const method of ["PUT", "DELETE"]) {
      const response = await call({ method, path, as: "alice", body: { vendor: "fcm", token: FCM_TOKEN } });
      expect(response.status).toBe(400);
      expect(parse(response)).toEqual({ error: expect.any(String), field: "deviceId" });
    }
  });

  it.each([
    ["/v1/presence", {}, "state", "state is required"],
    ["/v1/presence", { state: "asleep" }, "state", /"foreground" or "background"/],
    ["/v1/presence", { state: "background", unreadCount: -1 }, "unreadCount", /between 0 and 99999/],
    ["/v1/presence", { state: "background", unreadCount: 100_000 }, "unreadCount", /between 0 and 99999/],
    ["/v1/presence", { state: "background", unreadCount: 2.5 }, "unreadCount", /integer/],
    ["/v1/presence", { state: "background", unread: 3 }, "unread", /unknown field "unread"/],
    ["/v1/badge", {}, "unreadCount", "unreadCount is required"],
    ["/v1/badge", { unreadCount: "3" }, "unreadCount", /integer/],
    ["/v1/badge", { unreadCount: 100_000 }, "unreadCount", /between 0 and 99999/],
    ["/v1/badge", { unreadCount: 3, badge: 3 }, "badge", /unknown field "badge"/],
  ])("PUT %s with %j", async (path, body, field, error) => {
    const response = await call({ method: "PUT", path, as: "alice", body });
    expect(response.status).toBe(400);
    expect(parse(response)).toEqual({
      error: typeof error === "string" ? error : expect.stringMatching(error),
      field,
    });
    expect(reported("alice")).toEqual({});
  });
});

describe("authentication", () => {
  const paths: [string, string][] = [
    ["GET", "/v1/devices"],
    ["PUT", "/v1/devices/phone-1"],
    ["DELETE", "/v1/devices/phone-1"],
    ["PUT", "/v1/presence"],
    ["PUT", "/v1/badge"],
  ];

  it.each(paths)("%s %s without Authorization is 401", async (method, path) => {
    const response = await call({ method, path, body: { unreadCount: 1 } });
    expect(response.status).toBe(401);
    expect(response.headers?.["www-authenticate"]).toBe("UserSig");
    expect(parse(response)).toEqual({
      error: expect.stringContaining("Authorization header is missing"),
      field: "Authorization",
    });
  });

  it.each([
    ["another scheme", () => `Bearer ${userSig("alice")}`, /must be "UserSig <usersig>"/],
    ["no sig after the scheme", () => "UserSig ", /must be "UserSig <usersig>"|missing/],
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
  ])("rejects %s with the reason", async (_, authorization, error) => {
    await register("alice", "phone-1", { vendor: "fcm", token: FCM_TOKEN });
    const response = await call({ method: "GET", path: "/v1/devices", authorization: authorization() });
    expect(response.status).toBe(401);
    expect(parse(response)).toEqual({ error: expect.stringMatching(error), field: "Authorization" });
    expect(response.body).not.toContain(FCM_TOKEN.slice(0, 6));
  });

  it("accepts the scheme in any case", async () => {
    const response = await call({
      method: "GET",
      path: "/v1/devices",
      authorization: `usersig ${userSig("alice")}`,
    });
    expect(response.status).toBe(200);
  });

  it("rejects a sig the moment it expires", async () => {
    const sig = userSig("alice", 60);
    clock.ms = T0 + 60_999;
    expect((await call({ method: "GET", path: "/v1/devices", authorization: `UserSig ${sig}` })).status).toBe(
      200,
    );
    clock.ms = T0 + 61_000;
    expect((await call({ method: "GET", path: "/v1/devices", authorization: `UserSig ${sig}` })).status).toBe(
      401,
    );
  });

  it("fetches the key through the injected provider", async () => {
    const userSigKey = vi.fn(async () => KEY);
    const api = makeDeviceApi({ devices, presence, clock, sdkAppId: SDK_APP_ID, userSigKey });
    const response = await api({
      method: "GET",
      path: "/v1/devices",
      query: {},
      headers: { authorization: `UserSig ${userSig("alice")}` },
      body: "",
    });
    expect(response?.status).toBe(200);
    expect(userSigKey).toHaveBeenCalledOnce();
  });
});

describe("presence and badge", () => {
  it("doBackground stores the app state and the unread count", async () => {
    const response = await call({
      method: "PUT",
      path: "/v1/presence",
      as: "alice",
      body: { state: "background", unreadCount: 7 },
    });
    expect(response).toEqual({ status: 204, body: "" });
    expect(reported("alice")).toEqual({ appState: "background", appStateAt: T0 + 1_000, unreadCount: 7 });
  });

  it("doForeground keeps the last unread count", async () => {
    await call({
      method: "PUT",
      path: "/v1/presence",
      as: "alice",
      body: { state: "background", unreadCount: 7 },
    });
    clock.ms += 5_000;
    await call({ method: "PUT", path: "/v1/presence", as: "alice", body: { state: "foreground" } });
    expect(reported("alice")).toEqual({ appState: "foreground", appStateAt: T0 + 6_000, unreadCount: 7 });
  });

  it("setBadgeNum sets the unread count without touching app state", async () => {
    await call({ method: "PUT", path: "/v1/presence", as: "alice", body: { state: "background" } });
    const response = await call({ method: "PUT", path: "/v1/badge", as: "alice", body: { unreadCount: 0 } });
    expect(response).toEqual({ status: 204, body: "" });
    expect(reported("alice")).toEqual({ appState: "background", appStateAt: T0 + 1_000, unreadCount: 0 });
  });

  it("applies a report with a deviceId to that device only", async () => {
    await register("alice", "ipad", { vendor: "apns", token: APNS_TOKEN, platform: "iPad" });
    const response = await call({
      method: "PUT",
      path: "/v1/presence",
      as: "alice",
      body: { state: "foreground", deviceId: "ipad", unreadCount: 4 },
    });
    expect(response).toEqual({ status: 204, body: "" });
    expect(reported("alice")).toEqual({
      unreadCount: 4,
      devices: { ipad: { state: "foreground", at: T0 + 1_000 } },
    });
  });

  it("answers 404 naming deviceId for a report about a device the caller never registered", async () => {
    await register("bob", "ipad", { vendor: "apns", token: APNS_TOKEN, platform: "iPad" });
    const response = await call({
      method: "PUT",
      path: "/v1/presence",
      as: "alice",
      body: { state: "foreground", deviceId: "ipad" },
    });
    expect(response.status).toBe(404);
    expect(parse(response)).toEqual({ error: 'device "ipad" not found', field: "deviceId" });
    expect(reported("alice")).toEqual({});
  });

  it("updates only the caller's presence", async () => {
    await call({ method: "PUT", path: "/v1/badge", as: "bob", body: { unreadCount: 3 } });
    expect(reported("alice")).toEqual({});
    expect(reported("bob")).toEqual({ unreadCount: 3 });
  });
});

describe("routing", () => {
  it.each([
    ["POST", "/v1/devices", "GET"],
    ["DELETE", "/v1/devices", "GET"],
    ["GET", "/v1/devices/phone-1", "PUT, DELETE"],
    ["POST", "/v1/devices/phone-1", "PUT, DELETE"],
    ["GET", "/v1/presence", "PUT"],
    ["POST", "/v1/badge", "PUT"],
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
    expect((await call({ method: "get", path: "/v1/devices", as: "alice" })).status).toBe(200);
  });

  it.each(["/", "/v1", "/v1/devices/a/b", "/v1/devicesx", "/v1/presence/x", "/v2/devices", "/callback"])(
    "leaves %s to other routes",
    async (path) => {
      const request: HttpRequest = { method: "GET", path, query: {}, headers: {}, body: "" };
      expect(await route(request)).toBeUndefined();
    },
  );
});

describe("redactToken", () => {
  it.each([
    [APNS_TOKEN, "a1b2c3…c3d4"],
    ["12345678901", "123456…8901"],
    ["1234567890", "…"],
    ["x", "…"],
  ])("%s → %s", (token, redacted) => {
    expect(redactToken(token)).toBe(redacted);
  });
});
