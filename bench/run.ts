/**
 * `npm run bench`: each function's bundle size and module-init time, then the local end-to-end
 * latency (callback answered → simulator received) over 1,000 one-to-one messages, paced and flooded.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { formatBundleTable, runBundleBench } from "./bundles.js";
import { formatE2e, runE2eBench } from "./e2e.js";

const messages = Number(process.env.BENCH_MESSAGES ?? 1000);

const rows = await runBundleBench({});
console.log(formatBundleTable(rows));
console.log();
console.log(formatE2e(await runE2eBench(messages, 50)));
console.log();
console.log(formatE2e(await runE2eBench(messages)));
process.exit(rows.some((r) => r.error !== undefined) ? 1 : 0);
