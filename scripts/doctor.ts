import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { documentClient } from "../lib/adapters/dynamodb/table.js";
import { DynamoUserStore } from "../lib/adapters/dynamodb/user-store.js";
import {
  type CredentialSource,
  checkCredentials,
  fileCredentials,
  formatReport,
  formatTestPush,
  localCredentials,
  secretCredentials,
  testPush,
} from "../lib/ops/doctor.js";
import { awsTarget, resolveTarget } from "../lib/ops/targets.js";

/**
 * `npm run doctor -- [--stack <name> [--secret-prefix chatpush] | --local <url>] [--credentials-file <file>]
 *   [--user <id> --test-push]`: checks every configured credential of every vendor against the vendor
 * (a request that needs it and delivers nothing) and prints one line per credential; exits 1 when any
 * is broken or could not be checked. With `--user <id> --test-push` it then sends a test notification
 * to that user's devices through the real senders and prints each vendor's answer.
 *
 * Credentials: locally, the running `npm start`'s (GET /_local/credentials: its simulators', or
 * CHATPUSH_CREDENTIALS_FILE's); with `--stack`, the secrets the workers read (`<prefix>/<vendor>`);
 * with `--credentials-file`, that file (CHATPUSH_CREDENTIALS_FILE's shape), e.g. before putting it in
 * Secrets Manager.
 */

const USAGE =
  "usage: npm run doctor -- [--stack <name> [--secret-prefix chatpush] | --local <url>] [--credentials-file <file>] [--user <id> --test-push]";

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      stack: { type: "string" },
      local: { type: "string" },
      "secret-prefix": { type: "string" },
      "credentials-file": { type: "string" },
      user: { type: "string" },
      "test-push": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help || positionals.length > 0 || values["test-push"] !== (values.user !== undefined)) {
    console.error(USAGE);
    return 2;
  }
  const localUrl = values.local ?? `http://127.0.0.1:${process.env.PORT ?? "8787"}`;
  const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;

  let source: CredentialSource;
  const file = values["credentials-file"];
  if (file !== undefined) source = fileCredentials(file, readFileSync(file, "utf8"));
  else if (values.stack !== undefined) {
    // The stack's outputs name each worker's secret; a stack deployed before they existed falls back
    // on the prefix.
    const stack = await awsTarget(values.stack);
    stack.sqs.destroy();
    source = await secretCredentials({
      prefix: values["secret-prefix"] ?? "chatpush",
      outputs: stack.outputs,
    });
  } else source = await localCredentials(localUrl);

  console.log(`Checking the vendor credentials of ${source.description}`);
  const checks = await checkCredentials(source.credentials);
  const report = formatReport(source, checks, { color });
  for (const line of report.lines) console.log(line);
  const broken = checks.filter((check) => check.status !== "ok").length;
  console.log(
    report.healthy
      ? `All ${checks.length} credential(s) accepted.`
      : `${broken} of ${checks.length} credential(s) not accepted, or a source unreadable: see above.`,
  );

  if (values.user !== undefined) {
    const target = await resolveTarget({
      ...(values.stack !== undefined ? { stack: values.stack } : {}),
      local: localUrl,
    });
    target.sqs.destroy();
    const tableName = target.outputs.TableName;
    if (tableName === undefined) throw new Error(`${target.description} names no table (TableName)`);
    const endpoint = target.outputs.DynamoDbEndpoint;
    const dynamodb = new DynamoDBClient(
      endpoint === undefined
        ? {}
        : { endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } },
    );
    const devices = await new DynamoUserStore(documentClient(dynamodb), tableName).list(values.user);
    dynamodb.destroy();
    console.log(`\nTest push to ${values.user}'s ${devices.length} device(s) (${target.description}):`);
    if (devices.length === 0) console.log(`- ${values.user} has no registered device`);
    for (const answer of await testPush(devices, source.credentials)) console.log(formatTestPush(answer));
  }
  return report.healthy ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  },
);
