// A served OpenAPI 3.1 document as JSON Schema 2020-12, for tests that check answers against it.
// The document is added whole under `urn:lgsp:openapi:<name>` so that references into it resolve
// (only the schemas a test asks for are compiled); its schemas are read strictly (an unknown
// keyword is an error) with formats checked. The document's own members, the annotations OpenAPI
// adds to JSON Schema and the document's x- extensions are declared as vocabulary.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export function openApiSchemas(doc: object, name: string): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  ajv.addVocabulary(['openapi', 'info', 'servers', 'paths', 'components', 'tags', 'security', 'webhooks', 'jsonSchemaDialect']);
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
  ajv.addVocabulary([...new Set(JSON.stringify(doc).match(/"x-[a-z-]+"(?=:)/g)?.map((k) => k.slice(1, -1)) ?? [])]);
  ajv.addSchema({ ...doc, $id: `urn:lgsp:openapi:${name}` });
  return ajv;
}
