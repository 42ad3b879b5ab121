import { createServer } from "node:net";

/**
 * Ports handed out below the kernel's ephemeral range (32768–60999 by default): a port the OS picks for `listen(0)` is
 * from that range, where any outgoing connection of a loaded machine may take it again before the server that was
 * meant to bind it (a kube-apiserver, etcd, Prometheus) does.
 */
const FIRST = 20_000;
const LAST = 32_767;
const ATTEMPTS = 50;

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A free TCP port on loopback, outside the ephemeral range (the small race before use remains; see above). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = FIRST + Math.floor(Math.random() * (LAST - FIRST + 1));
    if (await tryListen(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 between ${FIRST} and ${LAST} after ${ATTEMPTS} attempts`);
}
