import { describe, expect, it } from "vitest";
import { MemoryAnswerWindow, tokenRemovalsHeld } from "../../../lib/delivery/token-breaker.js";
import { makeDeliveryWorker } from "../../../lib/delivery/worker.js";
import type { Outcome } from "../../../lib/model/index.js";
import { CapturingRetryQueue, FixedClock, RecordingJournal, ScriptedSender } from "../../support/fakes.js";
import { DeviceStoreWithSince, makeJob, target } from "./support.js";

/** Issue 7.5: one rule for every vendor; a misconfiguration costs a delay, never the device table. */
describe("safe token cleanup", () => {
  async function setup(tokens: string[], updatedAt = 1_000) {
    const devices = new DeviceStoreWithSince();
    for (const token of tokens) {
      await devices.put({
        userId: `user-${token}`,
        deviceId: `dev-${token}`,
        vendor: "fcm",
        token,
        updatedAt,
      });
    }
    return { devices, retries: new CapturingRetryQueue(), journal: new RecordingJournal() };
  }

  it("removes a dead token's device only if it was not registered again after the vendor's `since`", async () => {
    const { devices, retries, journal } = await setup(["old", "renewed"]);
    await devices.put({
      userId: "user-renewed",
      deviceId: "dev-renewed",
      vendor: "fcm",
      token: "renewed",
      updatedAt: 5_000,
    });
    const sender = new ScriptedSender("fcm", {
      old: { kind: "drop-token", reason: "APNs 410 Unregistered", since: 2_000 },
      renewed: { kind: "drop-token", reason: "APNs 410 Unregistered", since: 2_000 },
    });
    const worker = makeDeliveryWorker({
      sender,
      devices,
      retries,
      journal,
      maxAttempts: 3,
      clock: new FixedClock(10_000),
    });

    const report = await worker(makeJob([target("old"), target("renewed")]));

    expect(report.tokensRemoved).toBe(1);
    expect(await devices.list("user-old")).toEqual([]);
    expect((await devices.list("user-renewed")).map((d) => d.token)).toEqual(["renewed"]);
    expect(journal.entries.find((e) => e.deviceId === "dev-renewed")?.reason).toMatch(/device kept/);
  });

  it("parks a credential problem with its reason, counts it, and removes no device", async () => {
    const { devices, retries, journal } = await setup(["a", "b"]);
    const sender = new ScriptedSender("fcm", {
      a: { kind: "credential-problem", reason: "FCM 403 SENDER_ID_MISMATCH" },
      b: { kind: "credential-problem", reason: "FCM 403 SENDER_ID_MISMATCH" },
    });
    const worker = makeDeliveryWorker({ sender, devices, retries, journal, maxAttempts: 3 });

    const report = await worker(makeJob([target("a"), target("b")]));

    expect(report).toMatchObject({ credentialProblems: 2, deadLettered: 2, tokensRemoved: 0 });
    expect(devices.all()).toHaveLength(2);
    expect(retries.deadLettered).toHaveLength(1);
    expect(retries.deadLettered[0]!.reason).toBe("credential problem: FCM 403 SENDER_ID_MISMATCH");
  });

  describe("the breaker per credential", () => {
    const dead = (n: number, prefix = "d") => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    const script = (tokens: string[]): Record<string, Outcome> =>
      Object.fromEntries(
        tokens.map((t) => [t, { kind: "drop-token", reason: "FCM 404 UNREGISTERED" } as Outcome]),
      );

    it("stops removing tokens when more than half of at least 100 recent answers said 'dead', and parks them", async () => {
      // A wrong Firebase project: every token looks dead.
      const tokens = dead(150);
      const { devices, retries, journal } = await setup(tokens);
      const sender = new ScriptedSender("fcm", script(tokens));
      const worker = makeDeliveryWorker({
        sender,
        devices,
        retries,
        journal,
        maxAttempts: 3,
        clock: new FixedClock(0),
      });

      const first = await worker(
        makeJob(
          tokens.slice(0, 99).map((t) => target(t)),
          { messageKey: "m1" },
        ),
      );
      const second = await worker(
        makeJob(
          tokens.slice(99).map((t) => target(t)),
          { messageKey: "m2" },
        ),
      );

      // Below 100 answers the breaker has no opinion: those 99 went as the vendor said.
      expect(first.tokensRemoved).toBe(99);
      // From the 100th answer on, 100% of them are "dead": nothing more is removed.
      expect(second).toMatchObject({ tokensRemoved: 0, tokenRemovalsHeld: 51, deadLettered: 51 });
      expect(devices.all()).toHaveLength(51);
      expect(retries.deadLettered).toHaveLength(1);
      expect(retries.deadLettered[0]!.reason).toMatch(
        /^token removal held: 150 of 150 fcm answers for credential default in 10 min said the token is dead/,
      );
    });

    it("keeps removing when dead tokens are a normal share, and judges each credential alone", async () => {
      const tokens = [...dead(30), ...dead(30, "x")];
      const healthy = Array.from({ length: 120 }, (_, i) => `ok${i}`);
      const { devices, retries, journal } = await setup([...tokens, ...healthy]);
      const sender = new ScriptedSender("fcm", script(tokens));
      const clock = new FixedClock(0);
      const worker = makeDeliveryWorker({ sender, devices, retries, journal, maxAttempts: 3, clock });

      // Credential 1: 120 delivered, 30 dead (20%) → removed. Credential 2: 30 dead of 30 → under 100 answers.
      const report = await worker(
        makeJob([
          ...healthy.map((t) => target(t, { certificateId: 1 })),
          ...dead(30).map((t) => target(t, { certificateId: 1 })),
          ...dead(30, "x").map((t) => target(t, { certificateId: 2 })),
        ]),
      );
      expect(report).toMatchObject({ delivered: 120, tokensRemoved: 60, tokenRemovalsHeld: 0 });
    });

    it("counts answers across containers: the shared window trips where each container alone would not", async () => {
      const tokens = dead(120);
      const { devices, retries, journal } = await setup(tokens);
      const answers = new MemoryAnswerWindow();
      const clock = new FixedClock(0);
      const containers = [0, 1].map(() =>
        makeDeliveryWorker({
          sender: new ScriptedSender("fcm", script(tokens)),
          devices,
          retries,
          journal,
          answers,
          maxAttempts: 3,
          clock,
        }),
      );
      await containers[0]!(
        makeJob(
          tokens.slice(0, 60).map((t) => target(t)),
          { messageKey: "m1" },
        ),
      );
      const second = await containers[1]!(
        makeJob(
          tokens.slice(60).map((t) => target(t)),
          { messageKey: "m2" },
        ),
      );
      // Container 2 saw 60 answers itself, but the window holds 120.
      expect(second.tokenRemovalsHeld).toBe(60);
    });

    it("parks rather than removes when the breaker's counts cannot be read", async () => {
      const { devices, retries, journal } = await setup(["d0"]);
      const worker = makeDeliveryWorker({
        sender: new ScriptedSender("fcm", script(["d0"])),
        devices,
        retries,
        journal,
        answers: { add: async () => Promise.reject(new Error("DynamoDB throttled")) },
        maxAttempts: 3,
      });
      const report = await worker(makeJob([target("d0")]));
      expect(report).toMatchObject({ tokensRemoved: 0, tokenRemovalsHeld: 1 });
      expect(retries.deadLettered[0]!.reason).toMatch(/counts cannot be read \(DynamoDB throttled\)/);
    });

    it("rule: more than the share of at least the minimum", () => {
      const settings = { share: 0.5, minAnswers: 100, windowSeconds: 600 };
      expect(tokenRemovalsHeld({ answers: 99, dropTokens: 99 }, settings)).toBe(false);
      expect(tokenRemovalsHeld({ answers: 100, dropTokens: 50 }, settings)).toBe(false);
      expect(tokenRemovalsHeld({ answers: 100, dropTokens: 51 }, settings)).toBe(true);
    });
  });
});
