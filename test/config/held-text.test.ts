// The resolved config keeps none of the file's text alive. V8 cuts a word of 13 characters or more as a view into
// the whole text (a SlicedString), so a single address or digest the running config kept would keep every byte of a
// large file: the checker process, which parses each reload itself, held the 4.7 MB text of a 30,000-server config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const load = new URL('../../src/config/load.js', import.meta.url).href;

test('a parsed config does not keep its file text alive through the addresses and digests it holds', () => {
  // A fresh process: its heap holds the config and nothing else of the test's.
  const source = `
    const { parseConfigText } = await import(${JSON.stringify(load)});
    const MB = 2 ** 20;
    gc();
    const before = process.memoryUsage().heapUsed;
    const parse = () => {
      // 20 MB of comment lines, then a virtual server whose words are all long enough to be cut as views.
      const whole = ('# ' + 'x'.repeat(97) + '\\n').repeat(200_000) + [
        'virtual_server 198.51.100.100 80 {',
        '  lb_algo rr', '  lb_kind DR', '  protocol TCP',
        '  real_server 192.168.100.101 80 {',
        '    HTTP_GET {', '      url {', '        path /health/ready.html',
        '        digest 9b3a0c85a887a256d6939da88aabd8cd', '      }', '    }', '  }',
        '}', ''].join('\\n');
      return parseConfigText(whole, { daemon: true }).config;
    };
    const config = parse();
    gc();
    gc();
    const held = (process.memoryUsage().heapUsed - before) / MB;
    const vs = config.virtualServers[0];
    const rs = vs.realServers[0];
    console.log(JSON.stringify({ held, vs: vs.key.address, rs: rs.address, digest: rs.checkers[0].urls[0].digest }));
  `;
  const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', source], { encoding: 'utf8' })) as
    { held: number; vs: string; rs: string; digest: string };
  // The words the config holds are the file's.
  assert.deepEqual([out.vs, out.rs, out.digest], ['198.51.100.100', '192.168.100.101', '9b3a0c85a887a256d6939da88aabd8cd']);
  // The text was 20 MB; what the config itself takes is a few kB.
  assert.ok(out.held < 2, `${out.held.toFixed(1)} MB held after parsing a 20 MB file`);
});
