/**
 * Settings of the local runtime, read from the environment once. The defaults exist so that
 * `npm start` works on a fresh clone; they are printed whenever they are used.
 */
export const LOCAL_DEFAULTS = {
  PORT: "8787",
  CHATPUSH_SDK_APP_ID: "1400000000",
  CHATPUSH_CALLBACK_TOKEN: "chatpush-local-callback-token",
  CHATPUSH_SECRET_KEY: "chatpush-local-usersig-secret-key",
  CHATPUSH_DATA_DIR: ".chatpush",
} as const;

export interface LocalSettings {
  port: number;
  sdkAppId: string;
  /** Empty string = callback authentication off. */
  callbackToken: string;
  secretKey: string;
  dataDir: string;
  /** Optional JSON file with real vendor credentials ({"apns": [...], "fcm": [...]}). */
  credentialsFile?: string;
  /** Names of the settings that fell back to their defaults. */
  defaulted: string[];
}

export function localSettings(env: NodeJS.ProcessEnv = process.env): LocalSettings {
  const defaulted: string[] = [];
  const read = (name: keyof typeof LOCAL_DEFAULTS): string => {
    const value = env[name];
    if (value !== undefined) return value;
    defaulted.push(name);
    return LOCAL_DEFAULTS[name];
  };
  const port = Number(read("PORT"));
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got ${env.PORT}`);
  const settings: LocalSettings = {
    port,
    sdkAppId: read("CHATPUSH_SDK_APP_ID"),
    callbackToken: read("CHATPUSH_CALLBACK_TOKEN"),
    secretKey: read("CHATPUSH_SECRET_KEY"),
    dataDir: read("CHATPUSH_DATA_DIR"),
    defaulted,
  };
  if (env.CHATPUSH_CREDENTIALS_FILE) settings.credentialsFile = env.CHATPUSH_CREDENTIALS_FILE;
  return settings;
}
