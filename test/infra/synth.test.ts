import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { VENDORS } from "../../lib/model/index.js";

/** `npx cdk synth` as the README says it works: offline, no credentials, bundling by the local esbuild. */
const out = mkdtempSync(join(tmpdir(), "chatpush-synth-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("cdk synth", () => {
  it("succeeds with no AWS credentials and bundles every function", () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CDK_DISABLE_VERSION_CHECK: "1",
      CDK_DISABLE_CLI_TELEMETRY: "true",
    };
    for (const name of Object.keys(env)) if (name.startsWith("AWS_")) delete env[name];
    env.AWS_CONFIG_FILE = join(out, "no-config");
    env.AWS_SHARED_CREDENTIALS_FILE = join(out, "no-credentials");

    const result = spawnSync("node_modules/.bin/cdk", ["synth", "--quiet", "-o", join(out, "cdk.out")], {
      env,
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);

    const template = JSON.parse(readFileSync(join(out, "cdk.out", "Chatpush.template.json"), "utf8")) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const functions = Object.values(template.Resources).filter((r) => r.Type === "AWS::Lambda::Function");
    expect(functions.map((f) => [f.Properties.Runtime, f.Properties.Architectures])).toEqual(
      Array.from({ length: 2 + VENDORS.length }, () => ["nodejs22.x", ["arm64"]]),
    );
    const assets = readdirSync(join(out, "cdk.out")).filter((name) => name.startsWith("asset."));
    const bundles = assets.filter((dir) => existsSync(join(out, "cdk.out", dir, "index.mjs")));
    expect(bundles).toHaveLength(2 + VENDORS.length);
  }, 150_000);
});
