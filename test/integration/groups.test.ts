import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatpushClient, waitFor } from "../../local/client.js";
import { jsonFiles, loadCallbackSample, loadDeviceSample } from "../../local/events.js";
import { type LocalRuntime, startLocalRuntime } from "../../local/runtime.js";

/**
 * The group story of events/ through the whole local pipeline: a group is created, two members join,
 * one leaves, alice writes with an @mention, and recalls it.
 */
const SDK_APP_ID = "1400123456";
const TOKEN = "groups-callback-token";
const SECRET = "groups-secret";

let runtime: LocalRuntime;
let client: ChatpushClient;
const devices = jsonFiles("events/devices").map(loadDeviceSample);
const sample = (name: string) => loadCallbackSample(`events/tencent/${name}.json`);
const GROUP = "@TGS#2Q7ZWBTEA";

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
  for (const device of devices) await client.seedDevice(device);
  for (const name of [
    "20-group-create-hiking",
    "21-group-join-frank",
    "22-group-join-grace",
    "23-group-exit-grace",
  ]) {
    const { query, body } = sample(name);
    expect((await client.postCallback(query, { ...body, EventTime: Date.now() })).status).toBe(200);
  }
  await waitFor(async () =>
    (await client.journal()).filter((e) => e.stage === "group").length === 4 ? true : undefined,
  );
});
afterAll(async () => {
  await runtime?.stop();
});

/** Waits until every device a key was queued for has finished and the journal is quiet. */
async function settled(messageKey: string) {
  let last = -1;
  return waitFor(
    async () => {
      const entries = (await client.journal()).filter((e) => e.messageKey === messageKey);
      const queued = entries.filter((e) => e.stage === "queued").length;
      const done = entries.filter((e) => e.stage === "delivered").length;
      const quiet = entries.length === last;
      last = entries.length;
      return queued > 0 && done >= queued && quiet ? entries : undefined;
    },
    20_000,
    200,
  );
}

/** The users' chat tokens (a PushKit VoIP token, events/devices/bob-voip-iphone.json, only rings calls). */
const devicesOf = (users: string[]) =>
  devices
    .filter((d) => users.includes(d.userId) && d.registration.pushType !== "voip")
    .map((d) => d.registration.token)
    .sort();

describe("a group message", () => {
  it("reaches exactly the right members, and the mentioned one is told so", async () => {
    const { query, body } = sample("24-group-message-alice-mentions-erin");
    await client.clearDeliveries();
    expect((await client.postCallback(query, body)).status).toBe(200);
    const entries = await settled(`${GROUP}#42`);

    const deliveries = await client.deliveries();
    // bob (2 phones) and erin (8 phones, @mentioned through her "notify only when @mentioned");
    // not alice (the sender), carol (foreground), dave (muted), frank (do-not-disturb), grace (left).
    // bob's iPad is in the foreground (reported with its deviceId): his phones only.
    const ipad = devices.find((d) => d.deviceId === "bob-ipad")!.registration.token;
    expect(deliveries.map((d) => d.token).sort()).toEqual(
      devicesOf(["bob", "erin"]).filter((t) => t !== ipad),
    );
    const skipped = Object.fromEntries(
      entries
        .filter((e) => e.stage === "skipped")
        .map((e) => [[e.userId, e.deviceId].filter(Boolean).join("/"), e.reason]),
    );
    expect(skipped).toEqual({
      "bob/bob-ipad": "online in the foreground",
      "carol/carol-galaxy-s24": "online in the foreground",
      dave: "conversation muted",
      frank: "do not disturb",
    });

    const toErin = deliveries.find(
      (d) => d.vendor === "apns" && d.token === devicesOf(["erin"]).find((t) => /^[0-9a-f]{64}$/.test(t)),
    );
    expect((toErin!.request.body as { aps: { alert: { title: string; body: string } } }).aps.alert).toEqual({
      title: "Weekend hiking",
      body: "[You were mentioned] alice: @erin can you bring the trail map? Meet at 8 at the station.",
    });
    const toBob = deliveries.find(
      (d) => d.token === devices.find((x) => x.deviceId === "bob-iphone-15")!.registration.token,
    );
    expect((toBob!.request.body as { aps: { alert: { body: string } } }).aps.alert.body).toBe(
      "alice: @erin can you bring the trail map? Meet at 8 at the station.",
    );
  });

  it("when recalled, is replaced on exactly the devices that got it, on the same collapse key", async () => {
    const original = await client.deliveries();
    await client.clearDeliveries();
    const { query, body } = sample("25-group-recall-message");
    expect((await client.postCallback(query, body)).status).toBe(200);
    await settled(`${GROUP}#42:recall`);

    const replaced = await client.deliveries();
    expect(replaced.map((d) => d.token).sort()).toEqual(original.map((d) => d.token).sort());
    const apns = replaced.filter((d) => d.vendor === "apns");
    // The recalled message's own key (per message), not the conversation's.
    expect(apns.map((d) => d.request.headers["apns-collapse-id"])).toEqual(apns.map(() => `${GROUP}#42`));
    const fcm = replaced.find((d) => d.vendor === "fcm")!;
    expect(
      (fcm.request.body as { message: { android: { notification: { tag: string; body?: string } } } }).message
        .android.notification.tag,
    ).toBe(`${GROUP}#42`);
    for (const d of apns) {
      expect((d.request.body as { aps: { alert: { body: string } } }).aps.alert.body).toBe(
        "A message is recalled",
      );
    }
  });
});
