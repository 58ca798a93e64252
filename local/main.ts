import { readFileSync } from "node:fs";
import type { CredentialsByVendor } from "../lib/vendors/credentials.js";
import { LOCAL_DEFAULTS, localSettings } from "./defaults.js";
import { startLocalRuntime, type TimedJournalEntry } from "./runtime.js";

// The deployed functions run on Node.js 22; locally the SDK may run on an older Node (20 here), and its
// notice that future SDK releases need 22 says nothing about this pipeline.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** `npm start`: the whole pipeline on this machine. */
async function main(): Promise<void> {
  const settings = localSettings();
  for (const name of settings.defaulted) {
    console.log(
      `[chatpush] ${name} is not set; using the local default ${JSON.stringify(LOCAL_DEFAULTS[name as keyof typeof LOCAL_DEFAULTS])}`,
    );
  }
  const credentials = settings.credentialsFile
    ? (JSON.parse(readFileSync(settings.credentialsFile, "utf8")) as CredentialsByVendor)
    : undefined;

  const runtime = await startLocalRuntime({
    sdkAppId: settings.sdkAppId,
    secretKey: settings.secretKey,
    dataDir: settings.dataDir,
    port: settings.port,
    emulatorThreads: true,
    ...(settings.callbackToken !== "" ? { callbackToken: settings.callbackToken } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    onJournal: (entry) => console.log(formatJournal(entry)),
    onError: (error) => console.error("[chatpush] error:", error),
  });

  const shutdown = async () => {
    console.log("[chatpush] stopping");
    await runtime.stop();
    process.exit(0);
  };
  // Before the banner: whoever reads "listening on" may press Ctrl-C at once.
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
  console.log(`[chatpush] listening on ${runtime.url}`);
  console.log(`[chatpush]   callback URL:   ${runtime.url}/callback   (SdkAppid ${settings.sdkAppId})`);
  console.log(`[chatpush]   device API:     ${runtime.url}/v1/devices   (Authorization: UserSig <usersig>)`);
  console.log(`[chatpush]   deliveries:     ${runtime.url}/_local/deliveries`);
  console.log(`[chatpush]   phones & trace: ${runtime.url}/   (the local page, live)`);
  console.log(
    `[chatpush]   vendors:        ${credentials ? `real credentials from ${settings.credentialsFile}` : "simulators of all eight vendors"}`,
  );
  console.log(`[chatpush]   data:           ${settings.dataDir}/  (DynamoDB data survives restarts)`);
  console.log("[chatpush] replay the samples with: npm run replay -- events/");
}

function formatJournal(entry: TimedJournalEntry): string {
  const who = [entry.userId, entry.deviceId].filter(Boolean).join("/");
  const parts = [entry.stage, entry.vendor, who, entry.messageKey && `msg ${entry.messageKey}`, entry.reason];
  return `[chatpush] ${entry.at.slice(11, 23)} ${parts.filter(Boolean).join("  ")}`;
}

main().catch((error) => {
  console.error("[chatpush] failed to start:", error instanceof Error ? error.message : error);
  process.exit(1);
});
