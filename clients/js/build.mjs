// Bundles src/index.js twice with esbuild: the browser script that Belfry serves
// (app/static/belfry/belfry.js, an IIFE defining <belfry-inbox> and window.Belfry) and an ES
// module for bundlers (dist/belfry.mjs). The output depends on the sources and the locked
// esbuild alone, so the committed browser script can be checked against a fresh build.
//
//   node build.mjs [--out-dir DIR]   (DIR receives belfry.js and belfry.mjs instead)
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf("--out-dir");
const outDir = flag >= 0 ? path.resolve(process.argv[flag + 1]) : null;

const common = {
  entryPoints: [path.join(here, "src/index.js")],
  bundle: true,
  minify: true,
  target: ["es2020"],
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
  absWorkingDir: here,
};

await build({
  ...common,
  format: "iife",
  globalName: "Belfry",
  platform: "browser",
  outfile: outDir ? path.join(outDir, "belfry.js") : path.join(here, "../../app/static/belfry/belfry.js"),
  banner: { js: "/* Belfry browser client: <belfry-inbox> and window.Belfry. Built from clients/js (npm run build). */" },
});

await build({
  ...common,
  format: "esm",
  platform: "neutral",
  mainFields: ["module", "main"],
  external: ["graphql-ws"], // a dependency of the package: the application's bundler resolves it
  outfile: outDir ? path.join(outDir, "belfry.mjs") : path.join(here, "dist/belfry.mjs"),
});
