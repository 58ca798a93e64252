import type { BuildOptions } from "esbuild";

/**
 * The esbuild settings every function is bundled with. The stack (through NodejsFunction, see
 * constructs/push-function.ts) and bench/bundles.ts both read this one object, so what the benchmark
 * measures is what is deployed.
 *
 * Why ESM with a `createRequire` banner rather than CJS: firebase-admin, google-auth-library and
 * @parse/node-apn are CommonJS and call `require("fs")`, `require("http2")`, ... at load time. Bundled
 * as plain ESM, esbuild's `__require` shim throws `Dynamic require of "fs" is not supported` during
 * init (seen with firebase-admin 13 / credential-internal.js); the banner gives those modules a real
 * `require`. CJS output runs them too, but then ESM-only dependencies (@middy/core 6) are rewritten
 * to CJS, where `import.meta` becomes `{}` and top-level await is a build error. ESM keeps both kinds
 * of package working and lets handlers use top-level await. The alias avoids clashing with a bundled
 * module that imports `createRequire` itself.
 */
export const BUNDLING = {
  platform: "node",
  /** Matches the Lambda runtime (NODEJS_22_X). */
  target: "node22",
  format: "esm",
  /** NodejsFunction names an ESM bundle index.mjs; the benchmark does the same. */
  outFile: "index.mjs",
  minify: true,
  /** Mapped stack traces via NODE_OPTIONS=--enable-source-maps. */
  sourcemap: true,
  /** Positions are enough for stack traces; embedding every dependency's source would double the asset. */
  sourcesContent: false,
  /** The Node.js 22 runtime ships AWS SDK v3; bundling it again only adds init time. */
  external: ["@aws-sdk/*"],
  banner:
    "import { createRequire as __chatpushCreateRequire } from 'node:module'; const require = __chatpushCreateRequire(import.meta.url);",
} as const;

/**
 * esbuild build options equivalent to the command NodejsFunction runs for `BUNDLING`
 * (`esbuild --bundle <entry> --target --platform --format --outfile --minify --sourcemap
 * --sources-content=false --external:... --banner:js=...`, from the project root).
 */
export function esbuildOptions(entry: string, outDir: string, projectRoot: string): BuildOptions {
  return {
    absWorkingDir: projectRoot,
    entryPoints: [entry],
    bundle: true,
    platform: BUNDLING.platform,
    target: BUNDLING.target,
    format: BUNDLING.format,
    outfile: `${outDir}/${BUNDLING.outFile}`,
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourcemap,
    sourcesContent: BUNDLING.sourcesContent,
    external: [...BUNDLING.external],
    banner: { js: BUNDLING.banner },
    logLevel: "warning",
  };
}
