/**
 * The environment the deployed functions run with, set before any Powertools singleton is built
 * (this module is imported first): PushFunction sets POWERTOOLS_SERVICE_NAME and no log level, so
 * the Logger logs at INFO (its default) and Metrics writes one EMF line per flush to stdout.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
process.env.POWERTOOLS_SERVICE_NAME = "chatpush";
for (const name of [
  "LOG_LEVEL",
  "POWERTOOLS_LOG_LEVEL",
  "AWS_LAMBDA_LOG_LEVEL",
  "POWERTOOLS_DEV",
  "POWERTOOLS_LOGGER_SAMPLE_RATE",
  "POWERTOOLS_METRICS_DISABLED",
]) {
  delete process.env[name];
}
