/**
 * The load the e2e tests send through the router while a deploy runs: 8 connections sharing 400
 * requests a second, one request every 20 ms on each, from before the command starts until it
 * ends. Unpaced, autocannon sent about 1,300 a second and kept both cores of a 2-core CI host
 * busy (autocannon, docker-proxy, nginx, the dynos) for the whole command, slowing the command
 * and the test file running beside it; the checks on the result (every request answered 2xx, no
 * error, no timeout) are the same at either rate.
 */
export const ROUTER_LOAD = { connections: 8, overallRate: 400 } as const;
