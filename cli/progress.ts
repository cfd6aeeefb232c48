import type { EngineEvent } from "@pulumi/pulumi/automation";

/** Colour only on a TTY and without NO_COLOR. */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
    return !process.env.NO_COLOR && Boolean(stream.isTTY);
}

const paint = (on: boolean, code: number) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

/** Short names for Dynoform's resource types in progress lines. */
function shortType(type: string): string {
    return type.replace(/^pulumi-nodejs:dynamic\//, "").replace(/^dynoform:index:/, "").replace(/^dynoform:/, "");
}

/**
 * Deletes that leave the Docker object in place: images (other releases and stacks may run
 * them) and volumes kept on destroy (add-on data).
 */
function keptOnDelete(m: { op: string; type: string; old?: { outputs?: Record<string, unknown> } }): boolean {
    if (m.op !== "delete") return false;
    const type = shortType(m.type);
    return type === "docker:Image" || (type === "docker:Volume" && !m.old?.outputs?.deleteOnDestroy);
}

/**
 * One line per finished resource step: `+ created docker:Dyno hello-web-1 (1.2 s) [env]`.
 * `said`: warnings already printed (the plan's), not repeated when the program logs them.
 */
export function progressPrinter(write: (line: string) => void, color = useColor(), said: readonly string[] = []) {
    const started = new Map<string, number>();
    const green = paint(color, 32);
    const yellow = paint(color, 33);
    const red = paint(color, 31);
    const verbs: Record<string, [string, (s: string) => string]> = {
        create: ["+ created ", green],
        update: ["~ updated ", yellow],
        delete: ["- deleted ", red],
        replace: ["+-replaced", yellow],
        "create-replacement": ["+ new     ", yellow],
        "delete-replaced": ["- old     ", red],
        refresh: ["  read    ", (s) => s],
    };
    return (event: EngineEvent) => {
        const pre = event.resourcePreEvent;
        if (pre && !pre.planning) {
            started.set(`${pre.metadata.urn}/${pre.metadata.op}`, Date.now());
            return;
        }
        const out = event.resOutputsEvent;
        if (out && !out.planning) {
            const m = out.metadata;
            if (m.op === "same" || m.type === "pulumi:pulumi:Stack" || m.type.startsWith("pulumi:providers:")) return;
            // A refresh that found a resource as it was is not news.
            if (m.op === "refresh" && !m.diffs?.length) return;
            const t0 = started.get(`${m.urn}/${m.op}`) ?? Date.now();
            const [verb, tint] = keptOnDelete(m) ? ["= kept    ", (s: string) => s] : verbs[m.op] ?? [m.op.padEnd(9), (s: string) => s];
            const name = m.urn.split("::").pop();
            const diffs = m.diffs?.length ? ` [${m.diffs.join(", ")}]` : "";
            write(`${tint(verb)} ${shortType(m.type)} ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)${diffs}`);
            return;
        }
        const failed = event.resOpFailedEvent;
        if (failed) {
            write(red(`! failed  ${shortType(failed.metadata.type)} ${failed.metadata.urn.split("::").pop()}`));
            return;
        }
        const diag = event.diagnosticEvent;
        if (diag && (diag.severity === "error" || diag.severity === "warning") && !diag.message.includes("One or more errors")) {
            const text = diag.message
                .replace(/\u001b\[[0-9;]*m/g, "")
                .replace(/<\{%[^%]*%\}>/g, "")
                // A stack trace is the program's business, not the user's: it is in the engine log.
                .split("\n")
                .filter((l) => !/^\s+at /.test(l))
                .join("\n")
                .replace(/^Unhandled exception: (\w*Error: )?/, "")
                .trim();
            // "update failed" says nothing the lines before it did not.
            if (text && !said.includes(text) && !/^(update|preview|refresh|destroy) failed$/.test(text)) write(`${diag.severity === "error" ? red("error:") : yellow("warning:")} ${text}`);
        }
    };
}
