import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CATALOGUE } from "../../lib/routing/texts.js";
import { ChatpushClient, waitFor } from "../../local/client.js";
import { jsonFiles, loadCallbackSample, loadDeviceSample } from "../../local/events.js";
import { type Chromium, launchChromium } from "../../local/page/browser.js";
import { type LocalRuntime, startLocalRuntime, type TimedJournalEntry } from "../../local/runtime.js";

/**
 * The local page in a real headless Chromium (Debian's; .ci/run installs it): opened before the samples
 * are replayed, it shows bob's phones with what APNs and FCM were asked to show, erin's eight phones,
 * the group message replaced in place by its recall, and the trace with every skipped member and why.
 * A page opened afterwards shows the same from /_local/deliveries and /_local/journal.
 * Without Chromium the suite fails saying how to install it (it never skips).
 */
const SDK_APP_ID = "1400123456";
const TOKEN = "page-callback-token";
const SECRET = "page-secret";
const GROUP_KEY = "@TGS#2Q7ZWBTEA#42";
const GROUP_THREAD = "group_@TGS#2Q7ZWBTEA";
const SAMPLES = [
  "01-profile-alice-sets-nickname",
  "03-c2c-text-alice-to-bob",
  "16-c2c-text-alice-to-erin-every-vendor",
  "20-group-create-hiking",
  "21-group-join-frank",
  "22-group-join-grace",
  "23-group-exit-grace",
  "24-group-message-alice-mentions-erin",
  "25-group-recall-message",
  // A video call to bob and its cancel (sent by carol here, so it has a conversation of its own).
  "52-call-video-alice-to-bob",
  "53-call-video-alice-cancels",
];
const CALLER = "carol";

let runtime: LocalRuntime;
let client: ChatpushClient;
let browser: Chromium;
let live: Page;
let journal: TimedJournalEntry[];

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
  browser = await launchChromium();
  live = await browser.context.newPage();
  await live.goto(runtime.url);
  await live.getByRole("status").filter({ hasText: "live" }).waitFor({ timeout: 10_000 });

  for (const file of jsonFiles("events/devices")) await client.seedDevice(loadDeviceSample(file));
  for (const name of SAMPLES) {
    const { query, body } = loadCallbackSample(`events/tencent/${name}.json`);
    const now = Date.now();
    const fresh = {
      ...body,
      ...("EventTime" in body ? { EventTime: now } : {}),
      ...("MsgTime" in body ? { MsgTime: Math.floor(now / 1000) } : {}),
      ...(name.startsWith("5") ? { From_Account: CALLER } : {}),
    };
    expect((await client.postCallback(query, fresh)).status).toBe(200);
    // Membership must be mirrored before the group message is routed, the message delivered before its recall.
    if (name.startsWith("2")) await settled(name, SAMPLES.filter((s) => /^2[0-3]/.test(s)).indexOf(name) + 1);
    // The ring delivered before its cancel, so the cancel replaces it.
    if (name.startsWith("5")) await settled(name, 0, String(body.MsgKey));
  }
  journal = await client.journal();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
});

/**
 * Waits until what a sample started has finished: its membership change mirrored (the `groups`-th
 * group entry), or every device its message was queued for answered.
 */
async function settled(sample: string, groups: number, messageKey?: string): Promise<void> {
  const key =
    messageKey ??
    (sample.startsWith("24") ? GROUP_KEY : sample.startsWith("25") ? `${GROUP_KEY}:recall` : undefined);
  await waitFor(
    async () => {
      const entries = await client.journal();
      if (key === undefined)
        return entries.filter((e) => e.stage === "group").length >= groups ? true : undefined;
      const mine = entries.filter((e) => e.messageKey === key);
      const queued = mine.filter((e) => e.stage === "queued").length;
      const delivered = mine.filter((e) => e.stage === "delivered").length;
      return queued > 0 && delivered >= queued ? true : undefined;
    },
    20_000,
    100,
  );
}

const phone = (page: Page, label: string): Locator => page.getByRole("article", { name: label, exact: true });
const conversation = (tray: Locator, thread: string) =>
  tray.locator(`li.conversation[data-thread="${thread}"]`);
const notes = (tray: Locator, thread: string) => conversation(tray, thread).locator("li.note");

