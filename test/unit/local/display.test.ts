import { describe, expect, it } from "vitest";
import type { DeliveryTarget, Notification, Vendor } from "../../../lib/model/index.js";
import { buildApnsRequest } from "../../../lib/vendors/apns.js";
import type {
  FcmCredential,
  HonorCredential,
  HuaweiCredential,
  MeizuCredential,
  OppoCredential,
  VivoCredential,
  XiaomiCredential,
} from "../../../lib/vendors/credentials.js";
import { buildFcmMessage } from "../../../lib/vendors/fcm.js";
import { buildHonorRequest } from "../../../lib/vendors/honor.js";
import { buildHuaweiRequest } from "../../../lib/vendors/huawei.js";
import { buildMeizuRequest } from "../../../lib/vendors/meizu.js";
import { buildOppoRequest } from "../../../lib/vendors/oppo.js";
import { buildVivoRequest } from "../../../lib/vendors/vivo.js";
import { buildXiaomiRequest } from "../../../lib/vendors/xiaomi.js";
import { LOCAL_ANDROID_VENDORS } from "../../../local/android-vendors.js";
import { type DisplayedPush, displayOf } from "../../../local/simulators/display.js";
import type { SimulatedDelivery } from "../../../local/simulators/hub.js";

/**
 * Each vendor's request as chatpush's own builder writes it, turned into what the phone shows. The
 * credentials are the ones the local runtime generates for its simulators.
 */
const SENT_AT = Date.UTC(2025, 10, 25, 16, 0, 0);
const NOW = SENT_AT + 1_000;
const EXT = '{"conversationID":"c2c_alice"}';

const message: Notification = {
  title: "Alice Chen",
  body: "Are we still on for dinner at 7?",
  ext: EXT,
  conversationId: "c2c_alice",
  messageKey: "144115233406627467_3_1764086000",
  sentAt: SENT_AT,
  badge: 3,
};
/** A recall: its own messageKey, the recalled message's replacement key, quiet. */
const recall: Notification = {
  ...message,
  body: "This message was recalled",
  messageKey: `${message.messageKey}:recall`,
  collapseKey: message.messageKey,
  quiet: true,
  badge: undefined,
};
const other: Notification = {
  ...message,
  body: "See you there",
  messageKey: "144115233406627467_4_1764086100",
};

const target = (vendor: Vendor, extra: Partial<DeliveryTarget> = {}): DeliveryTarget => ({
  userId: "bob",
  deviceId: `bob-${vendor}`,
  token: vendor === "oppo" ? "CN_0123456789abcdef0123456789abcdef" : `token-of-bob-${vendor}`,
  ...extra,
});

const android = <C>(vendor: Exclude<Vendor, "apns" | "fcm">): C =>
  LOCAL_ANDROID_VENDORS[vendor].generate(LOCAL_ANDROID_VENDORS[vendor].certificateId) as C;
const fcmCredential: FcmCredential = {
  certificateId: 20001,
  projectId: "chatpush-local",
  clientEmail: "firebase-adminsdk@chatpush-local.iam.gserviceaccount.com",
  privateKey: "not used by the builder",
  androidChannelId: "chat_messages",
};

/** The request each vendor's builder makes for `n`, as a SimulatedDelivery's `request`. */
const REQUESTS: Record<Vendor, (n: Notification) => SimulatedDelivery["request"]> = {
  apns: (n) => {
    const build = buildApnsRequest(n, target("apns"), { bundleId: "com.example.chatpush" }, NOW);
    if (!build.ok) throw new Error(build.reason);
    return { headers: { ...build.request.headers }, body: roundTrip(build.request.payload) };
  },
  fcm: (n) => ({
    headers: {},
    body: roundTrip({ message: buildFcmMessage(n, target("fcm"), fcmCredential) }),
  }),
  huawei: (n) => ({
    headers: {},
    body: roundTrip(buildHuaweiRequest(n, [target("huawei")], android<HuaweiCredential>("huawei"), NOW).body),
  }),
  honor: (n) => ({
    headers: {},
    body: roundTrip(buildHonorRequest(n, [target("honor")], android<HonorCredential>("honor"), NOW).body),
  }),
  xiaomi: (n) => ({
    headers: {},
    body: form(
      buildXiaomiRequest(n, [target("xiaomi").token], android<XiaomiCredential>("xiaomi"), NOW).body,
    ),
  }),
  oppo: (n) => ({
    headers: {},
    body: form(buildOppoRequest(n, [target("oppo")], android<OppoCredential>("oppo"), NOW).body),
  }),
  vivo: (n) => {
    const request = buildVivoRequest(n, [target("vivo")], android<VivoCredential>("vivo"), NOW);
    if (request.kind !== "send") throw new Error("one target is a /message/send");
    return { headers: {}, body: roundTrip(request.body) };
  },
  meizu: (n) => ({
    headers: {},
    body: form(buildMeizuRequest(n, [target("meizu")], android<MeizuCredential>("meizu"), NOW).form),
  }),
};

