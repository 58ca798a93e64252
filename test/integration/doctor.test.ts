import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkCredentials } from "../../lib/ops/doctor.js";
import type { CredentialsByVendor } from "../../lib/vendors/credentials.js";
import { ChatpushClient } from "../../local/client.js";
import { jsonFiles, loadDeviceSample } from "../../local/events.js";
import { type LocalRuntime, startLocalRuntime } from "../../local/runtime.js";
import { startApnsSimulator } from "../../local/simulators/apns.js";
import { SimulatorHub } from "../../local/simulators/hub.js";

const run = promisify(execFile);
const SDK_APP_ID = "1400000000";
const SECRET_KEY = "doctor-test-usersig-secret-key";
const BOB_IPHONE = "7f3c9a1e5b2d4c6f8a0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a";

let runtime: LocalRuntime;
let credentials: CredentialsByVendor;
let scratch: string;

/** `npm run doctor -- …` as a person runs it; its exit code, whatever it is. */
async function doctor(...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "scripts/doctor.ts", ...args], {
      env: { ...process.env, NO_COLOR: "1" },
    });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

/** A copy of the runtime's credentials with `change` applied. */
function broken(change: (copy: CredentialsByVendor) => void): CredentialsByVendor {
  const copy = structuredClone(credentials);
  change(copy);
  return copy;
}

/** A P-256 key Apple never saw: APNs can verify nothing it signs. */
const strangerKey = () =>
  generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
    type: "pkcs8",
    format: "pem",
  }) as string;
/** An RSA key of no service account. */
const strangerRsa = () =>
  generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
    type: "pkcs8",
    format: "pem",
  }) as string;

beforeAll(async () => {
  runtime = await startLocalRuntime({ sdkAppId: SDK_APP_ID, secretKey: SECRET_KEY, port: 0 });
  const client = new ChatpushClient({ baseUrl: runtime.url, sdkAppId: SDK_APP_ID, secretKey: SECRET_KEY });
  for (const file of jsonFiles("events/devices")) await client.seedDevice(loadDeviceSample(file));
  credentials = (await (await fetch(`${runtime.url}/_local/credentials`)).json()) as CredentialsByVendor;
  scratch = mkdtempSync(join(tmpdir(), "chatpush-doctor-"));
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
});

