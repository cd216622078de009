// The periodic-report connector: agencies' periodic reports (report.submit) go to the
// provincial reporting information system (Hệ thống thông tin báo cáo tỉnh), and the system's
// receipt number comes back on the message's timeline as a status event.
//
// It is the worked example of the integrator guide (docs/write-a-connector.md): configuration
// declared as a schema, a secret (the reporting system's API key) from the environment,
// signed delivery through ctx.deliver, permanent vs retryable failures, a status event with
// the receipt, metrics and a health check. It imports only the SDK.
import { defineConnector, PermanentError, RetryableError, type Envelope } from '@lgsp/sdk';
import { readReceipt, refusalReason, toReportingSystem, type ReportSubmission } from './reporting-api.js';

export interface PeriodicReportConfig {
  baseUrl?: string;
  submitPath: string;
  timeoutMs: number;
}

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    baseUrl: {
      type: 'string',
      pattern: '^https?://[^\\s]+$',
      description: 'Base URL of the reporting system API; default: the endpoint the registry holds for the providing system',
    },
    submitPath: { type: 'string', pattern: '^/', default: '/api/v1/bao-cao', description: 'Path of the report submission call' },
    timeoutMs: { type: 'integer', minimum: 100, maximum: 120_000, default: 10_000, description: 'How long one submission may take' },
  },
};

// What health() reports: per process, across the configurations this module runs under.
const activity = { forwarded: 0, refused: 0, lastReceiptAt: null as string | null };

export default defineConnector<PeriodicReportConfig>({
  name: 'periodic-report',
  description: 'Periodic reports to the provincial reporting information system, answered with its receipt number',
  configSchema,
  secrets: {
    apiKey: { description: 'API key the reporting system issued to the LGSP (sent as X-API-Key)' },
  },
  async start({ config, log }) {
    log.info({ baseUrl: config.baseUrl ?? '(registry endpoint)', submitPath: config.submitPath }, 'periodic-report connector ready');
  },
  async health() {
    return { ok: true, detail: `${activity.forwarded} reports forwarded, ${activity.refused} refused; last receipt ${activity.lastReceiptAt ?? 'none yet'}` };
  },
  async handle(message, ctx) {
    if (message.type !== 'report.submit') throw new PermanentError(`the periodic-report connector does not handle ${message.type}`);
    const report = message as Envelope<ReportSubmission>;
    const base = ctx.config.baseUrl ?? ctx.service.endpoint;
    if (!base) throw new PermanentError(`service ${ctx.service.code} of ${ctx.service.provider} has no endpoint in the registry and no baseUrl is configured`);

    const seconds = ctx.metrics.histogram('reporting_system_seconds', 'Time the reporting system took to answer a submission');
    const stopTimer = seconds.startTimer();
    const response = await ctx.deliver({
      url: new URL(ctx.config.submitPath, base).href,
      envelope: message,
      timeoutMs: ctx.config.timeoutMs,
      headers: { 'x-api-key': ctx.secrets.get('apiKey') },
      body: { contentType: 'application/json; charset=utf-8', data: JSON.stringify(toReportingSystem(report)) },
      // A refusal is read for its reason; other failures keep the runtime's classification.
      acceptStatuses: [422],
    });
    stopTimer();

    if (response.status === 422) {
      activity.refused++;
      ctx.metrics.counter('reports_refused_total', 'Reports the reporting system refused', ['report_type']).inc({ report_type: report.data.reportType });
      throw new PermanentError(`the reporting system refused the report: ${refusalReason(response.body)}`);
    }
    const receipt = readReceipt(response.body);
    // Accepted but unreadable: resubmitting is safe (the system dedupes by message id) and
    // yields the same receipt, so retry rather than lose it.
    if (!receipt) throw new RetryableError(`the reporting system answered HTTP ${response.status} without a receipt`);

    await ctx.emitStatus({
      receipt: receipt.soBienNhan,
      reportType: report.data.reportType,
      period: report.data.period,
      dueDate: report.data.dueDate,
      onTime: receipt.dungHan,
      daysLate: receipt.soNgayTre,
      revision: receipt.lanNop,
      receivedAt: receipt.thoiGianNhan,
    });
    activity.forwarded++;
    activity.lastReceiptAt = receipt.thoiGianNhan || new Date().toISOString();
    ctx.metrics.counter('reports_submitted_total', 'Reports the reporting system acknowledged', ['report_type', 'on_time']).inc({ report_type: report.data.reportType, on_time: String(receipt.dungHan) });
    if (!receipt.dungHan) ctx.log.info({ reportType: report.data.reportType, period: report.data.period, daysLate: receipt.soNgayTre }, 'report submitted after its due date');
    return { detail: { receipt: receipt.soBienNhan, onTime: receipt.dungHan } };
  },
});
