import { Duration, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { ENV } from "../../lib/config/env-names.js";
import type { Vendor } from "../../lib/model/index.js";
import { maxConcurrency, type VendorSettings } from "../../lib/vendors/settings.js";
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
}

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

    this.worker = new PushFunction(this, "Worker", {
      entry: `functions/deliver-${vendor}.ts`,
      description: `chatpush: delivers ${vendor} jobs`,
      timeout,
    })
      .bindTable(ENV.tableName, props.table)
      .bindQueueSender(ENV.vendorQueueUrl, this.jobs.queue)
      .bindQueueSender(ENV.vendorDlqUrl, this.jobs.deadLetterQueue)
      .bindSecret(ENV.credentialsSecret, this.credentials, props.credentialsSecretName)
      .consume(this.jobs.queue, { batchSize: settings.batchSize, maxConcurrency: maxConcurrency(settings) });
  }
}
