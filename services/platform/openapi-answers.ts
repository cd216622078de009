// Success answers described precisely in the OpenAPI document, and only there. A route declares
// its success answer with okResponse() (openapi-shapes.ts): an empty schema per media type,
// because Fastify serialises a response schema with fast-json-stringify, which would drop the
// members a schema does not list and coerce the ones it types (an absent optional member, a null
// where a string is typed) — the answers would change. Here, after the document is built, each
// such answer gets the schema a client generator needs (required members, types, formats,
// enums, null where an answer has it, additionalProperties: false where the shape is fixed), on
// the document alone. test/openapi-answers.test.ts checks every one against real answers.
//
// An answer named for an operation, status or media type the document does not have is an
// error, not skipped: a renamed route would otherwise keep its empty schema without anyone
// noticing.

/** Schemas by operation (`GET /v1/inbox`), then status (`200`), then media type. */
export type DocumentedAnswers = Record<string, Record<string, Record<string, Record<string, unknown>>>>;

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

type OpenApiDocument = { paths?: Record<string, Record<string, Operation>> };

/** The document with each answer's schema set where the route left an empty one. */
export function withDocumentedAnswers<T>(document: T, ...sets: readonly DocumentedAnswers[]): T {
  const paths = (document as OpenApiDocument).paths ?? {};
  for (const answers of sets) {
    for (const [operation, statuses] of Object.entries(answers)) {
      const [method, path] = operation.split(' ');
      const op = paths[path]?.[method.toLowerCase()];
      if (!op) throw new Error(`OpenAPI answers: no operation ${operation} in the document`);
      for (const [status, mediaTypes] of Object.entries(statuses)) {
        const content = op.responses?.[status]?.content;
        if (!content) throw new Error(`OpenAPI answers: ${operation} declares no ${status} answer with content`);
        for (const [mediaType, schema] of Object.entries(mediaTypes)) {
          if (!content[mediaType]) throw new Error(`OpenAPI answers: ${operation} ${status} has no ${mediaType} content`);
          content[mediaType] = { ...content[mediaType], schema };
        }
      }
    }
  }
  return document;
}
