import autocannon from "autocannon";
import { connectDocker } from "../../infra/docker/client";
import { LABEL, roleFilter } from "../../infra/docker/labels";
import { demuxLogs } from "../../infra/docker/logs";

/**
 * The load the e2e tests send through the router while a deploy runs: 8 connections sharing 400
 * requests a second, one request every 20 ms on each, from before the command starts until it
 * ends. Unpaced, autocannon sent about 1,300 a second and kept both cores of a 2-core CI host
 * busy (autocannon, docker-proxy, nginx, the dynos) for the whole command, slowing the command
 * and the test file running beside it; the checks on the result (every request answered 2xx, no
 * error, no timeout) are the same at either rate.
 */
export const ROUTER_LOAD = { connections: 8, overallRate: 400 } as const;

/** When each answer that was not 2xx came (ms since the epoch) and with which status, from a load's `response` events. */
export interface FailedAnswers {
    times: number[];
    statuses: Map<number, number>;
}

/** Records the status and time of every non-2xx answer `instance` gets, for a failure's message. */
export function watchFailedAnswers(instance: autocannon.Instance): FailedAnswers {
    const seen: FailedAnswers = { times: [], statuses: new Map() };
    instance.on("response", (_client: unknown, status: number) => {
        if (status >= 200 && status < 300) return;
        seen.times.push(Date.now());
        seen.statuses.set(status, (seen.statuses.get(status) ?? 0) + 1);
    });
    return seen;
}

/** `12:04:05.120`: a time of day in UTC, to the millisecond. Pure. */
export function clock(ms: number): string {
    return new Date(ms).toISOString().slice(11, 23);
}

/** `503 x244 from 12:04:05.120 to 12:04:05.730`, or `none`. Pure. */
export function failedAnswersLine(seen: FailedAnswers): string {
    if (seen.times.length === 0) return "none";
    const codes = [...seen.statuses].map(([code, n]) => `${code} x${n}`).join(", ");
    return `${codes} from ${clock(seen.times[0])} to ${clock(seen.times[seen.times.length - 1])}`;
}

/**
 * What the app's router and its containers did since `sinceMs`, for a failed load check: the
 * engine's container events of the stack (create, start, kill, die, destroy), the router's own
 * lines (nginx errors, the sync's) and its access-log lines of non-2xx answers (the first 20).
 */
export async function routerDiagnostics(app: string, stack: string, sinceMs: number): Promise<string> {
    const docker = connectDocker();
    const since = Math.floor(sinceMs / 1000);
    const lines: string[] = [];
    try {
        const stream = (await docker.getEvents({
            since,
            until: Math.ceil(Date.now() / 1000),
            filters: { type: ["container"], label: [`${LABEL.stack}=${stack}`] },
        })) as NodeJS.ReadableStream;
        let text = "";
        for await (const chunk of stream) text += chunk.toString();
        for (const line of text.split("\n").filter((l) => l.trim())) {
            const e = JSON.parse(line) as { timeNano: number; Action: string; Actor: { Attributes: Record<string, string> } };
            if (/^(exec_|health_status)/.test(e.Action)) continue;
            lines.push(`${clock(e.timeNano / 1e6)} event ${e.Action} ${e.Actor.Attributes.name}`);
        }
    } catch (err) {
        lines.push(`(container events not read: ${(err as Error).message})`);
    }
    const routers = await docker.listContainers({ all: true, filters: { label: roleFilter("router", app, stack) } });
    for (const r of routers) {
        const raw = (await docker.getContainer(r.Id).logs({ stdout: true, stderr: true, timestamps: true, since, follow: false })) as unknown as Buffer;
        const log = demuxLogs(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw))).split("\n");
        // Access-log lines carry `"GET /path HTTP/1.1" <status>`: 2xx ones are left out.
        const bad = log.filter((l) => l && !/" 2\d\d \d+ "/.test(l));
        const access = bad.filter((l) => /" \d{3} \d+ "/.test(l));
        lines.push(`router ${r.Names[0]}: ${bad.length - access.length} other lines, ${access.length} non-2xx access lines`);
        lines.push(...bad.filter((l) => !/" \d{3} \d+ "/.test(l)).slice(-40), ...access.slice(0, 20));
    }
    return lines.join("\n");
}
