import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { localSettings } from "../local/defaults.js";
import { launchChromium } from "../local/page/browser.js";
import { startLocalRuntime } from "../local/runtime.js";

/**
 * `npm run screenshot [-- --out docs/local-page.png]`: the README's picture of the local page. Starts a
 * fresh in-memory runtime, opens its page in headless Chromium at 1280×800, replays all of events/
 * with `npm run replay` (so the page fills live, as it does for a person), and saves the page.
 * Chinese text and emoji need fonts Chromium can find (Debian: fonts-noto-cjk, fonts-noto-color-emoji).
 */
const { values } = parseArgs({
  options: {
    out: { type: "string", default: "docs/local-page.png" },
    events: { type: "string", default: "events/" },
  },
});

async function main(): Promise<void> {
  const settings = localSettings();
  const runtime = await startLocalRuntime({
    sdkAppId: settings.sdkAppId,
    secretKey: settings.secretKey,
    port: 0,
    ...(settings.callbackToken !== "" ? { callbackToken: settings.callbackToken } : {}),
  });
  const browser = await launchChromium().catch(async (error) => {
    await runtime.stop();
    throw error;
  });
  try {
    const page = await browser.context.newPage();
    await page.goto(runtime.url);
    await page.getByRole("status").filter({ hasText: "live" }).waitFor();
    await replay(runtime.url, values.events);
    // The last deliveries and journal entries reach the page over the stream.
    await page.waitForTimeout(1_500);
    await page.screenshot({ path: values.out });
    console.log(`screenshot: ${values.out}`);
  } finally {
    await browser.close();
    await runtime.stop();
  }
}

/** `npm run replay -- --url <runtime> <events>`, as a person would run it in a second terminal. */
function replay(url: string, events: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/replay.ts", "--url", url, events], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`replay exited with ${code}`))));
  });
}

main().catch((error) => {
  console.error(`screenshot: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
