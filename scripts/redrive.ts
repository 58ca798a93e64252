import { parseArgs } from "node:util";
import { parseSince, type RedriveSummary, redrive } from "../lib/ops/redrive.js";
import { resolveTarget } from "../lib/ops/targets.js";

/**
 * `npm run redrive -- <vendor|ingest> [--reason <text>] [--since <30m|2h|7d|ISO>] [--dry-run]
 *   [--stack <name> | --local <url>]`: moves parked jobs from a dead-letter queue back to its queue.
 *
 * Locally it finds the queues through the running `npm start`; with `--stack` it reads the deployed
 * stack's outputs with your AWS credentials.
 */

const USAGE =
  "usage: npm run redrive -- <vendor|ingest> [--reason <text>] [--since <30m|2h|7d|ISO date>] [--dry-run] [--stack <name> | --local <url>]";

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      reason: { type: "string" },
      since: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      stack: { type: "string" },
      local: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const queueName = positionals[0];
  if (values.help || queueName === undefined || positionals.length > 1) {
    console.error(USAGE);
    return 2;
  }
  let since: number | undefined;
  if (values.since !== undefined) {
    since = parseSince(values.since, Date.now());
    if (since === undefined) {
      console.error(
        `--since: ${JSON.stringify(values.since)} is neither a duration (30m, 2h, 7d) nor a date`,
      );
      return 2;
    }
  }
  const target = await resolveTarget({
    ...(values.stack !== undefined ? { stack: values.stack } : {}),
    ...(values.local !== undefined ? { local: values.local } : {}),
  });
  const queue = target.queues[queueName];
  if (queue === undefined) {
    console.error(
      `no queue ${JSON.stringify(queueName)} in ${target.description}; known: ${Object.keys(target.queues).join(", ")}`,
    );
    return 2;
  }
  const dryRun = values["dry-run"] ?? false;
  console.log(
    `${dryRun ? "Dry run: counting" : "Moving"} parked ${queueName} jobs${values.reason ? ` whose reason contains ${JSON.stringify(values.reason)}` : ""}` +
      `${since !== undefined ? ` parked since ${new Date(since).toISOString()}` : ""} (${target.description})`,
  );
  const summary = await redrive({
    sqs: target.sqs,
    deadLetterUrl: queue.dlqUrl,
    queueUrl: queue.url,
    dryRun,
    ...(values.reason !== undefined ? { reason: values.reason } : {}),
    ...(since !== undefined ? { since } : {}),
    onProgress: ({ seen, total, moved }) => {
      if (process.stdout.isTTY)
        process.stdout.write(`\r${progressBar(seen, total)} ${seen}/${total} seen, ${moved} moved`);
    },
  });
  if (process.stdout.isTTY) process.stdout.write("\n");
  printSummary(summary, dryRun);
  target.sqs.destroy();
  return 0;
}

function progressBar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.min(width, Math.round((done / total) * width));
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}

function printSummary(summary: RedriveSummary, dryRun: boolean): void {
  const rows = summary.byReason.map((r) => [
    String(r.matched),
    dryRun ? "-" : String(r.moved),
    String(r.left),
    r.reason,
  ]);
  const header = ["matched", "moved", "left", "reason"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i < 3 ? cell.padStart(widths[i]!) : cell)).join("  ");
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log(
    `${summary.seen} parked job(s) looked at: ${summary.matched} matched, ${dryRun ? "none moved (dry run)" : `${summary.moved} moved back`}, ${summary.left} left in the dead-letter queue.`,
  );
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  },
);
