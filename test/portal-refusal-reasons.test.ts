// A portal refusal becomes the message's failure reason: in its timeline, its dead-letter
// headers and the audit chain, which is permanent. It is told by the portal's code, what the
// code means and the fields the portal named. The portal's free-text `message` went in too, and
// a portal naming the dossier's citizen there put a name into the chain. Unit test: no Kafka.
import t from 'tap';
import { PermanentError, RetryableError } from '@lgsp/sdk';
import { portalRefusal, PORTAL_CODE_MEANINGS } from '../connectors/one-stop-shop/portal-client.js';

t.test('a refusal says the code, its meaning and the fields; never the portal\'s own words', async (t) => {
  const personal = 'Hồ sơ của ông Nguyễn Văn An, CCCD 001085012345, không hợp lệ';
  const refused = portalRefusal('DongBoHoSoMC H49-1', { error_code: '3', message: personal, errors: [{ field: 'data[0].NgayHenTra', message: `${personal}: ngày hẹn trả` }] });
  t.type(refused, PermanentError, 'invalid data is not retried');
  t.equal(refused.message, 'DongBoHoSoMC H49-1: portal error_code 3 "Dữ liệu không hợp lệ" (data[0].NgayHenTra)');
  t.notMatch(refused.message, /Nguyễn|001085012345/, 'no name, no citizen id');

  const busy = portalRefusal('TraCuuHoSo H49-1', { error_code: '-1', message: personal });
  t.type(busy, RetryableError, 'a system error is retried');
  t.equal(busy.message, 'TraCuuHoSo H49-1: portal error_code -1 "Lỗi hệ thống"');

  const unknown = portalRefusal('TraCuuHoSo H49-1', { error_code: '42', message: personal });
  t.equal(unknown.message, 'TraCuuHoSo H49-1: portal error_code 42', 'a code without a meaning here is named alone');
  t.equal(portalRefusal('x', { error_code: 'toString' }).message, 'x: portal error_code toString', 'an inherited name is no meaning');
  t.ok(Object.keys(PORTAL_CODE_MEANINGS).every((code) => code === '-1' || /^\d+$/.test(code)), 'codes as the portal writes them');
});
