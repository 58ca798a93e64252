import { fileURLToPath } from "node:url";
import { type Duration, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Grant, type IGrantable, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { BUNDLING } from "../bundling.js";

/** The repository root: entries are resolved from here and esbuild runs here. */
export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Item-level DynamoDB actions the functions use (transactions are authorised through these too). No
 * Scan, no stream or control-plane actions: a function that needs more gets it added here, reviewed.
 */
export const TABLE_DATA_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:ConditionCheckItem",
] as const;

export interface PushFunctionProps {
  /** Entry file relative to the repository root, e.g. "functions/http-api.ts". */
  entry: string;
  description: string;
  timeout: Duration;
  /** Default 512 MB. */
  memorySize?: number;
  /** Default "chatpush". */
  serviceName?: string;
  /** Extra environment variables (names, URLs and ARNs only; never secret values). */
  environment?: Record<string, string>;
  /** Reserved concurrency: at most this many instances, and never fewer available. Default none. */
  reservedConcurrentExecutions?: number;
}

export interface ConsumeOptions {
  batchSize: number;
  /**
   * How long the event source gathers records before it invokes with fewer than `batchSize`
   * (MaximumBatchingWindowInSeconds, 0–300 s; required ≥ 1 s for a batch size above 10:
   * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html). Default none.
   */
  maxBatchingWindow?: Duration;
  /** ESM maximum concurrency, 2–1000. */
  maxConcurrency: number;
}

/** A context value that must be one of `choices` (matched without case); `fallback` when unset. */
function contextChoice<T>(scope: Construct, key: string, fallback: string, choices: Record<string, T>): T {
  const value = String(scope.node.tryGetContext(key) ?? fallback).toUpperCase();
  const choice = choices[value];
  if (choice === undefined)
    throw new Error(`context ${key} must be one of ${Object.keys(choices).join(", ")}, not "${value}"`);
  return choice;
}

/**
 * X-Ray, `-c tracing=active|passthrough`, default passthrough. Lambda samples actively traced
 * invocations at a fixed 1 request per second + 5% ("You can't configure the X-Ray sampling rate for
 * your functions": https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html), $5 per 1M traces
 * (https://aws.amazon.com/xray/pricing/): $0.28 per 1M one-to-one pushes, the third-largest line of
 * `npm run bench:cost`, for what `npm run why` (per message) and the dashboard (per vendor) already show.
 */
const TRACING = { ACTIVE: Tracing.ACTIVE, PASSTHROUGH: Tracing.PASS_THROUGH };

/**
 * Lambda's own log lines, `-c systemLogLevel=DEBUG|INFO|WARN`, default WARN: at INFO Lambda writes a
 * "start" and a "report" line for every invocation, at WARN only its warnings and errors (timeouts,
 * crashes) — https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html.
 * ~300 B per invocation is $0.15 per 1M callbacks on the HTTP function alone; duration and memory
 * stay in Lambda's own metrics. Log-level filtering needs the JSON log format (same page); our lines
 * are JSON already (Powertools), and a line without "level" counts as INFO, so EMF lines pass.
 */
const SYSTEM_LOG_LEVELS = {
  DEBUG: SystemLogLevel.DEBUG,
  INFO: SystemLogLevel.INFO,
  WARN: SystemLogLevel.WARN,
};

/**
 * Our own lines' level under the JSON log format, `-c applicationLogLevel=DEBUG|INFO`, default INFO.
 * Lambda filters by each line's "level" and Powertools follows the level Lambda sets
 * (AWS_LAMBDA_LOG_LEVEL), so this, not LOG_LEVEL, is what shows the per-device DEBUG lines. WARN and
 * ERROR are refused: Lambda gives a JSON line without a valid "level" the level INFO
 * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html), which the
 * Powertools EMF lines are, so either would drop every metric — and the alarms built on them.
 */
const APPLICATION_LOG_LEVELS = {
  DEBUG: ApplicationLogLevel.DEBUG,
  INFO: ApplicationLogLevel.INFO,
};
const METRIC_DROPPING_LOG_LEVELS = new Set(["WARN", "ERROR", "FATAL"]);

function applicationLogLevel(scope: Construct): ApplicationLogLevel {
  const asked = String(scope.node.tryGetContext("applicationLogLevel") ?? "").toUpperCase();
  if (METRIC_DROPPING_LOG_LEVELS.has(asked)) {
    throw new Error(
      `context applicationLogLevel ${asked} would drop the metrics and silence the alarms: Lambda counts ` +
        `the EMF lines, which carry no "level", as INFO; use INFO or DEBUG`,
    );
  }
  return contextChoice(scope, "applicationLogLevel", "INFO", APPLICATION_LOG_LEVELS);
}

