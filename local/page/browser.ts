import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** Debian's Chromium (`apt-get install -y chromium`; .ci/run installs it). No browser is downloaded. */
export const CHROMIUM_PATH = "/usr/bin/chromium";
/**
 * A quiet headless Chromium for tests and the README screenshot: no sandbox (CI runs as root), no GPU,
 * and none of the background traffic (QUIC, component updates, sync) a fresh profile would start.
 * Playwright adds `--headless` and the fresh `--user-data-dir`.
 */
export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** The size the page is made legible at, and the README screenshot's. */
export const VIEWPORT = { width: 1280, height: 800 };

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Starts headless Chromium with a fresh profile; fails saying how to install it when it is missing. */
export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed (${CHROMIUM_PATH} is missing): run \`apt-get update && apt-get install -y chromium\` (.ci/run does it when missing)`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), "chatpush-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: VIEWPORT,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
