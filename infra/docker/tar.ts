/**
 * A minimal ustar archive of regular files, for `putArchive` (the Engine API takes a tar):
 * enough for the few small files Dynoform writes into containers, without a dependency. Pure.
 */
export function tarFiles(files: Array<{ path: string; content: string | Buffer; mode?: number }>): Buffer {
    const blocks: Buffer[] = [];
    for (const f of files) {
        const body = Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content, "utf8");
        const name = f.path.replace(/^\/+/, "");
        const header = Buffer.alloc(512, 0);
        const slash = name.length > 100 ? name.lastIndexOf("/", 155) : -1;
        const [prefix, base] = slash > 0 ? [name.slice(0, slash), name.slice(slash + 1)] : ["", name];
        if (Buffer.byteLength(base) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`path too long for a tar header: ${name}`);
        const put = (value: string, offset: number, length: number) => header.write(value, offset, length, "utf8");
        const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, "0") + "\0";
        put(base, 0, 100);
        put(octal(f.mode ?? 0o644, 8), 100, 8);
        put(octal(0, 8), 108, 8);
        put(octal(0, 8), 116, 8);
        put(octal(body.length, 12), 124, 12);
        put(octal(Math.floor(Date.now() / 1000), 12), 136, 12);
        put("        ", 148, 8);
        put("0", 156, 1);
        put("ustar\u000000", 257, 8);
        put(prefix, 345, 155);
        let sum = 0;
        for (const b of header) sum += b;
        put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
        blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512, 0));
    }
    blocks.push(Buffer.alloc(1024, 0));
    return Buffer.concat(blocks);
}
