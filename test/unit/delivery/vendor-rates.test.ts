import { describe, expect, it } from "vitest";
import { parseCircuitBreaker, parseTokenBreaker } from "../../../lib/delivery/breaker-settings.js";
import {
  credentialKeyOf,
  maxConcurrency,
  pacingFor,
  parseVendorQps,
  VENDOR_SETTINGS,
  vendorQps,
  workerConcurrency,
} from "../../../lib/vendors/settings.js";

describe("vendor rates", () => {
  it("reads CHATPUSH_VENDOR_QPS per vendor and per credential, and names what is wrong", () => {
    expect(parseVendorQps('{"meizu":20,"xiaomi":{"*":500,"30001":2000}}')).toEqual({
      meizu: 20,
      xiaomi: { "*": 500, "30001": 2000 },
    });
    expect(parseVendorQps(undefined)).toEqual({});
    expect(() => parseVendorQps("{meizu:20}")).toThrow("CHATPUSH_VENDOR_QPS must be JSON");
    expect(() => parseVendorQps('{"nokia":5}')).toThrow('"nokia" is not a vendor');
    expect(() => parseVendorQps('{"meizu":0}')).toThrow(
      "CHATPUSH_VENDOR_QPS.meizu must be a positive number",
    );
    expect(() => parseVendorQps('{"xiaomi":{"1":-1}}')).toThrow(
      "CHATPUSH_VENDOR_QPS.xiaomi.1 must be a positive number",
    );
  });

  it("resolves a credential's rate: its own, the vendor's, else the documented one; APNs publishes none", () => {
    const qps = parseVendorQps('{"xiaomi":{"*":700,"30001":2000}}');
    expect(vendorQps("xiaomi", qps, "30001")).toBe(2000);
    expect(vendorQps("xiaomi", qps, "30002")).toBe(700);
    expect(vendorQps("meizu", qps, "1")).toBe(VENDOR_SETTINGS.meizu.documentedQps);
    expect(vendorQps("apns", qps, "1")).toBeUndefined();
    expect(pacingFor("apns", qps, 12).limitOf("1")).toBeUndefined();
  });

  it("divides a rate among the event source's maximum concurrency, sized from the same rate", () => {
    const qps = { meizu: 20 };
    expect(workerConcurrency("meizu", qps)).toBe(2);
    expect(workerConcurrency("meizu", {})).toBe(maxConcurrency(VENDOR_SETTINGS.meizu));
    expect(pacingFor("meizu", qps, 2).limitOf("default")).toEqual({ perSecond: 10, burst: 1 });
    // FCM's quota counts messages per minute: a second's worth may go at once.
    expect(pacingFor("fcm", {}, 50).limitOf("default")).toEqual({ perSecond: 200, burst: 200 });
  });

  it("counts what each vendor counts: requests for Meizu and Xiaomi, devices for Huawei, OPPO, vivo", () => {
    expect(pacingFor("meizu", {}, 1).costOf(100)).toBe(1);
    expect(pacingFor("xiaomi", {}, 1).costOf(1000)).toBe(1);
    expect(pacingFor("huawei", {}, 1).costOf(1000)).toBe(1000);
    expect(pacingFor("vivo", {}, 1).costOf(500)).toBe(500);
  });

  it("keys a target by the credential the sender would pick", () => {
    const key = credentialKeyOf([{ certificateId: 7 }, { certificateId: 9, isDefault: true }]);
    expect(key({})).toBe("9");
    expect(key({ certificateId: 9 })).toBe("9");
    expect(key({ certificateId: 7 })).toBe("7");
    expect(key({ certificateId: 3 })).toBe("3");
  });
});

describe("breaker settings", () => {
  it("layers what is set over the defaults, and refuses what is out of range", () => {
    expect(parseTokenBreaker('{"share":0.8}')).toEqual({ share: 0.8, minAnswers: 100, windowSeconds: 600 });
    expect(parseCircuitBreaker(undefined)).toEqual({ failures: 5, openSeconds: 30, maxOpenSeconds: 300 });
    expect(() => parseTokenBreaker('{"share":1.5}')).toThrow("CHATPUSH_TOKEN_BREAKER.share is out of range");
    expect(() => parseTokenBreaker('{"ratio":0.5}')).toThrow("CHATPUSH_TOKEN_BREAKER.ratio is not a setting");
    expect(() => parseCircuitBreaker({ openSeconds: 60, maxOpenSeconds: 30 }, "circuitBreaker")).toThrow(
      "circuitBreaker.maxOpenSeconds must not be below openSeconds",
    );
  });
});