function roundTrip(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/** A form as it arrives: URL-encoded and decoded again, every value a string. */
function form(fields: object): Record<string, string> {
  const encoded = new URLSearchParams(fields as Record<string, string>).toString();
  return Object.fromEntries(new URLSearchParams(encoded));
}

const shown = (vendor: Vendor, n: Notification): DisplayedPush => {
  const displayed = displayOf({ vendor, request: REQUESTS[vendor](n) });
  if (displayed === undefined) throw new Error(`${vendor}: nothing displayed`);
  return displayed;
};

const VENDORS = Object.keys(REQUESTS) as Vendor[];

describe("displayOf, for every vendor's request", () => {
  it.each(VENDORS)("%s: a chat message shows its title, body and ext, with sound", (vendor) => {
    const displayed = shown(vendor, message);

    expect(displayed).toMatchObject({ kind: "alert", title: "Alice Chen", body: message.body, ext: EXT });
    expect(displayed.silent).toBe(false);
    expect(displayed.replaceKey).toBeDefined();
  });

  it.each(VENDORS)("%s: a recall replaces exactly the recalled message, quietly", (vendor) => {
    const original = shown(vendor, message);
    const replacement = shown(vendor, recall);
    const newer = shown(vendor, other);

    expect(replacement.replaceKey).toBe(original.replaceKey);
    expect(newer.replaceKey).not.toBe(original.replaceKey);
    // Honor has no field that silences one notification (lib/vendors/honor.ts honorImportance): it may ring.
    expect(replacement).toMatchObject({ body: "This message was recalled", silent: vendor !== "honor" });
  });

  it.each(VENDORS)("%s: groups by the conversation", (vendor) => {
    const group = {
      ...message,
      conversationId: "group_@TGS#2Q7ZWBTEA",
      ext: '{"conversationID":"group_@TGS#2Q7ZWBTEA"}',
    };

    expect(shown(vendor, group).thread).toBe("group_@TGS#2Q7ZWBTEA");
  });

  it("reads the badge where the vendor carries one: APNs and FCM set it, Huawei and Honor set or add", () => {
    expect(shown("apns", message).badge).toBe(3);
    expect(shown("fcm", message).badge).toBe(3);
    const huawei = android<HuaweiCredential>("huawei");
    const honor = android<HonorCredential>("honor");
    const withClass = { badgeClass: "com.example.chatpush.MainActivity" };
    const huaweiBody = (n: Notification) =>
      buildHuaweiRequest(n, [target("huawei")], { ...huawei, ...withClass }, NOW).body;
    const honorBody = (n: Notification) =>
      buildHonorRequest(n, [target("honor")], { ...honor, ...withClass }, NOW).body;

    expect(displayOf({ vendor: "huawei", request: { headers: {}, body: huaweiBody(message) } })?.badge).toBe(
      3,
    );
    expect(displayOf({ vendor: "honor", request: { headers: {}, body: honorBody(message) } })?.badge).toBe(3);
    const added = { ...message, badge: undefined, badgeAdd: 1 };
    expect(displayOf({ vendor: "huawei", request: { headers: {}, body: huaweiBody(added) } })).toMatchObject({
      badgeAdd: 1,
    });
    expect(displayOf({ vendor: "honor", request: { headers: {}, body: honorBody(added) } })).toMatchObject({
      badgeAdd: 1,
    });
    for (const vendor of ["xiaomi", "oppo", "vivo", "meizu"] as const) {
      expect(shown(vendor, message).badge).toBeUndefined();
    }
  });

  it("APNs: the thread is thread-id, the replacement key the apns-collapse-id header", () => {
    const request = REQUESTS.apns(message);

    expect(shown("apns", message)).toMatchObject({
      thread: "c2c_alice",
      replaceKey: request.headers["apns-collapse-id"],
    });
  });

  it("a sender's iOS subtitle and a silenced sound show as such", () => {
    const displayed = shown("apns", { ...message, ios: { subtitle: "Dinner", silent: true } });

    expect(displayed).toMatchObject({ subtitle: "Dinner", silent: true });
  });

  it("an operations push on Huawei is the silent marketing class", () => {
    expect(shown("huawei", { ...message, purpose: "operations" }).silent).toBe(true);
  });

  describe("calls", () => {
    const ring: Notification = {
      ...message,
      title: "Alice Chen",
      body: "Incoming call",
      purpose: "call",
      call: {
        action: "ring",
        inviteId: "invite-1",
        callerId: "alice",
        callerName: "Alice Chen",
        media: "video",
        invitees: ["bob"],
        timeoutSeconds: 30,
        invitedAt: NOW,
      },
    };
    const missed: Notification = {
      ...ring,
      messageKey: `${message.messageKey}:ended`,
      collapseKey: message.messageKey,
      body: "Missed call",
      call: { ...ring.call!, action: "ended", endReason: "timeout" },
    };

    it("APNs: a PushKit token gets a VoIP push, replaced by the Missed call alert", () => {
      const build = buildApnsRequest(
        ring,
        target("apns", { pushType: "voip" }),
        { bundleId: "com.example.chatpush" },
        NOW,
      );
      if (!build.ok) throw new Error(build.reason);
      const voip = displayOf({
        vendor: "apns",
        request: { headers: { ...build.request.headers }, body: build.request.payload },
      });
      const ended = shown("apns", missed);

      expect(voip).toMatchObject({ kind: "voip", title: "Alice Chen", body: "Incoming video call" });
      // Filed under the call's conversation on the page, from the push's ext.
      expect(voip?.thread).toBe(JSON.parse(ring.ext!).conversationID);
      expect(ended).toMatchObject({ kind: "alert", body: "Missed call", silent: true });
      expect(ended.replaceKey).toBe(voip?.replaceKey);
    });

    it("FCM: a ring is a call data message, its cancel a data message replacing it", () => {
      const rang = shown("fcm", ring);
      const cancelled = shown("fcm", missed);

      expect(rang).toMatchObject({ kind: "voip", title: "Alice Chen", body: "Incoming call" });
      expect(cancelled).toMatchObject({ kind: "data", body: "Missed call" });
      expect(cancelled.replaceKey).toBe(rang.replaceKey);
    });
  });

  it("forms as the simulators record them (JSON fields parsed) show the same", () => {
    const xiaomi = REQUESTS.xiaomi(message).body as Record<string, string>;
    const meizu = REQUESTS.meizu(message).body as Record<string, string>;
    const oppo = REQUESTS.oppo(message).body as Record<string, string>;
    const messages = JSON.parse(oppo.messages!) as { notification: { action_parameters: string } }[];
    const recorded: [Vendor, unknown][] = [
      [
        "xiaomi",
        { ...xiaomi, "extra.ext": JSON.parse(xiaomi["extra.ext"]!), payload: JSON.parse(xiaomi.payload!) },
      ],
      ["meizu", { ...meizu, sign: "<redacted>", messageJson: JSON.parse(meizu.messageJson!) }],
      [
        "oppo",
        {
          messages: messages.map((m) => ({
            ...m,
            notification: {
              ...m.notification,
              action_parameters: JSON.parse(m.notification.action_parameters),
            },
          })),
        },
      ],
    ];

    for (const [vendor, body] of recorded) {
      expect(displayOf({ vendor, request: { headers: {}, body } })).toEqual(shown(vendor, message));
    }
  });

  it("vivo's pushToList names only a saved payload: nothing to show", () => {
    const request = buildVivoRequest(
      message,
      [target("vivo"), target("vivo", { token: "t2" })],
      android("vivo"),
      NOW,
    );
    if (request.kind !== "list") throw new Error("two targets are a list push");

    expect(
      displayOf({ vendor: "vivo", request: { headers: {}, body: roundTrip(request.push.body) } }),
    ).toBeUndefined();
    expect(
      displayOf({ vendor: "vivo", request: { headers: {}, body: roundTrip(request.save.body) } }),
    ).toMatchObject({
      title: "Alice Chen",
    });
  });

  it("a body that is not JSON shows nothing", () => {
    expect(displayOf({ vendor: "fcm", request: { headers: {}, body: "not json" } })).toBeUndefined();
  });
});
