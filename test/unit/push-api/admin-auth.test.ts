import { describe, expect, it } from "vitest";
import { authenticateAdmin } from "../../../lib/push-api/admin-auth.js";
import { makeUserSig } from "../../../lib/tencent/usersig.js";
import { tencentUserSig } from "../../support/tencent-usersig.js";

const SDK_APP_ID = 1400123456;
const SECRET = "admin-auth-secret-key";
const NOW = Date.now();
const options = { sdkAppId: SDK_APP_ID, adminIdentifier: "administrator", secretKey: SECRET, nowMs: NOW };
const query = (identifier: string, usersig: string, extra: Record<string, string> = {}) => ({
  sdkappid: String(SDK_APP_ID),
  identifier,
  usersig,
  random: "99999999",
  contenttype: "json",
  ...extra,
});

describe("admin UserSig authentication (Tencent's REST query)", () => {
  it("accepts the admin's UserSig made by Tencent's tls-sig-api-v2 with the app's key", () => {
    expect(
      authenticateAdmin(query("administrator", tencentUserSig(SDK_APP_ID, SECRET, "administrator")), options),
    ).toEqual({
      ok: true,
    });
  });

  it("accepts the configured admin identifier only", () => {
    const opsSig = tencentUserSig(SDK_APP_ID, SECRET, "ops");
    expect(authenticateAdmin(query("ops", opsSig), { ...options, adminIdentifier: "ops" })).toEqual({
      ok: true,
    });
    expect(authenticateAdmin(query("ops", opsSig), options)).toMatchObject({ ok: false, code: 90009 });
  });

  it.each([
    [
      "a user's own UserSig for their own identifier",
      query("bob", tencentUserSig(SDK_APP_ID, SECRET, "bob")),
      90009,
    ],
    [
      "a user's UserSig passed off as the admin's",
      query("administrator", tencentUserSig(SDK_APP_ID, SECRET, "bob")),
      70013,
    ],
    [
      "a UserSig made with another key",
      query("administrator", tencentUserSig(SDK_APP_ID, "not-our-key", "administrator")),
      70009,
    ],
    [
      "a UserSig of another app",
      query("administrator", tencentUserSig(1400000001, SECRET, "administrator")),
      70014,
    ],
    ["garbage", query("administrator", "not-a-usersig"), 70003],
    ["no usersig", query("administrator", ""), 70002],
    ["no identifier", query("", "x"), 60004],
    ["another app's sdkappid", query("administrator", "x", { sdkappid: "1400000001" }), 60006],
    ["no sdkappid", query("administrator", "x", { sdkappid: "" }), 60012],
    ["a random that is not a u32", query("administrator", "x", { random: "4294967296" }), 60002],
    ["a contenttype other than json", query("administrator", "x", { contenttype: "xml" }), 60002],
  ])("refuses %s with %i", (_name, q, code) => {
    expect(authenticateAdmin(q, options)).toMatchObject({ ok: false, code });
  });

  it("refuses an expired admin UserSig with 70001", () => {
    const sig = makeUserSig({
      sdkAppId: SDK_APP_ID,
      secretKey: SECRET,
      identifier: "administrator",
      expireSeconds: 60,
      nowMs: NOW - 120_000,
    });
    expect(authenticateAdmin(query("administrator", sig), options)).toMatchObject({ ok: false, code: 70001 });
  });
});
