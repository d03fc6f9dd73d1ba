#!/usr/bin/env node
// The client matrix's Node.js runner: one of the npm client libraries of package.json runs every
// step of the expanded workload (run.py writes it) with the library's own API and writes
// {"client", "version", "protocol", "results": {step id: value}} as JSON.
//
//   node node_client.js LIBRARY HOST PORT PROTOCOL WORKLOAD OUT
//
// LIBRARY: ioredis5 | ioredis6 (ioredis; 6 speaks RESP3, by default even) | redis4 | redis5
// (node-redis; 5 speaks RESP3 with `RESP: 3`). Generic commands go through the library's
// raw-command call (ioredis `call`, node-redis `sendCommand`), pipelines through its pipeline
// (ioredis `pipeline()`; node-redis pipelines the commands issued in one tick by itself),
// transactions through `multi()`, pub/sub on a duplicate connection, BLPOP on another, SCAN
// through the library's iterator. Every wait is bounded (DEADLINE_MS).
'use strict';

const fs = require('fs');
const path = require('path');

const DEADLINE_MS = 30000;

// A reply as JSON: errors as {"error": text}, maps as ordered pairs, sets sorted.
function plain(v) {
  if (v instanceof Error) {
    const out = {error: v.message, type: v.constructor.name};
    if (Array.isArray(v.replies)) out.replies = v.replies.map(plain);
    return out;
  }
  if (v === undefined || v === null) return null;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'bigint') return {bignum: v.toString()};
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Map) return {map: [...v].map(([k, x]) => [plain(k), plain(x)])};
  if (v instanceof Set) return {set: [...v].map(plain).sort(byJson)};
  if (typeof v === 'object') return {map: Object.entries(v).map(([k, x]) => [k, plain(x)])};
  if (typeof v === 'number' && !Number.isFinite(v)) return {double: String(v)};
  return v;
}

