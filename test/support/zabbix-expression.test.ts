// The trigger-expression subset in its steady state: each function over a value held still.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, itemRefs } from './zabbix-expression.js';

const VALUES: Record<string, string> = { 'a.state': 'Connected', 'a.oos[r0,0]': '1024', 'a.name': '' };
const value = (ref: { key: string }) => VALUES[ref.key];

test('functions, operators and precedence', () => {
  const cases: Array<[string, boolean]> = [
    ['last(/T/a.state)="Connected"', true],
    ['last(/T/a.state)<>"Connected"', false],
    ['count(/T/a.state,#2,"ne","Connected")=2', false],
    ['count(/T/a.state,#2,"eq","Connected")=2', true],
    ['find(/T/a.state,,"regexp","^Conn")=1', true],
    ['find(/T/a.state,,"like","nect")=1', true],
    ['last(/T/a.oos[r0,0],#1:now-5m)>0 and last(/T/a.oos[r0,0])>=last(/T/a.oos[r0,0],#1:now-5m)', true],
    ['last(/T/a.oos[r0,0])-24=1000', true],
    ['length(last(/T/a.name))>0', false],
    ['nodata(/T/a.state,5m)=1', false],
    ['nodata(/T/missing,5m)=1', true],
    ['1=0 and 1=0 or 1=1', true],
    ['1=0 and (1=0 or 1=1)', false],
    ['not 1=0', true],
  ];
  for (const [expr, want] of cases) assert.equal(evaluate(expr, value), want, expr);
});

test('the items an expression reads, keys with their parameters', () => {
  assert.deepEqual(itemRefs('last(/My T/a.oos[r0,0])>0 or count(/My T/a.state,#2,"ne","x")=2'), [
    { host: 'My T', key: 'a.oos[r0,0]' },
    { host: 'My T', key: 'a.state' },
  ]);
});

test('outside the subset or without data: an error, never a guess', () => {
  for (const expr of ['avg(/T/a.oos[r0,0],5m)>0', 'count(/T/a.state,5m,"eq","x")=1', 'last(/T/missing)=1', 'last(/T/a.state) ~ 1']) assert.throws(() => evaluate(expr, value), /trigger expression/, expr);
});
