import { statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { DEADLINES_MS } from '../core/deadlines';
import { measureAwsClients } from './aws-clients';
import { packageBoth, measureColdStarts, SUITE_CHECK, type ColdStart } from './cold-start';
import { measureCrypto, type CryptoResult } from './crypto';
import { approvalPayload, attendancePayload } from './payloads';
import { measurePipeline } from './pipeline';
import { measureRefusals } from './refusals';
import { measureStreamAcks } from './stream-acks';
import { PRICING, simulateLeases } from './stream-leases';

/** How long each measurement runs: `full` for the figures, `quick` to check the bench works (`--quick`). */
export const SCALES = {
  full: { cryptoRounds: 7, cryptoRoundMillis: 250, cryptoPushes: 256, pipelinePushes: 5000, pipelineWarmUp: 500, coldStarts: 11, refusals: 3000, streamBurst: 1000 },
  quick: { cryptoRounds: 1, cryptoRoundMillis: 10, cryptoPushes: 8, pipelinePushes: 20, pipelineWarmUp: 5, coldStarts: 1, refusals: 20, streamBurst: 50 },
};

/** The last line `npm run bench` prints: its keys are a contract with whoever reads the line (`test/bench/bench.test.ts`). */
export interface BenchResult {
  crypto: CryptoResult;
  pipeline: { p50Us: number; p99Us: number };
  coldStartMs: { aws: number; aliyun: number; bareNode: number };
  bundleBytes: { aws: number; aliyun: number };
  /** A burst over one Stream connection into the local store: frame received to ack sent, store included. */
  streamAckMs: { p50: number; p99: number };
  /** An ISV suite's creation URL check answered by a cold bundle, as deployed (median). */
  suiteCheckMs: { aws: number; aliyun: number };
}

/** Runs every measurement at `scale`, printing a table as it goes (through `print`), and answers the figures. */
export async function runBench(scale: (typeof SCALES)[keyof typeof SCALES], print: (line: string) => void): Promise<BenchResult> {
  print(`dingtalk-callback bench · ${cpus()[0]?.model.trim()} × ${cpus().length} · node ${process.version} · load ${loadavg()[0]?.toFixed(2)}`);
  const packages = await packageBoth();
  try {
    const bundleBytes = { aws: statSync(packages.aws.zip).size, aliyun: statSync(packages.aliyun.zip).size };

    print('\nverify + decrypt + encrypt the reply, pushes per second (best round of each, taking turns)');
    const cryptoRow = (...cells: string[]) => row([18, 10, 18, 19, 11, 11], cells);
    print(cryptoRow('payload', 'ours', 'dingtalk-encrypt', 'node:crypto floor', 'ours/peer', 'ours/floor'));
    const rows: Array<[string, string]> = [['approval', approvalPayload()], ['attendance', attendancePayload()]];
    const [crypto] = rows.map(([name, message]) => {
      const result = measureCrypto(message, scale.cryptoRounds, scale.cryptoRoundMillis, scale.cryptoPushes);
      const { oursPerSec, peerPerSec, floorPerSec, messageBytes } = result;
      print(cryptoRow(`${name} ${kb(messageBytes)}`, count(oursPerSec), count(peerPerSec), count(floorPerSec), ratio(oursPerSec / peerPerSec), ratio(oursPerSec / floorPerSec)));
      return result;
    });
    const vsPeer = crypto!.oursPerSec / crypto!.peerPerSec;
    const vsFloor = crypto!.oursPerSec / crypto!.floorPerSec;
    print(`  targets, approval: ours >= ${TARGETS.cryptoVsPeer}x the peer (${atLeast(vsPeer, TARGETS.cryptoVsPeer, 'x')}) and >= ${TARGETS.cryptoVsFloor}x the floor (${atLeast(vsFloor, TARGETS.cryptoVsFloor, 'x')})`);

    const pipeline = await measurePipeline(approvalPayload, scale.pipelinePushes, scale.pipelineWarmUp);
    print(`\nwhole core pipeline with the memory store, ${scale.pipelinePushes} pushes one after another, in 5 rounds`);
    print(`  per push, quietest round: p50 ${pipeline.p50Us} µs, p99 ${pipeline.p99Us} µs (target p99 < ${TARGETS.pipelineP99Us} µs: ${atMost(pipeline.p99Us, TARGETS.pipelineP99Us, 'µs')})`);

    const refusals = await measureRefusals(scale.refusals, Math.ceil(scale.refusals / 10));
    print(`\nrefusals after the signature, one answer for all (400 undecryptable): median µs of ${scale.refusals} each, taking turns`);
    print(`  ${Object.entries(refusals).map(([kind, us]) => `${kind} ${us}`).join(', ')}`);
    const oracleGap = Math.abs(refusals['bad padding']! - refusals['bad length']!);
    print(`  target: the padding oracle's pair (bad padding, bad length) within ${TARGETS.refusalGapUs} µs of each other: ${atMost(oracleGap, TARGETS.refusalGapUs, 'µs')}`);

    const stream = await measureStreamAcks(scale.streamBurst);
    print(`\nStream relay: ${scale.streamBurst} events in one burst over one connection of the fake gateway, into the local store (dynalite), default bounds`);
    print(`  frame received to ack sent, store included: p50 ${stream.p50Ms} ms, p99 ${stream.p99Ms} ms, max ${stream.maxMs} ms (target p99 < ${TARGETS.streamAckP99Ms} ms, DingTalk's budget: ${atMost(stream.p99Ms, TARGETS.streamAckP99Ms, 'ms')})`);
    print(`  ${stream.success} acked SUCCESS, ${stream.later} LATER, ${stream.stored} stored once; all acked ${stream.wallMs} ms after the first push`);

    const cold = await measureColdStarts(packages, scale.coldStarts);
    print(`\ncold start: fresh node, load the bundle, answer one push as deployed, its store write included (medians of ${scale.coldStarts} rounds; over bare: paired by round, quartiles in brackets)`);
    print(row(COLD_WIDTHS, ['', 'answered', 'over bare', '', 'load', 'first push', 'cpu', 'zip', `  within ${TARGETS.coldStartOverBareMs} ms of bare`]));
    print(coldRow('bare node', cold.bareNode));
    for (const [name, start, cloud] of [['aws http api', cold.aws, 'aws'], ['aws rest api', cold.awsRestApi, 'aws'], ['aliyun', cold.aliyun, 'aliyun']] as const) {
      print(`${coldRow(name, start, bundleBytes[cloud])}  ${atMost(start.overBareMs, TARGETS.coldStartOverBareMs, 'ms')}`);
    }
    const zips = (['aws', 'aliyun'] as const).map((cloud) => `${cloud} ${kb(bundleBytes[cloud])} under ${kb(TARGETS.zipBytes[cloud])}: ${atMost(bundleBytes[cloud] / 1024, TARGETS.zipBytes[cloud] / 1024, 'KB')}`);
    print(`  targets: within ${TARGETS.coldStartOverBareMs} ms of bare node (the median paired difference); zips ${zips.join(', ')}`);

    const check = await measureColdStarts(packages, scale.coldStarts, SUITE_CHECK);
    print(`\nISV suite URL check (check_create_suite_url for the placeholder ownerKey, answered with its Random), cold, as deployed (medians of ${scale.coldStarts} rounds)`);
    print(row(COLD_WIDTHS, ['', 'answered', 'over bare', '', 'load', 'first push', 'cpu', 'zip', `  within DingTalk's ${TARGETS.suiteCheckMs} ms`]));
    for (const [name, start, cloud] of [['aws http api', check.aws, 'aws'], ['aws rest api', check.awsRestApi, 'aws'], ['aliyun', check.aliyun, 'aliyun']] as const) {
      print(`${coldRow(name, start, bundleBytes[cloud])}  ${atMost(start.totalMs, TARGETS.suiteCheckMs, 'ms')}`);
    }

    const clients = await measureAwsClients(scale.coldStarts);
    print(`\nAWS clients alone: fresh node, SSM GetParameters + conditional DynamoDB PutItem (medians of ${scale.coldStarts} rounds)`);
    print(row(COLD_WIDTHS, ['', 'answered', 'over bare', '', 'load', 'calls', 'cpu', 'bundle']));
    for (const [name, start] of Object.entries(clients)) print(coldRow(name === 'bareNode' ? 'bare node' : name, start, name === 'bareNode' ? undefined : start.bundleBytes));

    print('\nstream function, a simulated 24 h of scheduled relays per cloud with the default lease and schedule (start jitter included; docs/stream.md)');
    for (const cloud of ['aws', 'aliyun'] as const) {
      const day = simulateLeases(cloud);
      const { currency, note } = PRICING[cloud];
      const target = TARGETS.streamCostPerMonth[cloud];
      print(`  ${cloud.padEnd(7)} longest moment with no connection ${day.longestGapS} s (target 0 s: ${atMost(day.longestGapS, 0, 's')}); ` +
        `${day.opensPerMonth.toLocaleString('en-US')} opens a month (target <= ${TARGETS.streamOpensPerMonth.toLocaleString('en-US')}, the server-API quota: ${atMost(day.opensPerMonth, TARGETS.streamOpensPerMonth, 'opens')}); ` +
        `${day.computeSecondsPerMonth.toLocaleString('en-US')} s = ${day.gbSecondsPerMonth.toLocaleString('en-US')} GB-s = ${currency}${day.costPerMonth.toFixed(2)} a month, ${note} (target <= ${currency}${target}: ${atMost(day.costPerMonth, target, currency)})`);
    }

    return {
      crypto: crypto!,
      pipeline,
      coldStartMs: { aws: Math.round(cold.aws.totalMs), aliyun: Math.round(cold.aliyun.totalMs), bareNode: Math.round(cold.bareNode.totalMs) },
      bundleBytes,
      streamAckMs: { p50: stream.p50Ms, p99: stream.p99Ms },
      suiteCheckMs: { aws: Math.round(check.aws.totalMs), aliyun: Math.round(check.aliyun.totalMs) },
    };
  } finally {
    await Promise.all([packages.aws.remove(), packages.aliyun.remove()]);
  }
}

/** What each figure is held to (docs/performance.md); the table marks each `met` or `MISSED by` how much. */
export const TARGETS = {
  cryptoVsPeer: 10,
  cryptoVsFloor: 0.6,
  pipelineP99Us: 1000,
  /** Between the refusals a padding oracle tells apart (docs/protocol.md): well under a network's jitter. */
  refusalGapUs: 10,
  coldStartOverBareMs: 50,
  zipBytes: { aws: 500 * 1024, aliyun: 1536 * 1024 },
  /** DingTalk's budget for a suite URL check's answer (docs/protocol.md): it throttles a URL that misses it. */
  suiteCheckMs: DEADLINES_MS.urlCheck,
  /** DingTalk's ack budget for a Stream event. */
  streamAckP99Ms: DEADLINES_MS.stream,
  /** DingTalk's standard edition allows 5,000 server-API calls a month; whether connections/open is one is not documented. */
  streamOpensPerMonth: 5000,
  /** A month of the stream function at 128 MB: about what one connection held all month costs, plus its overlaps. */
  streamCostPerMonth: { aws: 6, aliyun: 45 },
};

/** `met` when `value` is at most `limit`, else `MISSED by` how much. */
export function atMost(value: number, limit: number, unit: string): string {
  return value <= limit ? 'met' : `MISSED by ${amount(value - limit, unit)}`;
}

/** `met` when `value` is at least `limit`, else `MISSED by` how much. */
export function atLeast(value: number, limit: number, unit: string): string {
  return value >= limit ? 'met' : `MISSED by ${amount(limit - value, unit)}`;
}

/** A shortfall as printed: ratios to the hundredth (`1.99x`), everything else whole (`7 ms`), rounded up. */
const amount = (value: number, unit: string) => (unit === 'x' ? `${Math.ceil(value * 100) / 100}x` : `${Math.ceil(value)} ${unit}`);

/** A table row: the first cell left-aligned, the others right-aligned, each `widths` wide. */
function row(widths: number[], cells: string[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('');
}
const COLD_WIDTHS = [24, 10, 11, 14, 8, 12, 8, 9, 0];
const count = (perSec: number) => perSec.toLocaleString('en-US');
const ratio = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)}x`;
const kb = (bytes: number) => (bytes < 10_240 ? `${(bytes / 1024).toFixed(1)} KB` : `${Math.round(bytes / 1024)} KB`);
const ms = (value: number) => `${Math.round(value)} ms`;
function coldRow(name: string, start: ColdStart, zipBytes?: number): string {
  const [low, high] = start.overBareQuartilesMs.map(Math.round);
  const bare = zipBytes === undefined;
  return row(COLD_WIDTHS, [name, ms(start.totalMs), bare ? '' : `+${ms(start.overBareMs)}`, bare ? '' : `[${low}..${high}]`, ms(start.loadMs), ms(start.firstPushMs), ms(start.cpuMs), bare ? '' : kb(zipBytes)]);
}

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'; // the bench's own DynamoDB client, on node 20
  runBench(process.argv.includes('--quick') ? SCALES.quick : SCALES.full, (line) => console.log(line)).then(
    (result) => console.log(JSON.stringify(result)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
