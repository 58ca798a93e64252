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
  it("carries the refusal the simulator hands over, even inside an HTTP 200; a slow success carries none", () => {
    const hub = new SimulatorHub();
    hub.addFault({ vendor: "xiaomi", status: 200, reason: "10027", count: 1 });
    hub.addFault({ vendor: "fcm", status: 200, delayMs: 5, count: 1 });
    const base = { at: "2026-12-02T00:00:00Z", status: 200, request: { headers: {}, body: {} } };
    const refused = hub.takeFault("xiaomi", "mi-1");
    hub.record({ vendor: "xiaomi", token: "mi-1", ...base }, refused);
    hub.record({ vendor: "xiaomi", token: "mi-1", ...base }, hub.takeFault("xiaomi", "mi-1"));
    hub.record({ vendor: "fcm", token: "f-1", ...base }, hub.takeFault("fcm", "f-1"));
    expect(hub.list().map((d) => d.fault)).toEqual([{ status: 200, reason: "10027" }, undefined, undefined]);
  });
});

describe("requests for the same token recorded out of the order they took their faults", () => {
  it("leave each refusal on the request that took it", () => {
    const hub = new SimulatorHub();
    const base = { at: "2026-12-02T00:00:00Z", status: 200, request: { headers: {}, body: {} } };
    hub.addFault({ vendor: "vivo", status: 200, delayMs: 3_000, count: 1 });
    const slow = hub.takeFault("vivo", "v-1"); // the slow request starts waiting
    hub.addFault({ vendor: "vivo", status: 200, reason: "10072", count: 1 });
    const refused = hub.takeFault("vivo", "v-1"); // another message to the same phone is refused meanwhile
    const accepted = hub.takeFault("vivo", "v-1"); // and a third is accepted, recorded first
    hub.record(
      { vendor: "vivo", token: "v-1", ...base, request: { headers: {}, body: "accepted" } },
      accepted,
    );
    hub.record({ vendor: "vivo", token: "v-1", ...base, request: { headers: {}, body: "refused" } }, refused);
    hub.record({ vendor: "vivo", token: "v-1", ...base, request: { headers: {}, body: "slow" } }, slow);
    expect(hub.list().map((d) => [d.request.body, d.fault?.reason])).toEqual([
      ["accepted", undefined],
      ["refused", "10072"],
      ["slow", undefined],
    ]);
  });
});
