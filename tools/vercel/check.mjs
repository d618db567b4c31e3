// Build frontend/ the way Vercel does, offline: validate frontend/vercel.json with the schema
// validator the Vercel CLI itself ships (the one `vercel build` and Vercel's build servers
// apply), then run `vercel build` (the CLI's local build: the same builder selection and
// @vercel/next builder as a deployment) and check the Build Output it writes.
//
//   make frontend-vercel      (npm ci --prefix tools/vercel, then this script)
//
// No account or network is needed: the project settings Vercel would pull are written to
// frontend/.vercel/project.json (framework preset Next.js, nothing overridden: what the
// dashboard shows for this repository with Root Directory `frontend`), and removed after.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { getConfigValidator } from "vercel/dist/chunks/config-validator.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const frontend = join(here, "..", "..", "frontend");
const vercelDir = join(frontend, ".vercel");
const fail = (message) => {
  console.error(`vercel check: ${message}`);
  process.exit(1);
};

const config = JSON.parse(readFileSync(join(frontend, "vercel.json"), "utf8"));
const validate = getConfigValidator();
if (!validate(config)) {
  fail(`vercel.json does not match Vercel's schema: ${JSON.stringify(validate.errors)}`);
}
// The Next.js builder finds a static export itself; an outputDirectory next to the nextjs
// preset makes it look for routes-manifest.json there and fail (Vercel's docs:
// "do not override the Output Directory" for `output: "export"`).
if (config.framework === "nextjs" && "outputDirectory" in config) {
  fail("vercel.json sets outputDirectory with the nextjs framework preset");
}

rmSync(vercelDir, { recursive: true, force: true });
mkdirSync(vercelDir);
writeFileSync(
  join(vercelDir, "project.json"),
  JSON.stringify({
    projectId: "prj_docchat_local_check",
    orgId: "team_docchat_local_check",
    settings: { framework: "nextjs", nodeVersion: "20.x" },
  }),
);
try {
  const build = spawnSync(
    join(here, "node_modules", ".bin", "vercel"),
    ["build", "--yes", "--cwd", frontend],
    {
      stdio: "inherit",
      env: { ...process.env, VERCEL_TELEMETRY_DISABLED: "1", NEXT_TELEMETRY_DISABLED: "1" },
    },
  );
  if (build.status !== 0) fail(`vercel build exited with ${build.status}`);

  const output = join(vercelDir, "output");
  for (const page of ["index.html", "login/index.html", "library/index.html", "chat/index.html"]) {
    if (!existsSync(join(output, "static", page))) fail(`the build output lacks static/${page}`);
  }
  const routes = JSON.parse(readFileSync(join(output, "config.json"), "utf8")).routes ?? [];
  const headers = Object.assign({}, ...routes.map((route) => route.headers ?? {}));
  for (const name of ["Content-Security-Policy", "X-Frame-Options", "Strict-Transport-Security"]) {
    if (!(name in headers)) fail(`the build output does not send ${name}`);
  }
  if (existsSync(join(output, "functions"))) {
    fail("the build output has serverless functions: the frontend must stay a static export");
  }
  console.log("vercel check: vercel.json valid, `vercel build` succeeded, static output complete");
} finally {
  rmSync(vercelDir, { recursive: true, force: true });
}