describe("npm run doctor against the local runtime", () => {
  it("lists every simulated credential of the eight vendors as OK and exits 0", async () => {
    const { code, stdout } = await doctor("--local", runtime.url);

    expect(code).toBe(0);
    const lines = stdout.split("\n").filter((line) => /^(OK|BROKEN|UNSURE)/.test(line));
    expect(lines).toHaveLength(8);
    expect(lines.every((line) => line.startsWith("OK "))).toBe(true);
    for (const vendor of [
      "APNs 10001",
      "FCM 20001",
      "Huawei 30001",
      "Honor 40001",
      "Xiaomi 50001",
      "OPPO 60001",
      "vivo 70001",
      "Meizu 80001",
    ]) {
      expect(stdout).toContain(vendor);
    }
    expect(stdout).toMatch(/APNs 10001 .*accepted by APNs production and sandbox \(400 BadDeviceToken/);
    expect(stdout).toMatch(/FCM 20001 .*validate_only send accepted/);
    expect(stdout).toContain("All 8 credential(s) accepted.");
  }, 60_000);

  it("reports a wrong APNs key and a wrong Xiaomi secret in words, the others OK, and exits 1", async () => {
    const file = join(scratch, "broken.json");
    writeFileSync(
      file,
      JSON.stringify(
        broken((copy) => {
          copy.apns[0]!.endpoint = credentials.apns[0]!.endpoint;
          (copy.apns[0] as { privateKey: string }).privateKey = strangerKey();
          copy.xiaomi[0]!.appSecret = "not-the-app-secret";
        }),
      ),
    );

    const { code, stdout } = await doctor("--credentials-file", file);

    expect(code).toBe(1);
    expect(stdout).toMatch(
      /^BROKEN +APNs 10001 \(key \w+, team \w+, com\.example\.chatpush\): production: Apple refused the \.p8 key \(InvalidProviderToken/m,
    );
    expect(stdout).toMatch(
      /^BROKEN +Xiaomi 50001 .*Xiaomi refused the AppSecret \(21301 认证失败 Authentication failed\) — copy the AppSecret again/m,
    );
    expect(stdout.split("\n").filter((line) => line.startsWith("OK "))).toHaveLength(6);
  }, 60_000);

  it("--user bob --test-push sends through the real senders and prints each device's answer", async () => {
    await fetch(`${runtime.url}/_local/faults`, {
      method: "POST",
      body: JSON.stringify({ vendor: "apns", token: BOB_IPHONE, status: 410, count: 1 }),
    });
    const before = (await (await fetch(`${runtime.url}/_local/deliveries`)).json()) as unknown[];

    const { code, stdout } = await doctor("--local", runtime.url, "--user", "bob", "--test-push");

    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^token dead bob\/bob-iphone-15 \(APNs, token 7f3c9a…1f3a\): APNs 410 Unregistered .*a worker would remove this device$/m,
    );
    expect(stdout).toMatch(/^delivered +bob\/bob-ipad \(APNs, token \S+\): accepted by the vendor/m);
    expect(stdout).toMatch(
      /^delivered +bob\/bob-pixel-8 \(FCM, token \S+\): accepted by the vendor \(id projects\/chatpush-local\/messages\//m,
    );
    expect(stdout).toMatch(
      /^- +bob\/bob-iphone-15 \(APNs, token \S+\): VoIP token: it only takes call invitations/m,
    );
    // The phones got it, as a worker's push: the simulators recorded the test notification.
    const after = (await (await fetch(`${runtime.url}/_local/deliveries`)).json()) as {
      vendor: string;
      status: number;
      request: { body: unknown };
    }[];
    const tests = after
      .slice(before.length)
      .filter((d) => JSON.stringify(d.request.body).includes("pushes reach this phone"));
    expect(tests.map((d) => [d.vendor, d.status]).sort()).toEqual([
      ["apns", 200],
      ["apns", 410],
      ["fcm", 200],
    ]);
  }, 60_000);
});

describe("each vendor's check, against its simulator", () => {
  it("accepts the simulated credentials", async () => {
    const checks = await checkCredentials(credentials);

    expect(checks.map((check) => [check.vendor, check.status])).toEqual([
      ["apns", "ok"],
      ["fcm", "ok"],
      ["huawei", "ok"],
      ["honor", "ok"],
      ["xiaomi", "ok"],
      ["oppo", "ok"],
      ["vivo", "ok"],
      ["meizu", "ok"],
    ]);
  });

  it("reports each wrong key or secret with the vendor's own refusal", async () => {
    const wrong = broken((copy) => {
      (copy.apns[0] as { privateKey: string }).privateKey = strangerKey();
      copy.fcm[0]!.privateKey = strangerRsa();
      copy.huawei[0]!.clientSecret = "0".repeat(64);
      copy.honor[0]!.clientSecret = "0".repeat(64);
      copy.xiaomi[0]!.appSecret = "bm90LXRoZS1zZWNyZXQ=";
      copy.oppo[0]!.masterSecret = "0".repeat(32);
      copy.vivo[0]!.appSecret = "not-the-secret";
      copy.meizu[0]!.appSecret = "0".repeat(32);
    });

    const checks = await checkCredentials(wrong);

    expect(checks.every((check) => check.status === "broken")).toBe(true);
    const detail = Object.fromEntries(checks.map((check) => [check.vendor, check.detail]));
    expect(detail.apns).toContain("InvalidProviderToken");
    expect(detail.fcm).toContain(
      "the service account key was refused by Google (invalid_grant: Invalid JWT Signature.)",
    );
    expect(detail.huawei).toContain("1101 invalid client_secret (sub_error 12304)");
    expect(detail.honor).toContain("unauthorized_client Invalid client secret");
    expect(detail.xiaomi).toContain("21301");
    expect(detail.oppo).toContain("OPPO auth failed: 16");
    expect(detail.vivo).toContain("10000");
    expect(detail.meizu).toContain("1006 签名认证失败");
  });

  it("says FCM refused a project the service account does not belong to", async () => {
    const [check] = await checkCredentials({
      fcm: broken((copy) => (copy.fcm[0]!.projectId = "someone-elses")).fcm,
    });

    expect(check).toMatchObject({ status: "broken" });
    expect(check!.detail).toMatch(
      /^OAuth token obtained, but FCM refused a validate_only send \(403 PERMISSION_DENIED/,
    );
    expect(check!.detail).toContain('is projectId "someone-elses" the service account\'s Firebase project?');
  });

  it("checks an APNs .p12 certificate: one Apple issued is OK, a sandbox-only one names the other environment, one Apple did not issue is broken", async () => {
    const hub = new SimulatorHub();
    const apns = await startApnsSimulator({ hub });
    const endpoint = { production: apns.production, sandbox: apns.sandbox, ca: apns.ca };
    const issue = (
      certificateId: number,
      extra: { environments?: ("sandbox" | "production")[]; untrusted?: boolean },
    ) =>
      apns.issueCertificate({ certificateId, bundleId: "com.example.chatpush", endpoint, ...extra })
        .credential;
    try {
      const checks = await checkCredentials({
        apns: [issue(1, {}), issue(2, { environments: ["sandbox"] }), issue(3, { untrusted: true })],
      });

      expect(checks.map((check) => check.status)).toEqual(["ok", "ok", "broken"]);
      expect(checks[0]!.detail).toMatch(/^accepted by APNs production and sandbox/);
      expect(checks[1]!.detail).toMatch(/^accepted by APNs sandbox .*; production: /);
      expect(checks[2]!.detail).toContain("Apple refused the certificate (BadCertificate)");
    } finally {
      await apns.close();
    }
  });

  it("calls a vendor that does not answer unreachable, not broken", async () => {
    const [check] = await checkCredentials({
      huawei: broken((copy) => (copy.huawei[0]!.endpoint = { url: "http://127.0.0.1:1" })).huawei,
    });

    expect(check).toMatchObject({ status: "unreachable" });
  });
});
