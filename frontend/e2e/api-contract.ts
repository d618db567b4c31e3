import { expect, type Page, type Response } from "@playwright/test";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/*
 * The frontend's types are generated from src/lib/api/openapi.json. This checks the other
 * half at run time: every JSON answer the real backend gives the app during a test, and the
 * sources and citations inside the answer stream (which the OpenAPI document does not
 * describe), must match that committed document.
 */

type Operation = { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> };
type PathItem = Partial<Record<string, Operation>>;

const OPENAPI_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "src", "lib", "api", "openapi.json");
const openapi = JSON.parse(readFileSync(OPENAPI_PATH, "utf-8")) as { paths: Record<string, PathItem> };

const ajv = new Ajv2020({ strict: false, validateFormats: false, validateSchema: false, allErrors: true });
ajv.addSchema(openapi, "openapi");

const pointer = (...parts: string[]) => parts.map((part) => part.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
const routes = Object.keys(openapi.paths).map((template) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{[^/]+\}/g, "[^/]+")}$`),
  params: (template.match(/\{/g) ?? []).length,
}));
const validators = new Map<string, ValidateFunction>();

type SchemaNode = { $ref?: string; items?: SchemaNode; properties?: Record<string, SchemaNode> };

/** Follows `$ref`s within the document to the schema they name. */
function dereference(node: SchemaNode | undefined): SchemaNode {
  let current = node ?? {};
  while (current.$ref) {
    const target = current.$ref
      .replace(/^#\//, "")
      .split("/")
      .reduce<unknown>((value, key) => (value as Record<string, unknown>)[key.replaceAll("~1", "/").replaceAll("~0", "~")], openapi);
    current = target as SchemaNode;
  }
  return current;
}

/**
 * The stream's sources and citations are the objects a stored message lists as its citations
 * (GET /chats/{id}): their schema is found there, whatever the backend names it.
 */
function streamedPassageRef(): string {
  const chat = dereference(
    (openapi.paths["/api/v1/chats/{chat_id}"]?.get?.responses?.["200"]?.content?.["application/json"]?.schema ?? {}) as SchemaNode,
  );
  const message = dereference(dereference(chat.properties?.messages).items);
  const citation = dereference(message.properties?.citations).items;
  if (!citation?.$ref) throw new Error("GET /api/v1/chats/{chat_id}: no schema for a message's citations");
  return citation.$ref.replace(/^#\//, "");
}

function validator(ref: string): ValidateFunction {
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: `openapi#/${ref}` });
    validators.set(ref, validate);
  }
  return validate;
}

/** The JSON schema of this answer in the document, as a JSON pointer; null when none applies. */
function responseSchemaRef(method: string, path: string, status: number): string | null {
  const route = routes.filter(({ pattern }) => pattern.test(path)).sort((a, b) => a.params - b.params)[0];
  if (!route) return null;
  const operation = openapi.paths[route.template]?.[method];
  const declared = operation?.responses?.[String(status)] ? String(status) : "default";
  if (!operation?.responses?.[declared]?.content?.["application/json"]?.schema) return null;
  return pointer("paths", route.template, method, "responses", declared, "content", "application/json", "schema");
}

function describeErrors(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((error) => `${error.instancePath || "/"} ${error.message ?? ""}`).join("; ");
}

/** The sources and citations of an answer stream (`data: {...}` lines of the UI message stream). */
function streamedPassages(body: string): unknown[] {
  const passages: unknown[] = [];
  for (const line of body.split("\n")) {
    if (!line.startsWith("data: {")) continue;
    const part = JSON.parse(line.slice("data: ".length)) as { type?: string; data?: { sources?: unknown[]; citations?: unknown[] } };
    if (part.type === "data-sources") passages.push(...(part.data?.sources ?? []));
    if (part.type === "data-citations") passages.push(...(part.data?.citations ?? []));
  }
  return passages;
}

/**
 * Watches the API answers of a page. `expectAllMatch()` checks them against the document and
 * returns how many it checked, so a test can also assert that it saw what it expected.
 */
export function watchApiContract(page: Page) {
  const checks: Promise<{ problems: string[]; checked: string[] }>[] = [];

  async function check(response: Response): Promise<{ problems: string[]; checked: string[] }> {
    const url = new URL(response.url());
    const method = response.request().method().toLowerCase();
    const name = `${method.toUpperCase()} ${url.pathname} → ${response.status()}`;
    const type = response.headers()["content-type"] ?? "";
    if (type.startsWith("text/event-stream")) {
      const validate = validator(streamedPassageRef());
      const passages = streamedPassages(await response.text());
      const problems = passages.flatMap((passage) => (validate(passage) ? [] : [`${name} stream passage: ${describeErrors(validate)}`]));
      return { problems, checked: passages.length > 0 ? [`${name} (stream)`] : [] };
    }
    if (!type.startsWith("application/json")) return { problems: [], checked: [] };
    const ref = responseSchemaRef(method, url.pathname, response.status());
    if (!ref) return { problems: [`${name}: the OpenAPI document declares no JSON answer for it`], checked: [] };
    const validate = validator(ref);
    const text = await response.text();
    if (!text) return { problems: [`${name}: an empty body for ${type}`], checked: [] };
    const body: unknown = JSON.parse(text);
    return { problems: validate(body) ? [] : [`${name}: ${describeErrors(validate)}`], checked: [name] };
  }

  /**
   * A response the browser dropped half-way (the page reloaded) has no body to check. An answer
   * stream the page left mid-answer never reports its end either: Playwright says so at once.
   */
  async function checkUnlessDropped(response: Response): Promise<{ problems: string[]; checked: string[] }> {
    try {
      return await check(response);
    } catch (error) {
      if (error instanceof Error && error.message.includes("for a response that was navigated away from")) return { problems: [], checked: [] };
      await response.finished().catch(() => undefined);
      if (response.request().failure() !== null) return { problems: [], checked: [] };
      throw error;
    }
  }

  page.on("response", (response) => {
    if (new URL(response.url()).pathname.startsWith("/api/")) checks.push(checkUnlessDropped(response));
  });

  return {
    async expectAllMatch(): Promise<string[]> {
      const results = await Promise.all(checks);
      expect(results.flatMap((result) => result.problems), "API answers that differ from src/lib/api/openapi.json").toEqual([]);
      return results.flatMap((result) => result.checked);
    },
  };
}
