// Every machine `code` a problem+json answer of the bus can carry, with its HTTP status(es) and
// meaning: the one registry (like fastify's lib/errors.js). ProblemError takes only these codes
// (the type below), so a new code is added here, with its meaning, or it does not compile.
// README's "Error codes" table lists the same entries (test/error-codes.test.ts checks it).

export const ERROR_CODES = {
  // Requests in general
  BAD_REQUEST: { status: [400], meaning: 'The request is malformed in a way no schema names (e.g. an Idempotency-Key with invisible characters).' },
  MALFORMED_JSON: { status: [400], meaning: 'The body is not valid JSON.' },
  VALIDATION_FAILED: { status: [400], meaning: 'The request or the payload does not match its JSON Schema; `errors` lists the failing fields.' },
  PAYLOAD_TOO_LARGE: { status: [413], meaning: 'The body exceeds the size limit (JSON, or edXML with its attachments).' },
  UNSUPPORTED_MEDIA_TYPE: { status: [415], meaning: 'The body has a content type the endpoint does not take.' },
  ROUTE_NOT_FOUND: { status: [404], meaning: 'No such endpoint.' },
  RATE_LIMITED: { status: [429], meaning: 'The client sent more requests than its rate limit; retry after `Retry-After` seconds.' },
  INTERNAL_ERROR: { status: [500], meaning: 'An unexpected error; logged by the service, no details returned.' },
  // Authentication and access rights
  UNAUTHENTICATED: { status: [401], meaning: 'No access token (or console session) was presented.' },
  INVALID_TOKEN: { status: [401], meaning: 'The access token is expired, forged, or not issued by this bus.' },
  LOGIN_FAILED: { status: [401], meaning: 'Console sign-in refused: unknown client or wrong secret.' },
  ROLE_REQUIRED: { status: [403], meaning: 'The caller lacks the role the endpoint needs (agency, operator, observer).' },
  SERVICE_FORBIDDEN: { status: [403], meaning: 'The calling system has no access right to the service (deny by default).' },
  MESSAGE_FORBIDDEN: { status: [403], meaning: 'Only the sender, the receiver and operators may see a message.' },
  DOCUMENT_FORBIDDEN: { status: [403], meaning: 'Only the parties to a document and operators may see it or its attachments.' },
  SENDER_MISMATCH: { status: [403], meaning: 'The edXML From organisation is not the calling member.' },
  CONSOLE_HEADER_REQUIRED: { status: [403], meaning: 'A console request that changes state lacks the anti-CSRF header.' },
  // Submitting messages
  UNKNOWN_MESSAGE_TYPE: { status: [400, 404], meaning: 'The message type is not offered on this bus (no connector manifest declares it).' },
  UNKNOWN_MEMBER: { status: [422], meaning: 'The recipient member code is not in the directory.' },
  UNKNOWN_SERVICE: { status: [422], meaning: 'The recipient provides no service (or not the named one) for this message type.' },
  AMBIGUOUS_SERVICE: { status: [422], meaning: 'The recipient provides several services for this type; name one in `to.service`.' },
  DUPLICATE_RECIPIENT: { status: [400], meaning: 'A recipient appears twice in `to`.' },
  ONE_RECIPIENT_ONLY: { status: [422], meaning: 'This message type goes to one recipient; `to` lists several.' },
  IDEMPOTENCY_KEY_REUSED: { status: [409], meaning: 'The Idempotency-Key was already used with a different body.' },
  BUS_UNAVAILABLE: { status: [503], meaning: 'Kafka did not acknowledge the message; nothing was accepted. Retry (same Idempotency-Key) after `Retry-After`.' },
  MESSAGE_NOT_FOUND: { status: [404], meaning: 'No message with this id.' },
  // Request/reply (POST /v1/requests)
  NOT_A_REQUEST_TYPE: { status: [400], meaning: 'The message type has no reply schema; send it with POST /v1/messages.' },
  REPLY_TIMEOUT: { status: [504], meaning: 'The provider did not answer within the wait; the request stays on the bus (follow it by id).' },
  REQUEST_FAILED: { status: [502], meaning: 'The provider could not answer (the request was dead-lettered); `detail` says why.' },
  INVALID_REPLY: { status: [502], meaning: "The provider's reply does not match the type's reply schema." },
  // Dossier exchange
  DOSSIER_RULES_VIOLATED: { status: [422], meaning: 'The dossier breaks a rule its schema cannot state (status lifecycle, date order, return date).' },
  // Document exchange (edXML)
  EDXML_INVALID: { status: [400], meaning: 'The XML is not a valid edXML package; `errors` names the element.' },
  EDXML_NOT_REPRESENTABLE: { status: [400], meaning: 'The document cannot be represented as edXML for a system that takes XML.' },
  XML_MALFORMED: { status: [400], meaning: 'The XML is not well-formed.' },
  XML_FORBIDDEN_CONSTRUCT: { status: [400], meaning: 'The XML uses a construct refused for safety (DTD, entity, processing instruction).' },
  XML_TOO_LARGE: { status: [413], meaning: 'The XML exceeds the size limit.' },
  XML_TOO_DEEP: { status: [400], meaning: 'The XML nests deeper than allowed.' },
  XML_TOO_MANY_ELEMENTS: { status: [400], meaning: 'The XML has more elements than allowed.' },
  XML_TEXT_TOO_LARGE: { status: [400], meaning: 'A text node of the XML exceeds the size limit.' },
  XML_UNSUPPORTED_ENCODING: { status: [415], meaning: 'The XML declares an encoding other than UTF-8.' },
  XML_LIMITS: { status: [400], meaning: 'The XML exceeds a parser limit.' },
  DOCUMENT_ID_INVALID: { status: [422], meaning: 'The DocumentId is not `<senderOrganId>,<YYYY/MM/DD>,<number/notation>` of the sender.' },
  DOCUMENT_ALREADY_SENT: { status: [409], meaning: 'A new document reuses a DocumentId already sent.' },
  DOCUMENT_BUSY: { status: [409], meaning: 'Another packet for the same document and recipient is being accepted; retry.' },
  DOCUMENT_NOT_FOUND: { status: [404, 422], meaning: 'No document with this DocumentId known to the bus.' },
  ORIGINAL_DOCUMENT_NOT_FOUND: { status: [422], meaning: 'A revoke, update or replace names a document the sender never sent.' },
  ORIGINAL_NOT_SENT_TO_RECIPIENT: { status: [422], meaning: 'A revoke, update or replace goes to a recipient of which the original was not sent.' },
  REPLACEMENT_NEEDS_NEW_ID: { status: [422], meaning: 'A replacing document must carry its own new DocumentId.' },
  RECIPIENTS_MISMATCH: { status: [422], meaning: "The recipients are not the package's To organisations." },
  STATUS_RECIPIENT_MISMATCH: { status: [422], meaning: 'A status packet comes from an organisation the document was not sent to.' },
  ILLEGAL_STATUS_TRANSITION: { status: [409], meaning: "The status code is not a legal next step for the document at this recipient; `allowed` lists what is." },
  ATTACHMENT_NOT_BASE64: { status: [400], meaning: 'Inline attachment content is not base64.' },
  DUPLICATE_ATTACHMENT: { status: [400], meaning: 'Two attachments share a content id.' },
  ATTACHMENTS_TOO_LARGE: { status: [413], meaning: "The package's attachments exceed the size limit." },
  ATTACHMENT_NOT_FOUND: { status: [404, 422], meaning: 'The attachment (by SHA-256) is not in the attachment store.' },
  ATTACHMENT_DIGEST_MISMATCH: { status: [422], meaning: 'The uploaded bytes do not match the announced SHA-256.' },
  ATTACHMENT_MISSING: { status: [502], meaning: 'An attachment the document references is missing from the attachment store.' },
  ATTACHMENT_CORRUPTED: { status: [502], meaning: 'An attachment in the store no longer matches its SHA-256; it is not served.' },
  ATTACHMENT_SIZE_MISMATCH: { status: [422], meaning: 'The uploaded bytes do not match the announced size.' },
  INBOX_ITEM_NOT_FOUND: { status: [404], meaning: "No such item in the caller's inbox (or already acknowledged)." },
  // Operations (console, runner management API)
  UNKNOWN_CONNECTOR: { status: [404], meaning: 'No connector with this name in the runner.' },
  CONNECTOR_NOT_RUNNING: { status: [409], meaning: 'The connector action needs a running connector.' },
  DEAD_LETTER_NOT_FOUND: { status: [404], meaning: 'No dead letter with this id.' },
  NOT_REPLAYABLE: { status: [409], meaning: 'This dead letter cannot be replayed (e.g. it failed verification).' },
  ALREADY_REPLAYED: { status: [409], meaning: 'This dead letter was already replayed.' },
  AUDIT_UNAVAILABLE: { status: [503], meaning: 'The audit service cannot answer right now.' },
  UPSTREAM_NOT_CONFIGURED: { status: [503], meaning: 'The console has no URL for the service it would ask.' },
  UPSTREAM_UNAVAILABLE: { status: [502], meaning: 'The service the console asks did not answer.' },
} as const satisfies Record<string, { status: readonly number[]; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
