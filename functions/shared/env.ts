import { getSecret } from "@aws-lambda-powertools/parameters/secrets";

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads a required environment variable, failing with a message that names it. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === "") {
    throw new ConfigError(`environment variable ${name} is not set`);
  }
  return value;
}

/** An optional positive number (e.g. a number of days); unset = undefined, anything else fails fast. */
export function optionalPositiveNumber(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  const value = env[name];
  if (value === undefined || value === "") return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw new ConfigError(
      `environment variable ${name} must be a positive number, got ${JSON.stringify(value)}`,
    );
  }
  return number;
}

/** Secrets are cached for five minutes: a rotated value is picked up without a redeploy. */
const SECRET_MAX_AGE_SECONDS = 300;

export async function readSecret(name: string): Promise<string> {
  const value = await getSecret(name, { maxAge: SECRET_MAX_AGE_SECONDS });
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8");
  throw new ConfigError(`secret ${name} is empty`);
}

/** Builds a value on first use and keeps it for the life of the execution environment. */
export function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}

/** Like `lazy` for async builders, but a failed build is tried again on the next call (a transient error must not poison the container). */
export function lazyAsync<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
