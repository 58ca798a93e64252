/**
 * `npm run test:crash [-- --messages 800 --users 40]`: the crash suite at full size (issue 9). `npm
 * start` is killed with SIGKILL in the middle of a burst and restarted on the same data folder; every
 * callback answered 200 before the kill must reach both of its user's phones. Prints what was lost and
 * what arrived twice; exits 1 if anything was lost. `npm test` runs a small burst of the same suite
 * (test/integration/crash.test.ts).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { parseArgs } from "node:util";
import { runCrashSuite } from "../local/crash-suite.js";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "800" },
    users: { type: "string", default: "40" },
  },
});
const result = await runCrashSuite({
  messages: Number(values.messages),
  users: Number(values.users),
  timeoutMs: 600_000,
  onProgress: (line) => console.log(line),
});
console.log(
  `answered 200 before the kill: ${result.answeredBeforeKill} callbacks, ${result.pairs} (message, device) pairs\n` +
    `after the restart: lost ${result.lost}, duplicated ${result.duplicated}, ` +
    `everything arrived ${(result.recoveredInMs / 1000).toFixed(1)} s after the restart`,
);
process.exitCode = result.lost === 0 ? 0 : 1;
