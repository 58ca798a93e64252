import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import {
  ChatpushStack,
  type ChatpushStackProps,
  DEFAULT_HTTP_RESERVED_CONCURRENCY,
} from "../../infra/chatpush-stack.js";
import { ENV } from "../../lib/config/env-names.js";

const synth = (props: Partial<ChatpushStackProps> = {}) => {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  const stack = new ChatpushStack(app, "Edge", { sdkAppId: "1400012345", ...props });
  return { stack, template: Template.fromStack(stack) };
};
const reservedOf = ({ stack, template }: ReturnType<typeof synth>) => {
  const id = stack.getLogicalId(stack.httpApi.function.node.defaultChild as never);
  return template.toJSON().Resources[id].Properties.ReservedConcurrentExecutions as number | undefined;
};

// Each test synthesizes whole stacks in process: seconds alone, far more on a machine running benchmarks.
describe("the public HTTP function", { timeout: 60_000 }, () => {
  it(`has reserved concurrency (${DEFAULT_HTTP_RESERVED_CONCURRENCY} by default), so unsigned floods cannot take the account's`, () => {
    expect(reservedOf(synth())).toBe(DEFAULT_HTTP_RESERVED_CONCURRENCY);
  });

  it("takes another number, or none for new accounts with low quotas", () => {
    expect(reservedOf(synth({ httpReservedConcurrency: 25 }))).toBe(25);
    expect(reservedOf(synth({ httpReservedConcurrency: null }))).toBeUndefined();
  });

  it("refuses 0 (it would throttle every request) and non-integers", () => {
    expect(() => synth({ httpReservedConcurrency: 0 })).toThrow(/positive integer/);
    expect(() => synth({ httpReservedConcurrency: 2.5 })).toThrow(/positive integer/);
  });

  it("always binds the callback token secret (deployed, authentication is never off) and passes the takeover age", () => {
    const { stack, template } = synth({ tokenTakeoverDays: 7 });
    const id = stack.getLogicalId(stack.httpApi.function.node.defaultChild as never);
    const env = template.toJSON().Resources[id].Properties.Environment.Variables;
    expect(env[ENV.callbackTokenSecret]).toBe("chatpush/callback-token");
    expect(env[ENV.tokenTakeoverDays]).toBe("7");
  });
});
