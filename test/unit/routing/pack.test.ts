import { describe, expect, it } from "vitest";
import type { Device, Notification } from "../../../lib/model/index.js";
import { packJobs } from "../../../lib/routing/pack.js";

const notification: Notification = {
  title: "t",
  body: "b",
  ext: "{}",
  conversationId: "c2c_a",
  messageKey: "k",
  sentAt: 0,
};

const device = (i: number, vendor: Device["vendor"]): Device => ({
  userId: `u${i}`,
  deviceId: `d${i}`,
  vendor,
  token: `tok${i}`,
  updatedAt: 0,
});

describe("packJobs", () => {
  it("packs each vendor's devices into the fewest jobs its limit allows", () => {
    const devices = [...Array.from({ length: 1001 }, (_, i) => device(i, "fcm")), device(5000, "apns")];
    const jobs = packJobs(notification, devices, 123, (vendor) => (vendor === "fcm" ? 500 : 100));
    expect(jobs.map((j) => [j.vendor, j.targets.length])).toEqual([
      ["fcm", 500],
      ["fcm", 500],
      ["fcm", 1],
      ["apns", 1],
    ]);
    expect(jobs.every((j) => j.attempt === 0 && j.acceptedAt === 123 && j.version === 1)).toBe(true);
  });

  it("carries only what the worker needs from each device", () => {
    const [job] = packJobs(
      notification,
      [{ ...device(1, "apns"), environment: "sandbox", certificateId: 9 }],
      0,
      () => 10,
    );
    expect(job!.targets).toEqual([
      { userId: "u1", deviceId: "d1", token: "tok1", environment: "sandbox", certificateId: 9 },
    ]);
  });
});
