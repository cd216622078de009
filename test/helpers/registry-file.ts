// Edits the registry file of a running test bus as an operator's tooling does: read, change,
// write a new file and rename it into place (a Kubernetes ConfigMap update, a deployment tool),
// so a service polling the file never reads it half-written.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { RegistryData } from '../../services/platform/registry.js';

export function editRegistryFile(file: string, change: (data: RegistryData) => void): void {
  const data = JSON.parse(readFileSync(file, 'utf8')) as RegistryData;
  change(data);
  writeFileSync(`${file}.new`, JSON.stringify(data, null, 2));
  renameSync(`${file}.new`, file);
}