function byJson(a, b) {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function withDeadline(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout: ${what} after ${DEADLINE_MS} ms`)),
                       DEADLINE_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function settle(promise) {
  try {
    return plain(await promise);
  } catch (e) {
    return plain(e);
  }
}

function blockedClients(info) {
  const match = /blocked_clients:(\d+)/.exec(String(info));
  return match ? Number(match[1]) : 0;
}

// ---- ioredis -------------------------------------------------------------------------------

function ioredisAdapter(lib, host, port, protocol) {
  const Redis = require(lib);
  const options = {host, port, maxRetriesPerRequest: 1, retryStrategy: () => null};
  if (lib === 'ioredis6') {
    options.protocol = protocol;
    if (protocol === 3) options.replyMapping = 'resp3';  // the RESP3 types, not RESP2 shapes
  } else if (protocol !== 2) {
    throw new Error(`${lib} speaks RESP2 only`);
  }
  const client = new Redis(options);
  const connect = (c) =>
    c.status === 'ready' ? Promise.resolve() : new Promise((resolve, reject) => {
      c.once('ready', resolve);
      c.once('error', reject);
    });
  return {
    version: require(`${lib}/package.json`).version,
    connect: () => connect(client),
    call: (args) => client.call(...args),
    pipeline: async (cmds) => {
      const p = client.pipeline();
      for (const args of cmds) p.call(...args);
      return (await p.exec()).map(([err, res]) => (err ? plain(err) : plain(res)));
    },
    multi: async (cmds) => {
      const m = client.multi();
      for (const args of cmds) m.call(...args);
      const replies = await m.exec();
      return replies === null ? null : replies.map(([err, res]) => (err ? plain(err) : plain(res)));
    },
    subscribe: async (channel, onMessage) => {
      const sub = client.duplicate();
      await connect(sub);
      sub.on('message', (ch, message) => onMessage([ch, message]));
      const count = await sub.subscribe(channel);
      return {
        confirmation: count,
        close: async () => {
          const left = await sub.unsubscribe(channel);
          sub.disconnect();
          return left;
        },
      };
    },
    duplicateCall: async () => {
      const other = client.duplicate();
      await connect(other);
      return {call: (args) => other.call(...args), close: () => other.disconnect()};
    },
    scan: (match, count) =>
      new Promise((resolve, reject) => {
        const keys = [];
        const options = {count};
        if (match) options.match = match;
        const stream = client.scanStream(options);
        stream.on('data', (batch) => keys.push(...batch));
        stream.on('end', () => resolve(keys));
        stream.on('error', reject);
      }),
    close: async () => client.disconnect(),
  };
}

// ---- node-redis ----------------------------------------------------------------------------

function nodeRedisAdapter(lib, host, port, protocol) {
  const {createClient} = require(lib);
  const options = {socket: {host, port, reconnectStrategy: false}};
  if (lib === 'redis5') {
    options.RESP = protocol;
  } else if (protocol !== 2) {
    throw new Error(`${lib} speaks RESP2 only`);
  }
  const client = createClient(options);
  client.on('error', () => {});  // failures surface as rejected commands
  const duplicate = async () => {
    const other = client.duplicate();
    other.on('error', () => {});
    await other.connect();
    return other;
  };
  return {
    version: require(`${lib}/package.json`).version,
    connect: () => client.connect(),
    call: (args) => client.sendCommand(args),
    // node-redis writes the commands of one tick together: its pipeline.
    pipeline: (cmds) => Promise.all(cmds.map((args) => settle(client.sendCommand(args)))),
    multi: async (cmds) => {
      const m = client.multi();
      for (const args of cmds) m.addCommand(args);
      try {
        return plain(await m.exec());
      } catch (e) {
        if (Array.isArray(e.replies)) return plain(e.replies);  // redis5: MultiErrorReply
        throw e;
      }
    },
    subscribe: async (channel, onMessage) => {
      const sub = await duplicate();
      await sub.subscribe(channel, (message, ch) => onMessage([ch, message]));
      return {
        confirmation: 'subscribed',
        close: async () => {
          await sub.unsubscribe(channel);
          await sub.quit();
          return 'unsubscribed';
        },
      };
    },
    duplicateCall: async () => {
      const other = await duplicate();
      return {call: (args) => other.sendCommand(args), close: () => other.disconnect()};
    },
    scan: async (match, count) => {
      const keys = [];
      const options = {COUNT: count};
      if (match) options.MATCH = match;
      for await (const item of client.scanIterator(options)) {
        if (Array.isArray(item)) keys.push(...item);  // redis5 yields one batch per SCAN call
        else keys.push(item);
      }
      return keys;
    },
    close: async () => client.quit(),
  };
}

// ---- the steps -----------------------------------------------------------------------------

async function runPubsub(c, step) {
  const out = {};
  let gotMessage;
  const received = new Promise((resolve) => {
    gotMessage = resolve;
  });
  const sub = await c.subscribe(step.channel, (msg) => gotMessage(msg));
  out.subscribe = plain(sub.confirmation);
  out.publish = await settle(c.call(['PUBLISH', step.channel, step.message]));
  out.message = await settle(withDeadline(received, 'the published message'));
  out.unsubscribe = await settle(sub.close());
  return out;
}

async function runBlpop(c, step) {
  const out = {};
  const blocker = await c.duplicateCall();
  const popped = settle(withDeadline(blocker.call(['BLPOP', step.key, '30']), 'BLPOP'));
  const deadline = Date.now() + DEADLINE_MS;
  let blocked = 0;
  while (Date.now() < deadline) {
    blocked = blockedClients(await c.call(['INFO', 'clients']));
    if (blocked >= 1) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  out.blocked = blocked >= 1;
  out.rpush = await settle(c.call(['RPUSH', step.key, step.value]));
  out.blpop = await popped;
  await blocker.close();
  return out;
}

async function runStep(c, step) {
  switch (step.kind) {
    case 'cmd':
      return settle(c.call(step.cmd));
    case 'pipeline':
      return c.pipeline(step.cmds.map((s) => s.cmd));
    case 'multi':
      try {
        return await c.multi(step.cmds.map((s) => s.cmd));
      } catch (e) {
        return plain(e);
      }
    case 'pubsub':
      return runPubsub(c, step);
    case 'blpop':
      return runBlpop(c, step);
    case 'scan':
      return plain((await c.scan(step.match, step.count)).sort());
    default:
      throw new Error(`unknown step kind ${step.kind}`);
  }
}

async function main(argv) {
  const [lib, host, portText, protocolText, workloadPath, outPath] = argv;
  const port = Number(portText);
  const protocol = Number(protocolText);
  const make = lib.startsWith('ioredis') ? ioredisAdapter : nodeRedisAdapter;
  const c = make(lib, host, port, protocol);
  await withDeadline(c.connect(), 'connect');
  const workload = JSON.parse(fs.readFileSync(workloadPath, 'utf8'));
  const results = {};
  for (const step of workload.steps) {
    try {
      results[step.id] = await runStep(c, step);
    } catch (e) {
      results[step.id] = plain(e);
    }
  }
  await c.close();
  fs.writeFileSync(outPath, JSON.stringify({client: path.basename(lib), version: c.version,
                                            protocol, results}, null, 1));
}

main(process.argv.slice(2)).then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    });
