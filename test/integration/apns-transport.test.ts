import { generateKeyPairSync, randomBytes } from "node:crypto";
import { constants, createSecureServer, type Http2SecureServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { createServer, type Server, type Socket } from "node:net";
import forge from "node-forge";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryTarget, Notification } from "../../lib/model/index.js";
import { ApnsSender } from "../../lib/vendors/apns.js";
import {
  type ApnsSimulator,
  generateApnsCredential,
  startApnsSimulator,
} from "../../local/simulators/apns.js";
import { SimulatorHub } from "../../local/simulators/hub.js";

/**
 * The APNs sender's own stream handling (lib/vendors/apns-pool.ts) where APNs or the network does not
 * answer the way the simulator's happy path does: no answer in time, a connection that never
 * finishes its handshake, a stream the server refuses before processing it.
 */

const BUNDLE_ID = "com.example.chat";
const notification: Notification = {
  title: "Alice",
  body: "Lunch?",
  ext: "{}",
  conversationId: "c2c_alice",
  messageKey: "144115233406627467_3_1709281815",
  sentAt: Date.now(),
};

function target(): DeliveryTarget {
  const token = randomBytes(32).toString("hex");
  return { userId: "bob", deviceId: `iphone-${token.slice(0, 6)}`, token };
}

/** A throwaway server certificate for 127.0.0.1 that is its own CA. */
function selfSigned(): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(publicKey);
  certificate.serialNumber = `01${randomBytes(8).toString("hex")}`;
  certificate.validity.notBefore = new Date(Date.now() - 60_000);
  certificate.validity.notAfter = new Date(Date.now() + 24 * 60 * 60 * 1000);
  const name = [{ name: "commonName", value: "test APNs" }];
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.setExtensions([
    { name: "basicConstraints", cA: true },
    { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] },
  ]);
  certificate.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { key: privateKey, cert: forge.pki.certificateToPem(certificate) };
}

describe("ApnsSender when APNs does not answer", () => {
  const hub = new SimulatorHub();
  let simulator: ApnsSimulator;
  let sender: ApnsSender;

  beforeAll(async () => {
    simulator = await startApnsSimulator({ hub });
    const { credential, publicKey } = generateApnsCredential({
      certificateId: 1,
      bundleId: BUNDLE_ID,
      endpoint: { production: simulator.production, sandbox: simulator.sandbox, ca: simulator.ca },
    });
    simulator.addKey({ keyId: credential.keyId, teamId: credential.teamId, publicKey });
    simulator.allowTopic(BUNDLE_ID);
    sender = new ApnsSender({ credentials: [credential], requestTimeoutMs: 300 });
  });

  afterAll(async () => {
    await sender?.close();
    await simulator?.close();
  });

  beforeEach(() => {
    hub.clear();
    hub.clearFaults();
  });

  it("answers retry once its request timeout passes, without waiting for the late answer", async () => {
    const slow = target();
    const quick = target();
    await sender.send(notification, [target()]);
    hub.addFault({ vendor: "apns", token: slow.token, status: 200, delayMs: 3_000, count: 1 });
    const started = Date.now();

    const results = await sender.send(notification, [slow, quick]);

    expect(results.map((r) => r.outcome)).toEqual([
      { kind: "retry", reason: "APNs network apn write timeout" },
      { kind: "delivered", vendorId: expect.any(String) },
    ]);
    expect(Date.now() - started).toBeLessThan(2_500);
  });
});

describe("ApnsSender against a host that takes the connection and never speaks TLS", () => {
  let server: Server;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.push(socket);
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("answers every target retry after one request timeout, instead of hanging", async () => {
    const { port } = server.address() as AddressInfo;
    const hostPort = { host: "127.0.0.1", port };
    const { credential } = generateApnsCredential({
      certificateId: 1,
      bundleId: BUNDLE_ID,
      endpoint: { production: hostPort, sandbox: hostPort, ca: selfSigned().cert },
    });
    const sender = new ApnsSender({ credentials: [credential], requestTimeoutMs: 300 });
    try {
      const started = Date.now();

      const results = await sender.send(notification, Array.from({ length: 5 }, target));

      expect(results.map((r) => r.outcome)).toEqual(
        Array(5).fill({ kind: "retry", reason: "APNs network apn write timeout" }),
      );
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await sender.close();
    }
  });
});

describe("ApnsSender when the server refuses a stream before processing it", () => {
  let server: Http2SecureServer;
  let ca: string;
  let requests = 0;

  beforeAll(async () => {
    const { key, cert } = selfSigned();
    ca = cert;
    server = createSecureServer({ key, cert });
    server.on("stream", (stream, headers) => {
      requests += 1;
      stream.on("error", () => undefined);
      // RFC 9113 §8.7: REFUSED_STREAM means the request was not processed and may be retried.
      if (requests === 1) {
        stream.close(constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      stream.resume();
      // A 200 with a body (APNs sends none): the sender must still read it to the end.
      stream.on("end", () => {
        stream.respond({ ":status": 200, "apns-id": String(headers["apns-id"]) });
        stream.end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("sends it again and delivers", async () => {
    const { port } = server.address() as AddressInfo;
    const hostPort = { host: "127.0.0.1", port };
    const { credential } = generateApnsCredential({
      certificateId: 1,
      bundleId: BUNDLE_ID,
      endpoint: { production: hostPort, sandbox: hostPort, ca },
    });
    const sender = new ApnsSender({ credentials: [credential] });
    try {
      const [result] = await sender.send(notification, [target()]);

      expect(result?.outcome.kind).toBe("delivered");
      expect(requests).toBe(2);
    } finally {
      await sender.close();
    }
  });
});
