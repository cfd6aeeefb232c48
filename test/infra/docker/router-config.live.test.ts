import assert from "node:assert/strict";
import * as crypto from "crypto";
import { after, test } from "node:test";
import { ROUTER_COMMAND } from "../../../components/router";
import { connectDocker } from "../../../infra/docker/client";
import { execIn } from "../../../infra/docker/exec";
import { ROUTER_CONF_FILE, ROUTER_SYNC, ROUTER_TEMPLATE_FILE, renderRouterConfig, routerUpdateScript } from "../../../infra/docker/router-config";
import { recordedBaseImages } from "../../../toolchain/base-images";
import { eventually } from "../../support/poll";
import { afterLive, testLive } from "../../support/engines";

// The router's sync script in a real nginx container: it returns once nginx serves the new
// config, so whatever the config left out can be stopped the moment it returns.

const name = `dynoform-router-config-test-${crypto.randomBytes(3).toString("hex")}`;
afterLive(async () => {
    await connectDocker().getContainer(name).remove({ force: true }).catch(() => undefined);
});

/** The pids of nginx workers that still accept connections (an old one retitles itself as it stops). */
const SERVING = `for p in /proc/[0-9]*; do [ "$(tr -d '\\0' 2>/dev/null < $p/cmdline)" = "nginx: worker process" ] && echo "\${p#/proc/}"; done`;

testLive("after a config change the sync script returns only when no old nginx worker accepts connections", async (t) => {
    const docker = connectDocker();
    const container = await docker.createContainer({
        name,
        Image: recordedBaseImages().nginx,
        Hostname: "upstream-a",
        // Two more names with one address, for a deploy that renames the dynos.
        HostConfig: { ExtraHosts: ["dyno-old:127.0.0.3", "dyno-new:127.0.0.3"] },
        Cmd: ["sh", "-c", ROUTER_COMMAND],
    });
    await container.start();
    await eventually(async () => (await execIn(container, ["sh", "-c", SERVING])).output.trim() || undefined, 60_000, "nginx workers");
    for (const port of [81, 82, 83]) {
        const config = Buffer.from(renderRouterConfig("app", [{ host: "upstream-a", port }])).toString("base64");
        const script = [
            `old=$(${SERVING})`,
            `echo '${config}' | base64 -d > ${ROUTER_TEMPLATE_FILE}`,
            `${ROUTER_SYNC} || exit 9`,
            // Straight after: which of the old workers still accept connections, and what serves.
            `for p in $old; do [ "$(tr -d '\\0' 2>/dev/null < /proc/$p/cmdline)" = "nginx: worker process" ] && echo "old $p"; done`,
            `${SERVING} | sed 's/^/now /'`,
            `grep -c 'server [0-9.]*:${port} ' /etc/nginx/conf.d/dynoform.conf`,
        ].join("\n");
        const r = await execIn(container, ["sh", "-c", script]);
        assert.equal(r.exitCode, 0, r.output);
        const lines = r.output.trim().split("\n");
        assert.deepEqual(lines.filter((l) => l.startsWith("old ")), [], `old workers still accept connections (port ${port}):\n${r.output}`);
        assert.ok(lines.some((l) => l.startsWith("now ")), `no nginx worker serves (port ${port}):\n${r.output}`);
        assert.equal(lines[lines.length - 1], "1", `the live config routes to port ${port}:\n${r.output}`);
    }
});

testLive("with the router's own sync running back to back, an update's sync returns once nginx serves its config, and no stale render follows", async (t) => {
    // The router runs the sync every second; here a loop runs it back to back (the worst case),
    // counting its runs, while each update writes a template and runs the sync as an update does.
    // Without one-run-at-a-time, one update in the first 15 or so found the loop's run had rendered their
    // template first and returned while nginx still served the old config.
    const container = connectDocker().getContainer(name);
    await execIn(container, ["sh", "-c", `(while :; do ${ROUTER_SYNC} >/dev/null 2>&1; echo x >> /tmp/loop-runs; done) >/dev/null 2>&1 & echo $! > /tmp/loop.pid`]);
    let port = 0;
    for (port = 1000; port < 1040; port++) {
        const config = Buffer.from(renderRouterConfig("app", [{ host: "upstream-a", port }])).toString("base64");
        const script = [
            `old=$(${SERVING} 2>/dev/null)`,
            `echo '${config}' | base64 -d > ${ROUTER_TEMPLATE_FILE}`,
            `${ROUTER_SYNC} || exit 9`,
            `for p in $old; do [ "$(tr -d '\\0' 2>/dev/null < /proc/$p/cmdline)" = "nginx: worker process" ] && echo "old $p"; done 2>/dev/null`,
            "exit 0",
        ].join("\n");
        const r = await execIn(container, ["sh", "-c", script]);
        assert.equal(r.exitCode, 0, r.output);
        const stale = r.output.split("\n").filter((l) => l.startsWith("old "));
        assert.deepEqual(stale, [], `old workers still accept connections when the update's sync returned (port ${port}):\n${r.output}`);
    }
    // Two more whole runs of the loop: any run that read an older template has ended by then.
    const runs = async () => Number((await execIn(container, ["sh", "-c", "wc -l < /tmp/loop-runs"])).output.trim() || 0);
    const after = await runs();
    await eventually(async () => (await runs()) >= after + 2, 30_000, "two more runs of the sync loop", 20);
    const live = (await execIn(container, ["sh", "-c", "grep -o 'server [0-9.]*:[0-9]*' /etc/nginx/conf.d/dynoform.conf"])).output.trim();
    assert.match(live, new RegExp(`:${port - 1}$`), `after the last update (port ${port - 1}) the live config routes to ${live}`);
});

