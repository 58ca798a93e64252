import { createHmac } from "node:crypto";
import { createRequire } from "node:module";
import { deflateSync, inflateSync } from "node:zlib";
import { afterEach, describe, expect, it, vi } from "vitest";
import { makeUserSig, verifyUserSig } from "../../../lib/tencent/usersig.js";

// Tencent's own generator (CommonJS, untyped) is the source of truth for the format.
interface TlsSigApi {
  genUserSig(userId: string, expire: number): string;
  genPrivateMapKey(userId: string, expire: number, roomId: number, privilegeMap: number): string;
}
const { Api } = createRequire(import.meta.url)("tls-sig-api-v2") as {
  Api: new (sdkAppId: number, key: string) => TlsSigApi;
};

const SDK_APP_ID = 1400000000;
// The key from tls-sig-api-v2's own TLSSigAPITest.js.
const KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
const NOW_MS = Date.UTC(2025, 0, 15, 12, 0, 0);
const DAY = 86_400;
const tencent = new Api(SDK_APP_ID, KEY);

/** tls-sig-api-v2 reads the wall clock; pin it so its sigs have a known TLS.time. */
function tencentSig(identifier: string, expire: number, atMs = NOW_MS): string {
  vi.useFakeTimers({ toFake: ["Date"], now: atMs });
  try {
    return tencent.genUserSig(identifier, expire);
  } finally {
    vi.useRealTimers();
  }
}

function decodeDoc(userSig: string): Record<string, unknown> {
  const base64 = userSig.replace(/\*/g, "+").replace(/-/g, "/").replace(/_/g, "=");
  return JSON.parse(inflateSync(Buffer.from(base64, "base64")).toString("utf8"));
}

