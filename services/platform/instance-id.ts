// Which replica this process is: LGSP_INSTANCE_ID when set (npm start sets gateway-1,
// runner-2, ...; Kubernetes can pass the pod name), else host name and pid, unique per process.
// It names the process only (Kafka client id, PostgreSQL application name, logs): consumer groups
// never include it, so replicas share their groups by design and never by an accidental id.
import { hostname } from 'node:os';

export function instanceId(explicit?: string): string {
  return explicit || process.env.LGSP_INSTANCE_ID || `${hostname()}-${process.pid}`;
}
