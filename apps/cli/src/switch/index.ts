/**
 * `backplane switch -listen [HOST]:PORT` — a virtual Ethernet switch in its
 * own process. Each VM started with `-netdev socket,id=N,connect=HOST:PORT`
 * (Backplane or QEMU: the same stream framing) becomes a port of a
 * `VirtualSwitch`, which learns MAC addresses and forwards between them.
 * Runs until interrupted; prints one line per port that comes and goes.
 */
import { createServer } from "node:net";
import { InvalidArgumentError, NetworkError } from "@backplane/core";
import { SocketNetBackend } from "@backplane/host-node";
import { VirtualSwitch } from "@backplane/virtual-switch";

const USAGE = `usage: backplane switch -listen [HOST]:PORT
  Joins every VM that connects with '-netdev socket,id=N,connect=HOST:PORT'
  (Backplane or QEMU) to one learning Ethernet switch. HOST defaults to 127.0.0.1.
`;

function parseListen(argv: string[]): { host: string; port: number } {
  if (argv.length === 1 && (argv[0] === "-h" || argv[0] === "--help")) return { host: "", port: -1 };
  if (argv.length !== 2 || argv[0] !== "-listen")
    throw new InvalidArgumentError(`switch: expected -listen [HOST]:PORT\n${USAGE}`);
  const m = /^(.*):(\d+)$/.exec(argv[1]);
  const port = Number(m?.[2]);
  if (!m || !(port > 0 && port < 65536))
    throw new InvalidArgumentError(`switch: bad address '${argv[1]}' (want [HOST]:PORT)`);
  return { host: m[1] || "127.0.0.1", port };
}

export async function main(argv: string[]): Promise<number> {
  const { host, port } = parseListen(argv);
  if (port < 0) {
    process.stdout.write(USAGE);
    return 0;
  }
  const sw = new VirtualSwitch();
  const server = createServer((socket) => {
    const where = `${socket.remoteAddress}:${socket.remotePort}`;
    const switchPort = sw.connect();
    const link = SocketNetBackend.fromSocket(socket, {
      onDisconnect: () => {
        switchPort.disconnect();
        process.stderr.write(`switch: port ${where} left\n`);
      },
    });
    link.onReceive((frame) => switchPort.send(frame));
    switchPort.onReceive((frame) => link.send(frame));
    process.stderr.write(`switch: port ${where} joined\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) =>
      reject(new NetworkError(`${host}:${port}`, err.message, undefined, { cause: err })),
    );
    server.listen(port, host, () => resolve());
  });
  process.stderr.write(`switch: listening on ${host}:${port}\n`);
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
  });
  server.close();
  return 0;
}