function encodeDoc(doc: Record<string, unknown>): string {
  return deflateSync(Buffer.from(JSON.stringify(doc)))
    .toString("base64")
    .replace(/\+/g, "*")
    .replace(/\//g, "-")
    .replace(/=/g, "_");
}

function sign(
  fields: { identifier: string; sdkappid: number; time: number; expire: number },
  key = KEY,
): string {
  const toSign = `TLS.identifier:${fields.identifier}\nTLS.sdkappid:${fields.sdkappid}\nTLS.time:${fields.time}\nTLS.expire:${fields.expire}\n`;
  return createHmac("sha256", key).update(toSign).digest("base64");
}

const verify = (userSig: string, nowMs = NOW_MS, sdkAppId = SDK_APP_ID, secretKey = KEY) =>
  verifyUserSig(userSig, { sdkAppId, secretKey, nowMs });

afterEach(() => {
  vi.useRealTimers();
});

describe("verifyUserSig with sigs from tls-sig-api-v2", () => {
  it.each(["alice", "bob_2", "user-with-dash", "0123456789abcdefghijklmnopqrstuv"])(
    "accepts %s",
    (identifier) => {
      const result = verify(tencentSig(identifier, 180 * DAY));
      expect(result).toEqual({ ok: true, identifier, expiresAt: NOW_MS + 180 * DAY * 1000 });
    },
  );

  it("accepts a sig generated on the real clock", () => {
    const userSig = tencent.genUserSig("alice", DAY);
    expect(verify(userSig, Date.now())).toMatchObject({ ok: true, identifier: "alice" });
  });

  it("accepts a sig up to and including its last second", () => {
    const userSig = tencentSig("alice", 60);
    expect(verify(userSig, NOW_MS + 60_999)).toMatchObject({ ok: true });
    expect(verify(userSig, NOW_MS + 61_000)).toEqual({
      ok: false,
      error: expect.stringMatching(/^expired at /),
    });
  });

  it("rejects an expired sig", () => {
    const userSig = tencentSig("alice", DAY, NOW_MS - 2 * DAY * 1000);
    expect(verify(userSig)).toEqual({
      ok: false,
      error: expect.stringMatching(/^expired at 2025-01-14T12:00:00/),
    });
  });

  it("rejects a sig for another app", () => {
    const other = new Api(1400000001, KEY);
    vi.useFakeTimers({ toFake: ["Date"], now: NOW_MS });
    const userSig = other.genUserSig("alice", DAY);
    vi.useRealTimers();
    expect(verify(userSig)).toEqual({ ok: false, error: "sdk appid not match (UserSig is for 1400000001)" });
  });

  it("rejects a sig made with another key", () => {
    expect(verify(tencentSig("alice", DAY), NOW_MS, SDK_APP_ID, `${KEY}0`)).toEqual({
      ok: false,
      error: "sig not match",
    });
  });

  it("rejects a TRTC PrivateMapKey (TLS.userbuf present), even though its signature is valid", () => {
    vi.useFakeTimers({ toFake: ["Date"], now: NOW_MS });
    const privateMapKey = tencent.genPrivateMapKey("alice", DAY, 10000, 255);
    vi.useRealTimers();
    expect(decodeDoc(privateMapKey)["TLS.userbuf"]).toEqual(expect.any(String));
    expect(verify(privateMapKey)).toEqual({
      ok: false,
      error: "userbuf type not match (a TRTC PrivateMapKey is not an IM UserSig)",
    });
  });
});

describe("tampering", () => {
  it("rejects a tampered signature", () => {
    const doc = decodeDoc(tencentSig("alice", DAY));
    const sig = Buffer.from(String(doc["TLS.sig"]), "base64");
    sig[0] = (sig[0] ?? 0) ^ 0x01;
    expect(verify(encodeDoc({ ...doc, "TLS.sig": sig.toString("base64") }))).toEqual({
      ok: false,
      error: "sig not match",
    });
  });

  it("rejects a signature of the wrong length", () => {
    const doc = decodeDoc(tencentSig("alice", DAY));
    const truncated = Buffer.from(String(doc["TLS.sig"]), "base64").subarray(0, 16).toString("base64");
    expect(verify(encodeDoc({ ...doc, "TLS.sig": truncated }))).toEqual({
      ok: false,
      error: "sig not match",
    });
  });

  it("rejects another identifier re-encoded with the original signature", () => {
    const doc = decodeDoc(tencentSig("alice", DAY));
    expect(verify(encodeDoc({ ...doc, "TLS.identifier": "bob" }))).toEqual({
      ok: false,
      error: "sig not match",
    });
  });

  it("rejects another identifier re-signed with a guessed key", () => {
    const doc = decodeDoc(tencentSig("alice", DAY));
    const fields = { identifier: "bob", sdkappid: SDK_APP_ID, time: NOW_MS / 1000, expire: DAY };
    const forged = { ...doc, "TLS.identifier": "bob", "TLS.sig": sign(fields, "guessed-key") };
    expect(verify(encodeDoc(forged))).toEqual({ ok: false, error: "sig not match" });
  });

  it("rejects a sig whose expiry was extended", () => {
    const doc = decodeDoc(tencentSig("alice", DAY, NOW_MS - 2 * DAY * 1000));
    expect(verify(encodeDoc({ ...doc, "TLS.expire": 10 * DAY }))).toEqual({
      ok: false,
      error: "sig not match",
    });
  });

  it("accepts a re-encoded document whose keys are in another order (order is not part of the format)", () => {
    const doc = decodeDoc(tencentSig("alice", DAY));
    const reordered = Object.fromEntries(Object.entries(doc).reverse());
    expect(verify(encodeDoc(reordered))).toMatchObject({ ok: true, identifier: "alice" });
  });
});

describe("malformed input never throws", () => {
  const valid = tencentSig("alice", DAY);
  const validDoc = decodeDoc(valid);

  it.each([
    ["empty", "", /^UserSig is empty$/],
    ["standard base64 alphabet", Buffer.from("hello").toString("base64"), /not Tencent base64/],
    ["characters outside the alphabet", "eJy!rVKLTg", /not Tencent base64/],
    ["whitespace", `${valid.slice(0, 20)} ${valid.slice(20)}`, /not Tencent base64/],
    ["padding in the middle", `${valid.slice(0, 20)}_${valid.slice(20)}`, /not Tencent base64/],
    ["truncated base64", valid.slice(0, Math.floor(valid.length / 2)), /does not inflate/],
    ["one character short of a quantum", valid.slice(0, 4 * 20 + 1), /not Tencent base64/],
    ["base64 that is not zlib", toTencent(Buffer.from("just some text")), /does not inflate/],
    [
      "zlib that is not JSON",
      toTencent(deflateSync(Buffer.from("{not json"))),
      /^UserSig does not hold JSON$/,
    ],
    ["JSON that is not an object", toTencent(deflateSync(Buffer.from("[1,2]"))), /not hold a JSON object/],
    ["JSON null", toTencent(deflateSync(Buffer.from("null"))), /not hold a JSON object/],
    ["a very long string", "a".repeat(100_000), /longer than 4096/],
    ["a zlib bomb", toTencent(deflateSync(Buffer.alloc(1024 * 1024, 0x20))), /does not inflate/],
  ])("rejects %s", (_, userSig, error) => {
    const result = verify(userSig);
    expect(result.ok).toBe(false);
    expect(result).toEqual({ ok: false, error: expect.stringMatching(error) });
  });

  it.each([
    ["TLS.ver", "1.0", /unsupported TLS.ver "1.0"/],
    ["TLS.ver", undefined, /unsupported TLS.ver undefined/],
    ["TLS.identifier", "", /TLS.identifier is missing/],
    ["TLS.identifier", 42, /TLS.identifier is missing/],
    ["TLS.identifier", "alice\nTLS.sdkappid:1", /control characters/],
    ["TLS.sdkappid", "1400000000", /TLS.sdkappid is missing or not an integer/],
    ["TLS.sdkappid", undefined, /TLS.sdkappid is missing or not an integer/],
    ["TLS.time", 1.5, /TLS.time is missing or not an integer/],
    ["TLS.time", -1, /TLS.time is missing or not an integer/],
    ["TLS.expire", "86400", /TLS.expire is missing or not an integer/],
    ["TLS.expire", 1e300, /TLS.expire is missing or not an integer/],
    ["TLS.sig", undefined, /TLS.sig is missing/],
    ["TLS.sig", 7, /TLS.sig is missing/],
  ])("rejects %s = %j", (key, value, error) => {
    expect(verify(encodeDoc({ ...validDoc, [key]: value }))).toEqual({
      ok: false,
      error: expect.stringMatching(error),
    });
  });

  it("survives random bytes", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const bytes = Buffer.from(Array.from({ length: seed }, (_, i) => (seed * 31 + i * 17) % 256));
      expect(() => verify(toTencent(bytes))).not.toThrow();
      expect(verify(toTencent(bytes)).ok).toBe(false);
    }
  });

  function toTencent(bytes: Buffer): string {
    return bytes.toString("base64").replace(/\+/g, "*").replace(/\//g, "-").replace(/=/g, "_");
  }
});

