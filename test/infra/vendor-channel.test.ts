import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { AttributeType, BillingMode, Table } from "aws-cdk-lib/aws-dynamodb";
import { describe, expect, it } from "vitest";
import { VendorChannel } from "../../infra/constructs/vendor-channel.js";
import { ENV } from "../../lib/config/env-names.js";
import { VENDOR_SETTINGS } from "../../lib/vendors/settings.js";

/** One channel in a stack of its own; bundling is skipped (these tests read the template). */
function synth(context: Record<string, unknown> = {}) {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [], ...context } });
  const stack = new Stack(app, "Test");
  const table = new Table(stack, "Table", {
    partitionKey: { name: "pk", type: AttributeType.STRING },
    sortKey: { name: "sk", type: AttributeType.STRING },
    billingMode: BillingMode.PAY_PER_REQUEST,
  });
  const channel = new VendorChannel(stack, "MeizuChannel", {
    vendor: "meizu",
    settings: VENDOR_SETTINGS.meizu,
    table,
    credentialsSecretName: "chatpush/meizu",
  });
  return { channel, template: Template.fromStack(stack) };
}

describe("VendorChannel", () => {
  it("alarms on credential problems and on held token removals, per vendor", () => {
    const { template } = synth();
    for (const metricName of ["CredentialProblem", "TokenRemovalsHeld"]) {
      template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        Namespace: "chatpush",
        MetricName: metricName,
        Dimensions: Match.arrayWith([
          { Name: "service", Value: "chatpush" },
          { Name: "vendor", Value: "meizu" },
        ]),
        Statistic: "Sum",
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
        TreatMissingData: "notBreaching",
      });
    }
  });

  it("passes the operator's rate and breaker thresholds from CDK context, and sizes concurrency from the rate", () => {
    const { template } = synth({
      vendorQps: '{"meizu":20,"xiaomi":700}',
      tokenBreaker: { share: 0.8 },
    });
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: {
        Variables: Match.objectLike({
          [ENV.vendorQps]: '{"meizu":20}',
          [ENV.tokenBreaker]: '{"share":0.8,"minAnswers":100,"windowSeconds":600}',
        }),
      },
    });
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it("sets no rate of its own without context (the documented rates apply)", () => {
    const { template } = synth();
    const functions = template.findResources("AWS::Lambda::Function");
    for (const fn of Object.values(functions)) {
      expect(Object.keys(fn.Properties.Environment.Variables)).not.toContain(ENV.vendorQps);
    }
  });

  it("fails the synth on a mistyped rate", () => {
    expect(() => synth({ vendorQps: '{"meizoo":20}' })).toThrow('vendorQps: "meizoo" is not a vendor');
  });
});
