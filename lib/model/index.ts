export * from "./delivery.js";
export * from "./device.js";
export * from "./notification.js";
export * from "./outcome.js";
export * from "./vendor.js";
