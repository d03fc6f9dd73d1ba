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
// transactions through `multi()` (WATCH on a connection of its own), pub/sub on a duplicate
// connection, blocking commands on another, SCAN through the library's iterator, scripts through
// the library's script helper (ioredis `defineCommand`, node-redis `defineScript`: EVALSHA, then
// EVAL on NOSCRIPT). Every wait is bounded (DEADLINE_MS).
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
    subscribe: async (step, onMessage) => {
      const sub = client.duplicate();
      await connect(sub);
      sub.on('message', (ch, message) => onMessage([ch, message]));
      sub.on('pmessage', (pattern, ch, message) => onMessage([pattern, ch, message]));
      const count = step.pattern ? await sub.psubscribe(step.pattern) :
                                   await sub.subscribe(step.channel);
      return {
        confirmation: count,
        close: async () => {
          const left = step.pattern ? await sub.punsubscribe(step.pattern) :
                                      await sub.unsubscribe(step.channel);
          sub.disconnect();
          return left;
        },
      };
    },
    // RESP3: SUBSCRIBE on the client itself, which goes on running commands.
    subscribeHere: async (step, onMessage) => {
      client.on('message', (ch, message) => onMessage([ch, message]));
      const count = await client.subscribe(step.channel);
      return {confirmation: count, close: () => client.unsubscribe(step.channel)};
    },
    // defineCommand: EVALSHA, and EVAL when the server answers NOSCRIPT.
    script: (name, step) => {
      client.defineCommand(name, {numberOfKeys: 1, lua: step.script});
      return (key, arg) => client[name](key, arg);
    },
    // WATCH on a connection of its own, GET, (a write by another connection), MULTI, SET, GET,
    // EXEC: null when a watched key changed.
    watch: async (step) => {
      const own = client.duplicate();
      await connect(own);
      const out = {};
      try {
        await own.watch(step.key);
        out.get = plain(await own.get(step.key));
        if (step.conflict) {
          out.other = await settle(client.set(step.key, 'from another connection'));
        }
        const replies =
            await own.multi().set(step.key, 'from the transaction').get(step.key).exec();
        out.exec = replies === null ? null : replies.map(([err, res]) => plain(err || res));
        out.aborted = replies === null;
      } finally {
        own.disconnect();
      }
      return out;
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

// node-redis scripts are declared when the client is created: one per `script` step.
function nodeRedisScripts(lib, workload) {
  const {defineScript} = require(lib);
  const scripts = {};
  for (const step of workload.steps.filter((s) => s.kind === 'script')) {
    const common = {NUMBER_OF_KEYS: 1, SCRIPT: step.script, transformReply: (reply) => reply};
    scripts[scriptName(step)] = defineScript(lib === 'redis4' ?
        {...common, transformArguments: (key, arg) => [key, arg]} :
        {...common, parseCommand: (parser, key, arg) => {
          parser.pushKey(key);
          parser.push(arg);
        }});
  }
  return scripts;
}

function scriptName(step) {
  return 'script_' + step.id.replace(/[^A-Za-z0-9]/g, '_');
}

function nodeRedisAdapter(lib, host, port, protocol, workload) {
  const {createClient} = require(lib);
  const options = {socket: {host, port, reconnectStrategy: false},
                   scripts: nodeRedisScripts(lib, workload)};
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
    subscribe: async (step, onMessage) => {
      const sub = await duplicate();
      if (step.pattern) {
        await sub.pSubscribe(step.pattern, (message, ch) => onMessage([step.pattern, ch, message]));
      } else {
        await sub.subscribe(step.channel, (message, ch) => onMessage([ch, message]));
      }
      return {
        confirmation: 'subscribed',
        close: async () => {
          if (step.pattern) await sub.pUnsubscribe(step.pattern);
          else await sub.unsubscribe(step.channel);
          await sub.quit();
          return 'unsubscribed';
        },
      };
    },
    // RESP3: SUBSCRIBE on the client itself, which goes on running commands.
    subscribeHere: async (step, onMessage) => {
      await client.subscribe(step.channel, (message, ch) => onMessage([ch, message]));
      return {
        confirmation: 'subscribed',
        close: async () => {
          await client.unsubscribe(step.channel);
          return 'unsubscribed';
        },
      };
    },
    // The script declared at createClient: EVALSHA, and EVAL when the server answers NOSCRIPT.
    script: (name) => (key, arg) => client[name](key, arg),
    // WATCH on a connection of its own (node-redis 5 has no isolated executor; 4 gets the same),
    // GET, (a write by another connection), MULTI, SET, GET, EXEC: WatchError when a watched key
    // changed.
    watch: async (step) => {
      const own = await duplicate();
      const out = {};
      try {
        await own.watch(step.key);
        out.get = plain(await own.get(step.key));
        if (step.conflict) {
          const write = ['SET', step.key, 'from another connection'];
          out.other = await settle(client.sendCommand(write));
        }
        try {
          out.exec = plain(await own.multi()
                               .addCommand(['SET', step.key, 'from the transaction'])
                               .addCommand(['GET', step.key])
                               .exec());
          out.aborted = out.exec === null;
        } catch (e) {
          out.exec = plain(e);
          out.aborted = e.constructor.name === 'WatchError';
        }
      } finally {
        await own.disconnect();
      }
      return out;
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
  const sub = await c.subscribe(step, (msg) => gotMessage(msg));
  out.subscribe = plain(sub.confirmation);
  out.publish = await settle(c.call(['PUBLISH', step.channel, step.message]));
  out.message = await settle(withDeadline(received, 'the published message'));
  out.unsubscribe = await settle(sub.close());
  return out;
}

// RESP3 only: commands on the subscribed connection itself, a PUBLISH from it, the message.
async function runSubscribedCommands(c, step) {
  const out = {};
  let gotMessage;
  const received = new Promise((resolve) => {
    gotMessage = resolve;
  });
  const sub = await c.subscribeHere(step, (msg) => gotMessage(msg));
  out.subscribe = plain(sub.confirmation);
  out.replies = [];
  for (const sub of step.cmds) out.replies.push(await settle(c.call(sub.cmd)));
  out.publish = await settle(c.call(['PUBLISH', step.channel, step.message]));
  out.message = await settle(withDeadline(received, 'the published message'));
  out.unsubscribe = await settle(sub.close());
  out.after = await settle(c.call(['GET', step.cmds[0].cmd[1]]));
  return out;
}

// The blocking command on a second connection, served by step.push from the first once INFO
// shows a blocked client.
async function runBlocking(c, step) {
  const out = {};
  const blocker = await c.duplicateCall();
  const popped = settle(withDeadline(blocker.call(step.block), 'the blocking command'));
  const deadline = Date.now() + DEADLINE_MS;
  let blocked = 0;
  while (Date.now() < deadline) {
    blocked = blockedClients(await c.call(['INFO', 'clients']));
    if (blocked >= 1) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  out.blocked = blocked >= 1;
  out.push = await settle(c.call(step.push));
  out['blocked-reply'] = await popped;
  await blocker.close();
  return out;
}

async function runScript(c, step) {
  const run = c.script(scriptName(step), step);
  const out = [];
  for (const [key, arg] of step.calls) out.push(await settle(run(key, arg)));
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
    case 'subscribed-commands':
      return runSubscribedCommands(c, step);
    case 'blocking':
      return runBlocking(c, step);
    case 'script':
      return runScript(c, step);
    case 'watch':
      return c.watch(step);
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
  const workload = JSON.parse(fs.readFileSync(workloadPath, 'utf8'));
  const make = lib.startsWith('ioredis') ? ioredisAdapter : nodeRedisAdapter;
  const c = make(lib, host, port, protocol, workload);
  await withDeadline(c.connect(), 'connect');
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
