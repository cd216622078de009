// Runs the audit service on its own: `node dist/services/audit/main.js` (PORT picks the port).
import { runServiceMain } from '../platform/service-main.js';
import { startAuditService } from './audit-service.js';

await runServiceMain('audit service', (config) => startAuditService(config, { port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' }));
