import { Duration, Validations } from "aws-cdk-lib";
import {
  Alarm,
  ComparisonOperator,
  Metric,
  type MetricOptions,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { ENV } from "../../lib/config/env-names.js";
import { parseCircuitBreaker, parseTokenBreaker } from "../../lib/delivery/breaker-settings.js";
import { JOB_METRICS, JOB_METRICS_NAMESPACE } from "../../lib/delivery/job-metrics.js";
import type { Vendor } from "../../lib/model/index.js";
import { parseVendorQps, type VendorSettings, workerConcurrency } from "../../lib/vendors/settings.js";
import { DurableQueue } from "./durable-queue.js";
import { PushFunction } from "./push-function.js";

export interface VendorChannelProps {
  vendor: Vendor;
  /** The vendor's row of VENDOR_SETTINGS. */
  settings: VendorSettings;
  /** The device table: the worker removes devices whose token the vendor rejects. */
  table: ITable;
  /** Name of the secret holding the vendor's credential list, e.g. "chatpush/apns". */
  credentialsSecretName: string;
  /**
   * Vendor rates (`{"meizu":20}`, per credential `{"xiaomi":{"*":500,"30001":2000}}`); default: CDK
   * context `vendorQps`, else the documented rates.
   */
  vendorQps?: unknown;
  /** Token-removal breaker thresholds; default: CDK context `tokenBreaker`, else 50% of ≥ 100 in 10 min. */
  tokenBreaker?: unknown;
  /** Circuit breaker thresholds; default: CDK context `circuitBreaker`, else 5 failures, 30 s doubling to 5 min. */
  circuitBreaker?: unknown;
}

/** The service dimension Powertools adds to every metric (PushFunction's POWERTOOLS_SERVICE_NAME). */
const SERVICE_NAME = "chatpush";

/**
 * One push vendor end to end: its job queue and dead-letter queue (with alarms), the credentials
 * secret, and the worker `functions/deliver-<vendor>.ts` consuming the queue. The worker may re-enqueue
 * retries on its own queue and park jobs in its own DLQ, and can reach no other vendor's resources.
 */
export class VendorChannel extends Construct {
  readonly vendor: Vendor;
  readonly jobs: DurableQueue;
  readonly credentials: Secret;
  readonly worker: PushFunction;
  /** CredentialProblem > 0: the vendor refused our credential or configuration; jobs are parked. */
  readonly credentialProblemAlarm: Alarm;
  /** TokenRemovalsHeld > 0: the token-removal breaker holds; dead-token answers are parked, not removed. */
  readonly tokenRemovalsHeldAlarm: Alarm;

  constructor(scope: Construct, id: string, props: VendorChannelProps) {
    super(scope, id);
    const { vendor, settings } = props;
    const timeout = Duration.seconds(settings.timeoutSeconds);
    this.vendor = vendor;

    this.jobs = new DurableQueue(this, "Jobs", {
      consumerTimeout: timeout,
      maxReceiveCount: settings.maxReceiveCount,
    });

    this.credentials = new Secret(this, "Credentials", {
      secretName: props.credentialsSecretName,
      description: `chatpush ${vendor} credentials: replace the placeholder with the JSON array of credentials (see README, Configure).`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ replaceMe: `JSON array of ${vendor} credentials` }),
        generateStringKey: "placeholder",
        excludePunctuation: true,
      },
    });
    Validations.of(this.credentials.node.defaultChild!).acknowledge({
      id: "AwsSolutions-SMG4",
      reason: `The ${vendor} credentials (e.g. an APNs .p8 key, a Firebase service-account key) are issued in the vendor's developer console, so a rotation Lambda cannot renew them; operators replace the value when they rotate the credential there.`,
    });

    // -c vendorQps='{"meizu":20}' etc.: checked here, so a typo fails the synth, not the worker.
    const qps = parseVendorQps(props.vendorQps ?? this.node.tryGetContext("vendorQps"), "vendorQps");
    const tokenBreaker = props.tokenBreaker ?? this.node.tryGetContext("tokenBreaker");
    const circuitBreaker = props.circuitBreaker ?? this.node.tryGetContext("circuitBreaker");
    const environment: Record<string, string> = {};
    if (qps[vendor] !== undefined) environment[ENV.vendorQps] = JSON.stringify({ [vendor]: qps[vendor] });
    if (tokenBreaker !== undefined) {
      environment[ENV.tokenBreaker] = JSON.stringify(parseTokenBreaker(tokenBreaker, "tokenBreaker"));
    }
    if (circuitBreaker !== undefined) {
      environment[ENV.circuitBreaker] = JSON.stringify(parseCircuitBreaker(circuitBreaker, "circuitBreaker"));
    }

    this.worker = new PushFunction(this, "Worker", {
      entry: `functions/deliver-${vendor}.ts`,
      description: `chatpush: delivers ${vendor} jobs`,
      timeout,
      environment,
    })
      .bindTable(ENV.tableName, props.table)
      .bindQueueSender(ENV.vendorQueueUrl, this.jobs.queue)
      .bindQueueSender(ENV.vendorDlqUrl, this.jobs.deadLetterQueue)
      .bindSecret(ENV.credentialsSecret, this.credentials, props.credentialsSecretName)
      // Each container paces itself at the vendor's rate divided by this (lib/vendors/settings.ts).
      .consume(this.jobs.queue, {
        batchSize: settings.batchSize,
        maxConcurrency: workerConcurrency(vendor, qps),
      });

    const metric = (metricName: string) => this.metricJob(metricName, { period: Duration.minutes(1) });
    const anyInAMinute = {
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    };
    this.credentialProblemAlarm = new Alarm(this, "CredentialProblemAlarm", {
      alarmDescription: `${vendor} refused chatpush's credential or configuration (wrong project, app id, sender, region): the jobs are parked in the ${vendor} dead-letter queue with the reason and no device was removed. Fix the credential, then redrive.`,
      metric: metric(JOB_METRICS.credentialProblems),
      ...anyInAMinute,
    });
    this.tokenRemovalsHeldAlarm = new Alarm(this, "TokenRemovalsHeldAlarm", {
      alarmDescription: `Most recent ${vendor} answers for one credential said "dead token": chatpush stopped removing devices for it and parks those jobs in the ${vendor} dead-letter queue. Check the credential (a misconfiguration looks like every token being dead), then redrive.`,
      metric: metric(JOB_METRICS.tokenRemovalsHeld),
      ...anyInAMinute,
    });
  }

  /**
   * One of the metrics the worker writes per job (lib/delivery/job-metrics.ts) for this vendor; Sum over
   * five minutes unless `options` say otherwise.
   */
  metricJob(metricName: string, options: MetricOptions = {}): Metric {
    return new Metric({
      namespace: JOB_METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: SERVICE_NAME, vendor: this.vendor },
      statistic: "Sum",
      period: Duration.minutes(5),
      ...options,
    });
  }
}
