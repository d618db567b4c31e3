#!/usr/bin/env node
// Fails when the static export (out/) contains anything that looks like a secret.
// Only NEXT_PUBLIC_* values are meant to reach the browser; this catches a server secret that
// slipped into client code or a NEXT_PUBLIC_ variable that should not have that prefix.
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";

const OUT_DIR = path.resolve(process.argv[2] ?? "out");
const TEXT_EXTENSIONS = new Set([".html", ".js", ".mjs", ".css", ".json", ".txt", ".map", ".xml", ".webmanifest", ".svg"]);

/** [label, pattern] pairs; keep them specific enough that minified libraries do not match. */
const SECRET_PATTERNS = [
  ["OpenAI-style API key (sk-…)", /\bsk-(?:proj-|live-|test-)?[A-Za-z0-9_-]{16,}/],
  ["JWT_SECRET", /JWT_SECRET/],
  ["OPENAI_API_KEY", /OPENAI_API_KEY/],
  ["ANTHROPIC_API_KEY", /ANTHROPIC_API_KEY/],
  ["DATABASE_URL", /DATABASE_URL/],
  ["SENTRY auth token", /SENTRY_AUTH_TOKEN/],
  ["Postgres connection string", /postgres(?:ql)?(?:\+\w+)?:\/\/[^\s"'`]+/i],
  ["Private key block", /-----BEGIN (?:RSA |EC |OPENSSH |DSA |ENCRYPTED )?PRIVATE KEY-----/],
  ["AWS access key id", /\bAKIA[0-9A-Z]{16}\b/],
  ["GitHub token", /\bgh[pousr]_[A-Za-z0-9]{36,}\b/],
  ["Slack token", /\bxox[abprs]-[A-Za-z0-9-]{10,}/],
  ["Bearer token literal", /Bearer\s+eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./],
];

async function* walk(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

async function main() {
  try {
    if (!(await stat(OUT_DIR)).isDirectory()) throw new Error("not a directory");
  } catch {
    console.error(`check-bundle: ${OUT_DIR} does not exist; run \`npm run build\` first.`);
    process.exit(2);
  }
  const findings = [];
  let scanned = 0;
  for await (const file of walk(OUT_DIR)) {
    if (!TEXT_EXTENSIONS.has(path.extname(file).toLowerCase())) continue;
    scanned += 1;
    const text = await readFile(file, "utf8");
    for (const [label, pattern] of SECRET_PATTERNS) {
      const match = pattern.exec(text);
      if (match) {
        const start = Math.max(0, match.index - 30);
        const excerpt = text.slice(start, match.index + match[0].length + 30).replace(/\s+/g, " ");
        findings.push(`${path.relative(process.cwd(), file)}: ${label}: …${excerpt}…`);
      }
    }
  }
  if (findings.length > 0) {
    console.error(`check-bundle: ${findings.length} secret-looking string(s) in ${OUT_DIR}:`);
    for (const finding of findings) console.error(`  ${finding}`);
    process.exit(1);
  }
  console.log(`check-bundle: ${scanned} files in ${path.relative(process.cwd(), OUT_DIR) || "."} scanned, no secrets found.`);
}

await main();