describe("makeUserSig", () => {
  it.each(["alice", "bob_2", "0123456789abcdefghijklmnopqrstuv"])(
    "writes exactly what tls-sig-api-v2 writes for %s",
    (identifier) => {
      const ours = makeUserSig({
        sdkAppId: SDK_APP_ID,
        secretKey: KEY,
        identifier,
        expireSeconds: 7 * DAY,
        nowMs: NOW_MS,
      });
      expect(ours).toBe(tencentSig(identifier, 7 * DAY));
    },
  );

  it("writes TLS.time in whole seconds", () => {
    const userSig = makeUserSig({
      sdkAppId: SDK_APP_ID,
      secretKey: KEY,
      identifier: "alice",
      expireSeconds: DAY,
      nowMs: NOW_MS + 999,
    });
    expect(decodeDoc(userSig)).toEqual({
      "TLS.ver": "2.0",
      "TLS.identifier": "alice",
      "TLS.sdkappid": SDK_APP_ID,
      "TLS.time": NOW_MS / 1000,
      "TLS.expire": DAY,
      "TLS.sig": sign({ identifier: "alice", sdkappid: SDK_APP_ID, time: NOW_MS / 1000, expire: DAY }),
    });
    expect(userSig).toBe(tencentSig("alice", DAY, NOW_MS + 999));
  });

  it("round-trips through verifyUserSig", () => {
    const userSig = makeUserSig({
      sdkAppId: SDK_APP_ID,
      secretKey: KEY,
      identifier: "admin",
      expireSeconds: 300,
      nowMs: NOW_MS,
    });
    expect(verify(userSig)).toEqual({ ok: true, identifier: "admin", expiresAt: NOW_MS + 300_000 });
  });
});

describe("a UserSig dated in the future", () => {
  const sigAt = (timeMs: number, expire = DAY) =>
    makeUserSig({
      sdkAppId: SDK_APP_ID,
      secretKey: KEY,
      identifier: "alice",
      expireSeconds: expire,
      nowMs: timeMs,
    });

  it("is accepted within the 5-minute clock skew", () => {
    expect(verify(sigAt(NOW_MS + 300_000))).toMatchObject({ ok: true });
  });

  it("is refused beyond the skew, even when genuine (it would stay valid past its expire)", () => {
    expect(verify(sigAt(NOW_MS + 301_000))).toEqual({
      ok: false,
      error: expect.stringMatching(/^issued in the future/),
    });
    expect(verify(sigAt(NOW_MS + 10 * 365 * DAY * 1000, 1))).toMatchObject({ ok: false });
  });

  it("dated beyond what a Date can hold is refused without throwing", () => {
    const far = makeUserSig({
      sdkAppId: SDK_APP_ID,
      secretKey: KEY,
      identifier: "alice",
      expireSeconds: DAY,
      nowMs: 9e15 * 1000,
    });
    expect(verify(far)).toEqual({ ok: false, error: expect.stringContaining("issued in the future") });
  });

  it("that is forged still says only that the sig does not match", () => {
    const forged = makeUserSig({
      sdkAppId: SDK_APP_ID,
      secretKey: "another-key",
      identifier: "alice",
      expireSeconds: DAY,
      nowMs: NOW_MS + 3_600_000,
    });
    expect(verify(forged)).toEqual({ ok: false, error: "sig not match" });
  });
});
