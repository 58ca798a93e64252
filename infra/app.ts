import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { ChatpushStack } from "./chatpush-stack.js";

const app = new App();
// A placeholder: every team MUST deploy with its own SDKAppID, `npx cdk deploy -c sdkAppId=1400123456`.
const sdkAppId = String(app.node.tryGetContext("sdkAppId") ?? "1400000000");
const secretPrefix: string | undefined = app.node.tryGetContext("secretPrefix");
const pushOnlineOnlyGroups = String(app.node.tryGetContext("pushOnlineOnlyGroups")) === "true";
// The public HTTP function's reserved concurrency: a number, or "none" (new accounts with low quotas).
const reserved: unknown = app.node.tryGetContext("httpReservedConcurrency");
const httpReservedConcurrency =
  reserved === undefined ? undefined : reserved === "none" ? null : Number(reserved);
// Days after which another user may take an unrefreshed registration's token (default 30).
const takeover: unknown = app.node.tryGetContext("tokenTakeoverDays");
const tokenTakeoverDays = takeover === undefined ? undefined : Number(takeover);
// Every alarm notifies one SNS topic; `-c alarmEmail=ops@example.com` subscribes that address.
const alarmEmail: string | undefined = app.node.tryGetContext("alarmEmail");
// `-c deliveryEvents=true`: the DeliveryEvents topic the workers publish delivery outcomes to.
const deliveryEvents = flag(app.node.tryGetContext("deliveryEvents"), "deliveryEvents");
// Env-agnostic: account and region come from the credentials that deploy it.
new ChatpushStack(app, "Chatpush", {
  sdkAppId,
  secretPrefix,
  pushOnlineOnlyGroups,
  httpReservedConcurrency,
  tokenTakeoverDays,
  ...(alarmEmail !== undefined ? { alarmEmail: String(alarmEmail) } : {}),
  deliveryEvents,
});
// Findings are fixed or acknowledged one by one, next to the resource that causes them; the
// acknowledgements are copied into the template metadata (cdk_nag.rules_to_suppress) for audit.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));

/** A true/false context value (`-c name=true` arrives as the string "true"); anything else fails the synth. */
function flag(value: unknown, name: string): boolean {
  if (value === undefined || value === false || value === "false") return false;
  if (value === true || value === "true") return true;
  throw new Error(`${name} must be true or false, got ${JSON.stringify(value)}`);
}
