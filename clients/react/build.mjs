// Builds @belfry/react from src/: the ES module (dist/index.mjs, by esbuild; React and
// @belfry/client stay imports, resolved by the application) and its declarations (dist/*.d.ts,
// by TypeScript, which also type-checks the sources: a type error fails the build). The output
// is committed, as @belfry/client's is, and a test checks that it is a fresh build.
//
//   node build.mjs [--out-dir DIR]   (DIR receives the output instead of dist)
import { build } from "esbuild";
import { rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const here = path.dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf("--out-dir");
const dist = flag >= 0 ? path.resolve(process.argv[flag + 1]) : path.join(here, "dist");

await rm(dist, { recursive: true, force: true }); // nothing left of a module since removed

await build({
  entryPoints: [path.join(here, "src/index.ts")],
  outfile: path.join(dist, "index.mjs"),
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: ["es2020"],
  jsx: "automatic",
  external: ["react", "react-dom", "react/jsx-runtime", "@belfry/client"],
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
  absWorkingDir: here,
});

const config = ts.getParsedCommandLineOfConfigFile(path.join(here, "tsconfig.json"), { outDir: dist }, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (diagnostic) => fail([diagnostic]),
});
const program = ts.createProgram(config.fileNames, config.options);
const diagnostics = [...ts.getPreEmitDiagnostics(program), ...program.emit().diagnostics];
if (diagnostics.length) fail(diagnostics);

function fail(/** @type {readonly ts.Diagnostic[]} */ diagnostics) {
  const host = { getCanonicalFileName: (/** @type {string} */ f) => f, getCurrentDirectory: () => here, getNewLine: () => "\n" };
  throw new Error(ts.formatDiagnostics(diagnostics, host));
}
