import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { App, Validations } from "aws-cdk-lib";
import { Queue } from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatpushStack } from "../../infra/chatpush-stack.js";
import { PROJECT_ROOT } from "../../infra/constructs/push-function.js";
import { VENDORS } from "../../lib/model/index.js";

const run = promisify(execFile);

interface ValidationReport {
  pluginReports: { pluginName: string; violations: { ruleName: string }[] }[];
}
interface TemplateJson {
  Resources: Record<
    string,
    { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >;
}

// The real infra/app.ts, run the way the CDK CLI runs it (CDK_OUTDIR + CDK_CONTEXT_JSON), bundling skipped.
describe("infra/app.ts synthesized with cdk-nag AwsSolutions", () => {
  let outDir: string;
  let exit: { code: number; stderr: string };
  let template: TemplateJson;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), "chatpush-app-"));
    try {
      const { stderr } = await run(join(PROJECT_ROOT, "node_modules/.bin/tsx"), ["infra/app.ts"], {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          CDK_OUTDIR: outDir,
          CDK_CONTEXT_JSON: JSON.stringify({ "aws:cdk:bundling-stacks": [], sdkAppId: "1400099999" }),
        },
      });
      exit = { code: 0, stderr };
    } catch (error) {
      const e = error as { code: number; stderr: string };
      exit = { code: e.code, stderr: e.stderr };
    }
    template = JSON.parse(await readFile(join(outDir, "Chatpush.template.json"), "utf8"));
  }, 60_000);
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it("has no unacknowledged finding", async () => {
    expect(exit.stderr.match(/AwsSolutions-[A-Z0-9]+(\[[^\]]*\])?/g) ?? []).toEqual([]);
    expect(exit.code).toBe(0);
    const report: ValidationReport = JSON.parse(
      await readFile(join(outDir, "validation-report.json"), "utf8"),
    );
    expect(report.pluginReports.flatMap((p) => p.violations.map((v) => v.ruleName))).toEqual([]);
  });

  it("acknowledges exactly the expected findings, each on its own resource with a reason", () => {
    // Recorded by AwsSolutionsChecks({ writeSuppressionsToCloudFormation: true }), which also proves
    // app.ts registered the checks.
    const acknowledged = Object.values(template.Resources).flatMap((r) => {
      const nag = r.Metadata?.cdk_nag as { rules_to_suppress: { id: string; reason: string }[] } | undefined;
      return (nag?.rules_to_suppress ?? []).map((rule) => {
        expect(rule.reason.length).toBeGreaterThan(40);
        return `${r.Type} ${rule.id}`;
      });
    });
    const count = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type).length;
    const expected = [
      // Node.js 22 is pinned on purpose (one per function).
      ...Array(count("AWS::Lambda::Function")).fill("AWS::Lambda::Function AwsSolutions-L1"),
      // X-Ray actions have no resource ARNs (one per function role policy).
      ...Array(count("AWS::IAM::Policy")).fill("AWS::IAM::Policy AwsSolutions-IAM5[Resource::*]"),
      // Tencent- and vendor-issued secrets cannot be rotated by a Lambda.
      ...Array(count("AWS::SecretsManager::Secret")).fill("AWS::SecretsManager::Secret AwsSolutions-SMG4"),
    ];
    expect(acknowledged.sort()).toEqual(expected.sort());
    // The HTTP function, the router, and one worker per vendor.
    expect(count("AWS::Lambda::Function")).toBe(2 + VENDORS.length);
  });

  it("is env-agnostic and passes the sdkAppId context to the HTTP function", async () => {
    const manifest = JSON.parse(await readFile(join(outDir, "manifest.json"), "utf8"));
    expect(manifest.artifacts.Chatpush.environment).toBe("aws://unknown-account/unknown-region");
    const sdkAppIds = Object.values(template.Resources)
      .filter((r) => r.Type === "AWS::Lambda::Function")
      .map(
        (r) =>
          (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables.CHATPUSH_SDK_APP_ID,
      )
      .filter((v) => v !== undefined);
    expect(sdkAppIds).toEqual(["1400099999"]);
  });
});

describe("the AwsSolutions checks on the stack", () => {
  it("fail synthesis when a finding is not acknowledged (the test above can fail)", () => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const stack = new ChatpushStack(app, "Chatpush", { sdkAppId: "1400000000" });
    new Queue(stack, "Unprotected");
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3[\s\S]*Chatpush\/Unprotected/);
    // A whole stack synthesized in process: seconds alone, far more on a machine running benchmarks.
  }, 60_000);
});
