/**
 * Where an app's router (nginx) keeps its config, and how its live config is read: no Pulumi
 * here, so the CLI's edge commands read the router without loading the Pulumi SDK.
 */

/** Where the config lives in the router container (a volume, so a recreated router keeps it). */
export const ROUTER_CONF_DIR = "/etc/nginx/conf.d";
export const ROUTER_CONF_FILE = `${ROUTER_CONF_DIR}/dynoform.conf`;

/**
 * The web dynos' `ip:port` in the router's live config, as its sync resolved them (the edge
 * router proxies straight to these); none when it answers 503. Pure.
 */
export function liveDynos(conf: string): string[] {
    return [...conf.matchAll(/^\s*server (\d+\.\d+\.\d+\.\d+:\d+)[ ;]/gm)].map((m) => m[1]);
}
