import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { App, Duration, Stack } from "aws-cdk-lib";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleFunction } from "../../bench/bundles.js";
import { BUNDLING, esbuildOptions } from "../../infra/bundling.js";
import { PROJECT_ROOT, PushFunction } from "../../infra/constructs/push-function.js";

const run = promisify(execFile);

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "chatpush-bundling-"));
  // Bundles keep @aws-sdk/* external; the project's node_modules stands in for the Lambda runtime's.
  await symlink(join(PROJECT_ROOT, "node_modules"), join(root, "node_modules"), "dir");
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("bundling", () => {
  it("the benchmark bundles byte for byte what the stack deploys", async () => {
    // Arrange: a stack with one PushFunction, bundled for real by NodejsFunction (local esbuild).
    const outdir = join(root, "cdk.out");
    const app = new App({ outdir });
    const stack = new Stack(app, "BundlingProbe");
    new PushFunction(stack, "RouteEvents", {
      entry: "functions/route-events.ts",
      description: "probe",
      timeout: Duration.seconds(10),
    });
    // Act
    app.synth();
    const bench = await bundleFunction(join(PROJECT_ROOT, "functions/route-events.ts"), join(root, "bench"));
    // Assert
    const assets = (await readdir(outdir)).filter((d) => d.startsWith("asset."));
    expect(assets).toHaveLength(1);
    const deployed = await readFile(join(outdir, assets[0]!, BUNDLING.outFile), "utf8");
    expect(deployed.length).toBeGreaterThan(0);
    expect(deployed).toBe(await readFile(bench, "utf8"));
    expect(deployed.startsWith(BUNDLING.banner)).toBe(true);
    // The maps differ only in their relative `sources` paths (the output folders differ).
    const deployedMap = JSON.parse(
      await readFile(join(outdir, assets[0]!, `${BUNDLING.outFile}.map`), "utf8"),
    );
    const benchMap = JSON.parse(await readFile(`${bench}.map`, "utf8"));
    expect(deployedMap.mappings).toBe(benchMap.mappings);
    expect(deployedMap.sourcesContent).toBeUndefined();
    expect(benchMap.sourcesContent).toBeUndefined();
  }, 60_000);

  describe("vendor SDKs (CommonJS) in the ESM bundle", () => {
    const probe = `
import { generateKeyPairSync } from "node:crypto";
import apn from "@parse/node-apn";
import { cert, initializeApp } from "firebase-admin/app";
import { getMessaging } from "firebase-admin/messaging";
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" });
const app = initializeApp({ credential: cert({ projectId: "p", clientEmail: "a@p.iam.gserviceaccount.com", privateKey: String(rsa) }) });
const messaging = getMessaging(app);
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" });
const provider = new apn.Provider({ token: { key: String(ec), keyId: "K", teamId: "T" }, production: false });
provider.shutdown();
console.log("loaded", typeof messaging.send, typeof apn.Notification);
`;

    async function bundleProbe(name: string, banner: boolean): Promise<string> {
      const dir = join(root, name);
      await mkdir(dir, { recursive: true });
      const entry = join(dir, "probe.ts");
      await writeFile(entry, probe);
      const options = esbuildOptions(entry, dir, PROJECT_ROOT);
      await build(banner ? options : { ...options, banner: {} });
      return join(dir, BUNDLING.outFile);
    }

    it("firebase-admin and @parse/node-apn load and initialise with BUNDLING", async () => {
      const bundle = await bundleProbe("with-banner", true);
      const { stdout } = await run(process.execPath, ["--enable-source-maps", bundle], { timeout: 30_000 });
      expect(stdout.trim()).toBe("loaded function function");
    }, 60_000);

    it("need the createRequire banner: without it their require() of node builtins fails", async () => {
      // If this starts passing, esbuild handles it and the banner in infra/bundling.ts can go.
      const bundle = await bundleProbe("without-banner", false);
      await expect(run(process.execPath, [bundle], { timeout: 30_000 })).rejects.toThrow(
        /Dynamic require of "[^"]+" is not supported/,
      );
    }, 60_000);
  });
});
