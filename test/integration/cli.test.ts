import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ChatpushClient } from "../../local/client.js";

/** `npm start` as a person runs it: a separate process, configured by environment variables. */
const dataDir = mkdtempSync(join(tmpdir(), "chatpush-cli-"));
const env = {
  ...process.env,
  PORT: "0",
  CHATPUSH_DATA_DIR: dataDir,
  CHATPUSH_SDK_APP_ID: "1400777777",
  CHATPUSH_SECRET_KEY: "cli-secret",
  CHATPUSH_CALLBACK_TOKEN: "cli-callback-token",
};

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function start(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "local/main.ts"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" within 40 s:\n${output}`)), 40_000);
    child.stdout?.on("data", (chunk) => {
      output += chunk;
      // The banner's last line: everything before it has been printed.
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)[\s\S]*npm run replay/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
  return { child, url, output: () => output };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  child.kill("SIGINT");
  return exited;
}

describe("npm start", () => {
  it("boots, serves /healthz, stops on Ctrl-C, and keeps devices across restarts", async () => {
    const first = await start();
    expect(first.output()).toContain("(SdkAppid 1400777777)");
    expect(first.output()).not.toContain("is not set");
    const client = (url: string) =>
      new ChatpushClient({ baseUrl: url, sdkAppId: "1400777777", secretKey: "cli-secret" });
    expect(await client(first.url).healthy()).toBe(true);
    const registered = await client(first.url).registerDevice("bob", "pixel", {
      vendor: "fcm",
      token: "persisted-token",
    });
    expect(registered.status).toBe(200);
    expect(await stop(first.child)).toBe(0);

    const second = await start();
    const listed = await client(second.url).deviceApi("GET", "/v1/devices", "bob");
    expect(JSON.parse(listed.body).devices).toEqual([
      expect.objectContaining({ deviceId: "pixel", vendor: "fcm" }),
    ]);
    expect(await stop(second.child)).toBe(0);
  }, 120_000);

  it("prints the local defaults it uses when the environment sets none", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "local/main.ts"], {
      env: { ...process.env, PORT: "0", CHATPUSH_DATA_DIR: join(dataDir, "defaults") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening on" within 40 s:\n${output}`)), 40_000);
      child.stdout?.on("data", () => {
        if (output.includes("npm run replay")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    expect(output).toContain('CHATPUSH_SDK_APP_ID is not set; using the local default "1400000000"');
    expect(output).toContain("CHATPUSH_CALLBACK_TOKEN is not set");
    expect(output).toContain("CHATPUSH_SECRET_KEY is not set");
    expect(await stop(child)).toBe(0);
  }, 60_000);
});
