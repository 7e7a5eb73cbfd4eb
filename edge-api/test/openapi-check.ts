// The edge's OpenAPI document, and a check of live answers against it: for a call, the operation the document
// describes for that method and path, and the schema of its response for that status and media type.
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { createApp } from "../src/app.ts";
import { DOCUMENT } from "../src/http/openapi.ts";

export interface Operation {
  method: string;
  path: string;
  operationId: string;
  deprecated?: boolean;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; schema?: { example?: unknown } }[];
  requestBody?: { content: Record<string, { example?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

export interface ApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Omit<Operation, "method" | "path">>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string; scheme?: string }> };
}

/** The document the Worker serves at /openapi.json (a test checks that they are equal). */
export const apiDocument = createApp().getOpenAPI31Document(DOCUMENT) as unknown as ApiDocument;

export const operations: Operation[] = Object.entries(apiDocument.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({ ...op, method: method.toUpperCase(), path })),
);

const templates = operations.map((op) => ({
  op,
  // Literal segments before templated ones, so /v1/drops/x never matches a longer template by mistake.
  params: (op.path.match(/\{/g) ?? []).length,
  re: new RegExp(`^${op.path.replace(/[.]/g, "\\.").replace(/\{[^}]+\}/g, "[^/]+")}$`),
}));

/** The operation the document describes for a request, if any. */
export function findOperation(method: string, path: string): Operation | undefined {
  const pathname = new URL(path, "http://edge.test").pathname;
  return templates
    .filter((t) => t.op.method === method.toUpperCase() && t.re.test(pathname))
    .sort((a, b) => a.params - b.params)[0]?.op;
}

/** A copy in which every object the document spells out is closed: an answer with a field the document does not
 * describe is refused, so a handler cannot drift ahead of its documented schema either. */
function closeObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (!node || typeof node !== "object") return node;
  const copy = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, closeObjects(v)]));
  if ("properties" in copy && !("additionalProperties" in copy)) copy.unevaluatedProperties = false;
  return copy;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addSchema(closeObjects(apiDocument) as object, "doc");
const compiled = new Map<string, ValidateFunction>();

const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

/**
 * Throws unless the answer is one the document describes: a documented status of the operation, a documented
 * media type, and for JSON a body that validates against the documented schema, with no field it leaves out. Requests no operation describes
 * (the not-found answer to an unknown route) are not checked.
 */
export function checkAnswer(method: string, path: string, status: number, contentType: string | null, body: unknown): void {
  const op = findOperation(method, path);
  if (!op) return;
  const where = `${method} ${path} (${op.operationId}) answered ${status}`;
  const response = op.responses[String(status)];
  if (!response) throw new Error(`${where}, a status its operation does not document`);
  const mediaType = (contentType ?? "").split(";")[0]!.trim();
  const content = response.content?.[mediaType];
  if (!content) throw new Error(`${where} as ${mediaType || "no content type"}, which its operation does not document`);
  if (mediaType !== "application/json") return;
  const ref = `doc#/${pointer("paths", op.path, op.method.toLowerCase(), "responses", String(status), "content", mediaType, "schema")}`;
  let validate = compiled.get(ref);
  if (!validate) {
    validate = ajv.getSchema(ref)!;
    compiled.set(ref, validate);
  }
  if (!validate(body)) {
    throw new Error(`${where} with a body its schema refuses: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`);
  }
}
