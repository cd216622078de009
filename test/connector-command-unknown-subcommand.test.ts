// `lgsp connector lst` printed the usage alone: the typo was left for the reader to find. The
// command now names the subcommand it did not understand (exit status 2, a usage error, as before).
import t from 'tap';
import { runConnectorCommand } from '../services/cli/connector-command.js';

async function stderrOf(args: string[]): Promise<{ code: number; err: string }> {
  const write0 = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((chunk: string) => {
    err += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await runConnectorCommand(args), err };
  } finally {
    process.stderr.write = write0;
  }
}

t.test('an unknown connector subcommand is named', async (t) => {
  const typo = await stderrOf(['lst']);
  t.equal(typo.code, 2);
  t.match(typo.err, /^lgsp connector: unknown subcommand "lst" \(new, list or describe\)\nusage:/);
  const bare = await stderrOf([]);
  t.equal(bare.code, 2);
  t.match(bare.err, /^usage:/, 'no subcommand: the usage alone');
});

// `lgsp connector new --type a.b` (the name forgotten) read "unknown subcommand \"new\"".
t.test('a subcommand without its connector name says the name is missing', async (t) => {
  for (const args of [['new'], ['new', '--type', 'weather.alert'], ['describe']]) {
    const missing = await stderrOf(args);
    t.equal(missing.code, 2, `${args.join(' ')}: a usage error`);
    t.match(missing.err, new RegExp(`^lgsp connector ${args[0]}: the connector name is missing\\nusage:`), args.join(' '));
    t.notMatch(missing.err, /unknown subcommand/);
  }
});

