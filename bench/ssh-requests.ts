/**
 * Benchmark: Engine API requests to a server over SSH, one after another, on a channel kept from
 * the request before (what every ssh:// client does, infra/docker/ssh.ts) against a new channel
 * per request (the baseline: each new channel starts `docker system dial-stdio` on the server),
 * in one process, on one test host (a network namespace with its own dockerd and sshd).
 *
 * Run as root: `npm run build && node dist/bench/ssh-requests.js`.
 */
import * as http from "http";
import Docker = require("dockerode");
import { parseSshHost, sshAgent } from "../infra/docker/ssh";
import { startTestHosts } from "../test/support/test-hosts";
import { machineLine, runMain } from "./support";

const REQUESTS = 20;

/** Milliseconds per `GET /containers/json`, `REQUESTS` of them one after another (after one to warm up). */
async function perRequestMs(agent: http.Agent): Promise<number> {
    const Dockerode = require("dockerode") as typeof Docker;
    const docker = new Dockerode({ protocol: "http", host: "docker", port: 80, agent } as Docker.DockerOptions);
    await docker.ping();
    const started = process.hrtime.bigint();
    for (let i = 0; i < REQUESTS; i++) await docker.listContainers();
    return Number(process.hrtime.bigint() - started) / 1e6 / REQUESTS;
}

async function main(): Promise<void> {
    console.log(`bench/ssh-requests.ts; ${machineLine()}`);
    const hosts = await startTestHosts(1);
    try {
        const kept = sshAgent(parseSshHost(hosts.hosts[0].dockerHost));
        // The same SSH connection and channels, but none kept: each request dials a new one.
        const fresh = new http.Agent({ keepAlive: false });
        (fresh as unknown as { createConnection: unknown }).createConnection = (kept as unknown as { createConnection: unknown }).createConnection;
        const baseline = await perRequestMs(fresh);
        const ms = await perRequestMs(kept);
        console.log(`API request over SSH, ${REQUESTS} one after another: a new channel each ${baseline.toFixed(1)} ms, a kept channel ${ms.toFixed(1)} ms (ratio ${(ms / baseline).toFixed(2)})`);
        console.log(machineLine());
    } finally {
        await hosts.teardown();
    }
}

runMain(main);
