// The JSONPath subset against the answers Zabbix's preprocessing gives (its manual's
// "JSONPath functionality": strings bare, other values as JSON, a missing path an error).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonPath, JsonPathNoMatch } from './jsonpath.js';

const DOC = {
  n: 2,
  ok: true,
  list: [
    { name: 'r0', volume: 0, hosts: [{ role: 'Primary' }, { role: 'Secondary' }] },
    { name: 'r1', volume: 0, hosts: [{ role: 'Secondary' }, { role: 'Secondary' }] },
    { name: 'r1', volume: 1, hosts: [{ role: 'Secondary' }, { role: 'Primary' }] },
  ],
};

test('values: strings bare, numbers, booleans and arrays as JSON, functions, filters with && and numbers', () => {
  const cases: Array<[string, string]> = [
    ['$.n', '2'],
    ['$.ok', 'true'],
    ['$.list[0].name', 'r0'],
    ['$.list.length()', '3'],
    ['$.list[?(@.name=="r1")].volume', '[0,1]'],
    ["$.list[?(@.name=='r1' && @.volume==1)].hosts[1].role.first()", 'Primary'],
    ['$.list[?(@.name!="r1")].hosts[0].role.first()', 'Primary'],
    ['$.list[?(@.name=="r9")].length()', '0'],
  ];
  for (const [path, want] of cases) assert.equal(jsonPath(DOC, path), want, path);
});

test('no match: a definite path that is absent, first() of nothing; outside the subset: an error that says so', () => {
  for (const path of ['$.missing', '$.list[7].name', '$.list[?(@.name=="r9")].name.first()', '$.n.length()']) assert.throws(() => jsonPath(DOC, path), JsonPathNoMatch, path);
  for (const path of ['list', '$..name', '$.list[?(@.volume>0)]']) assert.throws(() => jsonPath(DOC, path), (e: Error) => !(e instanceof JsonPathNoMatch) && /JSONPath/.test(e.message), path);
});