/**
 * The page as a person sees it: `read` it until `check` passes (the stream may still be catching up),
 * failing with the last check's own error after 10 s.
 */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => void): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    try {
      check(value);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe.each([
  ["while the samples replay (the stream)", () => Promise.resolve(live)],
  [
    "opened afterwards (the lists)",
    async () => {
      const page = await browser.context.newPage();
      await page.goto(runtime.url);
      await page.getByRole("status").filter({ hasText: "live" }).waitFor({ timeout: 10_000 });
      return page;
    },
  ],
])("the local page, %s", (_, open) => {
  let page: Page;
  beforeAll(async () => {
    page = await open();
  });

  it("shows bob's phones, labelled user · device (vendor), with alice's text as each vendor was asked", async () => {
    for (const label of ["bob · iphone-15 (APNs)", "bob · pixel-8 (FCM)"]) {
      const tray = phone(page, label);
      await eventually(
        () => notes(tray, "c2c_alice").allInnerTexts(),
        (texts) => {
          expect(texts).toHaveLength(1);
          expect(texts[0]).toContain("Alice Chen");
          expect(texts[0]).toContain("Are we still on for dinner at 7?");
        },
      );
    }
    // bob's iPad is in the foreground: skipped, so no phone of it.
    expect(await phone(page, "bob · ipad (APNs)").count()).toBe(0);
  });

  it("shows a call on bob's iPhone in one tray: the VoIP ring replaced in place by the Missed call", async () => {
    const thread = `c2c_${CALLER}`;
    // The PushKit token is the same phone as the alert token: one article, not one per token.
    expect(await phone(page, "bob · iphone-15 (APNs)").count()).toBe(1);
    for (const label of ["bob · iphone-15 (APNs)", "bob · pixel-8 (FCM)"]) {
      const call = notes(phone(page, label), thread);
      await eventually(
        async () => ({
          texts: await call.allInnerTexts(),
          replaced: await call.locator(".tag-replaced").getAttribute("title"),
        }),
        ({ texts, replaced }) => {
          expect(texts).toHaveLength(1);
          expect(texts[0]).toContain("Missed call");
          // What rang: the VoIP push on the iPhone, the call data message on the Android phone.
          expect(replaced).toMatch(label.includes("APNs") ? /Incoming video call/ : /You have a new call/);
        },
      );
    }
  });

  it("shows erin's phone at each of the eight vendors with the same message", async () => {
    const vendors = ["APNs", "FCM", "Huawei", "Honor", "Xiaomi", "OPPO", "vivo", "Meizu"];
    const erin = await loadDeviceLabels("erin");
    expect(erin.map((label) => /\((.+)\)$/.exec(label)?.[1]).sort()).toEqual([...vendors].sort());
    for (const label of erin) {
      await eventually(
        () => notes(phone(page, label), "c2c_alice").allInnerTexts(),
        (texts) => expect(texts.join("\n")).toContain("Erin, the slides are in the shared folder"),
      );
    }
  });

  it("replaces the recalled group message in its place, on every phone that got it", async () => {
    const recalled = CATALOGUE.en.recalled;
    const pushed = journal.filter((e) => e.messageKey === GROUP_KEY && e.stage === "delivered");
    expect(pushed.length).toBeGreaterThan(0);
    for (const entry of pushed) {
      const label = await labelOf(entry.userId!, entry.deviceId!);
      const group = notes(phone(page, label), GROUP_THREAD);
      await eventually(
        async () => ({
          texts: await group.allInnerTexts(),
          replaced: await group.locator(".tag-replaced").getAttribute("title"),
        }),
        ({ texts, replaced }) => {
          // One notification: the recall took the original's place instead of adding a second one.
          expect(texts).toHaveLength(1);
          expect(texts[0]).toContain(recalled);
          expect(texts[0]).not.toContain("trail map");
          // The original, as the tooltip of the replaced tag (cut to the vendor's limit, e.g. OPPO's 50).
          expect(replaced).toContain("Alice Chen: @erin can you");
        },
      );
    }
  });

  it("traces the group message: each skipped member with the reason, each pushed device delivered", async () => {
    const entries = journal.filter((e) => e.messageKey === GROUP_KEY);
    const skipped = entries.filter((e) => e.stage === "skipped");
    expect(skipped.map((e) => e.userId)).toEqual(expect.arrayContaining(["carol", "dave", "frank"]));
    const trace = page.locator(`li.trace-message[data-message-key="${GROUP_KEY}"]`);
    for (const entry of entries.filter((e) => e.stage === "skipped" || e.stage === "delivered")) {
      const who = [entry.userId, entry.deviceId].filter(Boolean).join("/");
      await eventually(
        () => trace.locator(`li.row[data-who="${who}"] li.stage-${entry.stage}`).allInnerTexts(),
        (texts) => {
          expect(texts).toHaveLength(1);
          expect(texts[0]).toContain(entry.stage);
          if (entry.reason !== undefined) expect(texts[0]).toContain(entry.reason);
          if (entry.status !== undefined) expect(texts[0]).toContain(`HTTP ${entry.status}`);
        },
      );
    }
  });
});

describe("GET /_local/devices", () => {
  it("lists every registered device with its token, as the page maps deliveries to phones", async () => {
    const samples = jsonFiles("events/devices").map(loadDeviceSample);
    const listed = (await (await fetch(`${runtime.url}/_local/devices`)).json()) as Record<string, unknown>[];

    expect(
      listed.map(({ userId, deviceId, vendor, token }) => ({ userId, deviceId, vendor, token })),
    ).toEqual(
      expect.arrayContaining(
        samples.map((d) => ({
          userId: d.userId,
          deviceId: d.deviceId,
          vendor: d.registration.vendor,
          token: d.registration.token,
        })),
      ),
    );
    expect(listed).toHaveLength(samples.length);
  });
});

/** The page's label of one registered device, from what the runtime lists. */
async function labelOf(userId: string, deviceId: string): Promise<string> {
  const devices = (await (await fetch(`${runtime.url}/_local/devices`)).json()) as {
    userId: string;
    deviceId: string;
    vendor: string;
  }[];
  const device = devices.find((d) => d.userId === userId && d.deviceId === deviceId);
  if (device === undefined) throw new Error(`${userId}/${deviceId} is not registered`);
  return label(device);
}

async function loadDeviceLabels(userId: string): Promise<string[]> {
  const devices = (await (await fetch(`${runtime.url}/_local/devices`)).json()) as {
    userId: string;
    deviceId: string;
    vendor: string;
  }[];
  return devices.filter((d) => d.userId === userId).map(label);
}

const NAMES: Record<string, string> = {
  apns: "APNs",
  fcm: "FCM",
  huawei: "Huawei",
  honor: "Honor",
  xiaomi: "Xiaomi",
  oppo: "OPPO",
  vivo: "vivo",
  meizu: "Meizu",
};

function label(device: { userId: string; deviceId: string; vendor: string }): string {
  const name = device.deviceId.startsWith(`${device.userId}-`)
    ? device.deviceId.slice(device.userId.length + 1)
    : device.deviceId;
  return `${device.userId} · ${name} (${NAMES[device.vendor]})`;
}
