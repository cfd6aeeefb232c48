import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** A certificate and its key, as PEM files a user would pass to `certs:add`. */
export interface CertFiles {
    cert: string;
    key: string;
}

function openssl(args: string[], cwd?: string): void {
    const r = spawnSync("openssl", args, { cwd, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

/** `openssl` date as `openssl ca` takes it: YYYYMMDDHHMMSSZ (UTC). Pure. */
export function opensslDate(d: Date): string {
    return d.toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");
}

/**
 * A self-signed P-256 certificate for `cn` (also its DNS name) in `dir/<name>.crt` and
 * `dir/<name>.key`, valid for 30 days from now, or from `validity.from` to `validity.to` (which
 * may both be past: an expired certificate, made with `openssl ca`, which takes any dates).
 */
export function selfSignedCert(dir: string, name: string, cn: string, validity?: { from: Date; to: Date }): CertFiles {
    const files = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
    const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", files.key];
    const subject = ["-subj", `/CN=${cn}`, "-addext", `subjectAltName=DNS:${cn}`];
    if (!validity) {
        openssl(["req", "-x509", ...key, ...subject, "-days", "30", "-out", files.cert]);
        return files;
    }
    const ca = fs.mkdtempSync(path.join(dir, `${name}-ca-`));
    fs.writeFileSync(path.join(ca, "index.txt"), "");
    fs.writeFileSync(
        path.join(ca, "ca.cnf"),
        ["[ca]", "default_ca = c", "[c]", "database = index.txt", "new_certs_dir = .", "serial = serial", "rand_serial = yes",
            "default_md = sha256", "policy = p", "copy_extensions = copy", "[p]", "commonName = supplied", ""].join("\n"),
    );
    openssl(["req", "-new", ...key, ...subject, "-out", "req.csr"], ca);
    openssl(["ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", files.key, "-in", "req.csr", "-notext",
        "-startdate", opensslDate(validity.from), "-enddate", opensslDate(validity.to), "-out", files.cert], ca);
    fs.rmSync(ca, { recursive: true, force: true });
    return files;
}
