import { type GetSecretValueCommand, ResourceNotFoundException } from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import type { Device } from "../../../lib/model/index.js";
import {
  type CredentialCheck,
  fileCredentials,
  formatReport,
  formatTestPush,
  secretCredentials,
  testPush,
} from "../../../lib/ops/doctor.js";

/** Secrets Manager as the workers' secrets hold them: by name, or absent. */
function secrets(values: Record<string, string>) {
  const asked: string[] = [];
  return {
    asked,
    client: {
      async send(command: GetSecretValueCommand) {
        const name = command.input.SecretId!;
        asked.push(name);
        if (!(name in values)) {
          throw new ResourceNotFoundException({
            message: "Secrets Manager can't find the specified secret.",
            $metadata: {},
          });
        }
        return { SecretString: values[name], $metadata: {} };
      },
    } as never,
  };
}

const huawei = { certificateId: 30001, packageName: "com.example.app", appId: "1", clientSecret: "s" };

describe("where doctor finds a deployed stack's credentials", () => {
  it("reads the secret each worker reads, <prefix>/<vendor>, and says which are not configured or unusable", async () => {
    const { client, asked } = secrets({
      "acme/huawei": JSON.stringify([huawei]),
      // The stack's own placeholder (infra/constructs/vendor-channel.ts), never filled in.
      "acme/honor": JSON.stringify({ replaceMe: "JSON array of honor credentials", placeholder: "x" }),
      "acme/xiaomi": "{not json",
      "acme/oppo": "[]",
    });

    const source = await secretCredentials({ prefix: "acme" }, client);

    expect(asked.sort()).toEqual(
      ["apns", "fcm", "honor", "huawei", "meizu", "oppo", "vivo", "xiaomi"].map((v) => `acme/${v}`),
    );
    expect(source.credentials).toEqual({ huawei: [huawei] });
    expect(source.notes.honor).toEqual({
      broken: false,
      text: "not configured (secret acme/honor holds the stack's placeholder)",
    });
    expect(source.notes.apns).toEqual({ broken: false, text: "not configured (no secret acme/apns)" });
    expect(source.notes.xiaomi).toEqual({
      broken: true,
      text: "secret acme/xiaomi is not JSON: the workers cannot start",
    });
    expect(source.notes.oppo?.broken).toBe(true);
  });

  it("reads the secret names the stack outputs, when it has them", async () => {
    const { client, asked } = secrets({ "custom-name": JSON.stringify([huawei]) });

    const source = await secretCredentials(
      { prefix: "acme", outputs: { HuaweiCredentialsSecretName: "custom-name", TableName: "t" } },
      client,
    );

    expect(asked).toContain("custom-name");
    expect(asked).not.toContain("acme/huawei");
    expect(asked).toContain("acme/fcm");
    expect(source.credentials).toEqual({ huawei: [huawei] });
  });

  it("reads a credentials file shaped like CHATPUSH_CREDENTIALS_FILE's, and refuses one that is not", () => {
    const source = fileCredentials("creds.json", JSON.stringify({ huawei: [huawei], vivo: {} }));

    expect(source.credentials).toEqual({ huawei: [huawei] });
    expect(source.notes.vivo).toEqual({ broken: true, text: "its credentials are not a JSON array" });
    expect(source.notes.meizu).toEqual({ broken: false, text: "not configured (creds.json has none)" });
    expect(() => fileCredentials("creds.json", "[1]")).toThrow(/object of credential arrays/);
    expect(() => fileCredentials("creds.json", "{")).toThrow(/creds.json is not JSON/);
  });
});

describe("what doctor prints", () => {
  const check = (status: CredentialCheck["status"]): CredentialCheck => ({
    vendor: "huawei",
    certificateId: 30001,
    label: "Huawei 30001 (app 1, com.example.app)",
    status,
    detail: "what the vendor said",
  });

  it("is healthy only when every credential is OK and no source is broken; a vendor without credentials is a note", () => {
    const source = fileCredentials("f", JSON.stringify({ huawei: [huawei] }));

    const ok = formatReport(source, [check("ok")]);
    const unsure = formatReport(source, [check("unreachable")]);
    const bad = formatReport({ ...source, notes: { ...source.notes, vivo: { broken: true, text: "bad" } } }, [
      check("ok"),
    ]);

    expect(ok.healthy).toBe(true);
    expect(ok.lines).toContain("OK      Huawei 30001 (app 1, com.example.app): what the vendor said");
    expect(ok.lines).toContain("-       Meizu: not configured (f has none)");
    expect(unsure).toMatchObject({ healthy: false });
    expect(unsure.lines).toContain("UNSURE  Huawei 30001 (app 1, com.example.app): what the vendor said");
    expect(bad.healthy).toBe(false);
    expect(bad.lines).toContain("BROKEN  vivo: bad");
    expect(formatReport(source, [check("broken")], { color: true }).lines[2]).toBe(
      "\u001b[31mBROKEN \u001b[0m Huawei 30001 (app 1, com.example.app): what the vendor said",
    );
  });

  it("leaves VoIP tokens and vendors without credentials out of the test push, saying why", async () => {
    const device = (over: Partial<Device>): Device => ({
      userId: "bob",
      deviceId: "d",
      vendor: "apns",
      token: "a".repeat(64),
      updatedAt: 0,
      ...over,
    });

    const answers = await testPush(
      [device({ pushType: "voip" }), device({ vendor: "meizu", token: "M" })],
      {},
    );

    expect(answers.map(formatTestPush)).toEqual([
      "-          bob/d (APNs, token aaaaaa…aaaa): VoIP token: it only takes call invitations, not tested",
      "-          bob/d (Meizu, token …): no Meizu credentials configured",
    ]);
  });
});
