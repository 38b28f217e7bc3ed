// Builds the client from src/: with esbuild, the browser script that Belfry serves
// (app/static/belfry/belfry.js, an IIFE defining <belfry-inbox> and window.Belfry) and the ES
// module that the npm package exports (dist/belfry.mjs); with TypeScript, the package's
// declarations (dist/types), generated from the sources' JSDoc. Every output is committed, so
// installing the package (from this folder, or from its tarball) builds nothing; the output
// depends on the sources and the locked tools alone, and a test checks that what is committed
// is a fresh build.
//
//   node build.mjs [--out-dir DIR]   (DIR receives belfry.js, belfry.mjs and types/ instead)
import { build } from "esbuild";
import { copyFile, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const here = path.dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf("--out-dir");
const outDir = flag >= 0 ? path.resolve(process.argv[flag + 1]) : null;
const dist = outDir ?? path.join(here, "dist");

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
  outfile: path.join(dist, "belfry.mjs"),
});

await declarations(path.join(dist, "types"));

/** Emits a .d.ts for each module of src/, then the package's entry (types/belfry.d.ts). */
async function declarations(/** @type {string} */ typesDir) {
  await rm(typesDir, { recursive: true, force: true }); // no declaration of a module since removed
  const program = ts.createProgram([path.join(here, "src/index.js")], {
    allowJs: true,
    declaration: true,
    emitDeclarationOnly: true,
    outDir: typesDir,
    rootDir: path.join(here, "src"),
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
    skipLibCheck: true,
    newLine: ts.NewLineKind.LineFeed,
  });
  const { diagnostics } = program.emit();
  if (diagnostics.length) {
    const host = { getCanonicalFileName: (/** @type {string} */ f) => f, getCurrentDirectory: () => here, getNewLine: () => "\n" };
    throw new Error(ts.formatDiagnostics(diagnostics, host));
  }
  await copyFile(path.join(here, "types/belfry.d.ts"), path.join(typesDir, "belfry.d.ts"));
}
