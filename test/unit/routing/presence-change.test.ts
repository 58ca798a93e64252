import { describe, expect, it } from "vitest";
import { CALLBACK_OK_BODY, makeCallbackRoute } from "../../../lib/ingest/callback-route.js";
import type { Connections, IngestQueue, PresenceStore } from "../../../lib/ports/index.js";
import { connectionChangeOf, makeIngestPresence } from "../../../lib/routing/presence-change.js";
import type { AcceptedCallback, StateChange } from "../../../lib/tencent/callback.schema.js";
import { callbackSign } from "../../../lib/tencent/sign.js";
import { FixedClock, RecordingJournal } from "../../support/fakes.js";
import { MemoryPresenceStore } from "../../support/memory-stores.js";

const NOW = 1_764_085_300_000;
const TOKEN = "presence-test-callback-token";

const state = (Action: string, extra: Partial<StateChange> = {}): StateChange => ({
  EventTime: NOW - 1000,
  Info: { Action, To_Account: "bob" },
  ...extra,
});

describe("connectionChangeOf", () => {
  it("names the platforms from OptPlatform and the mobile kicked ones", () => {
    expect(
      connectionChangeOf(
        state("Login", { KickedDevice: [{ Platform: "iOS" }, { Platform: "Web" }] }),
        NOW,
        "Android",
      ),
    ).toEqual({
      action: "Login",
      at: NOW - 1000,
      platforms: ["Android"],
      kicked: ["iOS"],
      by: "Android",
    });
  });

  it("keeps a Web login that kicked the phone, and ignores one that did not", () => {
    expect(
      connectionChangeOf(state("Login", { KickedDevice: [{ Platform: "Android" }] }), NOW, "Web"),
    ).toMatchObject({
      platforms: [],
      kicked: ["Android"],
    });
    expect(connectionChangeOf(state("Logout"), NOW, "Web")).toEqual({ ignored: "Logout on Web" });
    expect(connectionChangeOf(state("CustomStatusChange"), NOW, "IOS")).toEqual({
      ignored: "state action CustomStatusChange",
    });
  });
});

class ListQueue implements IngestQueue {
  readonly published: AcceptedCallback[] = [];
  async publish(callback: AcceptedCallback): Promise<void> {
    this.published.push(callback);
  }
}

function post(route: ReturnType<typeof makeCallbackRoute>, body: unknown, optPlatform = "Android") {
  const requestTime = String(Math.floor(NOW / 1000));
  return route({
    method: "POST",
    path: "/callback",
    query: {
      SdkAppid: "1400000000",
      CallbackCommand: "State.StateChange",
      OptPlatform: optPlatform,
      RequestTime: requestTime,
      Sign: callbackSign(TOKEN, requestTime),
    },
    headers: {},
    body: JSON.stringify(body),
  });
}

function ingest(presence: PresenceStore) {
  const queue = new ListQueue();
  const journal = new RecordingJournal();
  const errors: unknown[] = [];
  const route = makeCallbackRoute({
    sdkAppId: "1400000000",
    callbackToken: async () => TOKEN,
    queue,
    clock: new FixedClock(NOW),
    atIngest: makeIngestPresence({ presence, journal, onError: (e) => errors.push(e) }),
  });
  return { queue, journal, errors, route };
}

describe("presence at ingest", () => {
  it("is stored before the callback is answered, and not queued", async () => {
    const presence = new MemoryPresenceStore();
    const { queue, journal, route } = ingest(presence);
    const answer = await post(route, state("Logout"));
    expect(answer?.body).toBe(CALLBACK_OK_BODY);
    expect(presence.get("bob").connections.Android).toMatchObject({ loggedOut: true, at: NOW - 1000 });
    expect(queue.published).toEqual([]);
    expect(journal.entries).toEqual([{ stage: "presence", userId: "bob", reason: "Logout on Android" }]);
  });

  it("goes on the ingest queue when the write fails, so it is applied later and never lost", async () => {
    const failing: PresenceStore = {
      async updateConnections(): Promise<Connections> {
        throw new Error("ProvisionedThroughputExceededException");
      },
      applyAppState: async () => true,
      setUnreadCount: async () => undefined,
    };
    const { queue, errors, route } = ingest(failing);
    expect((await post(route, state("Login")))?.body).toBe(CALLBACK_OK_BODY);
    expect(queue.published).toEqual([
      expect.objectContaining({ command: "State.StateChange", optPlatform: "Android" }),
    ]);
    expect(errors).toHaveLength(1);
  });

  it("queues every other command as before", async () => {
    const presence = new MemoryPresenceStore();
    const { queue, route } = ingest(presence);
    const requestTime = String(Math.floor(NOW / 1000));
    await route({
      method: "POST",
      path: "/callback",
      query: {
        SdkAppid: "1400000000",
        CallbackCommand: "C2C.CallbackAfterSendMsg",
        RequestTime: requestTime,
        Sign: callbackSign(TOKEN, requestTime),
      },
      headers: {},
      body: JSON.stringify({ From_Account: "alice", To_Account: "bob", MsgBody: [] }),
    });
    expect(queue.published.map((c) => c.command)).toEqual(["C2C.CallbackAfterSendMsg"]);
  });
});
