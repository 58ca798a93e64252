// dynalite on its own thread (`npm start`): the DynamoDB API server's request parsing, LevelDB and
// JSON work run beside the pipeline instead of on its event loop, so a machine's second core serves
// it. Plain JavaScript: a worker thread loads it without the TypeScript loader.
import { parentPort, workerData } from "node:worker_threads";
import dynalite from "dynalite";
import "./dynalite-iterators.mjs";

const server = dynalite({ createTableMs: 0, ...(workerData?.path ? { path: workerData.path } : {}) });
const counts = {};
server.on("request", (request) => {
  const target = request.headers["x-amz-target"];
  const operation = typeof target === "string" ? (target.split(".").pop() ?? target) : "other";
  counts[operation] = (counts[operation] ?? 0) + 1;
});
server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port }));
// The counts as of the last second, for `apiCalls()` (benchmarks count in-process instead).
// Also this thread's own heap: the main thread's process.memoryUsage() does not include it.
const reporter = setInterval(() => {
  const { heapUsed, heapTotal } = process.memoryUsage();
  parentPort.postMessage({ calls: counts, heapUsedBytes: heapUsed, heapTotalBytes: heapTotal });
}, 1000);
reporter.unref();
parentPort.on("message", (message) => {
  if (message !== "close") return;
  clearInterval(reporter);
  server.closeAllConnections?.();
  server.close(() => parentPort.postMessage({ closed: true }));
});
