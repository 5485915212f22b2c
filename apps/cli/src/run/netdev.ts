/**
 * `-netdev socket,id=N,listen=[HOST]:PORT|connect=HOST:PORT` (QEMU 7.2
 * docs/system/invocation.rst, "-netdev socket"): a TCP link in QEMU's
 * socket-netdev framing, to another `backplane run` or a QEMU VM.
 *
 * Deviation: `listen=:PORT` binds 127.0.0.1 (QEMU binds every interface);
 * only the `socket` type with `listen=` or `connect=` is supported.
 */
import type { NetBackend } from "@backplane/core";
import { BackplaneError } from "@backplane/core";
import { SocketNetBackend } from "@backplane/host-node";
import { QemuOpts } from "./qemu-opts.js";

/** A parsed -netdev. */
export interface NetdevSpec {
  opts: QemuOpts;
  id: string;
  mode: "listen" | "connect";
  host: string;
  port: number;
}

export function parseNetdev(text: string): NetdevSpec {
  const opts = new QemuOpts("-netdev", text, "type");
  const type = opts.require("type");
  if (type !== "socket") throw opts.error(`netdev type '${type}' is not supported (use socket)`);
  opts.only(["type", "id", "listen", "connect"]);
  const listen = opts.get("listen");
  const connect = opts.get("connect");
  if ((listen === undefined) === (connect === undefined)) {
    throw opts.error("give exactly one of listen=[HOST]:PORT or connect=HOST:PORT");
  }
  const address = (listen ?? connect) as string;
  const m = /^(.*):(\d+)$/.exec(address);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535 || (connect !== undefined && m[1] === "")) {
    throw opts.error(`bad address '${address}' (use ${listen !== undefined ? "[HOST]:PORT" : "HOST:PORT"})`);
  }
  return {
    opts,
    id: opts.require("id"),
    mode: listen !== undefined ? "listen" : "connect",
    host: m[1] || "127.0.0.1",
    port,
  };
}

/** Opens the link: listening (returns at once) or connected to the peer. */
export async function openNetdev(spec: NetdevSpec): Promise<NetBackend & { close(): Promise<void> }> {
  try {
    return spec.mode === "listen"
      ? await SocketNetBackend.listen(spec.host, spec.port)
      : await SocketNetBackend.connect(spec.host, spec.port);
  } catch (err) {
    throw err instanceof BackplaneError ? spec.opts.error(err.message) : err;
  }
}
