// The stores the document-exchange routes share; its own file so the route modules and the
// module that builds the stores (document-exchange.ts) do not import each other.
import type { openAttachmentStore } from '../../attachments/attachment-store.js';
import type { DocumentStore } from '../document-store.js';
import type { InboxStore } from '../inbox-store.js';

export interface DocumentExchange {
  documents: DocumentStore;
  inbox: InboxStore;
  attachments: ReturnType<typeof openAttachmentStore>;
}
