// The browser client's core without a browser (node --test): a fake WebSocket speaks the
// server's side of the protocol, so that resending after a break can be checked exactly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Session } from "../../chat/server/web/static/js/session.js";
import { Sha256, sha256Hex } from "../../chat/server/web/static/js/sha256.js";
import { bodyFrame, socketUrl } from "../../chat/server/web/static/js/protocol.js";
import { FakeServer, until } from "./fake_server.mjs";

async function loggedIn(server) {
  const session = new Session("ws://test/ws", { WebSocketClass: server.socketClass() });
  await session.start("alice", "secret-password");
  return session;
}

test("a send is acknowledged and shown once", async () => {
  const server = new FakeServer();
  const session = await loggedIn(server);
  session.send("#lobby", "hello");
  const conv = session.conv("#lobby");
  await until(() => conv.messages[0]?.state === "sent", "the ack");
  assert.equal(conv.messages.length, 1);
  assert.equal(conv.messages[0].id, 1);
  assert.equal(session.outbox.size, 0);
  session.stop();
});

test("a send whose ok was lost is resent with its cid and stored and shown once", async () => {
  const server = new FakeServer();
  const session = await loggedIn(server);
  server.dropReplies = true;
  const cid = session.send("#lobby", "across a break");
  await until(() => session.state === "offline", "the break");
  assert.equal(server.messages.length, 1);          // the server has it ...
  assert.ok(session.outbox.has(cid));               // ... the client does not know yet
  server.dropReplies = false;
  session.reconnectNow();
  await until(() => session.state === "online" && session.outbox.size === 0, "the resend");
  const conv = session.conv("#lobby");
  await until(() => conv.messages.every((m) => m.id), "ids");
  assert.equal(server.messages.length, 1);
  assert.deepEqual(conv.messages.map((m) => [m.id, m.text]), [[1, "across a break"]]);
  session.stop();
});

test("what is typed while offline goes out after the reconnect, in order", async () => {
  const server = new FakeServer();
  const session = await loggedIn(server);
  server.sockets.at(-1).close();
  await until(() => session.state === "offline", "offline");
  session.send("#lobby", "one");
  session.send("#lobby", "two");
  assert.equal(server.messages.length, 0);
  session.reconnectNow();
  await until(() => session.outbox.size === 0, "the outbox to empty");
  assert.deepEqual(server.messages.map((m) => m.text), ["one", "two"]);
  const conv = session.conv("#lobby");
  await until(() => conv.messages.length === 2 && conv.messages.every((m) => m.id), "both shown");
  assert.deepEqual(conv.messages.map((m) => m.text), ["one", "two"]);
  session.stop();
});

test("messages missed while offline come with sync, without doubles", async () => {
  const server = new FakeServer();
  const session = await loggedIn(server);
  server.sockets.at(-1).close();
  await until(() => session.state === "offline", "offline");
  server.messages.push({ id: 1, conv: "#lobby", from: "bob", to: "#lobby", text: "missed", cid: "b1", ts: "2026-12-03T10:00:00.000Z" });
  session.reconnectNow();
  await until(() => session.state === "online", "online");
  await until(() => session.conv("#lobby").messages.length === 1, "the missed message");
  session._deliver(server.messages[0], true);       // the same message once more (live)
  assert.equal(session.conv("#lobby").messages.length, 1);
  session.stop();
});

test("SHA-256 matches known values, in one piece and in many", () => {
  const enc = new TextEncoder();
  assert.equal(sha256Hex(new Uint8Array(0)), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256Hex(enc.encode("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const data = new Uint8Array(1000003);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 255;
  const whole = sha256Hex(data);
  const pieces = new Sha256();
  for (let i = 0; i < data.length; i += 4099) pieces.update(data.subarray(i, i + 4099));
  assert.equal(pieces.hex(), whole);
});

test("body frames and socket addresses", () => {
  const frame = bodyFrame(258, new Uint8Array([9, 8]));
  assert.deepEqual([...frame], [1, 0, 0, 1, 2, 9, 8]);
  const page = { href: "http://chat.example:8080/" };
  assert.equal(socketUrl("", page), "ws://chat.example:8080/ws");
  assert.equal(socketUrl("https://proxy.example/chat/ws", page), "wss://proxy.example/chat/ws");
  assert.equal(socketUrl("/ws", { href: "https://a.example/" }), "wss://a.example/ws");
});
