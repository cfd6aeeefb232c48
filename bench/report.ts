/**
 * The lines every benchmark prints: the machine beside the figures, and Markdown tables. Kept
 * apart from bench/support.ts so a script that only reports (bench/suite-cpu.ts) loads nothing else.
 */
import * as os from "os";

/** Date, CPUs, memory and load average: the figures mean little without them. */
export function machineLine(): string {
    const load = os.loadavg().map((l) => l.toFixed(2)).join(" ");
    return `${new Date().toISOString()} · ${os.cpus().length} CPUs · ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB · load average ${load}`;
}

/** Prints a titled table (Markdown, so it can go into the README as it is). */
export function printTable(title: string, headers: string[], rows: string[][]): void {
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
    const out = [title, line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line), ""];
    process.stdout.write(`\n${out.join("\n")}`);
}
