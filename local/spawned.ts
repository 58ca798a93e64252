import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import type { TimedJournalEntry } from "./runtime.js";
import type { SimulatedDelivery } from "./simulators/hub.js";

/**
 * `npm start` as a separate process, for the suites that must kill it (the crash test), measure its
 * memory (the soak) or load it from outside (the fault run).
 */
export interface SpawnedRuntime {
  url: string;
  pid: number;
  process: ChildProcess;
  /** Sends the signal and waits for the process to end. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface SpawnOptions {
  dataDir: string;
  /** Extra environment (CHATPUSH_VENDOR_QPS, …). */
  env?: Record<string, string>;
  /** Where the runtime's output goes; default: discarded. */
  output?: "inherit" | "ignore";
  /** Node options for the child, e.g. a heap cap. */
  nodeOptions?: string;
  /** Node flags NODE_OPTIONS does not take, e.g. `--cpu-prof`. */
  execArgv?: string[];
}

/** A free TCP port on 127.0.0.1, as the OS hands it out. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function spawnRuntime(options: SpawnOptions): Promise<SpawnedRuntime> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(options.execArgv ?? []), "--import", "tsx", "local/main.ts"], {
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      PORT: String(port),
      CHATPUSH_DATA_DIR: options.dataDir,
      ...(options.nodeOptions !== undefined ? { NODE_OPTIONS: options.nodeOptions } : {}),
      ...options.env,
    },
    stdio: ["ignore", options.output ?? "ignore", options.output ?? "ignore"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`npm start exited with ${child.exitCode} before it was ready`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error("npm start was not ready within 60 s");
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    pid: child.pid ?? 0,
    process: child,
    async kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface StreamEvents {
  onDelivery?: (delivery: SimulatedDelivery) => void;
  onJournal?: (entry: TimedJournalEntry) => void;
}

/** Follows `GET /_local/stream` (server-sent events) until `close()`. */
export async function followStream(baseUrl: string, events: StreamEvents): Promise<{ close(): void }> {
  const abort = new AbortController();
  const response = await fetch(`${baseUrl}/_local/stream`, { signal: abort.signal });
  if (!response.ok || response.body === null) throw new Error(`/_local/stream answered ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event === undefined || data === undefined) continue;
          if (event === "delivery") events.onDelivery?.(JSON.parse(data) as SimulatedDelivery);
          if (event === "journal") events.onJournal?.(JSON.parse(data) as TimedJournalEntry);
        }
      }
    } catch {
      // aborted
    }
  })();
  return { close: () => abort.abort() };
}
