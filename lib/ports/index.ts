export * from "./clock.js";
export * from "./sender.js";
export * from "./stores.js";
