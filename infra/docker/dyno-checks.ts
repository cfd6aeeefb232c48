import * as http from "http";
import Docker = require("dockerode");
import type { DynoCheck } from "../../components/healthchecks";
import { execIn } from "./exec";

/** Where a dyno answers: its address on the app network and its `$PORT`. */
export interface CheckTarget {
    container: Docker.Container;
    host: string;
    port?: number;
    /** When Docker started the container (ms since epoch). */
    startedAtMs: number;
}

/** One attempt's outcome: `ok`, or what was wrong (`HTTP 500, expected 200`). */
export type AttemptResult = { ok: true } | { ok: false; why: string };

/**
 * Judges an HTTP answer against a check: the expected status (any 2xx or 3xx when unset) and the
 * content the body must hold. Pure.
 */
export function judgeHttp(check: Pick<DynoCheck, "status" | "content">, status: number, body: string): AttemptResult {
    const statusOk = check.status !== undefined ? status === check.status : status >= 200 && status < 400;
    if (!statusOk) return { ok: false, why: `HTTP ${status}, expected ${check.status ?? "2xx or 3xx"}` };
    if (check.content !== undefined && !body.includes(check.content)) {
        return { ok: false, why: `HTTP ${status} without ${JSON.stringify(check.content)} in the body` };
    }
    return { ok: true };
}

function httpAttempt(check: DynoCheck, target: CheckTarget): Promise<AttemptResult> {
    const port = check.port ?? target.port;
    return new Promise((resolve) => {
        const req = http.get(
            { host: target.host, port, path: check.path, headers: { ...(check.headers ?? {}), connection: "close" }, timeout: check.timeoutSeconds * 1000 },
            (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (c: string) => {
                    if (body.length < 65536) body += c;
                });
                res.on("end", () => resolve(judgeHttp(check, res.statusCode ?? 0, body)));
                res.on("error", (e) => resolve({ ok: false, why: e.message }));
            },
        );
        req.on("timeout", () => req.destroy(new Error(`no answer within ${check.timeoutSeconds} s`)));
        req.on("error", (e) => resolve({ ok: false, why: (e as NodeJS.ErrnoException).code ?? e.message }));
    });
}

async function commandAttempt(check: DynoCheck, target: CheckTarget): Promise<AttemptResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<AttemptResult>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, why: `no exit within ${check.timeoutSeconds} s` }), check.timeoutSeconds * 1000);
    });
    const run = execIn(target.container, check.command!).then(
        (r): AttemptResult => (r.exitCode === 0 ? { ok: true } : { ok: false, why: `exit code ${r.exitCode}${r.output.trim() ? `: ${r.output.trim().split("\n").pop()}` : ""}` }),
        (e: Error): AttemptResult => ({ ok: false, why: e.message }),
    );
    try {
        return await Promise.race([run, timeout]);
    } finally {
        clearTimeout(timer);
    }
}

/** One attempt of a check against a running dyno. `acceptsConnections` is the TCP probe. */
export async function attempt(
    check: DynoCheck,
    target: CheckTarget,
    acceptsConnections: (host: string, port: number) => Promise<boolean>,
): Promise<AttemptResult> {
    switch (check.kind) {
        case "http":
            return httpAttempt(check, target);
        case "command":
            return commandAttempt(check, target);
        case "listening": {
            const port = check.port ?? target.port!;
            return (await acceptsConnections(target.host, port)) ? { ok: true } : { ok: false, why: `nothing accepts connections on port ${port}` };
        }
        case "uptime": {
            // Still running is checked by the caller before every attempt; here, only how long.
            const up = (Date.now() - target.startedAtMs) / 1000;
            return up >= check.uptimeSeconds! ? { ok: true } : { ok: false, why: `up ${up.toFixed(1)} s of ${check.uptimeSeconds} s` };
        }
    }
}
