import { describe, expect, it } from "vitest";
import { SimulatorHub } from "../../../local/simulators/hub.js";

/** `POST /_local/faults` with a `rate`: the fault suite's "a share of vendor requests fail". */
describe("rate faults", () => {
  it("fire on about that share of matching requests, and only on the vendor named", () => {
    const hub = new SimulatorHub();
    hub.seedFaults(7);
    hub.addFault({ vendor: "fcm", status: 503, rate: 0.2, count: 1_000_000 });
    let fired = 0;
    for (let i = 0; i < 10_000; i++) if (hub.takeFault("fcm", `t${i}`) !== undefined) fired += 1;
    expect(fired).toBeGreaterThan(1_800);
    expect(fired).toBeLessThan(2_200);
    expect(hub.takeFault("apns", "t1")).toBeUndefined();
  });

  it("repeat the same run for the same seed", () => {
    const run = () => {
      const hub = new SimulatorHub();
      hub.seedFaults(42);
      hub.addFault({ vendor: "vivo", status: 500, rate: 0.5, count: 100 });
      return Array.from({ length: 50 }, (_, i) => hub.takeFault("vivo", `t${i}`) !== undefined);
    };
    expect(run()).toEqual(run());
    expect(run().filter(Boolean).length).toBeGreaterThan(10);
  });

  it("still stop after count firings, and a rule without a rate fires every time", () => {
    const hub = new SimulatorHub();
    hub.addFault({ vendor: "meizu", status: 500, rate: 1, count: 3 });
    hub.addFault({ vendor: "honor", status: 500, count: 2 });
    expect(Array.from({ length: 5 }, () => hub.takeFault("meizu", "x") !== undefined)).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(hub.takeFault("honor", "x")?.status).toBe(500);
    expect(hub.takeFault("honor", "y")?.status).toBe(500);
    expect(hub.takeFault("honor", "z")).toBeUndefined();
  });

  it("falls through a rate rule that does not fire to the next matching rule", () => {
    const hub = new SimulatorHub();
    hub.seedFaults(1);
    hub.addFault({ vendor: "oppo", status: 503, rate: 0.000001, count: 10 });
    hub.addFault({ vendor: "oppo", status: 429, count: 1 });
    expect(hub.takeFault("oppo", "a")?.status).toBe(429);
  });
});

describe("a delivery answered by a fault", () => {
  it("carries the refusal, even when the vendor refuses inside an HTTP 200, and a slow success carries none", () => {
    const hub = new SimulatorHub();
    hub.addFault({ vendor: "xiaomi", status: 200, reason: "10027", count: 1 });
    hub.addFault({ vendor: "fcm", status: 200, delayMs: 5, count: 1 });
    const base = { at: "2026-12-02T00:00:00Z", status: 200, request: { headers: {}, body: {} } };
    hub.takeFault("xiaomi", "mi-1");
    hub.record({ vendor: "xiaomi", token: "mi-1", ...base });
    hub.record({ vendor: "xiaomi", token: "mi-1", ...base });
    hub.takeFault("fcm", "f-1");
    hub.record({ vendor: "fcm", token: "f-1", ...base });
    expect(hub.list().map((d) => d.fault)).toEqual([{ status: 200, reason: "10027" }, undefined, undefined]);
  });
});

describe("a slow success overtaken by a refused request for the same token", () => {
  it("leaves the refusal on the refused request, not on the slow one", () => {
    const hub = new SimulatorHub();
    const base = { at: "2026-12-02T00:00:00Z", status: 200, request: { headers: {}, body: {} } };
    hub.addFault({ vendor: "vivo", status: 200, delayMs: 3_000, count: 1 });
    hub.takeFault("vivo", "v-1"); // the slow request starts waiting
    hub.addFault({ vendor: "vivo", status: 200, reason: "10072", count: 1 });
    hub.takeFault("vivo", "v-1"); // another message to the same phone is refused meanwhile
    hub.record({ vendor: "vivo", token: "v-1", ...base, request: { headers: {}, body: "refused" } });
    hub.record({ vendor: "vivo", token: "v-1", ...base, request: { headers: {}, body: "slow" } });
    expect(hub.list().map((d) => [d.request.body, d.fault?.reason])).toEqual([
      ["refused", "10072"],
      ["slow", undefined],
    ]);
  });
});
