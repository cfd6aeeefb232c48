import assert from "node:assert/strict";
import { test } from "node:test";
import { clusterRouterCommand } from "../../components/cluster-router";
import { connectDocker } from "../../infra/docker/client";
import { execIn } from "../../infra/docker/exec";
import { recordedBaseImages } from "../../toolchain/base-image-refs";
import { describeLive } from "../support/engines";
import { containerLogs } from "../support/docker";
import { freePort } from "../support/harness";
import { eventually } from "../support/poll";

// The cluster router's nginx configuration in the real nginx image, on a bridge network where a
// network alias stands for `tasks.<service>` (several containers answer to it, as tasks do).
describeLive("the cluster router in nginx", () => {
    test("spreads requests over every address the name resolves to, and follows a new one within seconds without a reload", async () => {
        const docker = connectDocker();
        const images = recordedBaseImages();
        const tag = `dfcr${process.pid}`;
        const made: Array<{ remove(o: object): Promise<unknown> }> = [];
        const network = await docker.createNetwork({ Name: tag, Labels: { "dev.dynoform.test": tag } });
        const dyno = async (n: number) => {
            const c = await docker.createContainer({
                Image: images.node,
                Cmd: ["node", "-e", `require("http").createServer((q, s) => s.end("dyno ${n}")).listen(5000)`],
                HostConfig: { NetworkMode: tag },
                NetworkingConfig: { EndpointsConfig: { [tag]: { Aliases: ["tasks.shop-prod-web"] } } },
            });
            made.push(c);
            await c.start();
        };
        try {
            await dyno(1);
            await dyno(2);
            const port = await freePort();
            const router = await docker.createContainer({
                Image: images.nginx,
                Cmd: ["sh", "-c", clusterRouterCommand("shop-prod-web", 5000)],
                HostConfig: { NetworkMode: tag, PortBindings: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: String(port) }] } },
                ExposedPorts: { "80/tcp": {} },
            });
            made.push(router);
            await router.start();
            const seen = new Set<string>();
            const answers = (want: number) =>
                eventually(async () => {
                    // A timer of our own keeps the test alive while a request waits (undici's socket does not).
                    const timeout = new Promise<never>((_, no) => setTimeout(() => no(new Error("no answer in 5 s")), 5000));
                    seen.add(await Promise.race([fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()), timeout]));
                    return seen.size >= want;
                }, 30_000, `${want} dynos answering through the router (seen: ${[...seen].join(", ")})`, 50);
            await answers(2);
            // A process listed by the glob may be gone when its cmdline is read: the group's 2>/dev/null
            // takes the shell's own "cannot open /proc/<pid>/cmdline" too (a redirection's own comes
            // too late for the < before it). Kept as digits, that line of the loop's ended `sleep 1`
            // read as a third worker: "sh: 1: cannot open /proc/65/cmdline" became 165 (CI of
            // 2026-12-03, and here beside three busy loops).
            const workerPids = async () => {
                const workers = 'for p in /proc/[0-9]*; do [ "$({ tr -d "\\0" < $p/cmdline; } 2>/dev/null)" = "nginx: worker process" ] && echo ${p#/proc/}; done';
                const { exitCode, output } = await execIn(router, ["sh", "-c", workers]);
                assert.match(output, /^(\d+\n)*$/, `only worker pids (exit code ${exitCode}): ${output}`);
                return output.trim();
            };
            // Every process of the router (pid, parent, state, command line cut to 100 characters: the
            // router's own `sh -c` line holds its scripts, and whole it hid the rest of a CI failure's message).
            const processes = async () => {
                const list = 'for p in /proc/[0-9]*; do echo "${p#/proc/} $(awk \'/^PPid|^State/ { printf "%s ", $2 }\' $p/status 2>/dev/null)$(tr "\\0" " " < $p/cmdline 2>/dev/null | cut -c1-100)"; done';
                return (await execIn(router, ["sh", "-c", list])).output.trim();
            };
            const before = await workerPids();
            const processesBefore = await processes();
            assert.ok(before, "nginx workers found");
            await dyno(3);
            await answers(3);
            const after = await workerPids();
            if (after !== before) {
                // The router's log says when its sync reloaded nginx ("routing to N dyno(s)") and what nginx itself said.
                const log = await containerLogs(router.id);
                assert.fail(`the same nginx workers: no reload; before: ${before}, after: ${after}; the router's processes before:\n${processesBefore}\nafter:\n${await processes()}\nits log:\n${log}`);
            }
        } finally {
            for (const c of made.reverse()) await c.remove({ force: true }).catch(() => undefined);
            await docker.getNetwork(tag).remove().catch(() => undefined);
        }
    });
});
