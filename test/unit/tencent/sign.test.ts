import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CallbackTokenConfigError,
  callbackSign,
  MIN_CALLBACK_TOKEN_LENGTH,
  verifyCallbackAuth,
} from "../../../lib/tencent/sign.js";

const SDK_APP_ID = "1400000000";
const TOKEN = "xxxxyyyy";
const REQUEST_TIME = "1669872112";
const NOW_MS = Number(REQUEST_TIME) * 1000;
// tencent-chat.md §1.3: the documented test vector (CN doc 269/32431).
const DOCUMENTED_SIGN = "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061";
// The documented token is 8 characters, too short to be accepted; verification uses a real-sized one.
const LIVE_TOKEN = "Zq7vK2mP9xW4rT8nB3cY6hJ1";
const LIVE_SIGN = callbackSign(LIVE_TOKEN, REQUEST_TIME);

function query(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const base: Record<string, string | undefined> = {
    SdkAppid: SDK_APP_ID,
    CallbackCommand: "C2C.CallbackAfterSendMsg",
    contenttype: "json",
    RequestTime: REQUEST_TIME,
    Sign: LIVE_SIGN,
    ...overrides,
  };
  return Object.fromEntries(
    Object.entries(base).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

describe("callbackSign", () => {
  it("matches Tencent's documented test vector", () => {
    expect(callbackSign(TOKEN, REQUEST_TIME)).toBe(DOCUMENTED_SIGN);
  });

  it("is a plain SHA-256 of the concatenation, so the EN doc's typo token gives another hash", () => {
    expect(callbackSign("xxxyyy", REQUEST_TIME)).not.toBe(DOCUMENTED_SIGN);
    expect(callbackSign("xxxyyy", REQUEST_TIME).startsWith("e78a8547")).toBe(true);
  });
});

describe("verifyCallbackAuth", () => {
  const withToken = (q: Record<string, string>, nowMs = NOW_MS, maxSkewSeconds?: number) =>
    verifyCallbackAuth({ sdkAppId: SDK_APP_ID, token: LIVE_TOKEN, query: q, nowMs, maxSkewSeconds });

  it("accepts a signed callback", () => {
    expect(withToken(query())).toEqual({ ok: true });
  });

  it.each([
    ["empty (Sign would be sha256(RequestTime), computable by anyone)", ""],
    ["Tencent's 8-character sample token", TOKEN],
    ["15 characters", "a".repeat(MIN_CALLBACK_TOKEN_LENGTH - 1)],
  ])("fails closed when the configured token is %s", (_, token) => {
    // Even a request signed with that very token is refused: the server is misconfigured.
    const signed = query({ Sign: callbackSign(token, REQUEST_TIME) });
    expect(() => verifyCallbackAuth({ sdkAppId: SDK_APP_ID, token, query: signed, nowMs: NOW_MS })).toThrow(
      CallbackTokenConfigError,
    );
  });

  it(`accepts a token of exactly ${MIN_CALLBACK_TOKEN_LENGTH} characters`, () => {
    const token = "b".repeat(MIN_CALLBACK_TOKEN_LENGTH);
    const signed = query({ Sign: callbackSign(token, REQUEST_TIME) });
    expect(verifyCallbackAuth({ sdkAppId: SDK_APP_ID, token, query: signed, nowMs: NOW_MS })).toEqual({
      ok: true,
    });
  });

  it("accepts an upper-case Sign", () => {
    expect(withToken(query({ Sign: LIVE_SIGN.toUpperCase() }))).toEqual({ ok: true });
  });

  it("accepts any callback for our app when authentication is off", () => {
    const result = verifyCallbackAuth({
      sdkAppId: SDK_APP_ID,
      query: query({ Sign: undefined, RequestTime: undefined }),
      nowMs: NOW_MS,
    });
    expect(result).toEqual({ ok: true });
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["another app", "1400000001"],
  ])("rejects SdkAppid %s with 403, even when auth is off", (_, sdkAppid) => {
    const result = verifyCallbackAuth({
      sdkAppId: SDK_APP_ID,
      query: query({ SdkAppid: sdkAppid }),
      nowMs: NOW_MS,
    });
    expect(result).toMatchObject({ ok: false, status: 403, error: expect.stringContaining("SdkAppid") });
  });

  it("names the foreign SdkAppid", () => {
    expect(withToken(query({ SdkAppid: "1400000001" }))).toEqual({
      ok: false,
      status: 403,
      error: 'SdkAppid "1400000001" does not match this app',
      field: "SdkAppid",
    });
  });

  it.each(["Sign", "RequestTime"])("requires %s when a token is configured", (param) => {
    expect(withToken(query({ [param]: undefined }))).toMatchObject({
      ok: false,
      status: 401,
      error: expect.stringContaining(`${param} query parameter is missing`),
    });
  });

  it.each(["1669872112000x", "-1669872112", "1669872112.5", " 1669872112", "1e9"])(
    "rejects RequestTime %j that is not integer unix seconds",
    (requestTime) => {
      expect(withToken(query({ RequestTime: requestTime }))).toMatchObject({ ok: false, status: 401 });
    },
  );

  it("accepts RequestTime exactly 60 s either side of now", () => {
    for (const nowMs of [NOW_MS - 60_000, NOW_MS + 60_000]) {
      expect(withToken(query(), nowMs)).toEqual({ ok: true });
    }
  });

  it.each([-61_000, 61_000, 3_600_000])("rejects a RequestTime %i ms from now as stale", (offsetMs) => {
    expect(withToken(query(), NOW_MS + offsetMs)).toMatchObject({
      ok: false,
      status: 401,
      error: expect.stringMatching(/^RequestTime 1669872112 is stale/),
    });
  });

  it("honours a custom maxSkewSeconds", () => {
    expect(withToken(query(), NOW_MS + 200_000, 300)).toEqual({ ok: true });
    expect(withToken(query(), NOW_MS + 20_000, 10)).toMatchObject({ ok: false, status: 401 });
  });

  it("checks the signature before trusting a fresh RequestTime", () => {
    // A replayed Sign with a new RequestTime must fail: the time is part of what is signed.
    const laterTime = String(Number(REQUEST_TIME) + 30);
    expect(withToken(query({ RequestTime: laterTime }), NOW_MS + 30_000)).toEqual({
      ok: false,
      status: 401,
      error: "Sign does not match",
      field: "Sign",
    });
    expect(
      withToken(
        query({ RequestTime: laterTime, Sign: callbackSign(LIVE_TOKEN, laterTime) }),
        NOW_MS + 30_000,
      ),
    ).toEqual({ ok: true });
  });

  it.each([
    ["another token's sign", callbackSign("other-token", REQUEST_TIME)],
    ["one flipped digit", `${LIVE_SIGN.slice(0, -1)}${LIVE_SIGN.endsWith("0") ? "1" : "0"}`],
    ["a truncated sign", LIVE_SIGN.slice(0, 63)],
    ["a non-hex sign", "z".repeat(64)],
    ["an HMAC instead of a plain hash", createHmac("sha256", LIVE_TOKEN).update(REQUEST_TIME).digest("hex")],
  ])("rejects %s", (_, sign) => {
    expect(withToken(query({ Sign: sign }))).toEqual({
      ok: false,
      status: 401,
      error: "Sign does not match",
      field: "Sign",
    });
  });
});
