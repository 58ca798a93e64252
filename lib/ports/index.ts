export * from "./calls.js";
export * from "./clock.js";
export * from "./delivery.js";
export * from "./journal.js";
export * from "./queues.js";
export * from "./sender.js";
export * from "./stores.js";
