// Copies pdf.js's worker and font data into public/pdfjs/, so the viewer loads them from our
// own origin (the CSP allows no other) at the exact version of the pdfjs-dist it runs with.
import { cp, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const source = path.join(root, "node_modules", "pdfjs-dist");
const target = path.join(root, "public", "pdfjs");

await rm(target, { recursive: true, force: true });
await mkdir(target, { recursive: true });
await cp(path.join(source, "build", "pdf.worker.min.mjs"), path.join(target, "pdf.worker.min.mjs"));
for (const folder of ["standard_fonts", "cmaps", "wasm"]) {
  await cp(path.join(source, folder), path.join(target, folder), { recursive: true });
}
