process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { parseArgs } from "node:util";
import { parseSince } from "../lib/ops/redrive.js";
import { resolveTarget } from "../lib/ops/targets.js";
import { formatWhy, why } from "../lib/ops/why.js";
import { whySources } from "../lib/ops/why-target.js";

/**
 * `npm run why -- <userId> [--message <msgKey>] [--since 1h] [--limit 20] [--json]
 *   [--url http://127.0.0.1:8787 | --stack <name>]`: the user's devices, presence and receive options
 * as stored now, then per recent message what the router decided per device and each vendor answer.
 * Locally it finds the table through the running `npm start`; with `--stack` it reads the deployed
 * stack's outputs and queries its table with your AWS credentials.
 */

const USAGE =
  "usage: npm run why -- <userId> [--message <msgKey>] [--since <30m|1h|3d|ISO date>] [--limit <n>] [--json] [--url <local runtime URL> | --stack <name>]";

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      message: { type: "string" },
      since: { type: "string" },
      limit: { type: "string" },
      json: { type: "boolean", default: false },
      url: { type: "string" },
      local: { type: "string" },
      stack: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const userId = positionals[0];
  if (values.help || userId === undefined || positionals.length > 1) {
    console.error(USAGE);
    return 2;
  }
  const now = Date.now();
  // A named message is looked for over the whole trace (3 days); otherwise the last hour.
  const sinceText = values.since ?? (values.message !== undefined ? "3d" : "1h");
  const since = parseSince(sinceText, now);
  if (since === undefined) {
    console.error(`--since: ${JSON.stringify(sinceText)} is neither a duration (30m, 1h, 3d) nor a date`);
    return 2;
  }
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    console.error(`--limit: ${JSON.stringify(values.limit)} is not a whole number ≥ 1`);
    return 2;
  }
  const url = values.url ?? values.local;
  const target = await resolveTarget({
    ...(values.stack !== undefined ? { stack: values.stack } : {}),
    ...(url !== undefined ? { local: url } : {}),
  });
  const sources = whySources(target);
  try {
    const report = await why(sources, {
      userId,
      since,
      now,
      limit,
      ...(values.message !== undefined ? { messageKey: values.message } : {}),
    });
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else console.log(`${formatWhy(report)}\n\n(${target.description})`);
  } finally {
    sources.close();
    target.sqs.destroy();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  },
);
