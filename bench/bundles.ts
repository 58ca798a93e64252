/**
 * Bundle size and module-init time of every function, bundled exactly as the stack bundles it
 * (infra/bundling.ts). Run: `npx tsx bench/bundles.ts`. `runBundleBench()` returns the rows for the
 * aggregate `npm run bench`.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { build, version as esbuildVersion } from "esbuild";
import { BUNDLING, esbuildOptions } from "../infra/bundling.js";
import { ENV, vendorQueueEnv } from "../lib/config/env-names.js";
import { ACTIVE_VENDORS } from "../lib/vendors/settings.js";

const PROJECT_ROOT = fileURLToPath(new URL("../", import.meta.url));
const FUNCTIONS_DIR = join(PROJECT_ROOT, "functions");

export interface BundleRow {
  /** Entry name without extension, e.g. "http-api". */
  function: string;
  bundleBytes: number;
  gzipBytes: number;
  sourceMapBytes: number;
  /** Median module-init time over `runs` fresh node processes; NaN when the import failed. */
  initMs: number;
  initSamplesMs: number[];
  /** Why the import failed, if it did. */
  error?: string;
}

export interface BundleBenchOptions {
  /** Fresh processes per function; the median is reported. Default 5. */
  runs?: number;
  /** Entry names to include (default: every functions/*.ts). */
  functions?: string[];
  /** Keep the temp dir with the bundles (its path is logged). */
  keep?: boolean;
}

/** Bundles one entry with the stack's options into `outDir`; returns the bundle's path. */
export async function bundleFunction(entry: string, outDir: string): Promise<string> {
  await build(esbuildOptions(entry, outDir, PROJECT_ROOT));
  return join(outDir, BUNDLING.outFile);
}

export async function listFunctions(): Promise<string[]> {
  const files = await readdir(FUNCTIONS_DIR);
  return files
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.endsWith(".test.ts"))
    .map((f) => basename(f, ".ts"))
    .sort();
}

// Imports the bundle the way the Lambda runtime does (dynamic import of index.mjs) and reports the
// time the import took, i.e. module init without the handler call.
const MEASURE_SCRIPT = `const start = performance.now();
await import(process.argv[2]);
process.stdout.write(String(performance.now() - start));
process.exit(0);
`;

export async function runBundleBench(options: BundleBenchOptions = {}): Promise<BundleRow[]> {
  const runs = options.runs ?? 5;
  const names = options.functions ?? (await listFunctions());
  const root = await mkdtemp(join(tmpdir(), "chatpush-bundles-"));
  try {
    // The bundles keep @aws-sdk/* external, as Lambda's runtime provides it; here the project's
    // node_modules stands in for /var/runtime/node_modules.
    await symlink(join(PROJECT_ROOT, "node_modules"), join(root, "node_modules"), "dir");
    const measure = join(root, "measure.mjs");
    await writeFile(measure, MEASURE_SCRIPT);

    const rows: BundleRow[] = [];
    for (const name of names) {
      const outDir = join(root, name);
      await mkdir(outDir);
      const bundle = await bundleFunction(join(FUNCTIONS_DIR, `${name}.ts`), outDir);
      const code = await readFile(bundle);
      const samples: number[] = [];
      let error: string | undefined;
      for (let i = 0; i < runs && error === undefined; i++) {
        const result = await timeImport(measure, bundle, name);
        if (typeof result === "number") samples.push(result);
        else error = result.error;
      }
      rows.push({
        function: name,
        bundleBytes: code.length,
        gzipBytes: gzipSync(code).length,
        sourceMapBytes: (await stat(`${bundle}.map`)).size,
        initMs: error === undefined ? median(samples) : Number.NaN,
        initSamplesMs: samples,
        ...(error === undefined ? {} : { error }),
      });
    }
    return rows;
  } finally {
    if (options.keep) console.error(`bundles kept in ${root}`);
    else await rm(root, { recursive: true, force: true });
  }
}

/** Environment of a fresh process: what the stack sets, with dummy names, and no way to reach AWS. */
function benchEnv(name: string): NodeJS.ProcessEnv {
  const queue = (q: string) => `https://sqs.us-east-1.amazonaws.com/123456789012/bench-${q}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_OPTIONS: "--enable-source-maps",
    POWERTOOLS_SERVICE_NAME: "chatpush",
    AWS_REGION: "us-east-1",
    AWS_LAMBDA_FUNCTION_NAME: `bench-${name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512",
    // Dummy static credentials and a closed local endpoint: an SDK call during init fails at once
    // instead of probing instance metadata or leaving the machine.
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ENDPOINT_URL: "http://127.0.0.1:9",
    [ENV.sdkAppId]: "1400000000",
    [ENV.tableName]: "bench-table",
    [ENV.ingestQueueUrl]: queue("ingest"),
    [ENV.callbackTokenSecret]: "chatpush/callback-token",
    [ENV.userSigKeySecret]: "chatpush/usersig-key",
    [ENV.vendorQueueUrl]: queue("vendor"),
    [ENV.vendorDlqUrl]: queue("vendor-dlq"),
    [ENV.credentialsSecret]: "chatpush/credentials",
  };
  for (const vendor of ACTIVE_VENDORS) env[vendorQueueEnv(vendor)] = queue(vendor);
  return env;
}

function timeImport(measure: string, bundle: string, name: string): Promise<number | { error: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [measure, pathToFileURL(bundle).href], {
      env: benchEnv(name),
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 30_000,
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("close", (code) => {
      const ms = Number(out);
      if (code === 0 && out !== "" && Number.isFinite(ms)) resolve(ms);
      else resolve({ error: lastLine(err) || `exit code ${code}` });
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return lines.find((l) => /Error/.test(l))?.trim() ?? lines.at(-1)?.trim() ?? "";
}

export function formatBundleTable(rows: readonly BundleRow[]): string {
  const header = ["function", "bundle bytes", "gzip bytes", "map bytes", "init ms (median)", "samples ms"];
  const body = rows.map((r) => [
    r.function,
    r.bundleBytes.toLocaleString("en-US"),
    r.gzipBytes.toLocaleString("en-US"),
    r.sourceMapBytes.toLocaleString("en-US"),
    Number.isNaN(r.initMs) ? `error: ${r.error}` : r.initMs.toFixed(1),
    r.initSamplesMs.map((s) => s.toFixed(0)).join(" "),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runBundleBench({ keep: process.argv.includes("--keep") });
  console.log(
    `Bundles: esbuild ${esbuildVersion}, ${BUNDLING.format} ${BUNDLING.target}, minified, @aws-sdk/* external. ` +
      `Init: import() of the bundle in a fresh node ${process.version} process with --enable-source-maps ` +
      "(Lambda runs Node.js 22 on arm64), median of 5.\n",
  );
  console.log(formatBundleTable(rows));
  if (rows.some((r) => r.error !== undefined)) process.exitCode = 1;
}
