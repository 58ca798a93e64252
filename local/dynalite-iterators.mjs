// dynalite 4.0.0 never closes the LevelDB iterators behind its Query and Scan streams: its stream's
// destroy() calls `iterator.return()` (node_modules/dynalite/db/index.js, createValueStream and
// createKeyStream), which abstract-level 3's iterators do not have — they end with `close()`
// (node_modules/abstract-level/abstract-iterator.js). Every query then leaves an open iterator, and
// with it a LevelDB snapshot that pins old memtables: the soak's RSS grew ~250 MB a minute
// (a bare dynalite at ~1,800 calls/s: 240 -> 779 MB in 90 s) while the live JS heap stayed small.
// Explicit close is what LevelDB requires (Level/leveldown#272; ipfs/js-datastore-level#26).
// Plain JavaScript: dynalite's worker thread loads it without the TypeScript loader.
import { createRequire } from "node:module";

const from = (path) => createRequire(path);
const dynalitePath = from(import.meta.url).resolve("dynalite");
// The abstract-level that dynalite's stores use: on disk (level -> classic-level) and in memory.
const classicLevel = from(from(dynalitePath).resolve("level")).resolve("classic-level");
const memoryLevel = from(dynalitePath).resolve("memory-level");
const abstractLevels = new Set([classicLevel, memoryLevel].map((path) => from(path)("abstract-level")));

export const iteratorClasses = [...abstractLevels].flatMap((level) => [
  level.AbstractIterator,
  level.AbstractKeyIterator,
  level.AbstractValueIterator,
]);
for (const Iterator of iteratorClasses) {
  if (typeof Iterator?.prototype.return === "function") continue;
  Object.defineProperty(Iterator.prototype, "return", {
    configurable: true,
    writable: true,
    /** An async iterator's return(): close it (idempotent in abstract-level). */
    async value() {
      await this.close();
      return { done: true, value: undefined };
    },
  });
}
