import assert from "node:assert/strict";
import { connectDocker } from "../../infra/docker/client";
import { execIn } from "../../infra/docker/exec";
import { LABEL } from "../../infra/docker/labels";
import { ADDON_LABEL } from "../../components/addon";
import { containersWith } from "./harness";

// Helpers for tests that check examples/hello's Postgres data (the `visits` table its web dynos
// write one row to per GET /) across faults.

/** The rows of `visits` up to an id: how many, the highest id, and an md5 of every row's content. */
export interface VisitsSnapshot {
    count: number;
    maxId: number;
    digest: string;
}

/** The stack's running postgres add-on container ID, or undefined. */
export async function postgresContainer(stack: string): Promise<string | undefined> {
    const list = await containersWith({ [LABEL.stack]: stack, [ADDON_LABEL]: "postgres" });
    return list.find((c) => c.State === "running")?.Id;
}

/**
 * Reads `visits` straight from the add-on (psql inside its container, with its own password), so
 * what the app wrote is checked by something other than the app. `upToId` limits it to older rows.
 */
export async function visitsSnapshot(stack: string, upToId?: number): Promise<VisitsSnapshot> {
    const id = await postgresContainer(stack);
    assert.ok(id, `a running postgres add-on in stack ${stack}`);
    const where = upToId === undefined ? "" : ` WHERE id <= ${Number(upToId)}`;
    const sql =
        "SELECT count(*) || '|' || coalesce(max(id), 0) || '|' || " +
        `coalesce(md5(string_agg(id || ':' || coalesce(dyno, '') || ':' || at::text, ',' ORDER BY id)), '') FROM visits${where}`;
    const { exitCode, output } = await execIn(connectDocker().getContainer(id), [
        "/bin/sh",
        "-c",
        `PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U app -d app -AtX -v ON_ERROR_STOP=1 -c "${sql}"`,
    ]);
    assert.equal(exitCode, 0, `psql in the postgres add-on: ${output}`);
    const [count, maxId, digest] = output.trim().split("|");
    return { count: Number(count), maxId: Number(maxId), digest };
}

/** The visit number in a hello page (`... visit 7, jobs done ...`). */
export function visitOf(body: string): number {
    const m = /visit (\d+)/.exec(body);
    assert.ok(m, `page shows a visit count: ${body}`);
    return Number(m[1]);
}

/** GET `url`; status and body, or undefined when nothing answered within `timeoutMs`. */
export async function fetchPage(url: string, timeoutMs = 5000): Promise<{ status: number; body: string } | undefined> {
    try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        return { status: res.status, body: await res.text() };
    } catch {
        return undefined;
    }
}

/** One visit through the router: a 200 page that counts it; returns the visit number shown. */
export async function visit(url: string): Promise<number> {
    const page = await fetchPage(`${url}/`);
    assert.ok(page, `${url}/ answers`);
    assert.equal(page.status, 200, page.body);
    return visitOf(page.body);
}

/** Polls `url` every 250 ms until it answers 200; returns the ms waited. Throws after `timeoutMs`. */
export async function until200(url: string, timeoutMs: number): Promise<number> {
    const start = Date.now();
    for (;;) {
        const page = await fetchPage(url, 2000);
        if (page?.status === 200) return Date.now() - start;
        if (Date.now() - start > timeoutMs) {
            throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${page ? `${page.status} ${page.body.trim()}` : "no answer"})`);
        }
        await new Promise((r) => setTimeout(r, 250));
    }
}