/**
 * Every chatpush function: Node.js 22 on arm64, bundled by the local esbuild with `BUNDLING`, its own
 * log group (one month, JSON, Lambda's own lines at WARN), X-Ray as `-c tracing` says, and a role
 * that starts empty apart from writing its own logs.
 * Access comes only through the `bind*` / `consume` methods, each of which sets the environment
 * variable naming the resource and grants exactly the actions that use it.
 */
export class PushFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: PushFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, "LogGroup", { retention: RetentionDays.ONE_MONTH });
    // Our own role instead of AWSLambdaBasicExecutionRole, whose log actions apply to every log group ('*').
    this.role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `${props.description} (${props.entry})`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, "Function", {
      entry: `${PROJECT_ROOT}${props.entry}`,
      handler: "handler",
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      systemLogLevelV2: contextChoice(this, "systemLogLevel", "WARN", SYSTEM_LOG_LEVELS),
      applicationLogLevelV2: applicationLogLevel(this),
      tracing: contextChoice(this, "tracing", "PASSTHROUGH", TRACING),
      environment: {
        NODE_OPTIONS: "--enable-source-maps",
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? "chatpush",
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        target: BUNDLING.target,
        format: BUNDLING.format === "esm" ? OutputFormat.ESM : OutputFormat.CJS,
        minify: BUNDLING.minify,
        sourceMap: BUNDLING.sourcemap,
        sourcesContent: BUNDLING.sourcesContent,
        externalModules: [...BUNDLING.external],
        banner: BUNDLING.banner,
      },
    });

    // Acknowledged on the exact resources the findings name, so nothing added later inherits them.
    Validations.of(this.role.node.findChild("DefaultPolicy")).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "Only X-Ray's PutTraceSegments and PutTelemetryRecords (added by tracing: ACTIVE or PASS_THROUGH) are on '*': they support no resource-level permissions.",
    });
    Validations.of(this.function.node.defaultChild!).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "Node.js 22 on purpose: the bundles target node22 and the project is tested on that line; moving to a newer runtime is a deliberate, tested upgrade.",
    });
  }

  /** Read/write items of the table (TABLE_DATA_ACTIONS); `envName` receives its name. */
  bindTable(envName: string, table: ITable): this {
    this.function.addEnvironment(envName, table.tableName);
    table.grant(this.function, ...TABLE_DATA_ACTIONS);
    return this;
  }

  /** sqs:SendMessage on the queue and nothing else; `envName` receives its URL. */
  bindQueueSender(envName: string, queue: IQueue): this {
    this.function.addEnvironment(envName, queue.queueUrl);
    queue.grant(this.function, "sqs:SendMessage");
    return this;
  }

  /**
   * sns:Publish on the topic (PublishBatch is authorised by sns:Publish too) and, for an encrypted topic,
   * what publishing needs of its key: kms:GenerateDataKey and kms:Decrypt
   * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html), named one by one rather than
   * Topic.grants.publish's `kms:GenerateDataKey*` (a wildcard cdk-nag IAM5 flags). `envName` receives
   * the topic's ARN.
   */
  bindTopicPublisher(envName: string, topic: ITopic): this {
    this.function.addEnvironment(envName, topic.topicArn);
    Grant.addToPrincipal({
      grantee: this.function,
      actions: ["sns:Publish"],
      resourceArns: [topic.topicArn],
    });
    topic.masterKey?.grant(this.function, "kms:GenerateDataKey", "kms:Decrypt");
    return this;
  }

  /** secretsmanager:GetSecretValue on the secret; `envName` receives its name (never its value). */
  bindSecret(envName: string, secret: ISecret, secretName: string): this {
    this.function.addEnvironment(envName, secretName);
    grantGetSecretValue(this.function, secret);
    return this;
  }

  /**
   * Consumes the queue with partial batch responses (handlers return `batchItemFailures`, STYLE.md 7).
   * SqsEventSource grants the receive / delete / change-visibility actions the poller needs.
   */
  consume(queue: IQueue, options: ConsumeOptions): this {
    this.function.addEventSource(
      new SqsEventSource(queue, {
        batchSize: options.batchSize,
        ...(options.maxBatchingWindow !== undefined ? { maxBatchingWindow: options.maxBatchingWindow } : {}),
        maxConcurrency: options.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    return this;
  }
}

function grantGetSecretValue(grantee: IGrantable, secret: ISecret): void {
  // ISecret.grantRead also grants DescribeSecret, which the functions never call.
  Grant.addToPrincipal({
    grantee,
    actions: ["secretsmanager:GetSecretValue"],
    resourceArns: [secret.secretArn],
  });
}
