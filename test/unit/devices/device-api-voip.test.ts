import { createRequire } from "node:module";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { makeDeviceApi } from "../../../lib/devices/device-api.js";
import type { HttpResponse, HttpRoute } from "../../../lib/http/types.js";
import { MemoryDeviceStore, MemoryPresenceStore } from "../../support/memory-stores.js";

const { Api } = createRequire(import.meta.url)("tls-sig-api-v2") as {
  Api: new (sdkAppId: number, key: string) => { genUserSig(userId: string, expire: number): string };
};
const SDK_APP_ID = 1400000000;
const KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);
const ALERT = "a1b2c3d4".repeat(8);
const VOIP = "c0ffee00".repeat(8);

function userSig(identifier: string): string {
  vi.useFakeTimers({ toFake: ["Date"], now: T0 });
  try {
    return new Api(SDK_APP_ID, KEY).genUserSig(identifier, 86_400);
  } finally {
    vi.useRealTimers();
  }
}

let devices: MemoryDeviceStore;
let route: HttpRoute;

beforeEach(() => {
  devices = new MemoryDeviceStore();
  route = makeDeviceApi({
    devices,
    presence: new MemoryPresenceStore(devices),
    clock: { now: () => T0 + 1_000 },
    sdkAppId: SDK_APP_ID,
    userSigKey: async () => KEY,
  });
});

async function call(method: string, path: string, body?: unknown, query: Record<string, string> = {}) {
  const response = (await route({
    method,
    path,
    query,
    headers: { authorization: `UserSig ${userSig("bob")}` },
    body: body === undefined ? "" : JSON.stringify(body),
  })) as HttpResponse;
  return { status: response.status, body: response.body === "" ? undefined : JSON.parse(response.body) };
}

describe("a PushKit VoIP token (pushType voip)", () => {
  const registerBoth = async () => {
    expect((await call("PUT", "/v1/devices/iphone", { vendor: "apns", token: ALERT })).status).toBe(200);
    const voip = await call("PUT", "/v1/devices/iphone", { vendor: "apns", token: VOIP, pushType: "voip" });
    expect(voip).toMatchObject({
      status: 200,
      body: { deviceId: "iphone", pushType: "voip", token: "c0ffee…ee00" },
    });
  };

  it("is stored beside the phone's alert token under the same deviceId, and listed", async () => {
    await registerBoth();
    expect((await devices.list("bob")).map((d) => [d.deviceId, d.token, d.pushType])).toEqual([
      ["iphone", ALERT, undefined],
      ["iphone", VOIP, "voip"],
    ]);
    const list = await call("GET", "/v1/devices");
    expect(list.body.devices.map((d: { pushType?: string }) => d.pushType ?? "alert")).toEqual([
      "alert",
      "voip",
    ]);
  });

  it("re-registering the VoIP token replaces only the VoIP one", async () => {
    await registerBoth();
    const other = "0dd0dd00".repeat(8);
    await call("PUT", "/v1/devices/iphone", { vendor: "apns", token: other, pushType: "voip" });
    expect((await devices.list("bob")).map((d) => d.token)).toEqual([ALERT, other]);
  });

  it("DELETE ?pushType=voip removes only the VoIP token (pushRegistry didInvalidatePushTokenFor)", async () => {
    await registerBoth();
    expect(await call("DELETE", "/v1/devices/iphone", undefined, { pushType: "voip" })).toEqual({
      status: 204,
      body: undefined,
    });
    expect((await devices.list("bob")).map((d) => d.token)).toEqual([ALERT]);
    expect(await call("DELETE", "/v1/devices/iphone", undefined, { pushType: "voip" })).toEqual({
      status: 404,
      body: { error: 'no VoIP token registered for device "iphone"', field: "deviceId" },
    });
  });

  it("DELETE without pushType (logout) removes both of the phone's tokens", async () => {
    await registerBoth();
    expect((await call("DELETE", "/v1/devices/iphone")).status).toBe(204);
    expect(await devices.list("bob")).toEqual([]);
  });

  it("refuses a pushType other than voip, on a non-APNs vendor, and in the DELETE query, naming the field", async () => {
    expect(
      await call("PUT", "/v1/devices/p", { vendor: "apns", token: VOIP, pushType: "alert" }),
    ).toMatchObject({
      status: 400,
      body: { field: "pushType" },
    });
    expect(await call("PUT", "/v1/devices/p", { vendor: "fcm", token: "fcm-1", pushType: "voip" })).toEqual({
      status: 400,
      body: expect.objectContaining({
        field: "pushType",
        error: expect.stringContaining("only valid for apns"),
      }),
    });
    await registerBoth();
    expect(await call("DELETE", "/v1/devices/iphone", undefined, { pushType: "alert" })).toMatchObject({
      status: 400,
      body: { field: "pushType" },
    });
    expect(await devices.list("bob")).toHaveLength(2);
  });
});