testLive("a deploy that renames the dynos while the router's own sync runs: no run renders the 503 page or an empty config", async (t) => {
    // A rolling deploy's template names new containers. Here two names that resolve to the same
    // address take turns (a render changes only when a run goes wrong, so no reload slows the
    // turns), while a loop runs the sync back to back and keeps any config it rendered without a
    // dyno address. Before the fix, 3 of 40 updates went wrong (20 of 300 in another run): a run that read the template half before and
    // half after an update wrote it rendered the 503 page (the old names left unresolved), and
    // runs that read it while the update had emptied it rendered no server at all. Later, 1 run
    // in 8 under load rendered an empty config: its copy of the template failed (overlayfs, an
    // open racing the update's rename) and the empty copy was put live.
    const container = connectDocker().getContainer(name);
    await execIn(container, ["sh", "-c", "kill $(cat /tmp/loop.pid) 2>/dev/null; rm -f /tmp/bad-renders"]);
    // grep exits 2 when it cannot open the file: on overlayfs an open racing the sync's rename of
    // the live config fails now and then; that is this check's read, not a render, so it reads again.
    const has = `grep -q '^ *server [0-9.]*:' ${ROUTER_CONF_FILE}`;
    const check = `${has}; rc=$?; [ $rc -eq 2 ] && { sleep 0.01; ${has}; rc=$?; }; [ $rc -eq 0 ] || { echo ---; cat ${ROUTER_CONF_FILE}; } >> /tmp/bad-renders`;
    await execIn(container, ["sh", "-c", `(while :; do ${ROUTER_SYNC} >/dev/null 2>&1; ${check}; done) >/dev/null 2>&1 & echo $! > /tmp/loop.pid`]);
    const update = (host: string) => `${routerUpdateScript(renderRouterConfig("app", [{ host, port: 81 }]))} || exit 9`;
    const turns = 20;
    const r = await execIn(container, ["sh", "-c", `for i in $(seq ${turns}); do ${update("dyno-old")}; ${update("dyno-new")}; done`]);
    await execIn(container, ["sh", "-c", "kill $(cat /tmp/loop.pid)"]);
    assert.equal(r.exitCode, 0, r.output);
    const bad = (await execIn(container, ["sh", "-c", "cat /tmp/bad-renders 2>/dev/null; true"])).output.trim();
    assert.equal(bad, "", `the sync loop rendered a config without a dyno address in ${turns * 2} updates`);
});

testLive("an idle router starts at most 5 processes a second (no sync run: one is 15 or so), and still follows a dyno's new address within seconds", async (t) => {
    const container = connectDocker().getContainer(name);
    await execIn(container, ["sh", "-c", "kill $(cat /tmp/loop.pid) 2>/dev/null; true"]);
    const update = await execIn(container, ["sh", "-c", routerUpdateScript(renderRouterConfig("app", [{ host: "dyno-old", port: 81 }]))]);
    assert.equal(update.exitCode, 0, update.output);
    const live = async () => (await execIn(container, ["sh", "-c", `grep -o 'server [0-9.]*:81' ${ROUTER_CONF_FILE}`])).output.trim();
    assert.equal(await live(), "server 127.0.0.3:81");

    // The pid namespace's last pid, before and after a 2 s window: the processes the router started
    // meanwhile, less 2 for the look that ends it (an exec's sh and its cat, at most). The first window
    // may hold the one sync run the update above causes (the names changed); a later one may not.
    const lastPid = async () => Number((await execIn(container, ["sh", "-c", "cat /proc/sys/kernel/ns_last_pid"])).output.trim());
    const windows: string[] = [];
    let quiet = false;
    for (const deadline = Date.now() + 15_000; !quiet && Date.now() < deadline; ) {
        const before = await lastPid();
        const started = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 2000)); // a measuring window, not a wait for a condition
        const count = (await lastPid()) - before - 2;
        const seconds = (Date.now() - started) / 1000;
        windows.push(`${count} in ${seconds.toFixed(1)} s`);
        quiet = count / seconds <= 5;
    }
    t.diagnostic(`processes the idle router started: ${windows.join(", ")}`);
    assert.ok(quiet, `no 2 s window in 15 s in which the idle router started at most 5 processes a second (a sync run is 15 or so): ${windows.join(", ")}`);

    // The dyno's address changes (as when Docker restarts it on another address): the next look sees it.
    const move = await execIn(container, ["sh", "-c", "sed 's/^127\\.0\\.0\\.3\\(\\s\\+dyno-old\\)$/127.0.0.4\\1/' /etc/hosts > /tmp/hosts && cat /tmp/hosts > /etc/hosts && getent hosts dyno-old"]);
    assert.match(move.output, /^127\.0\.0\.4\s+dyno-old/, move.output);
    await eventually(async () => (await live()) === "server 127.0.0.4:81", 10_000, "the live config routes to dyno-old's new address", 100);
});
