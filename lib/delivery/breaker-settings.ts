import { type CircuitBreakerSettings, DEFAULT_CIRCUIT_BREAKER } from "./circuit-breaker.js";
import { DEFAULT_TOKEN_BREAKER, type TokenBreakerSettings } from "./token-breaker.js";

export class BreakerSettingsError extends Error {
  override name = "BreakerSettingsError";
}

type Rule = (value: number) => boolean;

/** Reads `{"field": number, …}` (a JSON string, or what CDK context parsed) over the defaults. */
function parseSettings<T extends object>(
  value: unknown,
  name: string,
  defaults: T,
  rules: Record<keyof T, Rule>,
): T {
  if (value === undefined || value === "") return { ...defaults };
  let parsed = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new BreakerSettingsError(`${name} must be JSON, e.g. ${JSON.stringify(defaults)}`);
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new BreakerSettingsError(`${name} must be a JSON object, e.g. ${JSON.stringify(defaults)}`);
  }
  const settings = { ...defaults } as Record<string, number>;
  for (const [field, v] of Object.entries(parsed)) {
    const rule = (rules as Record<string, Rule>)[field];
    if (rule === undefined) {
      throw new BreakerSettingsError(
        `${name}.${field} is not a setting (${Object.keys(defaults).join(", ")})`,
      );
    }
    if (typeof v !== "number" || !Number.isFinite(v) || !rule(v)) {
      throw new BreakerSettingsError(`${name}.${field} is out of range: ${JSON.stringify(v)}`);
    }
    settings[field] = v;
  }
  return settings as T;
}

const positive: Rule = (v) => v > 0;

/** The token-removal breaker's thresholds: `CHATPUSH_TOKEN_BREAKER` / CDK context `tokenBreaker`. */
export function parseTokenBreaker(value: unknown, name = "CHATPUSH_TOKEN_BREAKER"): TokenBreakerSettings {
  return parseSettings(value, name, DEFAULT_TOKEN_BREAKER, {
    share: (v) => v > 0 && v <= 1,
    minAnswers: (v) => Number.isInteger(v) && v >= 1,
    windowSeconds: (v) => v >= 60 && v <= 3600,
  });
}

/** The circuit breaker's thresholds: `CHATPUSH_CIRCUIT_BREAKER` / CDK context `circuitBreaker`. */
export function parseCircuitBreaker(
  value: unknown,
  name = "CHATPUSH_CIRCUIT_BREAKER",
): CircuitBreakerSettings {
  const settings = parseSettings(value, name, DEFAULT_CIRCUIT_BREAKER, {
    failures: (v) => Number.isInteger(v) && v >= 1,
    openSeconds: positive,
    maxOpenSeconds: (v) => v > 0 && v <= 900,
  });
  if (settings.maxOpenSeconds < settings.openSeconds) {
    throw new BreakerSettingsError(`${name}.maxOpenSeconds must not be below openSeconds`);
  }
  return settings;
}
